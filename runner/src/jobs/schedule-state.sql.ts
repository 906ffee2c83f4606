// The pause of an ETL's cron schedule (etl_schedules_state, migration 066), set from the panel through
// the history API. Read by whichever runner takes a fired cron job (jobs/etl-job.ts).
import type { Db } from '../db.ts'

export async function isSchedulePaused(db: Db, etlName: string): Promise<boolean> {
  const [row] = await db<{ paused: boolean }[]>`select paused from etl_schedules_state where etl_name = ${etlName}`
  return row?.paused ?? false
}
