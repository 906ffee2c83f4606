import type { Db } from '../db.ts'
import { executionFilters, type HistoryFilters } from './executions.sql.ts'

// X-Total-Count without counting rows where possible: migration 036 keeps exact counters per
// filter value, per store and per UTC hour of started_at.

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

const HOUR_MS = 3_600_000
const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13) // the counters' 'YYYY-MM-DDTHH' (UTC)

/**
 * Executions started in a date range and nothing else: whole UTC hours from the kept per-hour
 * counters (an index range of the counts' primary key), the partial hours at both edges from
 * the list index (each less than an hour of rows).
 */
export function countStartedBetween(db: Db, f: HistoryFilters) {
  const lo = f.desde?.getTime() ?? null
  // An inclusive bound on an instant (ms precision) is the next microsecond, exclusive.
  const hi = f.hasta ? f.hasta.at.getTime() : null
  const hiCond = f.hasta
    ? f.hasta.inclusive
      ? db`e.started_at <= ${f.hasta.at}`
      : db`e.started_at < ${f.hasta.at}`
    : db`true`
  const loH = lo === null ? null : Math.ceil(lo / HOUR_MS) * HOUR_MS
  const hiH = hi === null ? null : Math.floor(hi / HOUR_MS) * HOUR_MS
  if (loH !== null && hiH !== null && loH >= hiH) {
    return db<{ n: number }[]>`
      select count(*)::int as n from etl_executions e where e.started_at >= ${f.desde!} and ${hiCond}`.then(
      (r) => r[0]!.n,
    )
  }
  return db<{ n: number }[]>`
    select (
      coalesce((select sum(c.n) from etl_execution_counts c where c.dim = 'hour'
        and c.val >= ${loH === null ? '' : hourKey(loH)} and c.val < ${hiH === null ? '~' : hourKey(hiH)}), 0)
      + ${loH === null ? db`0` : db`(select count(*) from etl_executions e where e.started_at >= ${f.desde!} and e.started_at < ${new Date(loH)})`}
      + ${hiH === null ? db`0` : db`(select count(*) from etl_executions e where e.started_at >= ${new Date(hiH)} and ${hiCond})`}
    )::int as n`.then((r) => r[0]!.n)
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
