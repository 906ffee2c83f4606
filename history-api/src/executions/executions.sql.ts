import type { Db } from '../db.ts'

export type HistoryFilters = {
  etlName?: string
  status?: string
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
}

export type ExecutionRow = {
  id: number
  etl_name: string
  etl_type: string
  started_at: Date | null
  finished_at: Date | null
  duration_seconds: number | null
  status: string
  records_extracted: number
  records_loaded: number
  duplicates_skipped: number
  tiendas_count: number
  tiendas_exitosas: number
  tiendas_fallidas: number
  error_phase: string | null
  error_category: string | null
  triggered_by: string
}

/** The list item's columns. triggered_by is never null when the tracker writes; `cli` is the plan's default origin. */
const summaryColumns = (db: Db) => db`
  e.id, e.etl_name, e.etl_type, e.started_at, e.finished_at, e.duration_seconds::float8 as duration_seconds,
  e.status, e.records_extracted, e.records_loaded, e.duplicates_skipped, e.tiendas_count, e.tiendas_exitosas,
  e.tiendas_fallidas, e.error_phase, e.error_category, coalesce(e.triggered_by, 'cli') as triggered_by`

/** Every filter but the store, on alias `e`; each one is a column of a list index. */
const executionFilters = (db: Db, f: HistoryFilters) => db`
  ${f.etlName ? db`and e.etl_name = ${f.etlName}` : db``}
  ${f.status ? db`and e.status = ${f.status}` : db``}
  ${f.triggeredBy ? db`and e.triggered_by = ${f.triggeredBy}` : db``}
  ${f.errorPhase ? db`and e.error_phase = ${f.errorPhase}` : db``}
  ${f.errorCategory ? db`and e.error_category = ${f.errorCategory}` : db``}
  ${f.desde ? db`and e.started_at >= ${f.desde}` : db``}
  ${f.hasta ? (f.hasta.inclusive ? db`and e.started_at <= ${f.hasta.at}` : db`and e.started_at < ${f.hasta.at}`) : db``}`

const hasExecutionFilters = (f: HistoryFilters) =>
  Boolean(f.etlName || f.status || f.triggeredBy || f.errorPhase || f.errorCategory || f.desde || f.hasta)

/**
 * One page in list order. The page's ids come from an index-only scan of the list index of the
 * filter (so a deep offset skips index entries, not table rows); only the page is read whole.
 */
export function listExecutionsPage(db: Db, f: HistoryFilters) {
  return db<ExecutionRow[]>`
    with page as (
      select e.id, e.started_at from etl_executions e
      where true ${executionFilters(db, f)}
      order by e.started_at desc nulls first, e.id desc
      limit ${f.limit} offset ${f.offset}
    )
    select ${summaryColumns(db)}
    from page join etl_executions e on e.id = page.id
    order by page.started_at desc nulls first, page.id desc`
}

/** Queued executions asked for the store (they have no store rows yet); they head the list. */
export function listQueuedIdsForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
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

export function listExecutionsByIds(db: Db, ids: number[]) {
  return db<ExecutionRow[]>`
    select ${summaryColumns(db)} from etl_executions e
    where e.id = any(${ids}::int[])
    order by e.started_at desc nulls first, e.id desc`
}

const COUNTED = [
  ['etlName', 'etl_name'],
  ['status', 'status'],
  ['triggeredBy', 'triggered_by'],
  ['errorPhase', 'error_phase'],
  ['errorCategory', 'error_category'],
] as const

/** The counter kept by migration 036's triggers, when the filters are at most one counted one. */
export function counterFor(f: HistoryFilters): { dim: string; val: string } | null {
  if (f.desde || f.hasta) return null
  const set = COUNTED.filter(([key]) => f[key] !== undefined)
  if (f.tienda) return set.length === 0 ? { dim: 'tienda', val: f.tienda } : null
  if (set.length === 0) return { dim: 'all', val: '' }
  if (set.length > 1) return null
  const [key, dim] = set[0]!
  return { dim, val: f[key]! }
}

export function readCounter(db: Db, c: { dim: string; val: string }) {
  return db<{ n: number }[]>`
    select n::int as n from etl_execution_counts where dim = ${c.dim} and val = ${c.val}`.then((r) => r[0]?.n ?? 0)
}

const onlyDates = (f: HistoryFilters) =>
  (f.desde || f.hasta) && !(f.tienda || COUNTED.some(([key]) => f[key] !== undefined))

/**
 * Executions started in a date range and nothing else: whole UTC hours from the kept per-hour
 * counters, the partial hours at both edges from the list index (each less than an hour of rows).
 */
export function countStartedBetween(db: Db, f: HistoryFilters) {
  const hi = f.hasta
    ? f.hasta.inclusive
      ? db`${f.hasta.at}::timestamptz + interval '1 microsecond'`
      : db`${f.hasta.at}::timestamptz`
    : db`null::timestamptz`
  return db<{ n: number }[]>`
    with b as (select ${f.desde ?? null}::timestamptz as lo, ${hi} as hi),
    h as (
      select b.lo, b.hi, date_trunc('hour', b.hi, 'UTC') as hi_h,
        date_trunc('hour', b.lo, 'UTC')
          + case when date_trunc('hour', b.lo, 'UTC') = b.lo then interval '0' else interval '1 hour' end as lo_h
      from b
    ),
    w as (select h.*, (h.lo_h is null or h.hi_h is null or h.lo_h < h.hi_h) as whole from h)
    select (case when w.whole then
        coalesce((select sum(c.n) from etl_execution_counts c where c.dim = 'hour'
          and (w.lo_h is null or c.val >= to_char(w.lo_h at time zone 'UTC', 'YYYY-MM-DD"T"HH24'))
          and (w.hi_h is null or c.val < to_char(w.hi_h at time zone 'UTC', 'YYYY-MM-DD"T"HH24'))), 0)
        + (select count(*) from etl_executions e where e.started_at >= w.lo and e.started_at < w.lo_h)
        + (select count(*) from etl_executions e where e.started_at >= w.hi_h and e.started_at < w.hi)
      else (select count(*) from etl_executions e where e.started_at >= w.lo and e.started_at < w.hi) end)::int as n
    from w`.then((r) => r[0]!.n)
}

/** Counts without a kept counter: a date range alone, or combined filters (from the list indexes). */
export function countExecutions(db: Db, f: HistoryFilters) {
  if (onlyDates(f)) return countStartedBetween(db, f)
  return db<{ n: number }[]>`
    select count(*)::int as n from etl_executions e where true ${executionFilters(db, f)}`.then((r) => r[0]!.n)
}

export function countStartedForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  return db<{ n: number }[]>`
    select count(*)::int as n from etl_execution_details d join etl_executions e on e.id = d.execution_id
    where d.tienda_id = ${f.tienda} and d.execution_started_at is not null ${executionFilters(db, f)}`.then(
    (r) => r[0]!.n,
  )
}

export function findTienda(db: Db, id: string) {
  return db<{ id: string; active: boolean }[]>`select id, active from tiendas where id = ${id}`.then((r) => r[0])
}
