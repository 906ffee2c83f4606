// The tracker's statements. Each state change is one statement that also updates the execution row
// (live phase, counters, heartbeat) and sends an `etl_events` notification for the history API's
// live view, so a store costs three round trips: started, load started, finished (DESIGN §10).
// Closing the execution is executions/close.sql.ts, shared with every other path that closes one.
// Notifications are delivered on commit, i.e. only for changes that really happened.
// Per-store statements commit asynchronously (set_config(…, true) inside the statement applies to
// its own implicit transaction): progress rows are observability, visible at once to every reader,
// and a PostgreSQL crash can lose at most the last ~0.6 s of them — the worker dies with it and the
// reaper closes the run. Waiting for three WAL flushes per store cost ~1.5 ms on a 0.5 ms-fsync disk
// (DESIGN §10 wants ≤ 1 ms). Loads, and the execution's start and finish, stay synchronous.
// Per-store statements leave heartbeat_at alone: it is indexed (the reaper's scan), so touching it
// would make every update of the execution row a non-HOT update of all its indexes (measured:
// ~3× the cost). The heartbeat timer keeps it fresh instead.
import type { JSONValue } from 'postgres'
import type { Db } from '../db.ts'
import { type ExecutionRow, etlEvent, executionColumns } from '../executions/execution-row.ts'
import type { components } from '../generated/openapi.ts'
import type { ErrorCategory, ErrorSource, Phase, SourceSystem } from './classify-error.ts'

type EtlName = components['schemas']['EtlName']
type EtlType = components['schemas']['EtlType']
type TriggeredBy = components['schemas']['TriggeredBy']

const asyncCommit = (db: Db) => db`set_config('synchronous_commit', 'off', true)`

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
    select ${executionColumns(db)} from e, lateral (select ${etlEvent(db, db`e.id`, 'execution_started')}) n`
  return row!
}

/**
 * queued → running: a run the history API queued (manual or recovery). The row is the truth — window,
 * stores, trigger and recovery target were written when it was queued — so only who runs it changes.
 */
export async function claimQueuedExecution(
  db: Db,
  id: number,
  v: { workerId: string | null; jobId: string | null },
): Promise<ExecutionRow | undefined> {
  const [row] = await db<ExecutionRow[]>`
    with e as (
      update etl_executions set status = 'running', started_at = now(), heartbeat_at = now(),
        worker_id = ${v.workerId}, job_id = coalesce(${v.jobId}::uuid, job_id)
      where id = ${id} and status = 'queued' and etl_execution_startable(id)
      returning *)
    select ${executionColumns(db)} from e, lateral (select ${etlEvent(db, db`e.id`, 'execution_started')}) n`
  return row
}

/**
 * Whether a queued execution may still start: until 14 days after the end of the month it was queued
 * in (migrations/085 — windowed reads of the monthly partitions count on it). Later, the job closes
 * it as unrunnable.
 */
export async function isStartable(db: Db, id: number): Promise<boolean> {
  const [row] = await db<{ ok: boolean }[]>`select etl_execution_startable(${id}::int) as ok`
  return row?.ok ?? false
}

/**
 * The heartbeat also brings back whether a stop was asked (cancel_requested_at): every runner working
 * on the execution learns it within RUNNER_HEARTBEAT_S, at no statement of its own.
 */
export async function touchHeartbeat(db: Db, id: number): Promise<{ cancelRequested: boolean }> {
  const [row] = await db<{ cancel_requested_at: Date | null }[]>`
    update etl_executions set heartbeat_at = now() where id = ${id} and status = 'running'
    returning cancel_requested_at`
  return { cancelRequested: Boolean(row?.cancel_requested_at) }
}

export type TiendaStart = {
  executionId: number
  tiendaId: string
  nombre: string
  sourceSystem: SourceSystem
  serverIp: string | null
  serverPort: number | null
}

/**
 * The store's detail row becomes `running` (phase extract) and its attempt number is returned. A store
 * of a fanned-out run whose part job pg-boss retried (its worker died) finds its row still `running`:
 * it takes it over as the next attempt. A row already finished returns nothing: that part is done.
 * A store whose run window lies inside one of its closures (the store calendar, migration 080) is
 * not run: its row is written `closed` at once, counted (and, fanned out, its part counted done), and
 * `remaining` says what is left as finishTienda does. Same round trip either way.
 */
export async function insertTiendaRunning(
  db: Db,
  v: TiendaStart,
): Promise<{ attempts: number; closed: boolean; remaining: number | null } | undefined> {
  const [row] = await db<{ attempts: number; closed: boolean; remaining: number | null }[]>`
    with c as (select (select x from etl_cierre_de(${v.tiendaId}, ${v.executionId}) x) as cierre),
    d as (
      insert into etl_execution_details as x (execution_id, tienda_id, tienda_nombre, source_system, status,
        started_at, finished_at, duration_seconds, current_phase, server_ip, server_port, attempts, cierre_id)
      select ${v.executionId}, ${v.tiendaId}, ${v.nombre}, ${v.sourceSystem},
        case when c.cierre is null then 'running' else 'closed' end, now(),
        case when c.cierre is not null then now() end, case when c.cierre is not null then 0 end,
        case when c.cierre is null then 'extract' end, ${v.serverIp}, ${v.serverPort},
        case when c.cierre is null then 1 else 0 end, c.cierre
      from c
      on conflict (execution_id, tienda_id) do update set started_at = now(), current_phase = 'extract',
        attempts = x.attempts + 1
        where x.status = 'running'
      returning execution_id, tienda_id, attempts, status),
    e as (
      update etl_executions x set
        current_phase = case when d.status = 'running' then 'extract' else x.current_phase end,
        tiendas_cerradas = x.tiendas_cerradas + (d.status = 'closed')::int,
        parts_pending = x.parts_pending - (d.status = 'closed')::int
      from d where x.id = d.execution_id
      returning x.parts_pending)
    select d.attempts, d.status = 'closed' as closed, e.parts_pending as remaining,
      ${etlEvent(db, db`d.execution_id`, 'tienda_started', db`jsonb_build_object('tienda_id', d.tienda_id, 'status', d.status)`)},
      ${asyncCommit(db)}
    from d, e`
  return row
}

export async function updateTiendaPhase(db: Db, executionId: number, tiendaId: string, phase: Phase): Promise<void> {
  await db`
    with d as (
      update etl_execution_details set current_phase = ${phase}
      where execution_id = ${executionId} and tienda_id = ${tiendaId}
      returning execution_id, tienda_id),
    e as (update etl_executions set current_phase = ${phase} where id = ${executionId})
    select ${etlEvent(db, db`d.execution_id`, 'tienda_phase', db`jsonb_build_object('tienda_id', d.tienda_id, 'phase', ${phase}::text)`)},
      ${asyncCommit(db)}
    from d`
}

export type TiendaFinish = {
  executionId: number
  tiendaId: string
  /** `skipped`: stopped on request (cancel) between pages, before anything of it was loaded. */
  status: 'success' | 'failed' | 'skipped'
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
  /** The store's attempts and phase spans (openapi TiendaTimelineSpan[]). */
  timeline: JSONValue
  /** A message for a store that did not fail (a stop on request). */
  note?: string
}

/**
 * Records the store's outcome. For a fanned-out run it also counts the part done and returns the parts
 * still pending: the part that brings them to 0 is the last (the fan-in — concurrent parts serialise on
 * the execution row, and each decrement reads the one before it). `null`: not a fanned-out run.
 */
export async function finishTienda(db: Db, v: TiendaFinish): Promise<{ remaining: number | null } | undefined> {
  const e = v.error
  const [row] = await db<{ remaining: number | null }[]>`
    with d as (
      update etl_execution_details set status = ${v.status}, finished_at = now(),
        duration_seconds = round(extract(epoch from now() - started_at)::numeric, 2),
        records_extracted = ${v.recordsExtracted}, records_loaded = ${v.recordsLoaded},
        duplicates_skipped = ${v.duplicatesSkipped}, attempts = ${v.attempts}, current_phase = null,
        extract_duration_seconds = ${v.durations.extract}, transform_duration_seconds = ${v.durations.transform},
        load_duration_seconds = ${v.durations.load},
        error_phase = ${e?.phase ?? null}, error_category = ${e?.category ?? null}, error_source = ${e?.source ?? null},
        error_message = ${e?.message ?? v.note ?? null}, error_detail = ${e?.detail ?? null},
        server_ip = coalesce(${v.serverIp}, server_ip), server_port = coalesce(${v.serverPort}::int, server_port),
        connection_latency_ms = ${v.latencyMs}, network_diagnostics = ${db.json(v.diagnostics)},
        timeline = ${db.json(v.timeline)}
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
        tiendas_fallidas = x.tiendas_fallidas + (d.status = 'failed')::int,
        parts_pending = x.parts_pending - 1
      from d where x.id = d.execution_id
      returning x.parts_pending)
    select e.parts_pending as remaining,
      ${etlEvent(db, db`d.execution_id`, 'tienda_finished', db`jsonb_build_object('tienda_id', d.tienda_id, 'status', d.status)`)},
      ${asyncCommit(db)}
    from d, e`
  return row
}

/** A part that has no store to run (deactivated since the run was queued): counted done; returns what remains. */
export async function skipPart(db: Db, executionId: number): Promise<number | null> {
  const [row] = await db<{ remaining: number | null }[]>`
    update etl_executions set parts_pending = parts_pending - 1
    where id = ${executionId} and status = 'running' and parts_pending > 0
    returning parts_pending as remaining`
  return row?.remaining ?? null
}

/** Whether a fanned-out run still has parts to finish (null: not fanned out). */
export async function selectPartsPending(db: Db, executionId: number) {
  const [row] = await db<{ status: string; parts_pending: number | null }[]>`
    select status, parts_pending from etl_executions where id = ${executionId}`
  return row
}
