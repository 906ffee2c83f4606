import type { AsRow, Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { type ExecutionRow, utc } from './executions.sql.ts'

type Detail = components['schemas']['ExecutionDetail']
type Tienda = components['schemas']['TiendaDetail']

/** The detail row, typed by the contract; diagnostics JSON raw (diagnostics.view.ts reads it key by key). */
export type ExecutionDetailRow = ExecutionRow &
  AsRow<
    Pick<
      Detail,
      | 'fecha_desde'
      | 'fecha_hasta'
      | 'gaps_recovered'
      | 'extract_duration_seconds'
      | 'transform_duration_seconds'
      | 'load_duration_seconds'
      | 'error_source'
      | 'error_message'
      | 'error_detail'
      | 'source_system'
      | 'is_recovery'
      | 'current_phase'
      | 'records_upserted'
      | 'records_failed'
      | 'api_requests_count'
      | 'api_errors_count'
      | 'recovered_gap_id'
      | 'rerun_of'
      | 'rerun_scope'
      | 'reruns'
      | 'cancel_requested_at'
    >,
    'fecha_desde' | 'fecha_hasta' | 'cancel_requested_at'
  > & { network_diagnostics: unknown; tiendas: TiendaDetailRow[] }

/**
 * A store's row as the JSON object tiendaObject builds, typed by the contract (timestamps already
 * RFC 3339 UTC); its JSON columns raw (diagnostics.view.ts reads them).
 */
export type TiendaDetailRow = Omit<Tienda, 'error_code' | 'network_diagnostics' | 'phase_metrics' | 'timeline'> & {
  execution_id: number
  network_diagnostics: unknown
  timeline: unknown
}

/**
 * The execution and its stores in one statement. Nullable counters of migration 033 read as 0, as
 * the plan's defaults intend; the runs that repeat it from migration 091's etl_execution_reruns
 * (planned once per connection, its months pruned at start); the stores as one JSON array by
 * tienda_id, built by PostgreSQL (200 stores: one value to parse instead of 200 rows of 25 typed
 * columns and 400 timestamps turned into Dates and back).
 */
export async function findExecution(db: Db, id: number): Promise<ExecutionDetailRow | undefined> {
  const [row] = await db<ExecutionDetailRow[]>`
    select e.id, e.etl_name, e.etl_type, e.started_at, e.finished_at, e.duration_seconds::float8 as duration_seconds,
      e.status, e.records_extracted, e.records_loaded, e.duplicates_skipped, e.tiendas_count, e.tiendas_exitosas,
      e.tiendas_fallidas, e.tiendas_cerradas, e.error_phase, e.error_category, coalesce(e.triggered_by, 'cli') as triggered_by,
      e.fecha_desde, e.fecha_hasta, e.gaps_recovered,
      e.extract_duration_seconds::float8 as extract_duration_seconds,
      e.transform_duration_seconds::float8 as transform_duration_seconds,
      e.load_duration_seconds::float8 as load_duration_seconds,
      e.error_source, e.error_message, e.error_detail, e.source_system, coalesce(e.is_recovery, false) as is_recovery,
      e.current_phase, coalesce(e.records_upserted, 0) as records_upserted,
      coalesce(e.records_failed, 0) as records_failed, coalesce(e.api_requests_count, 0) as api_requests_count,
      coalesce(e.api_errors_count, 0) as api_errors_count, e.network_diagnostics, e.recovered_gap_id,
      e.rerun_of, e.rerun_scope, e.cancel_requested_at, etl_execution_reruns(e.id) as reruns,
      (select coalesce(json_agg(${tiendaObject(db)} order by d.tienda_id), '[]')
       from etl_execution_details d left join tiendas t on t.id = d.tienda_id where d.execution_id = ${id}) as tiendas
    from etl_executions e where e.id = ${id}`
  return row
}

/** A store's row (TiendaDetailRow) as a JSON object, of `d` and its store `t`. */
const tiendaObject = (db: Db) => db`json_build_object(
  'execution_id', d.execution_id, 'tienda_id', d.tienda_id, 'tienda_nombre', d.tienda_nombre,
  'source_system', coalesce(d.source_system, t.source_system), 'status', d.status,
  'duration_seconds', d.duration_seconds::float8, 'records_extracted', coalesce(d.records_extracted, 0),
  'records_loaded', coalesce(d.records_loaded, 0), 'duplicates_skipped', coalesce(d.duplicates_skipped, 0),
  'error_phase', d.error_phase, 'error_category', d.error_category, 'error_message', d.error_message,
  'started_at', ${utc(db, 'd.started_at')}, 'finished_at', ${utc(db, 'd.finished_at')}, 'attempts', d.attempts,
  'server_ip', d.server_ip, 'server_port', d.server_port, 'connection_latency_ms', d.connection_latency_ms::float8,
  'extract_duration_seconds', d.extract_duration_seconds::float8,
  'transform_duration_seconds', d.transform_duration_seconds::float8,
  'load_duration_seconds', d.load_duration_seconds::float8, 'network_diagnostics', d.network_diagnostics,
  'timeline', d.timeline)`

export async function findTiendaDetail(db: Db, executionId: number, tiendaId: string) {
  const [row] = await db<{ tienda: TiendaDetailRow }[]>`
    select ${tiendaObject(db)} as tienda from etl_execution_details d left join tiendas t on t.id = d.tienda_id
    where d.execution_id = ${executionId} and d.tienda_id = ${tiendaId}`
  return row?.tienda
}
