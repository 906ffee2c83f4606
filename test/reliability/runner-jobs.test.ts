// pg-boss end to end with real runners (runner/src/runner.ts) in this process, the real queue
// schema, the KLK stand-ins on loopback and a throwaway database: the cron path, the manual-run
// path the history API uses, and two runners sharing one queue.
import pino from 'pino'
import { afterEach, expect } from 'vitest'
import { connect } from '../../runner/src/db.ts'
import { runEtl } from '../../runner/src/etl/run-etl.ts'
import { withStoreLocks } from '../../runner/src/executions/store-locks.ts'
import { createBoss, MAINTENANCE_QUEUE, QUEUES } from '../../runner/src/jobs/boss.ts'
import { MAINTENANCE_CRON } from '../../runner/src/jobs/maintenance-job.ts'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import { pgTest } from '../helpers/db.ts'
import { expectStoresAccountedFor } from '../helpers/invariants.ts'
import { addKlkStores, queueManualRun, testConfig, waitFor } from '../helpers/runner-kit.ts'

const logger = pino({ level: 'silent' })
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

async function runner(
  url: string,
  extra: Record<string, string> = {},
  bossTiming = {},
  workerId?: string,
): Promise<Runner> {
  const config = testConfig(url, extra)
  const db = connect(url, { max: 8 })
  const r = await startRunner({ config, logger, db, bossTiming: { schedule: false, ...bossTiming }, workerId })
  cleanups.push(async () => {
    await r.stop('test over')
    await db.end({ timeout: 2 })
  })
  return r
}

const window = { desde: new Date('2026-11-02T12:00:00Z'), hasta: new Date('2026-11-02T14:00:00Z') }

pgTest('a cron-scheduled job records triggered_by scheduler (real pg-boss cron pass)', async ({ db, database }) => {
  const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01' }, { tiendaId: 'tienda_02' }])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))
  // Every minute, with pg-boss's cron pass and send-it worker at their 1 s minimum instead of
  // 30 s / 5 s: the occurrence of the current minute is due at once, as in production at :00/:30.
  const r = await runner(
    database.url,
    { VENTAS_CRON: '* * * * *', INVENTARIO_CRON: 'off' },
    { schedule: true, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
  )
  cleanups.push(() => r.boss.unschedule(QUEUES.ventas))
  expect(await r.boss.getSchedules(QUEUES.ventas)).toMatchObject([{ cron: '* * * * *', timezone: 'America/Caracas' }])
  // The history's daily upkeep (partitions ahead, RETENTION_MONTHS) is scheduled by every runner too.
  cleanups.push(() => r.boss.unschedule(MAINTENANCE_QUEUE))
  expect(await r.boss.getSchedules(MAINTENANCE_QUEUE)).toMatchObject([
    { cron: MAINTENANCE_CRON, timezone: 'America/Caracas' },
  ])

  const execution = await waitFor('the scheduled execution to finish', async () => {
    const [row] = await db`select * from etl_executions where status not in ('queued', 'running') order by id limit 1`
    return row
  })
  expect(execution).toMatchObject({
    etl_name: 'ventas',
    etl_type: 'scheduled',
    triggered_by: 'scheduler',
    status: 'success',
    tiendas_count: 2,
    worker_id: r.workerId,
  })
  // The window reaches back VENTAS_WINDOW_MIN (60) from the moment it ran.
  const span = (execution.fecha_hasta as Date).getTime() - (execution.fecha_desde as Date).getTime()
  expect(span).toBe(60 * 60_000)
})

pgTest(
  'a manual-run job goes queued → running → finished with triggered_by fluxion_admin',
  async ({ db, database }) => {
    // The store answers after 1.5 s, so the running state is there to be seen.
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01', fault: 'stall_headers', faultDelayMs: 1500 }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const sender = createBoss(database.url, { schedule: false, supervise: false })
    await sender.start()
    cleanups.push(() => sender.stop({ graceful: false }))
    const r = await runner(database.url)
    const { executionId, jobId } = await queueManualRun(db, sender, {
      etlName: 'ventas',
      tiendaIds: ['tienda_01'],
      ...window,
    })

    const seen: string[] = []
    const final = await waitFor('the manual execution to finish', async () => {
      const [row] = await db`select * from etl_executions where id = ${executionId}`
      if (row && seen.at(-1) !== row.status) seen.push(row.status as string)
      return row && !['queued', 'running'].includes(row.status as string) ? row : undefined
    })
    expect(seen).toEqual(['queued', 'running', 'success'])
    expect(final).toMatchObject({
      triggered_by: 'fluxion_admin',
      etl_type: 'manual',
      worker_id: r.workerId,
      tiendas_exitosas: 1,
    })
    expect(final.fecha_desde).toEqual(window.desde)
    expect(await db`select count(*)::int as n from etl_executions where id >= ${executionId}`).toEqual([{ n: 1 }])
    const job = await waitFor('pg-boss to complete the job', async () => {
      const [j] = await r.boss.findJobs(QUEUES.ventas, { id: jobId })
      return j?.state === 'completed' && j
    })
    expect(job.data).toEqual({ execution_id: executionId })
    // The execution job fans the run out (one etl-tienda job per store) and is done; the part closes it.
    expect(job.output).toEqual({ execution_id: executionId, status: 'running' })
    // The part closes the run before pg-boss marks its job completed (the handler returns after).
    const parts = await waitFor('pg-boss to complete the part', async () => {
      const rows = await db`select data, state, output from pgboss.job
        where name = 'etl-tienda' and data @> ${db.json({ execution_id: executionId })}`
      return rows.every((p) => p.state === 'completed') && rows
    })
    expect(parts).toEqual([
      {
        data: { execution_id: executionId, tienda_id: 'tienda_01' },
        state: 'completed',
        output: { execution_id: executionId, tienda_id: 'tienda_01', status: 'last', worker_id: r.workerId },
      },
    ])
  },
)

pgTest(
  'two runners on one queue: every job runs once, no two runs of an ETL overlap a store',
  async ({ db, database }) => {
    const ids = ['tienda_01', 'tienda_02', 'tienda_03']
    // Slow enough (0.3 s a request) that runs would overlap if nothing kept them apart.
    const stores = await addKlkStores(
      db,
      ids.map((tiendaId) => ({ tiendaId, fault: 'stall_headers' as const, faultDelayMs: 300 })),
    )
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const sender = createBoss(database.url, { schedule: false, supervise: false })
    await sender.start()
    cleanups.push(() => sender.stop({ graceful: false }))
    const a = await runner(database.url, {}, {}, 'runner-a')
    await runner(database.url, {}, {}, 'runner-b')

    const [{ last }] = (await db`select coalesce(max(id), 0)::int as last from etl_executions`) as unknown as [
      { last: number },
    ]
    const queued = []
    for (let i = 0; i < 6; i++) {
      const tiendaIds = i % 2 ? ids : ids.slice(i % 3, (i % 3) + 2)
      // Overlapping on purpose (the API would answer 409): what keeps them apart here is the runner.
      const run = { etlName: i === 5 ? ('inventario' as const) : ('ventas' as const), tiendaIds, ...window }
      queued.push(await queueManualRun(db, sender, run, { overlapping: true }))
    }
    // A CLI run at the same time takes the same per-store locks, outside the queue.
    const config = testConfig(database.url)
    const cliDb = connect(database.url, { max: 6 })
    cleanups.push(() => cliDb.end({ timeout: 2 }))
    const cli = await withStoreLocks(cliDb, 'ventas', ['tienda_02'], {}, () =>
      runEtl(
        { db: cliDb, config, logger },
        { etlName: 'ventas', tiendaIds: ['tienda_02'], ...window, triggeredBy: 'cli', etlType: 'manual' },
      ),
    )
    expect(cli.status).toBe('success')

    await waitFor(
      'all queued runs to finish',
      async () => (await db`select 1 from etl_executions where status in ('queued', 'running')`).length === 0,
      60_000,
    )
    const executions = await db`select id, status, worker_id from etl_executions where id > ${last} order by id`
    // One execution per job (none rerun, none duplicated) plus the CLI's.
    expect(executions).toHaveLength(queued.length + 1)
    expect(executions.every((e) => e.status === 'success')).toBe(true)
    for (const { jobId, executionId } of queued) {
      const name = executionId === queued[5]!.executionId ? QUEUES.inventario : QUEUES.ventas
      const job = await waitFor('the job to complete', async () => {
        const [j] = await a.boss.findJobs(name, { id: jobId })
        return j?.state === 'completed' && j
      })
      expect(job.retryCount).toBe(0)
    }
    expect(new Set(executions.map((e) => e.worker_id))).toContain('runner-a')

    const spans = await db<{ tienda_id: string; etl_name: string; execution_id: number; s: Date; f: Date }[]>`
    select d.tienda_id, e.etl_name, d.execution_id, d.started_at as s, d.finished_at as f
    from etl_execution_details d join etl_executions e on e.id = d.execution_id where e.id > ${last}`
    for (const x of spans) {
      for (const y of spans) {
        if (x === y || x.tienda_id !== y.tienda_id || x.etl_name !== y.etl_name) continue
        const overlap = x.s < y.f && y.s < x.f
        expect(
          overlap,
          `${x.etl_name} ${x.tienda_id}: executions ${x.execution_id} and ${y.execution_id} overlap`,
        ).toBe(false)
      }
    }
  },
)

pgTest(
  'a job whose run cannot be recorded leaves its execution queued and fails, so pg-boss retries it; one that can never run is closed',
  async ({ db, database }) => {
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_09' }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const sender = createBoss(database.url, { schedule: false, supervise: false })
    await sender.start()
    cleanups.push(() => sender.stop({ graceful: false }))
    // A real error from the server while the run is fanned out (its claim is refused by a trigger).
    await db`create function refuse_claim() returns trigger language plpgsql as $$
      begin raise exception 'the database refused the claim' using errcode = '57P03'; end $$`
    await db`create trigger refuse_claim before update of status on etl_executions
      for each row when (old.status = 'queued' and new.status = 'running') execute function refuse_claim()`
    const r = await runner(database.url)
    const { executionId, jobId } = await queueManualRun(db, sender, {
      etlName: 'ventas',
      tiendaIds: ['tienda_09'],
      ...window,
    })
    const job = await waitFor('pg-boss to schedule a retry', async () => {
      const [j] = await r.boss.findJobs(QUEUES.ventas, { id: jobId })
      return j?.state === 'retry' && j
    })
    expect(job.retryCount).toBe(0)
    // Nothing half-written: still queued, no part sent.
    expect(await db`select status from etl_executions where id = ${executionId}`).toEqual([{ status: 'queued' }])
    expect(
      await db`select count(*)::int as n from pgboss.job
        where name = 'etl-tienda' and data @> ${db.json({ execution_id: executionId })}`,
    ).toEqual([{ n: 0 }])
    // The database accepts again: the retry runs it.
    await db`drop trigger refuse_claim on etl_executions`
    await db`drop function refuse_claim()`
    const done = await waitFor(
      'the retried job to run the execution',
      async () => {
        const [e] =
          await db`select status from etl_executions where id = ${executionId} and status <> 'queued' and status <> 'running'`
        return e
      },
      30_000,
    )
    expect(done).toEqual({ status: 'success' })

    // A ventas run queued without a window can never run: closed at once, saying why; not retried.
    const never = await queueManualRun(db, sender, { etlName: 'ventas', tiendaIds: ['tienda_09'] })
    const row = await waitFor('the execution to be closed', async () => {
      const [e] = await db`select * from etl_executions where id = ${never.executionId} and status = 'failed'`
      return e
    })
    expect(row).toMatchObject({ error_category: 'unknown', triggered_by: 'fluxion_admin' })
    expect(row.error_message).toMatch(/cannot run: a ventas run needs a window/)
    // The job closes its execution before pg-boss marks the job completed (the handler returns after).
    const neverJob = await waitFor('pg-boss to complete the job', async () => {
      const [j] = await r.boss.findJobs(QUEUES.ventas, { id: never.jobId })
      return j?.state !== 'active' && j
    })
    expect(neverJob).toMatchObject({ state: 'completed', retryCount: 0 })
  },
)

pgTest(
  'a fanned-out run whose stores are closed for its window: their parts record them closed without contacting them, and the last one closes the run',
  async ({ db, database }) => {
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01' }, { tiendaId: 'tienda_02' }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    await db`delete from tienda_cierres`
    // A holiday on the window's store-local day (2 November in America/Caracas), as POST /api/etl/closures writes it.
    for (const id of ['tienda_01', 'tienda_02']) {
      await db`insert into tienda_cierres (tienda_id, fecha_desde, fecha_hasta, periodo, motivo)
        values (${id}, '2026-11-02', '2026-11-02',
          tstzrange('2026-11-02 00:00 America/Caracas', '2026-11-03 00:00 America/Caracas'), 'feriado')`
    }
    const sender = createBoss(database.url, { schedule: false, supervise: false })
    await sender.start()
    cleanups.push(() => sender.stop({ graceful: false }))
    await runner(database.url)
    const { executionId } = await queueManualRun(db, sender, {
      etlName: 'ventas',
      tiendaIds: ['tienda_01', 'tienda_02'],
      ...window,
    })
    const final = await waitFor('the run to close', async () => {
      const [row] =
        await db`select * from etl_executions where id = ${executionId} and status not in ('queued', 'running')`
      return row
    })
    expect(final).toMatchObject({ status: 'success', tiendas_count: 2, tiendas_exitosas: 0, tiendas_cerradas: 2 })
    expect(
      await db`select tienda_id, status from etl_execution_details where execution_id = ${executionId}
      order by tienda_id`,
    ).toEqual([
      { tienda_id: 'tienda_01', status: 'closed' },
      { tienda_id: 'tienda_02', status: 'closed' },
    ])
    expect(stores.map((s) => s.requests)).toEqual([0, 0])
    await expectStoresAccountedFor(db, executionId)
  },
)
