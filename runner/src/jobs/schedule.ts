import type { PgBoss } from 'pg-boss'

/** The cron job's payload: the handler starts a fresh `scheduled` execution for it. */
export const SCHEDULED_PAYLOAD = { triggered_by: 'scheduler' } as const

/**
 * Every runner registers the schedules on start (an upsert keyed by queue, so N runners keep
 * one schedule); pg-boss's cron pass then creates one job per occurrence across all of them.
 * The expression is read in TZ_TIENDAS, so "0 6 * * *" means 06:00 at the stores.
 * `off` removes the schedule (e.g. a runner pool that only works manual runs).
 */
export async function registerSchedule(boss: PgBoss, queue: string, cron: string, tz: string) {
  if (cron.trim().toLowerCase() === 'off') {
    await boss.unschedule(queue)
    return
  }
  await boss.schedule(queue, cron, SCHEDULED_PAYLOAD, { tz })
}
