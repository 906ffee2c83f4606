// The tracker's statements. Each state change is one statement that also updates the execution row
// (live phase, counters, heartbeat) and sends `pg_notify('etl_events', …)` for the history API's
// live view, so a store costs three round trips: started, load started, finished (DESIGN §10).
// Notifications are delivered on commit, i.e. only for changes that really happened.
// Per-store statements commit asynchronously (set_config(…, true) inside the statement applies to
// its own implicit transaction): progress rows are observability, visible at once to every reader,
// and a PostgreSQL crash can lose at most the last ~0.6 s of them — the worker dies with it and the
// reaper closes the run. Waiting for three WAL flushes per store cost ~1.5 ms on a 0.5 ms-fsync disk
// (DESIGN §10 wants ≤ 1 ms). Loads, and the execution's start and finish, stay synchronous.
// Per-store statements leave heartbeat_at alone: it is indexed (the reaper's scan), so touching it
// would make every update of the execution row a non-HOT update of all its indexes (measured:
// ~3× the cost). The heartbeat timer keeps it fresh instead.
import type { Fragment, JSONValue } from 'postgres'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import type { ErrorCategory, ErrorSource, Phase, SourceSystem } from './classify-error.ts'

export type ExecutionStatus = components['schemas']['ExecutionStatus']
export type DetailStatus = components['schemas']['TiendaStatus']
type EtlName = components['schemas']['EtlName']
type EtlType = components['schemas']['EtlType']
type TriggeredBy = components['schemas']['TriggeredBy']

export type ExecutionRow = {
  id: number
  etl_name: EtlName
  etl_type: EtlType
  status: ExecutionStatus
  triggered_by: TriggeredBy | null
  started_at: Date | null
  finished_at: Date | null
  duration_seconds: number | null
  fecha_desde: Date | null
  fecha_hasta: Date | null
  records_extracted: number
  records_loaded: number
  duplicates_skipped: number
  gaps_recovered: number
  records_upserted: number | null
  records_failed: number | null
  tiendas_count: number
  tiendas_exitosas: number
  tiendas_fallidas: number
  extract_duration_seconds: number | null
  transform_duration_seconds: number | null
  load_duration_seconds: number | null
  error_phase: Phase | null
  error_category: ErrorCategory | null
  error_source: ErrorSource | null
  error_message: string | null
  error_detail: string | null
  source_system: components['schemas']['ExecutionSourceSystem'] | null
  api_requests_count: number | null
  api_errors_count: number | null
  network_diagnostics: JSONValue | null
  is_recovery: boolean | null
  recovered_gap_id: number | null
  tienda_ids: string[]
  current_phase: Phase | null
  heartbeat_at: Date | null
  worker_id: string | null
  job_id: string | null
  created_at: Date
}

export type DetailRow = {
  id: number
  execution_id: number
  tienda_id: string
  tienda_nombre: string | null
  source_system: SourceSystem | null
  status: DetailStatus
  started_at: Date | null
  finished_at: Date | null
  duration_seconds: number | null
  records_extracted: number
  records_loaded: number
  duplicates_skipped: number
  attempts: number
  current_phase: Phase | null
  extract_duration_seconds: number | null
  transform_duration_seconds: number | null
  load_duration_seconds: number | null
  error_phase: Phase | null
  error_category: ErrorCategory | null
  error_source: ErrorSource | null
  error_message: string | null
  error_detail: string | null
  server_ip: string | null
  server_port: number | null
  connection_latency_ms: number | null
  network_diagnostics: JSONValue | null
}

// numeric columns are cast to float8 so callers get numbers whatever type parsers the pool has.
const executionColumns = (db: Db) => db`
  id, etl_name, etl_type, status, triggered_by, started_at, finished_at, duration_seconds::float8 as duration_seconds,
  fecha_desde, fecha_hasta, records_extracted, records_loaded, duplicates_skipped, gaps_recovered,
  records_upserted, records_failed, tiendas_count, tiendas_exitosas, tiendas_fallidas,
  extract_duration_seconds::float8 as extract_duration_seconds,
  transform_duration_seconds::float8 as transform_duration_seconds,
  load_duration_seconds::float8 as load_duration_seconds,
  error_phase, error_category, error_source, error_message, error_detail, source_system,
  api_requests_count, api_errors_count, network_diagnostics, is_recovery, recovered_gap_id,
  tienda_ids, current_phase, heartbeat_at, worker_id, job_id::text as job_id, created_at`

const asyncCommit = (db: Db) => db`set_config('synchronous_commit', 'off', true)`

const event = (
  db: Db,
  executionId: Fragment,
  kind: string,
  tiendaId: Fragment | null = null,
  extra = db`'{}'::jsonb`,
) => db`
  pg_notify('etl_events', (jsonb_strip_nulls(jsonb_build_object(
    'execution_id', ${executionId}::int, 'tienda_id', ${tiendaId}::text, 'kind', ${kind}::text)) || ${extra})::text)`

export type NewExecution = {
  etlName: EtlName
  etlType: EtlType
  triggeredBy: TriggeredBy
  fechaDesde: Date | null
  fechaHasta: Date | null
  tiendaIds: string[]
  isRecovery: boolean
  recoveredGapId: number | null
  workerId: string | null
  jobId: string | null
}

export async function insertExecution(db: Db, v: NewExecution): Promise<ExecutionRow> {
  const [row] = await db<ExecutionRow[]>`
    with e as (
      insert into etl_executions (etl_name, etl_type, status, triggered_by, started_at, heartbeat_at,
        fecha_desde, fecha_hasta, tienda_ids, tiendas_count, is_recovery, recovered_gap_id, worker_id, job_id)
      values (${v.etlName}, ${v.etlType}, 'running', ${v.triggeredBy}, now(), now(),
        ${v.fechaDesde}, ${v.fechaHasta}, ${v.tiendaIds}::text[], ${v.tiendaIds.length}, ${v.isRecovery},
        ${v.recoveredGapId}, ${v.workerId}, ${v.jobId}::uuid)
      returning *)
    select ${executionColumns(db)} from e, lateral (select ${event(db, db`e.id`, 'execution_started')}) n`
  return row!
}

/** queued → running for a manual run the history API created; triggered_by and etl_type are kept. */
export async function claimQueuedExecution(db: Db, id: number, v: NewExecution): Promise<ExecutionRow | undefined> {
  const [row] = await db<ExecutionRow[]>`
    with e as (
      update etl_executions set status = 'running', started_at = now(), heartbeat_at = now(),
        fecha_desde = coalesce(${v.fechaDesde}, fecha_desde), fecha_hasta = coalesce(${v.fechaHasta}, fecha_hasta),
        tienda_ids = ${v.tiendaIds}::text[], tiendas_count = ${v.tiendaIds.length},
        is_recovery = is_recovery or ${v.isRecovery}, recovered_gap_id = coalesce(${v.recoveredGapId}, recovered_gap_id),
        worker_id = ${v.workerId}, job_id = coalesce(${v.jobId}::uuid, job_id)
      where id = ${id} and status = 'queued'
      returning *)
    select ${executionColumns(db)} from e, lateral (select ${event(db, db`e.id`, 'execution_started')}) n`
  return row
}

export async function touchHeartbeat(db: Db, id: number): Promise<void> {
  await db`update etl_executions set heartbeat_at = now() where id = ${id} and status = 'running'`
}

export type TiendaStart = {
  executionId: number
  tiendaId: string
  nombre: string
  sourceSystem: SourceSystem
  serverIp: string | null
  serverPort: number | null
}

export async function insertTiendaRunning(db: Db, v: TiendaStart): Promise<void> {
  await db`
    with d as (
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        current_phase, server_ip, server_port, attempts)
      values (${v.executionId}, ${v.tiendaId}, ${v.nombre}, ${v.sourceSystem}, 'running', now(),
        'extract', ${v.serverIp}, ${v.serverPort}, 1)
      returning execution_id, tienda_id),
    e as (update etl_executions set current_phase = 'extract' where id = ${v.executionId})
    select ${event(db, db`d.execution_id`, 'tienda_started', db`d.tienda_id`)}, ${asyncCommit(db)} from d`
}

export async function updateTiendaPhase(db: Db, executionId: number, tiendaId: string, phase: Phase): Promise<void> {
  await db`
    with d as (
      update etl_execution_details set current_phase = ${phase}
      where execution_id = ${executionId} and tienda_id = ${tiendaId}
      returning execution_id, tienda_id),
    e as (update etl_executions set current_phase = ${phase} where id = ${executionId})
    select ${event(db, db`d.execution_id`, 'tienda_phase', db`d.tienda_id`, db`jsonb_build_object('phase', ${phase}::text)`)},
      ${asyncCommit(db)}
    from d`
}

export type TiendaFinish = {
  executionId: number
  tiendaId: string
  status: 'success' | 'failed'
  recordsExtracted: number
  recordsLoaded: number
  duplicatesSkipped: number
  attempts: number
  durations: Record<Phase, number | null>
  error: { phase: Phase; category: ErrorCategory; source: ErrorSource; message: string; detail: string } | null
  serverIp: string | null
  serverPort: number | null
  latencyMs: number | null
  diagnostics: JSONValue
}

export async function finishTienda(db: Db, v: TiendaFinish): Promise<void> {
  const e = v.error
  await db`
    with d as (
      update etl_execution_details set status = ${v.status}, finished_at = now(),
        duration_seconds = round(extract(epoch from now() - started_at)::numeric, 2),
        records_extracted = ${v.recordsExtracted}, records_loaded = ${v.recordsLoaded},
        duplicates_skipped = ${v.duplicatesSkipped}, attempts = ${v.attempts}, current_phase = null,
        extract_duration_seconds = ${v.durations.extract}, transform_duration_seconds = ${v.durations.transform},
        load_duration_seconds = ${v.durations.load},
        error_phase = ${e?.phase ?? null}, error_category = ${e?.category ?? null}, error_source = ${e?.source ?? null},
        error_message = ${e?.message ?? null}, error_detail = ${e?.detail ?? null},
        server_ip = coalesce(${v.serverIp}, server_ip), server_port = coalesce(${v.serverPort}::int, server_port),
        connection_latency_ms = ${v.latencyMs}, network_diagnostics = ${db.json(v.diagnostics)}
      -- A store (or its execution) the reaper already closed as worker_lost stays closed: a worker
      -- that wakes up after a long stall must not rewrite a recorded outcome or its counts.
      where execution_id = ${v.executionId} and tienda_id = ${v.tiendaId} and status = 'running'
        and exists (select 1 from etl_executions x where x.id = ${v.executionId} and x.status = 'running')
      returning execution_id, tienda_id, status, records_extracted, records_loaded, duplicates_skipped),
    -- Live counters for the history list while the run goes on; finishExecution recomputes them.
    e as (
      update etl_executions x set records_extracted = x.records_extracted + d.records_extracted,
        records_loaded = x.records_loaded + d.records_loaded,
        duplicates_skipped = x.duplicates_skipped + d.duplicates_skipped,
        tiendas_exitosas = x.tiendas_exitosas + (d.status = 'success')::int,
        tiendas_fallidas = x.tiendas_fallidas + (d.status = 'failed')::int
      from d where x.id = d.execution_id)
    select ${event(db, db`d.execution_id`, 'tienda_finished', db`d.tienda_id`, db`jsonb_build_object('status', d.status)`)},
      ${asyncCommit(db)}
    from d`
}

export async function selectExecution(db: Db, id: number): Promise<ExecutionRow | undefined> {
  const [row] = await db<ExecutionRow[]>`select ${executionColumns(db)} from etl_executions where id = ${id}`
  return row
}

export async function selectDetails(db: Db, executionId: number): Promise<DetailRow[]> {
  return db<DetailRow[]>`
    select id, execution_id, tienda_id, tienda_nombre, source_system, status, started_at, finished_at,
      duration_seconds::float8 as duration_seconds, records_extracted, records_loaded, duplicates_skipped, attempts,
      current_phase, extract_duration_seconds::float8 as extract_duration_seconds,
      transform_duration_seconds::float8 as transform_duration_seconds,
      load_duration_seconds::float8 as load_duration_seconds, error_phase, error_category, error_source,
      error_message, error_detail, server_ip, server_port, connection_latency_ms::float8 as connection_latency_ms,
      network_diagnostics
    from etl_execution_details where execution_id = ${executionId} order by tienda_id`
}

/** An execution-level error (recordError), stored only when no store failed. */
export type ExecutionError = {
  phase: Phase | null
  category: ErrorCategory | null
  source: ErrorSource | null
  message: string
  detail: string | null
}

// The roll-up, in one statement: never-attempted stores become `skipped` detail rows, stores left
// `running` (their end was never recorded) count as failed, and the execution row gets status,
// counts, per-phase durations (sums over stores: total work per phase, not wall time, which is
// duration_seconds), source_system, the dominant error and compact network diagnostics.
export async function finishExecutionRollup(
  db: Db,
  id: number,
  fallback: ExecutionError | null,
): Promise<ExecutionRow | undefined> {
  const [row] = await db<ExecutionRow[]>`
    with run as (select id, tienda_ids from etl_executions where id = ${id} and status = 'running'),
    skipped as (
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status)
      select run.id, t.id, t.nombre, t.source_system, 'skipped'
      from run cross join unnest(run.tienda_ids) as r(tienda_id) join tiendas t on t.id = r.tienda_id
      where not exists (select 1 from etl_execution_details x where x.execution_id = run.id and x.tienda_id = r.tienda_id)
      on conflict (execution_id, tienda_id) do nothing
      returning id, tienda_id, source_system, status),
    orphans as (
      update etl_execution_details x set status = 'failed', finished_at = now(), current_phase = null,
        error_phase = coalesce(x.current_phase, 'extract'), error_category = 'unknown',
        error_message = 'the runner lost track of this store before it finished'
      from run where x.execution_id = run.id and x.status = 'running'
      returning x.id),
    d as (
      select id, source_system, finished_at, records_extracted, records_loaded, duplicates_skipped,
        extract_duration_seconds, transform_duration_seconds, load_duration_seconds, tienda_id, server_ip,
        server_port, connection_latency_ms, network_diagnostics,
        case when status = 'running' then 'failed' else status end as status,
        case when status = 'running' then coalesce(current_phase, 'extract') else error_phase end as error_phase,
        case when status = 'running' then 'unknown' else error_category end as error_category,
        case when status = 'running' then null else error_source end as error_source,
        case when status = 'running' then 'the runner lost track of this store before it finished'
          else error_message end as error_message,
        error_detail
      from etl_execution_details where execution_id = (select id from run)
      union all
      select id, source_system, null, 0, 0, 0, null, null, null, tienda_id, null, null, null, null, status,
        null, null, null, null, null
      from skipped),
    agg as (
      select count(*)::int as total, count(*) filter (where status = 'success')::int as ok,
        count(*) filter (where status = 'failed')::int as failed,
        coalesce(sum(records_extracted), 0)::int as extracted, coalesce(sum(records_loaded), 0)::int as loaded,
        coalesce(sum(duplicates_skipped), 0)::int as duplicates,
        coalesce(sum(records_extracted) filter (where status = 'failed'), 0)::int as failed_records,
        round(sum(extract_duration_seconds), 2) as extract_s, round(sum(transform_duration_seconds), 2) as transform_s,
        round(sum(load_duration_seconds), 2) as load_s,
        case when count(distinct source_system) > 1 then 'mixed' else min(source_system) end as system,
        coalesce(sum((network_diagnostics->>'requests')::int), 0)::int as requests,
        coalesce(sum((network_diagnostics->>'errors')::int), 0)::int as request_errors
      from d),
    -- Most frequent category among failed stores; ties go to the category of the earliest failure.
    dominant as (
      select true as found, error_phase, error_category, error_source, error_message, error_detail
      from d where status = 'failed'
      order by count(*) over (partition by error_category) desc, finished_at nulls last, id
      limit 1),
    -- Under 1 KB (plan §8.1): at most five failing stores, short fields only.
    failing as (
      select jsonb_strip_nulls(jsonb_build_object('tienda_id', tienda_id, 'ip', server_ip, 'port', server_port,
        'latency_ms', connection_latency_ms, 'code', left(network_diagnostics->>'code', 40))) as store
      from d where status = 'failed' order by finished_at nulls last, id limit 5),
    updated as (
      update etl_executions e set
        status = case when agg.total > 0 and agg.ok = agg.total then 'success'
          when agg.ok > 0 then 'partial' else 'failed' end,
        finished_at = now(), current_phase = null, heartbeat_at = now(),
        duration_seconds = round(extract(epoch from now() - e.started_at)::numeric, 2),
        records_extracted = agg.extracted, records_loaded = agg.loaded, duplicates_skipped = agg.duplicates,
        records_upserted = agg.loaded, records_failed = agg.failed_records,
        gaps_recovered = case when e.is_recovery then agg.ok else 0 end,
        tiendas_count = greatest(e.tiendas_count, agg.total), tiendas_exitosas = agg.ok,
        tiendas_fallidas = agg.total - agg.ok,
        extract_duration_seconds = agg.extract_s, transform_duration_seconds = agg.transform_s,
        load_duration_seconds = agg.load_s, source_system = agg.system,
        api_requests_count = agg.requests, api_errors_count = agg.request_errors,
        error_phase = case when dominant.found then dominant.error_phase else ${fallback?.phase ?? null} end,
        error_category = case when dominant.found then dominant.error_category else ${fallback?.category ?? null} end,
        error_source = case when dominant.found then dominant.error_source else ${fallback?.source ?? null} end,
        error_message = case when dominant.found then dominant.error_message else ${fallback?.message ?? null} end,
        error_detail = case when dominant.found then dominant.error_detail else ${fallback?.detail ?? null} end,
        network_diagnostics = case when agg.failed = 0 then null else jsonb_build_object('failed_stores', agg.failed,
          'stores', (select jsonb_agg(store) from failing)) end
      from agg left join dominant on true
      where e.id = ${id} and e.status = 'running'
      returning e.*)
    select ${executionColumns(db)} from updated,
      lateral (select ${event(db, db`updated.id`, 'execution_finished', null, db`jsonb_build_object('status', updated.status)`)}) n`
  return row
}
