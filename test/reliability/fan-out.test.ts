// One run, many runners (issue 12): a 50-store run queued once is worked by three real runner
// processes at the same time — its stores spread over them — and closed once, by whichever finished
// its last store. Then the same with one of them killed (-9) mid-run: the others take its stores
// over and the run still closes with every store accounted for, nothing loaded twice.
import type { Sql } from 'postgres'
import { afterEach, expect } from 'vitest'
import { type Fleet, startFleet } from '../fakes/fleet.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { pgTest } from '../helpers/db.ts'
import { expectStoresAccountedFor } from '../helpers/invariants.ts'
import { KLK_TOKEN, queueManualRun, waitFor } from '../helpers/runner-kit.ts'
import { sender, startRunnerProcess } from '../helpers/runner-process.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

const STORES = 50
const RUNNER_ENV = { ETL_CONCURRENCY: '4' }
const window = { desde: new Date('2026-11-02T10:00:00Z'), hasta: new Date('2026-11-02T11:00:00Z') }

/** 50 KLK stores on their own loopback addresses at one port, each ~150 ms away, registered as active stores. */
async function chain(db: Sql, addressBase: string): Promise<Fleet> {
  const fleet = await startFleet({ count: STORES, addressBase, token: KLK_TOKEN, link: { rttMs: 150 } })
  cleanups.push(() => fleet.close())
  // The file's tests share one database: each starts from no history and its own store addresses.
  await db`delete from ventas`
  await db`delete from etl_executions`
  for (const s of fleet.stores) {
    await db`insert into tiendas (id, nombre, source_system, host, port)
      values (${s.tiendaId}, ${s.tiendaId.toUpperCase()}, 'klk', ${s.host}, ${s.port})
      on conflict (id) do update set host = excluded.host, port = excluded.port`
  }
  return fleet
}

async function runAndWait(db: Sql, boss: Awaited<ReturnType<typeof sender>>, ids: string[]) {
  const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ids, ...window })
  const closed = await waitFor(
    'the run to close',
    async () => {
      const [row] =
        await db`select * from etl_executions where id = ${executionId} and status not in ('queued', 'running')`
      return row
    },
    90_000,
  )
  return { executionId, closed }
}

async function partsByWorker(db: Sql, executionId: number) {
  // The last part closes the run before pg-boss marks its job completed (the handler returns after).
  await waitFor('pg-boss to complete every part', async () => {
    const [live] = await db<{ n: number }[]>`select count(*)::int as n from pgboss.job
      where name = 'etl-tienda' and state <> 'completed' and data @> ${db.json({ execution_id: executionId })}`
    return live!.n === 0
  })
  const rows = await db<{ worker: string; n: number }[]>`
    select output->>'worker_id' as worker, count(*)::int as n from pgboss.job
    where name = 'etl-tienda' and state = 'completed' and data @> ${db.json({ execution_id: executionId })}
    group by 1 order by 1`
  return new Map(rows.map((r) => [r.worker, r.n]))
}

async function expectEveryLineOnce(db: Sql, ids: string[]) {
  const counts = await db<{ tienda_id: string; n: number }[]>`
    select tienda_id, count(*)::int as n from ventas group by tienda_id order by tienda_id`
  expect(counts).toEqual(ids.map((id) => ({ tienda_id: id, n: salesFor(id, window.desde, window.hasta).length })))
}

pgTest(
  'a 50-store run over 3 runner processes: one execution, its stores spread over them, counts exact',
  async ({ db, database }) => {
    const fleet = await chain(db, '127.61.0.1')
    const ids = fleet.stores.map((s) => s.tiendaId)
    const boss = await sender(database.url, cleanups)
    for (let i = 0; i < 3; i++) await startRunnerProcess(database.url, cleanups, RUNNER_ENV)
    const { executionId, closed } = await runAndWait(db, boss, ids)

    expect(closed).toMatchObject({
      status: 'success',
      tiendas_count: STORES,
      tiendas_exitosas: STORES,
      duplicates_skipped: 0,
    })
    await expectStoresAccountedFor(db, executionId)
    await expectEveryLineOnce(db, ids)
    const byWorker = await partsByWorker(db, executionId)
    expect([...byWorker.values()].reduce((a, b) => a + b, 0)).toBe(STORES)
    expect(byWorker.size, `parts per runner: ${JSON.stringify([...byWorker])}`).toBeGreaterThanOrEqual(2)
    expect(await db`select count(*)::int as n from etl_executions`).toEqual([{ n: 1 }])
  },
)

pgTest(
  'kill -9 of one of 3 runners mid-run: the others finish its stores; every store accounted for, none loaded twice',
  async ({ db, database }) => {
    const fleet = await chain(db, '127.62.0.1')
    const ids = fleet.stores.map((s) => s.tiendaId)
    const boss = await sender(database.url, cleanups)
    const runners = []
    for (let i = 0; i < 3; i++) runners.push(await startRunnerProcess(database.url, cleanups, RUNNER_ENV))
    const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ids, ...window })
    await waitFor(
      'some stores loaded',
      async () => {
        const [row] = await db<{ n: number }[]>`
      select count(*)::int as n from etl_execution_details where execution_id = ${executionId} and status = 'success'`
        return row!.n >= 10
      },
      60_000,
    )
    runners[0]!.process.kill('SIGKILL')
    const killedAt = Date.now()
    await runners[0]!.exited

    const closed = await waitFor(
      'the others to finish the run',
      async () => {
        const [row] =
          await db`select * from etl_executions where id = ${executionId} and status not in ('queued', 'running')`
        return row
      },
      120_000,
    )
    console.info(`kill -9 of 1 of 3 runners → run closed ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`)
    const failed =
      await db`select tienda_id, status, error_phase, error_category, error_message, started_at, finished_at
      from etl_execution_details where execution_id = ${executionId} and status <> 'success'`
    expect(closed, `stores not loaded: ${JSON.stringify(failed)}`).toMatchObject({
      status: 'success',
      tiendas_count: STORES,
      tiendas_exitosas: STORES,
    })
    await expectStoresAccountedFor(db, executionId)
    await expectEveryLineOnce(db, ids)
  },
  // The dead runner's parts come back after pg-boss's heartbeat (10 s at least) and a retry delay.
  180_000,
)
