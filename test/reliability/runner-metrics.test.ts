// The runner watches itself (issue 11 item 5): a real runner (in this process) with RUNNER_METRICS_PORT
// works a run of two KLK simulator stores (one answers, one fails with HTTP 500), reaps an execution whose
// worker stopped heartbeating, and its /metrics endpoint — scraped over a real socket — shows the run,
// both store outcomes by category, the alert evaluation, the reaper closure and the queue waiting.
import pino from 'pino'
import { afterEach, expect } from 'vitest'
import { QUEUES } from '../../runner/src/jobs/boss.ts'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import { pgTest } from '../helpers/db.ts'
import { addStore, fastConfig, WINDOW } from '../helpers/etl-kit.ts'
import { addExecution } from '../helpers/history-seed.ts'
import { queueManualRun, waitFor } from '../helpers/runner-kit.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

/** The value of one sample of the exposition text (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1))
  }
  return undefined
}

pgTest(
  'after a run, /metrics shows runs, store outcomes, alert evaluations, reaper closures, queues',
  async ({ db, database }) => {
    const ok = await addStore(db, { tiendaId: 'tienda_m1' })
    const bad = await addStore(db, { tiendaId: 'tienda_m2', fault: 'http_500' })
    cleanups.push(() => Promise.all([ok.close(), bad.close()]))
    const config = fastConfig(database.url, {
      VENTAS_CRON: 'off',
      INVENTARIO_CRON: 'off',
      RECOVERY_CRON: 'off',
      RUNNER_METRICS_PORT: '0',
      RUNNER_HEARTBEAT_S: '1',
      RUNNER_STALE_AFTER_S: '3',
      LOG_LEVEL: 'warn',
    })
    // A run whose worker died an hour ago: the reaper closes it as worker_lost.
    const orphan = await addExecution(db, {
      etl_name: 'inventario',
      status: 'running',
      started_at: new Date(Date.now() - 3600_000),
    })
    const r: Runner = await startRunner({
      config,
      logger: pino({ level: 'silent' }),
      db,
      bossTiming: { schedule: false },
      workerId: 'metrics-test-runner',
    })
    cleanups.push(() => r.stop('test done'))
    expect(r.metrics?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)

    const { executionId } = await queueManualRun(db, r.boss, {
      etlName: 'ventas',
      tiendaIds: ['tienda_m1', 'tienda_m2'],
      ...WINDOW,
    })
    await waitFor('the run to close and be evaluated', async () => {
      const [row] = await db`select status from etl_executions where id = ${executionId} and status = 'partial'`
      const [alert] = await db`select id from etl_alerts`
      return row && alert
    })
    await waitFor('the orphan to be reaped', async () => {
      const [row] = await db`select 1 from etl_executions where id = ${orphan} and error_category = 'worker_lost'`
      return row
    })
    // A job waiting in a queue (not due for an hour): depth and age.
    await r.boss.send(QUEUES.inventario, { execution_id: 2_000_000 }, { startAfter: 3600 })

    const res = await fetch(r.metrics!.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    expect(sample(text, 'fluxion_runner_runs_total', { etl_name: 'ventas', status: 'partial' })).toBeGreaterThanOrEqual(
      1,
    )
    expect(
      sample(text, 'fluxion_runner_store_outcomes_total', {
        etl_name: 'ventas',
        status: 'success',
        error_category: 'none',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(text, 'fluxion_runner_store_outcomes_total', {
        etl_name: 'ventas',
        status: 'failed',
        error_category: 'api_error',
      }),
    ).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'fluxion_runner_alert_evaluations_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'fluxion_runner_reaper_closures_total', { reason: 'worker_lost' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'fluxion_runner_queue_depth', { queue: 'etl-inventario', state: 'created' })).toBe(1)
    expect(sample(text, 'fluxion_runner_queue_oldest_age_seconds', { queue: 'etl-inventario' })).toBeGreaterThanOrEqual(
      0,
    )
    expect(text).toContain('# TYPE fluxion_runner_tracker_write_errors_total counter')
    expect(text).toContain('fluxion_runner_process_resident_memory_bytes')

    const notFound = await fetch(r.metrics!.url.replace('/metrics', '/other'))
    expect(notFound.status).toBe(404)
  },
)
