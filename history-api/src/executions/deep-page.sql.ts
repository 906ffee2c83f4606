// Pages of the newest-first history list located by the per-day counts of migration 090: the UTC
// days a page's first and last rows started on are known before a row is read, so the page is read
// from those days' rows and the months they can be in — at any depth, over any length of history.
import type { Db } from '../db.ts'
import { counterFor } from './counts.sql.ts'
import {
  type ExecutionsPage,
  type Fragment,
  type HistoryFilters,
  hasExecutionFilters,
  isDefaultSort,
  listExecutionsPage,
  listStartedIdsForTienda,
} from './executions.sql.ts'

/**
 * Where rows `offset` … `offset + limit − 1` of a newest-first list lie, from its day counts:
 * - `before`: the rows of later days (and those not started, which head the list);
 * - `until`: the end of the first row's day, null when that row has not started;
 * - `since`: the start of the last row's day (or of the oldest day, when the list ends sooner), null
 *   when it has not started;
 * - `idBelow`: every row started before `until` has a smaller id (migrations/090).
 * Undefined when `offset` is past the end.
 */
type DaySpan = { before: number; until: Date | null; since: Date | null; idBelow: number | null }

async function locate(
  db: Db,
  c: { dim: string; vals: string[] },
  offset: number,
  limit: number,
  from: () => Fragment = () => db``,
): Promise<DaySpan | undefined> {
  // Newest day first with a running sum, read only as far as needed: the index of (dim, val, dia)
  // backwards for one value (a first page reads a day's row, not every day's), summed per day for several.
  const days = (dir: Fragment) =>
    c.vals.length === 1
      ? db`select dia, n::int as n from etl_execution_day_counts
           where dim = ${c.dim} and val = ${c.vals[0]!} ${from()} order by dia ${dir}`
      : db`select dia, sum(n)::int as n from etl_execution_day_counts
           where dim = ${c.dim} and val = any(${c.vals}::text[]) ${from()} group by dia order by dia ${dir}`
  const running = () => db`select dia, n, sum(n) over (order by dia desc rows unbounded preceding) as cum
    from (${days(db`desc`)}) d`
  const [at] = await db<{ before: string | null; until: Date | null; since: Date | null; id_below: number | null }[]>`
    with first_row as (select dia, cum - n as before from (${running()}) w where cum > ${offset} limit 1),
    last_row as (
      select coalesce((select dia from (${running()}) w where cum >= ${offset + limit} limit 1),
        (select dia from (${days(db`asc`)}) d limit 1)) as dia
    ),
    x as (
      select f.before,
        case when f.dia = 'infinity' then null else (f.dia + 1)::timestamp at time zone 'UTC' end as until,
        case when l.dia = 'infinity' then null else l.dia::timestamp at time zone 'UTC' end as since
      from first_row f cross join last_row l
    )
    select before, until, since, etl_first_id_not_started_before(until) as id_below from x`
  return at && { before: Number(at.before), until: at.until, since: at.since, idBelow: at.id_below }
}

/**
 * A newest-first page located by day (one counted filter at most, no store, no end date, no id:
 * counterFor's dims): the rows started from the last row's day to the end of the first row's day,
 * from the offset within them, read in one statement from the months those days' rows can be in.
 * Undefined when the filters are not counted per day or the page starts among the executions not
 * started yet (the list index's first entries: the caller's path reads them).
 */
export async function listExecutionsPageByDay(
  db: Db,
  f: HistoryFilters,
  total: (db: Db) => Fragment,
): Promise<ExecutionsPage | undefined> {
  const c = counterFor({ ...f, desde: undefined })
  if (!c || c.dim === 'tienda' || !isDefaultSort(f.sort) || f.id || f.hasta) return undefined
  // From the window's first day on (a row of that day started before it sorts after every row of the
  // window, so it never moves one); executions not started are outside any window.
  const window = (tx: Db) =>
    f.desde ? tx`and dia >= (${f.desde}::timestamptz at time zone 'UTC')::date and dia < 'infinity'` : tx``
  const read = async (tx: Db) => {
    const at = await locate(tx, c, f.offset, f.limit, () => window(tx))
    if (!at) {
      const [row] = await tx<{ total: number }[]>`select (${total(tx)})::int as total`
      return { body: '[]', total: row!.total, n: 0, last_started_at: null }
    }
    if (!at.until || !at.since) return undefined
    const since = f.desde && f.desde > at.since ? f.desde : at.since
    const days = {
      ...f,
      desde: since,
      startedSince: since,
      hasta: { at: at.until, inclusive: false },
      idBelow: at.idBelow ?? undefined,
      offset: f.offset - at.before,
    }
    return listExecutionsPage(tx, days, total(tx))
  }
  // The counts and the rows they locate, read in one snapshot.
  return 'begin' in db ? db.begin('isolation level repeatable read read only', read) : read(db)
}

/**
 * The store filter's started executions (its store rows' list index), located the same way by its
 * store's day counts; with other filters too, read from that index in order (listStartedIdsForTienda).
 * Not in one snapshot, like the rest of the store's page (its queued runs and its total are read beside
 * it): a run starting meanwhile shifts a page by a row, as between two requests.
 */
export async function listStartedIdsForTiendaByDay(
  db: Db,
  f: HistoryFilters & { tienda: string },
  limit: number,
  offset: number,
): Promise<{ id: number }[]> {
  if (hasExecutionFilters(f)) return listStartedIdsForTienda(db, f, limit, offset)
  const at = await locate(db, { dim: 'tienda', vals: [f.tienda] }, offset, limit)
  if (!at?.until || !at.since) return []
  return db<{ id: number }[]>`
    select d.execution_id as id from etl_execution_details d
    where d.tienda_id = ${f.tienda} and d.execution_started_at is not null
      and d.execution_started_at >= ${at.since} and d.execution_started_at < ${at.until}
      and etl_may_have_started_since(d.execution_id, ${at.since}::timestamptz) and d.execution_id < ${at.idBelow}::int
    order by d.execution_started_at desc nulls first, d.execution_id desc
    limit ${limit} offset ${offset - at.before}`
}
