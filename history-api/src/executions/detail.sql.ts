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
  > & { network_diagnostics: unknown }

/**
 * A store's row, typed by the contract (its timestamps RFC 3339 UTC text already: 400 of them in a
 * 200-store detail, not parsed into Dates to be written back); its JSON columns raw
 * (diagnostics.view.ts reads them).
 */
export type TiendaDetailRow = Omit<Tienda, 'error_code' | 'network_diagnostics' | 'phase_metrics' | 'timeline'> & {
  execution_id: number
  network_diagnostics: unknown
  timeline: unknown
}

/**
 * Nullable counters of migration 033 read as 0, as the plan's defaults intend; the runs that repeat it
 * from etl_execution_reruns (migrations 091, 094: planned once per connection, reading only the months
 * up to its newest rerun, none when it has none).
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
      e.rerun_of, e.rerun_scope, e.cancel_requested_at, etl_execution_reruns(e.id, e.last_rerun_id) as reruns
    from etl_executions e where e.id = ${id}`
  return row
}

const tiendaColumns = (db: Db) => db`
  d.execution_id, d.tienda_id, d.tienda_nombre, coalesce(d.source_system, t.source_system) as source_system, d.status,
  d.duration_seconds::float8 as duration_seconds, coalesce(d.records_extracted, 0) as records_extracted,
  coalesce(d.records_loaded, 0) as records_loaded, coalesce(d.duplicates_skipped, 0) as duplicates_skipped,
  d.error_phase, d.error_category, d.error_message, ${utc(db, 'd.started_at')} as started_at,
  ${utc(db, 'd.finished_at')} as finished_at, d.attempts,
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
