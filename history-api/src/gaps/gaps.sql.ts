import type { Db } from '../db.ts'
import type { GapEstado } from './gaps.schemas.ts'

export type GapRow = {
  id: number
  etl_name: 'ventas' | 'inventario'
  tienda_id: string
  tienda_nombre: string | null
  fecha_desde: Date | null
  fecha_hasta: Date | null
  error_category: string
  detected_at: Date
  recovered_at: Date | null
  recovered_by_execution_id: number | null
  recovery_attempts: number
  last_attempt_at: Date | null
  next_attempt_at: Date | null
  recovery_exhausted_at: Date | null
}

export type GapFilters = {
  etlName?: string
  tienda?: string
  estado?: GapEstado
  /** Only gaps of executions started at or after this instant. */
  since?: Date
  limit?: number
}

/**
 * The `etl_gaps` view (migration 040), the one gap definition the runner's recovery mode reads too, with
 * what automatic recovery did about each gap (etl_gap_recovery, migration 075).
 * The view decides "recovered?" per failed store row as it reads it. Unbounded, that is every failure
 * ever recorded; with `since`, only the failed store rows of executions started in the window, read
 * from the window's months (etl_gaps_since, migrations/085).
 */
export function listGaps(db: Db, f: GapFilters) {
  // With a window, the gaps of its executions only (etl_gaps_since: the view's definition with its
  // window's months as partition bounds, migrations/085).
  const from = f.since ? db`from etl_gaps_since(${f.since}::timestamptz) g` : db`from etl_gaps g`
  return db<GapRow[]>`
    select g.id, g.etl_name, g.tienda_id, g.tienda_nombre, g.fecha_desde, g.fecha_hasta,
      coalesce(g.error_category, 'unknown') as error_category, g.detected_at, g.recovered_at,
      g.recovered_by_execution_id, coalesce(r.attempts, 0)::int as recovery_attempts, r.last_attempt_at,
      case when g.recovered_at is null then r.next_attempt_at end as next_attempt_at,
      r.exhausted_at as recovery_exhausted_at
    ${from}
    left join etl_gap_recovery r on r.gap_id = g.id and r.tienda_id = g.tienda_id
    where true
      ${f.etlName ? db`and g.etl_name = ${f.etlName}` : db``}
      ${f.tienda ? db`and g.tienda_id = ${f.tienda}` : db``}
      ${f.estado === 'pendiente' ? db`and g.recovered_at is null` : db``}
      ${f.estado === 'recuperado' ? db`and g.recovered_at is not null` : db``}
    order by g.detected_at desc, g.id desc, g.tienda_id
    ${f.limit ? db`limit ${f.limit}` : db``}`
}

export function findExecutionEtl(db: Db, id: number) {
  return db<{ etl_name: 'ventas' | 'inventario' }[]>`select etl_name from etl_executions where id = ${id}`.then(
    (r) => r[0]?.etl_name,
  )
}

export type GapStore = {
  tienda_id: string
  pending: boolean
  /** null when the store row is gone. */
  active: boolean | null
  source_system: string | null
  fecha_desde: Date | null
  fecha_hasta: Date | null
}

/**
 * The stores of execution `id`'s gaps. The window leaves PostgreSQL widened to whole milliseconds
 * (desde down, hasta up): it travels through a JS Date to the runner, and a recovery window even a
 * microsecond short of the failed one would never be counted as covering it (etl_gaps).
 */
export function listGapStores(db: Db, id: number) {
  return db<GapStore[]>`
    select g.tienda_id, g.recovered_at is null as pending, t.active, t.source_system,
      date_trunc('milliseconds', g.fecha_desde) as fecha_desde,
      date_trunc('milliseconds', g.fecha_hasta)
        + (g.fecha_hasta > date_trunc('milliseconds', g.fecha_hasta))::int * interval '1 millisecond' as fecha_hasta
    from etl_gaps g left join tiendas t on t.id = g.tienda_id
    where g.id = ${id}
    order by g.tienda_id`
}

export type AutoRecoveryRow = { paused: boolean; updated_at: Date; updated_by: string | null }

export function getAutoRecovery(db: Db) {
  return db<AutoRecoveryRow[]>`select paused, updated_at, updated_by from etl_recovery_settings`.then((r) => r[0])
}

/** Every runner reads this row before each recovery pass (runner/src/gaps/auto-recovery.ts). */
export function setAutoRecovery(db: Db, paused: boolean, by: string) {
  return db<AutoRecoveryRow[]>`
    update etl_recovery_settings set paused = ${paused}, updated_at = now(), updated_by = ${by}
    returning paused, updated_at, updated_by`.then((r) => r[0])
}
