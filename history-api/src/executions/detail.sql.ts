import type { AsRow, Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { type ExecutionRow, utcText } from './executions.sql.ts'

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

/**
 * A store row's columns in select order: its name in TiendaDetailRow and the SQL that reads it.
 * Rows are read as arrays (postgres.js `.values()`) and named by tiendaRow in one object each:
 * postgres.js builds a row object one property at a time, 700 KB of garbage for a 200-store detail
 * against 165 KB read as arrays — a young-generation collection every ~19 details instead of ~40.
 */
const TIENDA_COLUMNS = [
  ['execution_id', 'd.execution_id'],
  ['tienda_id', 'd.tienda_id'],
  ['tienda_nombre', 'd.tienda_nombre'],
  ['source_system', 'coalesce(d.source_system, t.source_system)'],
  ['status', 'd.status'],
  ['duration_seconds', 'd.duration_seconds::float8'],
  ['records_extracted', 'coalesce(d.records_extracted, 0)'],
  ['records_loaded', 'coalesce(d.records_loaded, 0)'],
  ['duplicates_skipped', 'coalesce(d.duplicates_skipped, 0)'],
  ['error_phase', 'd.error_phase'],
  ['error_category', 'd.error_category'],
  ['error_message', 'd.error_message'],
  ['started_at', utcText('d.started_at')],
  ['finished_at', utcText('d.finished_at')],
  ['attempts', 'd.attempts'],
  ['server_ip', 'd.server_ip'],
  ['server_port', 'd.server_port'],
  ['connection_latency_ms', 'd.connection_latency_ms::float8'],
  ['extract_duration_seconds', 'd.extract_duration_seconds::float8'],
  ['transform_duration_seconds', 'd.transform_duration_seconds::float8'],
  ['load_duration_seconds', 'd.load_duration_seconds::float8'],
  ['network_diagnostics', 'd.network_diagnostics'],
  ['timeline', 'd.timeline'],
] as const satisfies readonly (readonly [keyof TiendaDetailRow, string])[]

// Every field of TiendaDetailRow is selected (a compile error names the one that is not).
type Unselected = Exclude<keyof TiendaDetailRow, (typeof TIENDA_COLUMNS)[number][0]>
const everyColumn: [Unselected] extends [never] ? true : Unselected = true
void everyColumn

const AT = Object.fromEntries(TIENDA_COLUMNS.map(([name], i) => [name, i])) as Record<keyof TiendaDetailRow, number>
const tiendaSelect = TIENDA_COLUMNS.map(([name, sql]) => `${sql} as ${name}`).join(', ')

/** Field `k` of a row read as an array. */
const at = <K extends keyof TiendaDetailRow>(v: unknown[], k: K) => v[AT[k]] as TiendaDetailRow[K]

/** One store row as its object, from the array `.values()` read in TIENDA_COLUMNS' order. */
function tiendaRow(v: unknown[]): TiendaDetailRow {
  return {
    execution_id: at(v, 'execution_id'),
    tienda_id: at(v, 'tienda_id'),
    tienda_nombre: at(v, 'tienda_nombre'),
    source_system: at(v, 'source_system'),
    status: at(v, 'status'),
    duration_seconds: at(v, 'duration_seconds'),
    records_extracted: at(v, 'records_extracted'),
    records_loaded: at(v, 'records_loaded'),
    duplicates_skipped: at(v, 'duplicates_skipped'),
    error_phase: at(v, 'error_phase'),
    error_category: at(v, 'error_category'),
    error_message: at(v, 'error_message'),
    started_at: at(v, 'started_at'),
    finished_at: at(v, 'finished_at'),
    attempts: at(v, 'attempts'),
    server_ip: at(v, 'server_ip'),
    server_port: at(v, 'server_port'),
    connection_latency_ms: at(v, 'connection_latency_ms'),
    extract_duration_seconds: at(v, 'extract_duration_seconds'),
    transform_duration_seconds: at(v, 'transform_duration_seconds'),
    load_duration_seconds: at(v, 'load_duration_seconds'),
    network_diagnostics: at(v, 'network_diagnostics'),
    timeline: at(v, 'timeline'),
  }
}

/** The execution's stores by tienda_id (the unique (execution_id, tienda_id) index gives that order). */
export async function listTiendaDetails(db: Db, executionId: number) {
  const rows = await db`
    select ${db.unsafe(tiendaSelect)} from etl_execution_details d left join tiendas t on t.id = d.tienda_id
    where d.execution_id = ${executionId} order by d.tienda_id`.values()
  return rows.map(tiendaRow)
}

export async function findTiendaDetail(db: Db, executionId: number, tiendaId: string) {
  const [row] = await db`
    select ${db.unsafe(tiendaSelect)} from etl_execution_details d left join tiendas t on t.id = d.tienda_id
    where d.execution_id = ${executionId} and d.tienda_id = ${tiendaId}`.values()
  return row && tiendaRow(row)
}
