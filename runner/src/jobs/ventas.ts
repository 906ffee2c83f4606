// Queue `etl-ventas`: the ventas ETL's pg-boss job — payload, schedule and handler.
//
// ── Job payload (JSON; the history API builds it by hand, it must not import the runner) ────────
// Cron (written by the schedule below, nobody else sends it):
//   { "triggered_by": "scheduler" }
//   → a fresh execution, etl_type `scheduled`, triggered_by `scheduler`, every active store,
//     window [now − VENTAS_WINDOW_MIN, now].
// Manual run / gap recovery (sent with `boss.send('etl-ventas', payload, { db: tx })` in the same
// transaction that inserts the execution row with status `queued`):
//   { "execution_id": 124,                       // the queued etl_executions.id (required)
//     "etl_name": "ventas",                      // must match the queue
//     "tienda_ids": ["tienda_01", "tienda_08"],  // omitted/null/[] → the row's tienda_ids, else all active
//     "fecha_inicio": "2026-01-25T04:00:00.000Z", // RFC 3339 with offset (convert TZ_TIENDAS input
//     "fecha_fin": "2026-01-26T03:59:59.000Z",    //  before sending); null → the row's window
//     "triggered_by": "fluxion_admin",           // or "recovery" (etl_type `recovery`)
//     "recovered_gap_id": 123 }                  // recovery only: the failed execution's id
// Send with no job options: retries, expiry, heartbeat and the `singleton` policy are queue
// settings owned by the runner (boss.ts), which also creates the queue on start.
// ─────────────────────────────────────────────────────────────────────────────────────────────────
import type { PgBoss } from 'pg-boss'
import type { RunnerConfig } from '../config.ts'
import { QUEUES } from './boss.ts'
import { etlJobHandler, etlJobSchema, type JobDeps, registerSchedule } from './etl-job.ts'

export const ventasJobSchema = etlJobSchema('ventas')

export function scheduleVentas(boss: PgBoss, config: RunnerConfig) {
  return registerSchedule(boss, QUEUES.ventas, config.VENTAS_CRON, config.TZ_TIENDAS)
}

export function workVentas(boss: PgBoss, deps: JobDeps) {
  // One job at a time per process: the queue's singleton policy lets only one ventas job be
  // active across all runners anyway; the stores of that run are worked ETL_CONCURRENCY at a time.
  return boss.work(QUEUES.ventas, { batchSize: 1, localConcurrency: 1 }, etlJobHandler(deps, 'ventas'))
}
