import type { PendingQuery, Row } from 'postgres'
import type { AsRow, Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'

/** A piece of SQL built with the tagged template, spliced into a statement. */
export type Fragment = PendingQuery<Row[]>

export type SortKey = 'started_at' | 'duration_seconds' | 'records_loaded'
export type HistorySort = { key: SortKey; desc: boolean }
export const DEFAULT_SORT: HistorySort = { key: 'started_at', desc: true }

export type HistoryFilters = {
  etlName?: string
  /** One status, or several (each read from its own list index and merged in order). */
  statuses?: string[]
  /** Search by execution id. */
  id?: number
  sort: HistorySort
  triggeredBy?: string
  errorPhase?: string
  errorCategory?: string
  tienda?: string
  /** Inclusive lower bound on started_at. */
  desde?: Date
  /** Upper bound on started_at: inclusive for an instant, exclusive for the start of the next day. */
  hasta?: { at: Date; inclusive: boolean }
  limit: number
  offset: number
  /**
   * Read only the months an execution started at or after this instant can be in (migrations/085:
   * etl_may_have_started_since), plus rows from before partitioning. A page read this way is the
   * true page only when it ends at or after this instant: listExecutionsPageByMonths checks that.
   */
  startedSince?: Date
  /**
   * Read only ids below this: the months an execution started before some instant can be in
   * (migrations/090: etl_first_id_not_started_before), a constant the planner prunes by.
   */
  idBelow?: number
}

/** A history row, typed by the contract's enums (ExecutionSummary) with its timestamps as Dates. */
export type ExecutionRow = AsRow<components['schemas']['ExecutionSummary'], 'started_at' | 'finished_at'>

/** RFC 3339 in UTC with milliseconds, exactly what Date#toISOString writes: SQL text, and as a fragment. */
export const utcText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
export const utc = (db: Db, column: string) => db.unsafe(utcText(column))

/**
 * The list item (contract ExecutionSummary) as columns of `e`. The list statements aggregate rows
 * of them into the compact JSON array the API answers with as is — no per-row parsing and
 * re-serialising in the API process. triggered_by is never null when the tracker writes; `cli`
 * is the plan's default origin.
 */
const summaryColumns = (db: Db) => db`
  e.id, e.etl_name, e.etl_type, ${utc(db, 'e.started_at')} as started_at, ${utc(db, 'e.finished_at')} as finished_at,
  e.duration_seconds, e.status, e.records_extracted, e.records_loaded, e.duplicates_skipped, e.tiendas_count,
  e.tiendas_exitosas, e.tiendas_fallidas, e.tiendas_cerradas, e.error_phase, e.error_category,
  coalesce(e.triggered_by, 'cli') as triggered_by`

/**
 * ORDER BY of a sort on alias `a` (`e` for the table, `x`/`u` for derived rows with the same
 * column names). Each direction is one btree scan of (col, id) or (filter, col, id), forward
 * or backward, so NULLS go first descending and last ascending (PostgreSQL's default);
 * started_at keeps the list's `DESC NULLS FIRST` index and reads it backward for ascending.
 */
const ORDERS: Record<SortKey, { desc: string; asc: string }> = {
  started_at: { desc: 'started_at desc nulls first, $.id desc', asc: 'started_at asc nulls last, $.id asc' },
  duration_seconds: {
    desc: 'duration_seconds desc nulls first, $.id desc',
    asc: 'duration_seconds asc nulls last, $.id asc',
  },
  records_loaded: { desc: 'records_loaded desc, $.id desc', asc: 'records_loaded asc, $.id asc' },
}

export const orderBy = (db: Db, alias: 'e' | 'x' | 'u', sort: HistorySort) =>
  db.unsafe(`${alias}.${ORDERS[sort.key][sort.desc ? 'desc' : 'asc'].replaceAll('$', alias)}`)

export const isDefaultSort = (sort: HistorySort) => sort.key === 'started_at' && sort.desc

/** Every filter but the store, on alias `e`; each one is a column of a list index. */
export const executionFilters = (db: Db, f: HistoryFilters) => db`
  ${f.id ? db`and e.id = ${f.id}` : db``}
  ${f.etlName ? db`and e.etl_name = ${f.etlName}` : db``}
  ${f.statuses?.length === 1 ? db`and e.status = ${f.statuses[0]!}` : db``}
  ${f.statuses && f.statuses.length > 1 ? db`and e.status = any(${f.statuses}::text[])` : db``}
  ${f.triggeredBy ? db`and e.triggered_by = ${f.triggeredBy}` : db``}
  ${f.errorPhase ? db`and e.error_phase = ${f.errorPhase}` : db``}
  ${f.errorCategory ? db`and e.error_category = ${f.errorCategory}` : db``}
  ${f.desde ? db`and e.started_at >= ${f.desde}` : db``}
  ${f.hasta ? (f.hasta.inclusive ? db`and e.started_at <= ${f.hasta.at}` : db`and e.started_at < ${f.hasta.at}`) : db``}`

export const hasExecutionFilters = (f: HistoryFilters) =>
  Boolean(
    f.id || f.etlName || f.statuses?.length || f.triggeredBy || f.errorPhase || f.errorCategory || f.desde || f.hasta,
  )

/** The store filter on alias `e`, for paths that do not start from the store rows' own index. */
export const tiendaFilter = (db: Db, tienda: string | undefined) =>
  tienda
    ? db`and (exists (select 1 from etl_execution_details d where d.execution_id = e.id and d.tienda_id = ${tienda})
        or (e.status = 'queued' and ${tienda} = any(e.tienda_ids)))`
    : db``

/** The months bounds of `startedSince` and `idBelow` on an execution id column. */
const monthsBound = (db: Db, f: HistoryFilters, column = 'e.id') => db`
  ${f.startedSince ? db`and etl_may_have_started_since(${db.unsafe(column)}, ${f.startedSince}::timestamptz)` : db``}
  ${f.idBelow === undefined ? db`` : db`and ${db.unsafe(column)} < ${f.idBelow}::int`}`

/**
 * The ids of one page, in the sort's order. One status: an index scan of the filter's list
 * index (a deep offset skips index entries, not table rows). Several statuses: one ordered scan
 * per status, each cut at offset + limit, merged in order (Merge Append) — `status = any(…)`
 * would read every matching row and sort them.
 */
function pageIds(db: Db, f: HistoryFilters, whole: boolean) {
  const col = db.unsafe(f.sort.key)
  const where = (g: HistoryFilters) =>
    db`where true ${executionFilters(db, g)} ${tiendaFilter(db, g.tienda)} ${monthsBound(db, g)}`
  // started_at only where it is the order (listExecutionsPageByMonths reads it): any other column
  // outside the sort's index would cost the index-only scan.
  const byStart = f.sort.key === 'started_at'
  const started = byStart ? db`e.started_at` : db`null::timestamptz as started_at`
  if (!f.statuses || f.statuses.length < 2) {
    return db`select ${whole ? db`e.*` : db`e.id, ${started}`} from etl_executions e ${where(f)}
      order by ${orderBy(db, 'e', f.sort)} limit ${f.limit} offset ${f.offset}`
  }
  const columns = byStart ? started : db`e.${col}, ${started}`
  const branches = f.statuses.map(
    (status) => db`(select e.id, ${columns} from etl_executions e ${where({ ...f, statuses: [status] })}
      order by ${orderBy(db, 'e', f.sort)} limit ${f.offset + f.limit})`,
  )
  const merged = branches.reduce((all, branch) => db`${all} union all ${branch}`)
  return db`select u.id, u.started_at from (${merged}) u order by ${orderBy(db, 'u', f.sort)}
    limit ${f.limit} offset ${f.offset}`
}

export type ExecutionsPage = {
  body: string
  total: number
  /** Rows in the page, and the start of its last started row (null when none has started). */
  n: number
  last_started_at: Date | null
}

/**
 * One page in the sort's order and the total; only the page's rows are read whole. A first page
 * (one ordered scan, no offset) reads them in that scan; others read the ids, then join their rows —
 * a join the planner plans over every month the page may be in again.
 */
export function listExecutionsPage(db: Db, f: HistoryFilters, total: Fragment) {
  const whole = f.offset === 0 && (!f.statuses || f.statuses.length < 2)
  const rows = whole ? db`page e` : db`page join etl_executions e on e.id = page.id ${monthsBound(db, f)}`
  return db<ExecutionsPage[]>`
    with page as (${pageIds(db, f, whole)})
    select coalesce((select json_agg(x order by ${orderBy(db, 'x', f.sort)}) from (
        select ${summaryColumns(db)} from ${rows}) x),
        '[]')::text as body,
      (${total})::int as total, (select count(*) from page)::int as n,
      (select min(page.started_at) from page) as last_started_at`.then((r) => r[0]!)
}

/** The months read for the newest-first list, widening when a page is not all there: the runs of the last 31 days, then of the last 400. */
const RECENT_MS = [31 * 86_400_000, 400 * 86_400_000]

/**
 * The newest-first page from the recent months only, when that gives the true page: its last row
 * started at or after the bound (every run outside the bound started before it: a run starts at the
 * latest 14 days after the month of its id ends), or the bounded rows are all there are. Otherwise
 * once more from the months its last row may have started in, or from every month. A page of the
 * recent past plans a few months, not every month ever kept. Other orders read every month.
 */
export async function listExecutionsPageByMonths(db: Db, f: HistoryFilters, total: Fragment, now: Date) {
  if (!isDefaultSort(f.sort) || f.id) return listExecutionsPage(db, f, total)
  let count = total
  for (const back of RECENT_MS) {
    const since = new Date(now.getTime() - back)
    // A lower bound of the window itself, when no older, bounds the months exactly.
    if (f.desde && f.desde >= since) break
    const page = await listExecutionsPage(db, { ...f, startedSince: since }, count)
    if (isTruePage(f, page, since)) return page
    count = db`${page.total}::int`
    if (page.n === f.limit) return listExecutionsPage(db, { ...f, startedSince: page.last_started_at! }, count)
  }
  return listExecutionsPage(db, f.desde ? { ...f, startedSince: f.desde } : f, count)
}

/** Whether a page read from the months of `since` on is the true one (listExecutionsPageByMonths). */
const isTruePage = (f: HistoryFilters, page: ExecutionsPage, since: Date) =>
  f.offset + page.n === page.total ||
  (page.n === f.limit && (page.last_started_at === null || page.last_started_at >= since))

/**
 * The newest-first page from the last 31 days' months in one statement, when that is the true page
 * (a first page, mostly: the list's head is recent); undefined otherwise.
 */
export async function listRecentPage(db: Db, f: HistoryFilters, total: Fragment, now: Date) {
  if (!isDefaultSort(f.sort) || f.id) return undefined
  const since = new Date(now.getTime() - RECENT_MS[0]!)
  if (f.desde && f.desde >= since) return listExecutionsPage(db, { ...f, startedSince: f.desde }, total)
  const page = await listExecutionsPage(db, { ...f, startedSince: since }, total)
  return isTruePage(f, page, since) ? page : undefined
}

/** The store's own list index serves only the default order without an id search. */
export const usesTiendaIndex = (f: HistoryFilters) => Boolean(f.tienda) && isDefaultSort(f.sort) && !f.id

/** Every row of the filters in the sort's order, for the CSV export (read with a cursor). */
export function selectExecutionsForExport(db: Db, f: HistoryFilters) {
  return db<ExecutionRow[]>`
    select ${summaryColumns(db)} from etl_executions e
    where true ${executionFilters(db, f)} ${tiendaFilter(db, f.tienda)}
    order by ${orderBy(db, 'e', f.sort)}`
}

/**
 * Queued executions asked for the store (they have no store rows yet); they head the list. Any month
 * may hold one, so the statement plans every month: it runs only when the kept counters say some
 * execution is queued (most of the time none is).
 */
export async function listQueuedIdsForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  const [queued] = await db<{ n: string }[]>`select n from etl_execution_counts where dim = 'status' and val = 'queued'`
  if (!queued || Number(queued.n) <= 0) return []
  return db<{ id: number }[]>`
    select e.id from etl_executions e
    where e.status = 'queued' and ${f.tienda} = any(e.tienda_ids) ${executionFilters(db, f)}
    order by e.started_at desc nulls first, e.id desc`
}

/** Started executions that include the store, in list order, from the store rows' own list index. */
export function listStartedIdsForTienda(db: Db, f: HistoryFilters & { tienda: string }, limit: number, offset: number) {
  const join = hasExecutionFilters(f) ? db`join etl_executions e on e.id = d.execution_id` : db``
  return db<{ id: number }[]>`
    select d.execution_id as id from etl_execution_details d ${join}
    where d.tienda_id = ${f.tienda} and d.execution_started_at is not null
      ${hasExecutionFilters(f) ? executionFilters(db, f) : db``}
    order by d.execution_started_at desc nulls first, d.execution_id desc
    limit ${limit} offset ${offset}`
}

/** The items of these executions as a JSON array, in list order. */
export function listExecutionsByIds(db: Db, ids: number[]) {
  return db<{ body: string }[]>`
    select coalesce(json_agg(x order by x.started_at desc nulls first, x.id desc), '[]')::text as body from (
      select ${summaryColumns(db)} from etl_executions e where e.id = any(${ids}::int[])) x`.then((r) => r[0]!.body)
}

export function findTienda(db: Db, id: string) {
  return db<{ id: string; active: boolean }[]>`select id, active from tiendas where id = ${id}`.then((r) => r[0])
}
