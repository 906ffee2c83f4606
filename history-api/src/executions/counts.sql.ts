import type { Db } from '../db.ts'
import { executionFilters, type HistoryFilters } from './executions.sql.ts'

// X-Total-Count without counting rows where possible: migration 036 keeps exact counters per
// filter value, per store and per UTC hour of started_at. Each count is a SQL expression, so
// the list reads its page and its total in one statement.

/** The counted filters, each with its values (statuses may be several: their counters add up). */
const counted = (f: HistoryFilters): [dim: string, vals: string[]][] =>
  (
    [
      ['etl_name', f.etlName ? [f.etlName] : []],
      ['status', f.statuses ?? []],
      ['triggered_by', f.triggeredBy ? [f.triggeredBy] : []],
      ['error_phase', f.errorPhase ? [f.errorPhase] : []],
      ['error_category', f.errorCategory ? [f.errorCategory] : []],
    ] as [string, string[]][]
  ).filter(([, vals]) => vals.length > 0)

/** The counters kept by migration 036's triggers, when the filters are at most one counted one. */
export function counterFor(f: HistoryFilters): { dim: string; vals: string[] } | null {
  if (f.desde || f.hasta || f.id) return null
  const set = counted(f)
  if (f.tienda) return set.length === 0 ? { dim: 'tienda', vals: [f.tienda] } : null
  if (set.length === 0) return { dim: 'all', vals: [''] }
  if (set.length > 1) return null
  const [dim, vals] = set[0]!
  return { dim, vals }
}

const counterValue = (db: Db, c: { dim: string; vals: string[] }) =>
  db`coalesce((select sum(n) from etl_execution_counts where dim = ${c.dim} and val = any(${c.vals}::text[])), 0)`

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13) // the counters' 'YYYY-MM-DDTHH' (UTC)
const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10) // migrations/090's UTC `dia`

/**
 * Executions started in a date range and nothing else: whole UTC days from the per-day counts
 * (migrations/090: a year is 365 rows, not 8,760 hours), the whole hours around them from the
 * per-hour counters, the partial hours at both edges from the list index (each less than an hour of
 * rows).
 */
function startedBetween(db: Db, f: HistoryFilters) {
  const hiCond = f.hasta
    ? f.hasta.inclusive
      ? db`e.started_at <= ${f.hasta.at}`
      : db`e.started_at < ${f.hasta.at}`
    : db`true`
  const loH = f.desde ? Math.ceil(f.desde.getTime() / HOUR_MS) * HOUR_MS : null
  const hiH = f.hasta ? Math.floor(f.hasta.at.getTime() / HOUR_MS) * HOUR_MS : null
  // The months a run started at or after an instant can be in (migrations/085), so that an edge's
  // count plans those months, not every month kept.
  const since = (at: Date) => db`and etl_may_have_started_since(e.id, ${at}::timestamptz)`
  if (loH !== null && hiH !== null && loH >= hiH) {
    return db`(select count(*) from etl_executions e where e.started_at >= ${f.desde!} and ${hiCond} ${since(f.desde!)})`
  }
  const hours = (lo: number | null, hi: number | null) => db`coalesce((select sum(c.n) from etl_execution_counts c
    where c.dim = 'hour' and c.val >= ${lo === null ? '' : hourKey(lo)} and c.val < ${hi === null ? '~' : hourKey(hi)}), 0)`
  const loD = loH === null ? null : Math.ceil(loH / DAY_MS) * DAY_MS
  const hiD = hiH === null ? null : Math.floor(hiH / DAY_MS) * DAY_MS
  // Not started: dia = 'infinity', outside every range. Sent as text: postgres.js would send a date
  // parameter through Date, which has no infinity.
  const days = db`coalesce((select sum(c.n) from etl_execution_day_counts c where c.dim = 'all' and c.val = ''
    and c.dia >= ${loD === null ? '-infinity' : dayKey(loD)}::text::date
    and c.dia < ${hiD === null ? 'infinity' : dayKey(hiD)}::text::date), 0)`
  const whole =
    loD !== null && hiD !== null && loD > hiD
      ? hours(loH, hiH)
      : db`(${loH === null ? db`0` : hours(loH, loD)} + ${days} + ${hiH === null ? db`0` : hours(hiD, hiH)})`
  const head =
    loH === null
      ? db`0`
      : db`(select count(*) from etl_executions e
          where e.started_at >= ${f.desde!} and e.started_at < ${new Date(loH)} ${since(f.desde!)})`
  const tail =
    hiH === null
      ? db`0`
      : db`(select count(*) from etl_executions e where e.started_at >= ${new Date(hiH)} and ${hiCond} ${since(new Date(hiH))})`
  return db`(${whole} + ${head} + ${tail})`
}

/** X-Total-Count of the filters but the store, as an expression. */
export function totalOf(db: Db, f: HistoryFilters) {
  const counter = counterFor(f)
  if (counter) return counterValue(db, counter)
  if (counted(f).length === 0 && !f.id) return startedBetween(db, f)
  return db`(select count(*) from etl_executions e where true ${executionFilters(db, f)})`
}

/** Started executions including the store, as an expression (the queued ones are counted apart). */
function startedForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  const counter = counterFor(f)
  return counter
    ? counterValue(db, counter)
    : db`(select count(*) from etl_execution_details d join etl_executions e on e.id = d.execution_id
        where d.tienda_id = ${f.tienda} and d.execution_started_at is not null ${executionFilters(db, f)})`
}

export function countStartedForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  return db<{ n: number }[]>`select (${startedForTienda(db, f)})::int as n`.then((r) => r[0]!.n)
}

/** X-Total-Count with the store: its queued executions plus its started ones. */
export function totalForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  return db`((select count(*) from etl_executions e
      where e.status = 'queued' and ${f.tienda} = any(e.tienda_ids) ${executionFilters(db, f)})
    + ${startedForTienda(db, f)})`
}
