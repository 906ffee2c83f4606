// Pages of the newest-first history list located by the per-day and per-hour counts of migrations 090
// and 095: the UTC hours a page's first and last rows started in are known before a row is read, so
// the page is read from those hours' rows and the months they can be in — at any depth, over any
// length of history, skipping fewer than an hour's runs before it.
import { type Db, inReserved, pipeline, READ_SNAPSHOT } from '../db.ts'
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
 * Where rows `offset` … `offset + limit − 1` of a newest-first list lie, from its day and hour counts:
 * - `before`: the rows of later hours (and those not started, which head the list);
 * - `until`: the end of the first row's hour, null when that row has not started;
 * - `since`: the start of the last row's hour (or of the oldest day, when the list ends sooner), null
 *   when it has not started;
 * - `idBelow`: every row started before `until` has a smaller id (migrations/090).
 * Undefined when `offset` is past the end.
 */
type Span = { before: number; until: Date | null; since: Date | null; idBelow: number | null }

type SpanRow = { before: string | null; until: Date | null; since: Date | null; id_below: number | null }

const spanOf = (at: SpanRow | undefined): Span | undefined =>
  at && { before: Number(at.before), until: at.until, since: at.since, idBelow: at.id_below }

/** The statement that locates a page (its one row: spanOf), not yet sent. */
function locateQuery(
  db: Db,
  c: { dim: string; vals: string[] },
  offset: number,
  limit: number,
  from: () => Fragment = () => db``,
) {
  const one = c.vals.length === 1
  const of = one ? db`dim = ${c.dim} and val = ${c.vals[0]!}` : db`dim = ${c.dim} and val = any(${c.vals}::text[])`
  // Newest day first with a running sum, read only as far as needed: the index of (dim, val, dia)
  // backwards for one value (a first page reads a day's row, not every day's), summed per day for several.
  const days = (dir: Fragment) =>
    one
      ? db`select dia, n::int as n from etl_execution_day_counts where ${of} ${from()} order by dia ${dir}`
      : db`select dia, sum(n)::int as n from etl_execution_day_counts where ${of} ${from()} group by dia order by dia ${dir}`
  const running = () => db`select dia, n, sum(n) over (order by dia desc rows unbounded preceding) as cum
    from (${days(db`desc`)}) d`
  // The hours of a day located as `d` (its `dia`, and `before`: the rows of later days), newest first,
  // each with the rows up to its end (migrations/095): 24 rows at most.
  const hours = (d: Fragment) => db`select h.hora, h.n,
      ${d}.before + sum(h.n) over (order by h.hora desc rows unbounded preceding) as upto
    from (select hora, ${one ? db`n` : db`sum(n)`}::int as n from etl_execution_hour_counts
      where ${of} and hora >= ${d}.dia::timestamp at time zone 'UTC' and hora < (${d}.dia + 1)::timestamp at time zone 'UTC'
      ${one ? db`` : db`group by hora`}) h`
  return db<SpanRow[]>`
    with first_day as (select dia, cum - n as before from (${running()}) w where cum > ${offset} limit 1),
    last_day as (select dia, cum - n as before from (${running()}) w where cum >= ${offset + limit} limit 1),
    first_hour as (select h.hora, h.upto - h.n as before from first_day f cross join lateral (${hours(db`f`)}) h
      where h.upto > ${offset} order by h.hora desc limit 1),
    last_hour as (select h.hora from last_day l cross join lateral (${hours(db`l`)}) h
      where h.upto >= ${offset + limit} order by h.hora desc limit 1),
    x as (
      select coalesce(fh.before, f.before) as before,
        case when f.dia = 'infinity' then null
          else coalesce(fh.hora + interval '1 hour', (f.dia + 1)::timestamp at time zone 'UTC') end as until,
        case when l.dia = 'infinity' then null
          else coalesce((select hora from last_hour), l.dia::timestamp at time zone 'UTC') end as since
      from first_day f left join first_hour fh on true
      cross join (select coalesce((select dia from last_day), (select dia from (${days(db`asc`)}) d limit 1)) as dia) l
    )
    select before, until, since, etl_first_id_not_started_before(until) as id_below from x`
}

/**
 * A newest-first page located by hour (one counted filter at most, no store, no end date, no id:
 * counterFor's dims): the rows started from the last row's hour to the end of the first row's hour,
 * from the offset within them, read in one statement from the months those hours' rows can be in.
 * Undefined when the filters are not counted per day and hour or the page starts among the
 * executions not started yet (the list index's first entries: the caller's path reads them).
 */
export async function listExecutionsPageLocated(
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
  // The page at a location, or its total alone past the end; the statement is sent when called.
  const read = (tx: Db, at: Span | undefined) => {
    if (!at) return tx<{ total: number }[]>`select (${total(tx)})::int as total`.then(([row]) => emptyPage(row!.total))
    if (!at.until || !at.since) return undefined
    const since = f.desde && f.desde > at.since ? f.desde : at.since
    const span = {
      ...f,
      desde: since,
      startedSince: since,
      hasta: { at: at.until, inclusive: false },
      idBelow: at.idBelow ?? undefined,
      offset: f.offset - at.before,
    }
    return listExecutionsPage(tx, span, total(tx))
  }
  const located = (tx: Db) => locateQuery(tx, c, f.offset, f.limit, () => window(tx))
  if ('savepoint' in db) return read(db, spanOf((await located(db))[0]))
  // The counts and the rows they locate, in one snapshot: BEGIN sent with the location, COMMIT with
  // the page (two round trips, not four).
  return inReserved(db, async (tx) => {
    const [, [at]] = await pipeline(tx.unsafe(READ_SNAPSHOT), located(tx))
    const [page] = await Promise.all([read(tx, spanOf(at)), tx`commit`])
    return page
  })
}

const emptyPage = (total: number): ExecutionsPage => ({ body: '[]', total, n: 0, last_started_at: null })

/**
 * The store filter's started executions (its store rows' list index), located the same way by its
 * store's day and hour counts; with other filters too, read from that index in order (listStartedIdsForTienda).
 * Not in one snapshot, like the rest of the store's page (its queued runs and its total are read beside
 * it): a run starting meanwhile shifts a page by a row, as between two requests.
 */
export async function listStartedIdsForTiendaLocated(
  db: Db,
  f: HistoryFilters & { tienda: string },
  limit: number,
  offset: number,
): Promise<{ id: number }[]> {
  if (hasExecutionFilters(f)) return listStartedIdsForTienda(db, f, limit, offset)
  const at = spanOf((await locateQuery(db, { dim: 'tienda', vals: [f.tienda] }, offset, limit))[0])
  if (!at?.until || !at.since) return []
  return db<{ id: number }[]>`
    select d.execution_id as id from etl_execution_details d
    where d.tienda_id = ${f.tienda} and d.execution_started_at is not null
      and d.execution_started_at >= ${at.since} and d.execution_started_at < ${at.until}
      and etl_may_have_started_since(d.execution_id, ${at.since}::timestamptz) and d.execution_id < ${at.idBelow}::int
    order by d.execution_started_at desc nulls first, d.execution_id desc
    limit ${limit} offset ${offset - at.before}`
}
