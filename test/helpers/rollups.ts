// The statistics rollups and list counts (migrations 036, 051, 090, 095) are kept by triggers as rows change; a test that
// changes history checks them against etl_stats_rebuild(), which recomputes them from the tables.
import type { Sql } from 'postgres'
import { expect } from 'vitest'

/**
 * The trigger-kept rollups equal a rebuild from the raw tables (rows netted to zero aside). A
 * numeric sum may read 0 or 0.00 depending on the arithmetic that produced it: `.00` is dropped.
 */
export async function rollupsMatchRebuild(db: Sql) {
  const dump = () =>
    db<{ line: string }[]>`select regexp_replace(line, '\\.00\\M', '', 'g') as line from (
    select 'c ' || dim || ' ' || val || ' ' || n as line from etl_execution_counts where n <> 0
    union all select 'eh ' || row(h.*)::text from etl_stats_exec_hour h where n <> 0
    union all select 'ed ' || row(h.*)::text from etl_stats_exec_day h where n <> 0
    union all select 'th ' || row(h.*)::text from etl_stats_tienda_hour h where n <> 0
    union all select 'td ' || row(h.*)::text from etl_stats_tienda_day h where n <> 0
    union all select 'tm ' || row(h.*)::text from etl_stats_tienda_month h where n <> 0
    union all select 'fd ' || row(h.*)::text from etl_stats_fallos_day h where fallos <> 0
    union all select 'oh ' || row(h.*)::text from etl_stats_origen_hour h where n <> 0
    union all select 'od ' || row(h.*)::text from etl_stats_origen_day h where n <> 0
    union all select 'dc ' || row(h.*)::text from etl_execution_day_counts h where n <> 0
    union all select 'hc ' || row(h.*)::text from etl_execution_hour_counts h where n <> 0
    union all select 'bd ' || row(h.*)::text from etl_history_backdated_months h) x
    order by 1`.then((rows) => rows.map((r) => r.line))
  const kept = await dump()
  await db`select etl_stats_rebuild()`
  expect(kept).toEqual(await dump())
}
