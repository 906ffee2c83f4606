// Queue `etl-ventas`: the ventas ETL's pg-boss job — payload, schedule and handler.
//
// Payloads: openapi.yaml components EtlScheduledJob (the cron schedule below) and EtlRunJob
// `{ execution_id }` (the history API, in the transaction that writes the queued row); see etl-job.ts.
// Send with no job options: retries, expiry, heartbeat and the `singleton` policy are queue settings
// (migrations/044, brought up to date by the runner on start in boss.ts).
import type { PgBoss } from 'pg-boss'
import type { RunnerConfig } from '../config.ts'
import { QUEUES } from './boss.ts'
import { etlJobHandler, type JobDeps, registerSchedule } from './etl-job.ts'

export function scheduleVentas(boss: PgBoss, config: RunnerConfig) {
  return registerSchedule(boss, QUEUES.ventas, config.VENTAS_CRON, config.TZ_TIENDAS)
}

export function workVentas(boss: PgBoss, deps: JobDeps) {
  // One job at a time per process: the queue's singleton policy lets only one ventas job be
  // active across all runners anyway; the stores of that run are worked ETL_CONCURRENCY at a time.
  return boss.work(QUEUES.ventas, { batchSize: 1, localConcurrency: 1 }, etlJobHandler(deps, 'ventas'))
}
