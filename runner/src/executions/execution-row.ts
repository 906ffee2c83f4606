// The execution row as the runner reads it back (after starting, claiming or closing a run): the
// contract's fields, with timestamps as Dates, plus the runner's own bookkeeping columns. One column
// list gives both the SELECT and the type, so neither can drift from the other or from the contract.
import type { Fragment, JSONValue } from 'postgres'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'

type Detail = components['schemas']['ExecutionDetail']
type Phase = components['schemas']['Phase']

const CONTRACT_COLUMNS = [
  'id',
  'etl_name',
  'etl_type',
  'status',
  'triggered_by',
  'started_at',
  'finished_at',
  'duration_seconds',
  'fecha_desde',
  'fecha_hasta',
  'records_extracted',
  'records_loaded',
  'duplicates_skipped',
  'gaps_recovered',
  'records_upserted',
  'records_failed',
  'tiendas_count',
  'tiendas_exitosas',
  'tiendas_fallidas',
  'tiendas_cerradas',
  'extract_duration_seconds',
  'transform_duration_seconds',
  'load_duration_seconds',
  'error_phase',
  'error_category',
  'error_source',
  'error_message',
  'error_detail',
  'source_system',
  'api_requests_count',
  'api_errors_count',
  'network_diagnostics',
  'is_recovery',
  'recovered_gap_id',
] as const satisfies readonly (keyof Detail)[]

type Instant = 'started_at' | 'finished_at' | 'fecha_desde' | 'fecha_hasta'
type ContractColumn = (typeof CONTRACT_COLUMNS)[number]

export type ExecutionRow = { [K in Exclude<ContractColumn, Instant>]: Detail[K] } & {
  [K in Instant]: Date | null
} & {
  tienda_ids: string[]
  current_phase: Phase | null
  heartbeat_at: Date | null
  worker_id: string | null
  job_id: string | null
  created_at: Date
  /** A stop of this running execution was asked (POST /api/etl/executions/{id}/cancel). */
  cancel_requested_at: Date | null
}

export type ExecutionStatus = ExecutionRow['status']

// numeric columns are cast so callers get numbers whatever type parsers the pool has (tests pass theirs).
const NUMERIC = new Set<string>([
  'duration_seconds',
  'extract_duration_seconds',
  'transform_duration_seconds',
  'load_duration_seconds',
])
const SELECT_LIST = [
  ...CONTRACT_COLUMNS.map((c) => (NUMERIC.has(c) ? `${c}::float8 as ${c}` : c)),
  'tienda_ids',
  'current_phase',
  'heartbeat_at',
  'worker_id',
  'job_id::text as job_id',
  'created_at',
  'cancel_requested_at',
].join(', ')

/** `select ${executionColumns(db)} from etl_executions …` (or from a CTE that returns its rows). */
export const executionColumns = (db: Db) => db.unsafe(SELECT_LIST)

export async function selectExecution(db: Db, id: number): Promise<ExecutionRow | undefined> {
  const [row] = await db<ExecutionRow[]>`select ${executionColumns(db)} from etl_executions where id = ${id}`
  return row
}

/**
 * The `etl_events` notification the history API relays to live views (LISTEN/NOTIFY, delivered on
 * commit: only for changes that really happened). One shape for every writer, so live views need no
 * special case for whoever wrote the change.
 */
export const etlEvent = (
  db: Db,
  executionId: Fragment,
  kind:
    | 'execution_started'
    | 'execution_finished'
    | 'tienda_started'
    | 'tienda_phase'
    | 'tienda_finished'
    | 'cancel_requested',
  extra: Fragment = db`'{}'::jsonb`,
) => db`
  pg_notify('etl_events', (jsonb_build_object('execution_id', ${executionId}::int, 'kind', ${kind}::text) || ${extra})::text)`

type Tienda = components['schemas']['TiendaDetail']
const TIENDA_COLUMNS = [
  'tienda_id',
  'tienda_nombre',
  'source_system',
  'status',
  'duration_seconds',
  'records_extracted',
  'records_loaded',
  'duplicates_skipped',
  'error_phase',
  'error_category',
  'error_message',
  'attempts',
  'server_ip',
  'server_port',
  'connection_latency_ms',
] as const satisfies readonly (keyof Tienda)[]

/** A store's detail row as the runner reads it back (the plan's `tiendas_detail` item and the runner's columns). */
export type DetailRow = { [K in (typeof TIENDA_COLUMNS)[number]]: Tienda[K] } & {
  id: number
  execution_id: number
  started_at: Date | null
  finished_at: Date | null
  current_phase: Phase | null
  extract_duration_seconds: number | null
  transform_duration_seconds: number | null
  load_duration_seconds: number | null
  error_source: components['schemas']['ErrorSource'] | null
  error_detail: string | null
  network_diagnostics: JSONValue | null
  timeline: JSONValue | null
}

const DETAIL_SELECT = [
  'id',
  'execution_id',
  'started_at',
  'finished_at',
  'current_phase',
  'error_source',
  'error_detail',
  'network_diagnostics',
  'timeline',
  ...[...TIENDA_COLUMNS, 'extract_duration_seconds', 'transform_duration_seconds', 'load_duration_seconds'].map((c) =>
    c.endsWith('seconds') || c === 'connection_latency_ms' ? `${c}::float8 as ${c}` : c,
  ),
].join(', ')

export function selectDetails(db: Db, executionId: number): Promise<DetailRow[]> {
  return db<DetailRow[]>`
    select ${db.unsafe(DETAIL_SELECT)} from etl_execution_details where execution_id = ${executionId} order by tienda_id`
}
