// The real runner process (`node runner/src/main.ts`) killed with -9 mid-run (DESIGN §11). In a file
// of its own, so a database of its own: the dead worker's job must not reach other tests' runners.
import pino from 'pino'
import { afterEach, expect } from 'vitest'
import { connect } from '../../runner/src/db.ts'
import { QUEUES } from '../../runner/src/jobs/boss.ts'
import { startRunner } from '../../runner/src/runner.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { pgTest } from '../helpers/db.ts'
import { addKlkStores, queueManualRun, testConfig, waitFor } from '../helpers/runner-kit.ts'
import { HEARTBEAT_S, STALE_S, sender, startRunnerProcess } from '../helpers/runner-process.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

const window = { desde: new Date('2026-11-02T12:00:00Z'), hasta: new Date('2026-11-02T16:00:00Z') }

pgTest(
  'kill -9 mid-run: closed as worker_lost in its phase within the threshold, no half-loaded store, job retried',
  async ({ db, database }) => {
    const ids = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04']
    const stores = await addKlkStores(
      db,
      ids.map((tiendaId) => ({ tiendaId })),
    )
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const stuck = stores[3]!
    await stuck.setFault('stall_headers') // never answers: the run sits in extract for tienda_04
    const boss = await sender(database.url, cleanups)
    const child = await startRunnerProcess(database.url, cleanups)
    const { executionId, jobId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ids, ...window })

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
    await stuck.setFault(null) // the store comes back for the retry

    // A surviving runner: its reaper closes the run, its pg-boss supervisor hands the job back.
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
    const closed = await waitFor('the reaper to close the execution', async () => {
      const [row] = await db`select * from etl_executions where id = ${executionId} and status <> 'running'`
      return row
    })
    const closedAfterS = (Date.now() - killedAt) / 1000
    expect(closedAfterS).toBeLessThanOrEqual(STALE_S + 2 * HEARTBEAT_S + 1)
    expect(closed).toMatchObject({
      status: 'failed',
      error_category: 'worker_lost',
      error_phase: 'extract',
      error_source: 'klk_api',
      tiendas_exitosas: 3,
      tiendas_fallidas: 1,
    })
    const details = await db`select tienda_id, status, records_loaded, error_category, error_phase
    from etl_execution_details where execution_id = ${executionId} order by tienda_id`
    expect(details.at(-1)).toMatchObject({
      tienda_id: 'tienda_04',
      status: 'failed',
      error_category: 'worker_lost',
      error_phase: 'extract',
    })

    // Each store is all or nothing: the loaded ones hold exactly their lines, tienda_04 none.
    const counts = new Map(
      (await db`select tienda_id, count(*)::int as n from ventas group by tienda_id`).map((r) => [r.tienda_id, r.n]),
    )
    for (const d of details.slice(0, 3)) {
      expect(counts.get(d.tienda_id)).toBe(salesFor(d.tienda_id as string, window.desde, window.hasta).length)
      expect(d.records_loaded).toBe(counts.get(d.tienda_id))
    }
    expect(counts.get('tienda_04')).toBeUndefined()

    // pg-boss retries the dead worker's job (queue heartbeat 10 s); the retry records a new execution
    // for the same stores and window, and the re-extracted lines are counted as duplicates, exactly.
    const rerun = await waitFor(
      'the retried job to finish a new execution',
      async () => {
        const [row] =
          await db`select * from etl_executions where id <> ${executionId} and status not in ('queued', 'running')`
        return row
      },
      40_000,
    )
    expect(rerun).toMatchObject({
      status: 'success',
      triggered_by: 'fluxion_admin',
      etl_type: 'manual',
      worker_id: 'survivor',
    })
    expect(rerun.tienda_ids).toEqual(ids)
    const loadedBefore = details.slice(0, 3).reduce((a, d) => a + (d.records_loaded as number), 0)
    expect(rerun.duplicates_skipped).toBe(loadedBefore)
    expect(rerun.records_loaded).toBe(salesFor('tienda_04', window.desde, window.hasta).length)
    const [job] = await survivor.boss.findJobs(QUEUES.ventas, { id: jobId })
    expect(job?.retryCount).toBeGreaterThanOrEqual(1)
  },
)
