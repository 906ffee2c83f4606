import type { Db } from '../db.ts'
import type { ExecutionRow } from './executions.sql.ts'

export type ExecutionDetailRow = ExecutionRow & {
  fecha_desde: Date | null
  fecha_hasta: Date | null
  gaps_recovered: number
  extract_duration_seconds: number | null
  transform_duration_seconds: number | null
  load_duration_seconds: number | null
  error_source: string | null
  error_message: string | null
  error_detail: string | null
  source_system: string | null
  is_recovery: boolean
  current_phase: string | null
  records_upserted: number
  records_failed: number
  api_requests_count: number
  api_errors_count: number
  network_diagnostics: unknown
  recovered_gap_id: number | null
}

export type TiendaDetailRow = {
  execution_id: number
  tienda_id: string
  tienda_nombre: string | null
  source_system: string | null
  status: string
  duration_seconds: number | null
  records_extracted: number
  records_loaded: number
  duplicates_skipped: number
  error_phase: string | null
  error_category: string | null
  error_message: string | null
  started_at: Date | null
  finished_at: Date | null
  attempts: number
  server_ip: string | null
  server_port: number | null
  connection_latency_ms: number | null
  extract_duration_seconds: number | null
  transform_duration_seconds: number | null
  load_duration_seconds: number | null
  network_diagnostics: unknown
  timeline: unknown
}

/** Nullable counters of migration 033 read as 0, as the plan's defaults intend. */
export function findExecution(db: Db, id: number) {
  return db<ExecutionDetailRow[]>`
    select e.id, e.etl_name, e.etl_type, e.started_at, e.finished_at, e.duration_seconds::float8 as duration_seconds,
      e.status, e.records_extracted, e.records_loaded, e.duplicates_skipped, e.tiendas_count, e.tiendas_exitosas,
      e.tiendas_fallidas, e.error_phase, e.error_category, coalesce(e.triggered_by, 'cli') as triggered_by,
      e.fecha_desde, e.fecha_hasta, e.gaps_recovered,
      e.extract_duration_seconds::float8 as extract_duration_seconds,
      e.transform_duration_seconds::float8 as transform_duration_seconds,
      e.load_duration_seconds::float8 as load_duration_seconds,
      e.error_source, e.error_message, e.error_detail, e.source_system, coalesce(e.is_recovery, false) as is_recovery,
      e.current_phase, coalesce(e.records_upserted, 0) as records_upserted,
      coalesce(e.records_failed, 0) as records_failed, coalesce(e.api_requests_count, 0) as api_requests_count,
      coalesce(e.api_errors_count, 0) as api_errors_count, e.network_diagnostics, e.recovered_gap_id
    from etl_executions e where e.id = ${id}`.then((r) => r[0])
}

const tiendaColumns = (db: Db) => db`
  d.execution_id, d.tienda_id, d.tienda_nombre, coalesce(d.source_system, t.source_system) as source_system, d.status,
  d.duration_seconds::float8 as duration_seconds, coalesce(d.records_extracted, 0) as records_extracted,
  coalesce(d.records_loaded, 0) as records_loaded, coalesce(d.duplicates_skipped, 0) as duplicates_skipped,
  d.error_phase, d.error_category, d.error_message, d.started_at, d.finished_at, d.attempts,
  d.server_ip, d.server_port, d.connection_latency_ms::float8 as connection_latency_ms,
  d.extract_duration_seconds::float8 as extract_duration_seconds,
  d.transform_duration_seconds::float8 as transform_duration_seconds,
  d.load_duration_seconds::float8 as load_duration_seconds, d.network_diagnostics, d.timeline`

/** The execution's stores by tienda_id (the unique (execution_id, tienda_id) index gives that order). */
export function listTiendaDetails(db: Db, executionId: number) {
  return db<TiendaDetailRow[]>`
    select ${tiendaColumns(db)} from etl_execution_details d left join tiendas t on t.id = d.tienda_id
    where d.execution_id = ${executionId} order by d.tienda_id`
}

export function findTiendaDetail(db: Db, executionId: number, tiendaId: string) {
  return db<TiendaDetailRow[]>`
    select ${tiendaColumns(db)} from etl_execution_details d left join tiendas t on t.id = d.tienda_id
    where d.execution_id = ${executionId} and d.tienda_id = ${tiendaId}`.then((r) => r[0])
}
