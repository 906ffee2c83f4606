// The one way an execution is closed, in one statement, whoever closes it: the tracker at the end of a
// run, a job that crashed, the reaper (a worker stopped heartbeating), a runner giving up at shutdown,
// a queued run whose job ended without running it. They differ only in which executions they target
// and in the error they record; everything else is this statement:
//  - stores still `running` (their end was never recorded) become `failed`, in the phase they were in;
//  - stores never started become `skipped` rows, so tiendas_count = exitosas + fallidas + cerradas + skipped;
//  - status from the stores (etl_estado_por_tiendas, migration 080): all loaded (or closed: the store
//    calendar) → success, some → partial, none → failed; a run asked to stop
//    (cancel_requested_at) that left stores unrun → cancelled; a queued run cancelled → cancelled;
//  - counts, per-phase durations (sums over stores: work per phase, not wall time), source_system,
//    request counts, the dominant error (the most frequent category among failed stores; ties: the
//    earliest failure) and the network diagnostics of its connection (openapi ExecutionNetworkDiagnostics);
//  - an `execution_finished` event for live views.
// It reads the stores from this statement's CTEs, not from the table: in one statement's snapshot the
// stores being failed still read `running` and the skipped rows being inserted are not visible yet.
import type { Fragment } from 'postgres'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { BOSS_SCHEMA, STORE_QUEUE } from '../jobs/boss.ts'
import { type ExecutionRow, etlEvent, executionColumns } from './execution-row.ts'

type Schemas = components['schemas']

/** An execution-level error: what the run reports when no store failed (or whatever the stores say, if forced). */
export type ExecutionError = {
  phase: Schemas['Phase'] | null
  category: Schemas['ErrorCategory'] | null
  source: Schemas['ErrorSource'] | null
  message: string
  detail: string | null
}

type Close = {
  /** `select id, note from …` — the executions to close (locked here), `note` free text for `error`. */
  target: Fragment
  /** Executions in these states are closed (rechecked under the lock). */
  from: readonly ('queued' | 'running')[]
  /**
   * `stores`: from the stores' outcomes (`cancelled` when a stop was requested and stores were left
   * unrun); `failed`: whatever the stores say (a run whose worker was lost); `cancelled`: a queued run
   * cancelled before any runner took it.
   */
  status: 'stores' | 'failed' | 'cancelled'
  /** Category and message (an SQL expression over the store row `d`) of stores left running. */
  lostStores: { category: Schemas['ErrorCategory']; message: Fragment }
  /**
   * The execution's error: `dominant` (the stores', else `fallback`), or forced fields — SQL
   * expressions over `e` (the execution before the update), `target` and `culprit` (the lost store
   * that started first: its `phase` and `source`).
   */
  error:
    | { kind: 'none' }
    | { kind: 'dominant'; fallback: ExecutionError | null }
    | { kind: 'forced'; phase: Fragment; category: Schemas['ErrorCategory']; source: Fragment; message: Fragment }
}

const sourceOf = (db: Db, system: Fragment) =>
  db`case ${system} when 'klk' then 'klk_api' when 'stellar' then 'stellar_db' end`

async function closeExecutions(db: Db, c: Close): Promise<ExecutionRow[]> {
  const f = c.error.kind === 'dominant' ? c.error.fallback : null
  const forced = c.error.kind === 'forced' ? c.error : null
  const none = c.error.kind === 'none'
  const pick = (dominantField: string, fallback: unknown, forcedExpr: Fragment | string | undefined) =>
    none
      ? db`null`
      : forced
        ? typeof forcedExpr === 'string'
          ? db`${forcedExpr}`
          : forcedExpr!
        : db`case when dom.execution_id is not null then dom.${db(dominantField)} else ${fallback as string | null} end`
  return db<ExecutionRow[]>`
    with target as (${c.target}),
    locked as (
      select e.id, target.note from etl_executions e join target on target.id = e.id
      where e.status = any(${c.from as string[]}::text[])
      for update of e skip locked
    ),
    lost as (
      update etl_execution_details d set status = 'failed', finished_at = now(), current_phase = null,
        error_phase = coalesce(d.current_phase, 'extract'), error_category = ${c.lostStores.category},
        error_source = ${sourceOf(db, db`d.source_system`)}, error_message = ${c.lostStores.message},
        duration_seconds = round(extract(epoch from now() - coalesce(d.started_at, now()))::numeric, 2)
      from locked where d.execution_id = locked.id and d.status = 'running'
      returning d.*
    ),
    skipped as (
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status)
      select e.id, r.tienda_id, t.nombre, t.source_system, 'skipped'
      from locked join etl_executions e on e.id = locked.id
        cross join unnest(e.tienda_ids) as r(tienda_id) left join tiendas t on t.id = r.tienda_id
      where not exists (select 1 from etl_execution_details x where x.execution_id = e.id and x.tienda_id = r.tienda_id)
      on conflict (execution_id, tienda_id) do nothing
      returning *
    ),
    stores as (
      select d.* from etl_execution_details d join locked on locked.id = d.execution_id where d.status <> 'running'
      union all select * from lost
      union all select * from skipped
    ),
    agg as (
      select execution_id, count(*)::int as total,
        count(*) filter (where status = 'success')::int as ok,
        count(*) filter (where status = 'failed')::int as failed,
        count(*) filter (where status = 'closed')::int as closed,
        coalesce(sum(records_extracted), 0)::int as extracted, coalesce(sum(records_loaded), 0)::int as loaded,
        coalesce(sum(duplicates_skipped), 0)::int as duplicates,
        coalesce(sum(records_extracted) filter (where status = 'failed'), 0)::int as failed_records,
        round(sum(extract_duration_seconds), 2) as extract_s,
        round(sum(transform_duration_seconds), 2) as transform_s,
        round(sum(load_duration_seconds), 2) as load_s,
        case when count(distinct source_system) > 1 then 'mixed' else min(source_system) end as system,
        sum((network_diagnostics->>'requests')::int)::int as requests,
        sum((network_diagnostics->>'errors')::int)::int as request_errors
      from stores group by execution_id
    ),
    dom as (
      select distinct on (execution_id) execution_id, error_phase, error_category, error_source, error_message,
        error_detail, tienda_id, server_ip, server_port, connection_latency_ms::float8 as latency_ms,
        network_diagnostics->>'error_code' as error_code
      from (select *, count(*) over (partition by execution_id, error_category) as n from stores where status = 'failed') s
      order by execution_id, n desc, finished_at nulls last, id
    ),
    failing as (
      select execution_id, count(*)::int as n,
        jsonb_agg(jsonb_build_object('tienda_id', tienda_id, 'ip', server_ip, 'port', server_port,
          'latency_ms', connection_latency_ms::float8, 'error_code', network_diagnostics->>'error_code')
          order by tienda_id) filter (where rn <= 25) as stores
      from (select *, row_number() over (partition by execution_id order by tienda_id) as rn
        from stores where status = 'failed') s
      group by execution_id
    ),
    culprit as (
      select distinct on (execution_id) execution_id, error_phase as phase, error_source as source
      from lost order by execution_id, started_at nulls last, tienda_id
    ),
    closed as (
      update etl_executions e set
        status = ${
          c.status === 'failed'
            ? db`'failed'`
            : c.status === 'cancelled'
              ? db`'cancelled'`
              : db`etl_estado_por_tiendas(e.cancel_requested_at is not null, coalesce(a.total, 0),
                  coalesce(a.ok, 0), coalesce(a.failed, 0), coalesce(a.closed, 0))`
        },
        started_at = coalesce(e.started_at, now()), finished_at = now(), current_phase = null,
        duration_seconds = round(extract(epoch from now() - coalesce(e.started_at, now()))::numeric, 2),
        records_extracted = coalesce(a.extracted, 0), records_loaded = coalesce(a.loaded, 0),
        duplicates_skipped = coalesce(a.duplicates, 0), records_upserted = coalesce(a.loaded, 0),
        records_failed = coalesce(a.failed_records, 0),
        gaps_recovered = case when e.is_recovery then coalesce(a.ok, 0) else 0 end,
        tiendas_count = coalesce(a.total, 0), tiendas_exitosas = coalesce(a.ok, 0),
        tiendas_fallidas = coalesce(a.failed, 0), tiendas_cerradas = coalesce(a.closed, 0),
        extract_duration_seconds = a.extract_s, transform_duration_seconds = a.transform_s,
        load_duration_seconds = a.load_s, source_system = coalesce(a.system, e.source_system),
        api_requests_count = a.requests, api_errors_count = a.request_errors,
        error_phase = ${pick('error_phase', f?.phase ?? null, forced?.phase)},
        error_category = ${pick('error_category', f?.category ?? null, forced?.category)},
        error_source = ${pick('error_source', f?.source ?? null, forced?.source)},
        error_message = ${pick('error_message', f?.message ?? null, forced?.message)},
        error_detail = ${forced || none ? db`null` : pick('error_detail', f?.detail ?? null, undefined)},
        network_diagnostics = case when fl.n is null then null else jsonb_build_object(
          'ip', dom.server_ip, 'port', dom.server_port, 'tienda_id', dom.tienda_id, 'latency_ms', dom.latency_ms,
          'error_code', dom.error_code, 'failed_stores', fl.n, 'stores', fl.stores) end
      from locked as target
        left join agg a on a.execution_id = target.id
        left join dom on dom.execution_id = target.id
        left join failing fl on fl.execution_id = target.id
        left join culprit on culprit.execution_id = target.id
      where e.id = target.id
      returning e.*
    )
    select ${executionColumns(db)} from closed,
      lateral (select ${etlEvent(db, db`closed.id`, 'execution_finished', db`jsonb_build_object('status', closed.status)`)}) n
    order by id`
}

/** The tracker closes its own run; `fallback` is its execution-level error (kept when no store failed). */
export async function closeFinishedExecution(db: Db, id: number, fallback: ExecutionError | null) {
  const [row] = await closeExecutions(db, {
    target: db`select ${id}::int as id, null::text as note`,
    from: ['running'],
    status: 'stores',
    lostStores: { category: 'unknown', message: db`'the runner lost track of this store before it finished'` },
    error: { kind: 'dominant', fallback },
  })
  return row
}

/**
 * A job whose run threw instead of finishing (its tracker could not write: PostgreSQL restarting, a
 * bug) closes what it left open: the executions it started that still run (job_id), and its queued
 * execution if the run never claimed it. Stores that loaded stay loaded (success or partial); the
 * error says the run crashed. `message` is already redacted.
 */
export function closeCrashedExecutions(db: Db, f: { jobId: string; queuedId: number | null }, message: string) {
  return closeExecutions(db, {
    target: db`select id, null::text as note from etl_executions
      where (job_id = ${f.jobId}::uuid and status = 'running') or id = ${f.queuedId}`,
    from: ['queued', 'running'],
    status: 'stores',
    lostStores: { category: 'unknown', message: db`${message}::text` },
    error: {
      kind: 'forced',
      phase: db`coalesce(culprit.phase, e.current_phase, case when e.status = 'running' then 'extract' end)`,
      category: 'unknown',
      source: db`culprit.source`,
      message: db`${message}::text`,
    },
  })
}

export type StaleFilter = {
  /** An execution is stale when its last sign of life is older than this. */
  staleAfterS: number
  /** Only this execution (a retried job closing its own dead attempt). */
  executionId?: number
  /** Only this worker's executions (a runner closing its own runs when shutdown ran out of time). */
  workerId?: string
  /** Replaces the stale-heartbeat explanation. */
  reason?: string
}

/**
 * Running executions whose worker stopped heartbeating (the reaper), or that this runner abandons at
 * shutdown: failed/worker_lost (DESIGN §5) in the phase of the store that stalled longest; stores that
 * loaded keep their rows and counts. A run that died before
 * its first heartbeat is judged by started_at. `skip locked`: several runners reap at once without
 * blocking each other or closing one execution twice; one its worker finished meanwhile is left alone.
 */
export function closeStaleExecutions(db: Db, f: StaleFilter) {
  const reason = f.reason ?? null
  return closeExecutions(db, {
    target: db`select e.id, null::text as note from etl_executions e
      where e.status = 'running'
        and coalesce(e.heartbeat_at, e.started_at) < now() - make_interval(secs => ${f.staleAfterS})
        ${f.executionId === undefined ? db`` : db`and e.id = ${f.executionId}`}
        ${f.workerId === undefined ? db`` : db`and e.worker_id = ${f.workerId}`}
        -- A fanned-out run lives while pg-boss still has a part of it to hand out, to retry (its
        -- supervisor moves a dead worker's part back to retry) or in hand — the last part counts
        -- parts_pending down to 0 before it closes the run, and a retry of it closes it (fan-in);
        -- only when no part is left is the run lost.
        and not exists (
          select 1 from ${db(BOSS_SCHEMA)}.job j
          where j.name = ${STORE_QUEUE} and j.state in ('created', 'retry', 'active')
            and j.data @> jsonb_build_object('execution_id', e.id))`,
    from: ['running'],
    status: 'failed',
    lostStores: {
      category: 'worker_lost',
      message: db`coalesce(${reason}::text, 'the runner working on this store stopped heartbeating '
        || '(killed or cut off) during ' || coalesce(d.current_phase, 'extract')
        || '; a store load is one transaction, so it is never left half-loaded')`,
    },
    error: {
      kind: 'forced',
      phase: db`coalesce(culprit.phase, e.current_phase, 'extract')`,
      category: 'worker_lost',
      source: db`coalesce(culprit.source, ${sourceOf(db, db`e.source_system`)})`,
      message: db`coalesce(${reason}::text, format(
        'worker %s stopped heartbeating during %s (last sign of life %s, more than %s s ago): '
        || 'the runner was killed or lost its connection; closed by the reaper',
        coalesce(e.worker_id, '(unknown)'), coalesce(culprit.phase, e.current_phase, 'extract'),
        to_char(coalesce(e.heartbeat_at, e.started_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        ${f.staleAfterS}::int))`,
    },
  })
}

export type AbandonedFilter = {
  /** A queued execution without a job_id is closed once it is older than this (its sender never attached one). */
  graceS: number
  /** pg-boss's schema and the queue of each ETL. */
  bossSchema: string
  queues: Record<string, string>
}

/**
 * Queued executions nothing will ever pick up: their pg-boss job no longer exists or ended (completed,
 * cancelled, failed), or they have no job and are older than the grace. Left queued they would block
 * every later run of their stores with 409. A job in created/retry/active is left alone. The error is
 * `unknown` (no worker was lost; why the job ended is not known here) with no phase; every store is
 * `skipped` (none was attempted).
 */
export function closeAbandonedQueuedExecutions(db: Db, f: AbandonedFilter) {
  const etlNames = Object.keys(f.queues)
  const queueNames = etlNames.map((n) => f.queues[n]!)
  return closeExecutions(db, {
    target: db`
      select e.id, case
          when e.job_id is null then 'it never got a pg-boss job'
          when j.id is null then 'pg-boss job ' || e.job_id || ' no longer exists'
          else 'pg-boss job ' || e.job_id || ' is ' || j.state
        end as note
      from etl_executions e
      join unnest(${etlNames}::text[], ${queueNames}::text[]) as q(etl_name, queue) on q.etl_name = e.etl_name
      left join ${db(f.bossSchema)}.job j on j.name = q.queue and j.id = e.job_id
      where e.status = 'queued'
        and case
          when e.job_id is null then e.created_at < now() - make_interval(secs => ${f.graceS})
          else j.id is null or j.state in ('completed', 'cancelled', 'failed')
        end`,
    from: ['queued'],
    status: 'failed',
    lostStores: { category: 'unknown', message: db`null` },
    error: {
      kind: 'forced',
      phase: db`null`,
      category: 'unknown',
      source: db`null`,
      message: db`'the job of this queued execution ended without running it (' || target.note
        || '); closed by the reaper so that its stores can be run again'`,
    },
  })
}

/**
 * A queued execution cancelled before any runner took it (POST /api/etl/executions/{id}/cancel, in the
 * transaction that deletes its pg-boss job): `cancelled`, every store `skipped`, no error. Undefined when
 * it was no longer queued (a runner claimed it meanwhile: the caller asks it to stop instead).
 */
export async function closeCancelledQueuedExecution(db: Db, id: number): Promise<ExecutionRow | undefined> {
  const [row] = await closeExecutions(db, {
    target: db`select ${id}::int as id, null::text as note`,
    from: ['queued'],
    status: 'cancelled',
    lostStores: { category: 'unknown', message: db`null` },
    error: { kind: 'none' },
  })
  return row
}
