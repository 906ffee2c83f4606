// Deep pages of the newest-first history list located by the per-day counts of migration 090.
import type { Db } from '../db.ts'
import { counterFor } from './counts.sql.ts'
import {
  type ExecutionsPage,
  type Fragment,
  type HistoryFilters,
  hasExecutionFilters,
  isDefaultSort,
  listExecutionsPageByMonths,
  RECENT_MS,
} from './executions.sql.ts'

/** Where a row of the newest-first list lies: the rows before its UTC start day, and the instant that day ends. */
type DayPosition = { before: number; dayEnd: Date | null; idBelow: number | null }

/**
 * The UTC day the row at `f.offset` of the newest-first list started on, from the per-day counts
 * of migration 090 (one counted filter at most, no store, no date range, no id: counterFor's dims
 * but the store; from the first day of `desde`): how many rows started on later days (or have not
 * started: they head the list), the end of that day (null: the row has not started) and the ids
 * below which every row started before it lies. Undefined past the end.
 */
async function locateByDay(db: Db, f: HistoryFilters): Promise<DayPosition | undefined> {
  const c = counterFor({ ...f, desde: undefined })
  if (!c || c.dim === 'tienda' || f.hasta) return undefined
  // From the window's first day on (a row of that day started before it sorts after every row of the
  // window, so it never moves one); executions not started are outside any window.
  const from = f.desde ? db`and dia >= (${f.desde}::timestamptz at time zone 'UTC')::date and dia < 'infinity'` : db``
  return locate(db, c, f.offset, from)
}

async function locate(
  db: Db,
  c: { dim: string; vals: string[] },
  offset: number,
  from = db``,
): Promise<DayPosition | undefined> {
  const [at] = await db<{ before: string; day_end: Date | null; id_below: number | null }[]>`
    select x.before, x.day_end, etl_first_id_not_started_before(x.day_end) as id_below from (
    select w.cum - w.n as before,
      case when w.dia = 'infinity' then null else (w.dia + 1)::timestamp at time zone 'UTC' end as day_end
    from (select g.dia, g.n, sum(g.n) over (order by g.dia desc) as cum
      from (select dia, sum(n) as n from etl_execution_day_counts
        where dim = ${c.dim} and val = any(${c.vals}::text[]) ${from} group by dia) g) w
    where w.cum > ${offset} order by w.dia desc limit 1) x`
  return at && { before: Number(at.before), dayEnd: at.day_end, idBelow: at.id_below }
}

/**
 * A deeper newest-first page from the day its first row started on (locateByDay): the
 * rows started before that day's end, from the offset within it, read like a page of the recent past
 * with that day as "now". A page at offset 50,000 reads the rows of one day or so and the months they
 * may be in, not the 50,000 before it merged across every month they span. Undefined when the
 * filters are not counted per day, the offset is past the end or within the executions not started.
 */
export async function listExecutionsPageByDay(
  db: Db,
  f: HistoryFilters,
  total: (db: Db) => Fragment,
): Promise<ExecutionsPage | undefined> {
  if (!isDefaultSort(f.sort) || f.id || f.tienda || f.hasta || f.offset === 0) return undefined
  const read = async (tx: Db) => {
    const at = await locateByDay(tx, f)
    if (!at?.dayEnd) return undefined
    const rest = {
      ...f,
      hasta: { at: at.dayEnd, inclusive: false },
      idBelow: at.idBelow ?? undefined,
      offset: f.offset - at.before,
    }
    // The rows of the window from that day back: the total but those of later days (the window's
    // first day may hold rows before it: the total is the list's own, not the day counts').
    const page = await listExecutionsPageByMonths(tx, rest, tx`(${total(tx)} - ${at.before})::int`, at.dayEnd)
    return { ...page, total: page.total + at.before }
  }
  // The counts and the rows they locate, read in one snapshot.
  return 'begin' in db ? db.begin('isolation level repeatable read read only', read) : read(db)
}

/**
 * The store filter's started executions at any offset, the same way: from the day the row at
 * `offset` started on (dim 'tienda' of the day counts), the rows of that store started before the
 * day's end, read from the months of its last 31 days, or from every month before it when those do
 * not hold the whole page. Undefined with other filters (the caller's path).
 */
export async function listStartedIdsForTiendaByDay(
  db: Db,
  f: HistoryFilters & { tienda: string },
  limit: number,
  offset: number,
): Promise<{ id: number }[] | undefined> {
  if (hasExecutionFilters(f)) return undefined
  // Not in one snapshot, like the rest of the store's page (its queued runs and its total are read
  // beside it): a run starting meanwhile shifts a page by a row, as between two requests.
  const at = await locate(db, { dim: 'tienda', vals: [f.tienda] }, offset)
  if (!at?.dayEnd) return []
  const rows = (since: Date | null) => db<{ id: number; started_at: Date }[]>`
    select d.execution_id as id, d.execution_started_at as started_at from etl_execution_details d
    where d.tienda_id = ${f.tienda} and d.execution_started_at is not null
      and d.execution_started_at < ${at.dayEnd} and d.execution_id < ${at.idBelow}::int
      ${since ? db`and etl_may_have_started_since(d.execution_id, ${since}::timestamptz)` : db``}
    order by d.execution_started_at desc nulls first, d.execution_id desc
    limit ${limit} offset ${offset - at.before}`
  const since = new Date(at.dayEnd.getTime() - RECENT_MS[0]!)
  const recent = await rows(since)
  // Every row started since `since` is in those months: the page is the true one when it ends there.
  if (recent.length === limit && recent.at(-1)!.started_at >= since) return recent
  return rows(null)
}
