// The history's monthly partitions (migrations/085): created ahead, and dropped whole by retention.
// The SQL functions of 085 hold the rules (which month an id belongs to, what a month's drop must
// release first); this module is how the runner's daily upkeep and `npm run retention` call them.
import type { Sql } from 'postgres'

/**
 * Months created ahead of the current one (UTC). One: the daily upkeep and every runner's start
 * create it long before it begins, and every month that exists costs the planner of each statement
 * that reads the newest months (an empty month too: 3 ahead instead of 1 made the gaps' planning
 * 35 ms instead of 21 on 14 months).
 */
export const MONTHS_AHEAD = 1

/**
 * CREATE/DROP of a partition takes an exclusive lock on its parent. Waiting behind a long read would
 * queue every other statement on the table behind it; past this, the pass gives up and is retried.
 */
const LOCK_TIMEOUT = '5s'

export type DroppedMonth = { partition_month: string; executions: number; store_rows: number }

/** Creates this month's partitions and the next MONTHS_AHEAD; returns the months it created. */
export async function createMonthsAhead(db: Sql): Promise<string[]> {
  return db.begin(async (tx) => {
    await tx`select set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`
    const rows = await tx<{ month: string; created: boolean }[]>`
      select to_char(m at time zone 'UTC', 'YYYY-MM') as month, etl_history_partition_create(m) as created
      from (select now() + make_interval(months => i) as m from generate_series(0, ${MONTHS_AHEAD}::int) i) s`
    return rows.filter((r) => r.created).map((r) => r.month)
  })
}

/**
 * Drops the months older than the newest `keepMonths` (the current month counts), or with `dryRun`
 * only says which. Refuses keepMonths < 1 (etl_history_retention raises; so does the caller first).
 */
export async function applyRetention(db: Sql, keepMonths: number, opts: { dryRun?: boolean } = {}) {
  return db.begin(async (tx) => {
    await tx`select set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`
    const dropped = await tx<DroppedMonth[]>`
      select partition_month, executions::float8 as executions, store_rows::float8 as store_rows
      from etl_history_retention(${keepMonths}::int, ${opts.dryRun ?? false})`
    // Dropped partitions fire no trigger: say so to the history APIs' kept responses (migration 093).
    if (dropped.length > 0 && !opts.dryRun) await tx`select etl_history_notify_change()`
    return dropped
  })
}
