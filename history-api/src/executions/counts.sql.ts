import type { Db } from '../db.ts'
import { executionFilters, type HistoryFilters } from './executions.sql.ts'

// X-Total-Count without counting rows where possible: migration 036 keeps exact counters per
// filter value, per store and per UTC hour of started_at. Each count is a SQL expression, so
// the list reads its page and its total in one statement.

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

const counterValue = (db: Db, c: { dim: string; val: string }) =>
  db`coalesce((select n from etl_execution_counts where dim = ${c.dim} and val = ${c.val}), 0)`

const HOUR_MS = 3_600_000
const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13) // the counters' 'YYYY-MM-DDTHH' (UTC)

/**
 * Executions started in a date range and nothing else: whole UTC hours from the kept per-hour
 * counters (an index range of the counts' primary key), the partial hours at both edges from
 * the list index (each less than an hour of rows).
 */
function startedBetween(db: Db, f: HistoryFilters) {
  const hiCond = f.hasta
    ? f.hasta.inclusive
      ? db`e.started_at <= ${f.hasta.at}`
      : db`e.started_at < ${f.hasta.at}`
    : db`true`
  const loH = f.desde ? Math.ceil(f.desde.getTime() / HOUR_MS) * HOUR_MS : null
  const hiH = f.hasta ? Math.floor(f.hasta.at.getTime() / HOUR_MS) * HOUR_MS : null
  if (loH !== null && hiH !== null && loH >= hiH) {
    return db`(select count(*) from etl_executions e where e.started_at >= ${f.desde!} and ${hiCond})`
  }
  const hours = db`coalesce((select sum(c.n) from etl_execution_counts c where c.dim = 'hour'
    and c.val >= ${loH === null ? '' : hourKey(loH)} and c.val < ${hiH === null ? '~' : hourKey(hiH)}), 0)`
  const head =
    loH === null
      ? db`0`
      : db`(select count(*) from etl_executions e where e.started_at >= ${f.desde!} and e.started_at < ${new Date(loH)})`
  const tail =
    hiH === null
      ? db`0`
      : db`(select count(*) from etl_executions e where e.started_at >= ${new Date(hiH)} and ${hiCond})`
  return db`(${hours} + ${head} + ${tail})`
}

/** X-Total-Count of the filters but the store, as an expression. */
export function totalOf(db: Db, f: HistoryFilters) {
  const counter = counterFor(f)
  if (counter) return counterValue(db, counter)
  if (!COUNTED.some(([key]) => f[key] !== undefined)) return startedBetween(db, f)
  return db`(select count(*) from etl_executions e where true ${executionFilters(db, f)})`
}

/** Started executions including the store (the queued ones are counted apart). */
export function countStartedForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  const counter = counterFor(f)
  const total = counter
    ? counterValue(db, counter)
    : db`(select count(*) from etl_execution_details d join etl_executions e on e.id = d.execution_id
        where d.tienda_id = ${f.tienda} and d.execution_started_at is not null ${executionFilters(db, f)})`
  return db<{ n: number }[]>`select (${total})::int as n`.then((r) => r[0]!.n)
}
