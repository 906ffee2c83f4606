// The runner watches itself (issue 11 item 5): Prometheus metrics (prom-client) served on
// RUNNER_METRICS_PORT (metrics-server.ts). The counters are per process — every runner of the pool
// is scraped on its own port and Prometheus sums them — and live in one registry of this module, so the
// code that counts (tracker, reaper, alerts, deliveries, recovery) needs no extra argument threaded to it.
// Queue depth and age are read from pg-boss's table at scrape time: they describe the shared queue,
// the same from whichever runner is asked.

import type { Sql } from 'postgres'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { BOSS_SCHEMA } from './jobs/boss.ts'

export const registry = new Registry()
collectDefaultMetrics({ register: registry, prefix: 'fluxion_runner_' })

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Counter<L>({ name: `fluxion_runner_${name}`, help, labelNames, registers: [registry] })

/** Executions this process closed, by ETL and final status. */
export const runsClosed = counter('runs_total', 'Executions closed by this runner, by ETL and status', [
  'etl_name',
  'status',
])
/** Stores this process finished, by ETL, outcome and error category (`none` on success). */
export const storeOutcomes = counter(
  'store_outcomes_total',
  'Stores finished by this runner, by ETL, status and error category',
  ['etl_name', 'status', 'error_category'],
)
export const reaperClosures = counter('reaper_closures_total', 'Executions the reaper closed, by why', ['reason'])
export const alertEvaluations = counter(
  'alert_evaluations_total',
  'Alert evaluations after runs and recovery passes, by outcome (ok, failed, late)',
  ['outcome'],
)
export const trackerWriteErrors = counter(
  'tracker_write_errors_total',
  'History writes of the tracker that failed (PostgreSQL unreachable, timeouts…), by operation',
  ['operation'],
)
export const alertDeliveries = counter('alert_deliveries_total', 'Webhook posts of alerts, by outcome', ['outcome'])
export const recoveryAttempts = counter('recovery_attempts_total', 'Automatic gap recovery attempts, by outcome', [
  'outcome',
])

type QueueRow = { name: string; state: string; jobs: number; oldest_s: number | null }

const DEPTH = 'fluxion_runner_queue_depth'
const AGE = 'fluxion_runner_queue_oldest_age_seconds'

/**
 * Reads pg-boss's queues on every scrape; a database that does not answer leaves the gauges empty.
 * Once per process (tests start several runners in one): the first pool registered is the one read.
 */
export function watchQueues(db: Sql): void {
  if (registry.getSingleMetric(DEPTH)) return
  // prom-client collects the metrics of a scrape concurrently: both gauges share one read per scrape.
  let last: { at: number; rows: Promise<QueueRow[]> } | undefined
  const read = () => {
    if (!last || Date.now() - last.at > 500) last = { at: Date.now(), rows: readQueues(db) }
    return last.rows
  }
  new Gauge({
    name: DEPTH,
    help: 'Jobs waiting (created, retry) or being worked (active), by queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const rows = await read()
      this.reset()
      for (const r of rows) this.set({ queue: r.name, state: r.state }, r.jobs)
    },
  })
  new Gauge({
    name: AGE,
    help: 'Age of the oldest job waiting in each queue (seconds since it was created)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const rows = await read()
      this.reset()
      for (const r of rows) if (r.state !== 'active' && r.oldest_s !== null) this.set({ queue: r.name }, r.oldest_s)
    },
  })
}

async function readQueues(db: Sql): Promise<QueueRow[]> {
  try {
    return await db<QueueRow[]>`
      select name, state::text as state, count(*)::int as jobs,
        extract(epoch from now() - min(created_on))::float8 as oldest_s
      from ${db(BOSS_SCHEMA)}.job
      where state in ('created', 'retry', 'active')
      group by name, state`
  } catch {
    return []
  }
}
