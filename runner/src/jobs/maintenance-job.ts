// Queue `etl-maintenance`: the history's daily upkeep — this month's partitions and the next
// MONTHS_AHEAD created, RETENTION_MONTHS applied. Every runner registers the schedule (one upsert)
// and works the queue (singleton: one pass at a time). A runner also creates the months when it
// starts, so one that was down over a month boundary does not wait for the next pass.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { RunnerConfig } from '../config.ts'
import { applyRetention, createMonthsAhead } from '../history/partitions.sql.ts'
import { MAINTENANCE_QUEUE } from './boss.ts'
import { registerSchedule } from './etl-job.ts'

/** Daily, at an hour when no one is reading the history (in TZ_TIENDAS). */
export const MAINTENANCE_CRON = '17 4 * * *'

export type MaintenanceDeps = { db: Sql; config: RunnerConfig; logger: Logger }

export async function maintenancePass({ db, config, logger }: MaintenanceDeps) {
  const created = await createMonthsAhead(db)
  const dropped = config.RETENTION_MONTHS === undefined ? [] : await applyRetention(db, config.RETENTION_MONTHS)
  if (created.length) logger.info({ months: created }, 'history partitions created ahead')
  for (const d of dropped) {
    logger.info(d, `history month ${d.partition_month} dropped (RETENTION_MONTHS=${config.RETENTION_MONTHS})`)
  }
  return { created, dropped }
}

export function scheduleMaintenance(boss: PgBoss, config: RunnerConfig) {
  return registerSchedule(boss, MAINTENANCE_QUEUE, MAINTENANCE_CRON, config.TZ_TIENDAS)
}

export function workMaintenance(boss: PgBoss, deps: MaintenanceDeps) {
  return boss.work(MAINTENANCE_QUEUE, { batchSize: 1, localConcurrency: 1 }, async ([job]: Job<unknown>[]) =>
    maintenancePass({ ...deps, logger: deps.logger.child({ job_id: job?.id, queue: MAINTENANCE_QUEUE }) }),
  )
}
