// The real runner process (`node runner/src/main.ts`) killed with -9 mid-run (DESIGN §11). In a file
// of its own, so a database of its own: the dead worker's job must not reach other tests' runners.
import pino from 'pino'
import { afterEach, expect } from 'vitest'
import { connect } from '../../runner/src/db.ts'
import { startRunner } from '../../runner/src/runner.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { pgTest } from '../helpers/db.ts'
import { expectStoresAccountedFor } from '../helpers/invariants.ts'
import { addKlkStores, queueManualRun, testConfig, waitFor } from '../helpers/runner-kit.ts'
import { HEARTBEAT_S, STALE_S, sender, startRunnerProcess } from '../helpers/runner-process.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

const window = { desde: new Date('2026-11-02T12:00:00Z'), hasta: new Date('2026-11-02T16:00:00Z') }

pgTest(
  'kill -9 mid-run: another runner takes the dead part over; the run closes with every store, nothing loaded twice',
  async ({ db, database }) => {
    const ids = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04']
    const stores = await addKlkStores(
      db,
      ids.map((tiendaId) => ({ tiendaId })),
    )
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const stuck = stores[3]!
    await stuck.setFault('stall_headers') // never answers: its part sits in extract for tienda_04
    const boss = await sender(database.url, cleanups)
    const child = await startRunnerProcess(database.url, cleanups)
    const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ids, ...window })

    await waitFor(
      'three stores loaded and tienda_04 extracting',
      async () => {
        const rows = await db`select tienda_id, status from etl_execution_details where execution_id = ${executionId}`
        return rows.filter((r) => r.status === 'success').length === 3 && rows.some((r) => r.status === 'running')
      },
      30_000,
    )
    child.process.kill('SIGKILL')
    const killedAt = Date.now()
    await child.exited
    await stuck.setFault(null) // the store answers again for whoever takes the part over

    // A surviving runner: its pg-boss supervisor hands the dead worker's part back (queue heartbeat),
    // it takes the store's row over as attempt 2; its reaper leaves the run alone meanwhile, since
    // pg-boss still has a part of it to retry.
    const db2 = connect(database.url, { max: 8 })
    const survivor = await startRunner({
      config: testConfig(database.url, {
        RUNNER_HEARTBEAT_S: String(HEARTBEAT_S),
        RUNNER_STALE_AFTER_S: String(STALE_S),
      }),
      logger: pino({ level: 'silent' }),
      db: db2,
      bossTiming: { schedule: false, superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 },
      workerId: 'survivor',
    })
    cleanups.push(async () => {
      await survivor.stop('test over')
      await db2.end({ timeout: 2 })
    })
    const closed = await waitFor(
      'the survivor to finish the run',
      async () => {
        const [row] = await db`select * from etl_executions where id = ${executionId} and status <> 'running'`
        return row
      },
      60_000,
    )
    console.info(`kill -9 → run closed by the survivor after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`)
    expect(closed).toMatchObject({ status: 'success', tiendas_count: 4, tiendas_exitosas: 4, duplicates_skipped: 0 })
    await expectStoresAccountedFor(db, executionId)
    const [taken] = await db`
      select status, attempts, network_diagnostics->'failed_attempts' as failed
      from etl_execution_details where execution_id = ${executionId} and tienda_id = 'tienda_04'`
    expect(taken).toEqual({ status: 'success', attempts: 2, failed: ['worker_lost'] })
    // No store half-loaded, none loaded twice: exactly the window's lines, one execution.
    const counts = await db<{ tienda_id: string; n: number }[]>`
      select tienda_id, count(*)::int as n from ventas group by tienda_id order by tienda_id`
    expect(counts).toEqual(ids.map((id) => ({ tienda_id: id, n: salesFor(id, window.desde, window.hasta).length })))
    expect(await db`select count(*)::int as n from etl_executions`).toEqual([{ n: 1 }])
  },
)
