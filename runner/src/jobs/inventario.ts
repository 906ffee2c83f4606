// Queue `etl-inventario`: the inventario ETL's pg-boss job — payload, schedule and handler.
// Payloads as in jobs/ventas.ts. Inventario is
// a snapshot of current stock: a manual run's fecha_inicio/fecha_fin are recorded on the
// execution but do not filter the extraction, and the cron run has no window.
import type { PgBoss } from 'pg-boss'
import type { RunnerConfig } from '../config.ts'
import { QUEUES } from './boss.ts'
import { etlJobHandler, type JobDeps, registerSchedule } from './etl-job.ts'

export function scheduleInventario(boss: PgBoss, config: RunnerConfig) {
  return registerSchedule(boss, QUEUES.inventario, config.INVENTARIO_CRON, config.TZ_TIENDAS)
}

export function workInventario(boss: PgBoss, deps: JobDeps) {
  return boss.work(QUEUES.inventario, { batchSize: 1, localConcurrency: 1 }, etlJobHandler(deps, 'inventario'))
}
