import type { Db } from '../db.ts'

export type ReapedExecution = {
  id: number
  etl_name: string
  worker_id: string | null
  error_phase: string
  tiendas_lost: string[]
}

export type ReapFilter = {
  /** An execution is stale when its last sign of life is older than this. */
  staleAfterS: number
  /** Only this execution (a retried job closing its own dead attempt); any stale one when unset. */
  executionId?: number
  /** Only this worker's executions (a runner closing its own runs when shutdown ran out of time). */
  workerId?: string
  /** Replaces the stale-heartbeat explanation in error_message. */
  reason?: string
}

/**
 * Closes every `running` execution whose worker stopped heartbeating, in one statement:
 * its `running` stores → failed/worker_lost in the phase each was in, the execution →
 * failed/worker_lost in its current phase, counts re-read from the stores, and an
 * `etl_events` notification so live views update like they do for the tracker's own writes.
 *
 * - No NULL blind spot: a run that died before its first heartbeat is judged by started_at.
 * - `for update skip locked`: several runners reap at once without blocking each other or
 *   closing the same execution twice; `status = 'running'` is rechecked under the lock, so
 *   an execution that its (slow but alive) worker finished in the meantime is left alone.
 * - The counts are recomputed from the detail rows (in this statement's snapshot the stores
 *   being failed still read `running`), so they agree with the details whatever the tracker
 *   had rolled up when the worker died.
 */
export function markStaleExecutionsFailed(db: Db, f: ReapFilter) {
  return db<ReapedExecution[]>`
    with stale as (
      select id from etl_executions
      where status = 'running'
        and coalesce(heartbeat_at, started_at) < now() - make_interval(secs => ${f.staleAfterS})
        ${f.executionId === undefined ? db`` : db`and id = ${f.executionId}`}
        ${f.workerId === undefined ? db`` : db`and worker_id = ${f.workerId}`}
      for update skip locked
    ),
    lost_stores as (
      update etl_execution_details d set
        status = 'failed',
        error_phase = coalesce(d.current_phase, 'extract'),
        error_category = 'worker_lost',
        error_source = case d.source_system when 'klk' then 'klk_api' when 'stellar' then 'stellar_db' end,
        error_message = coalesce(${f.reason ?? null}::text, 'the runner working on this store stopped heartbeating '
          || '(killed or cut off) during ' || coalesce(d.current_phase, 'extract')
          || '; a store load is one transaction, so it is never left half-loaded'),
        finished_at = now(),
        duration_seconds = round(extract(epoch from now() - coalesce(d.started_at, now()))::numeric, 2),
        current_phase = null
      from stale
      where d.execution_id = stale.id and d.status = 'running'
      -- RETURNING sees the new row: error_phase holds the phase the store was in.
      returning d.execution_id, d.tienda_id, d.source_system, d.started_at, d.error_phase as phase
    ),
    -- The store that stalled longest: its phase and source are the execution's (the execution-level
    -- current_phase is whichever store moved last, often one that had already finished).
    culprit as (
      select distinct on (execution_id) execution_id, phase,
        case source_system when 'klk' then 'klk_api' when 'stellar' then 'stellar_db' end as source
      from lost_stores order by execution_id, started_at nulls last, tienda_id
    ),
    totals as (
      select d.execution_id,
        count(*) filter (where d.status = 'success')::int as exitosas,
        count(*) filter (where d.status in ('failed', 'running'))::int as fallidas,
        coalesce(sum(d.records_extracted), 0)::int as extracted,
        coalesce(sum(d.records_loaded), 0)::int as loaded,
        coalesce(sum(d.duplicates_skipped), 0)::int as duplicates
      from etl_execution_details d join stale on stale.id = d.execution_id
      group by d.execution_id
    ),
    closed as (
      update etl_executions e set
        status = 'failed',
        finished_at = now(),
        duration_seconds = round(extract(epoch from now() - e.started_at)::numeric, 2),
        error_phase = coalesce(c.phase, e.current_phase, 'extract'),
        error_category = 'worker_lost',
        error_source = coalesce(c.source,
          case e.source_system when 'klk' then 'klk_api' when 'stellar' then 'stellar_db' end),
        error_message = coalesce(${f.reason ?? null}::text, format(
          'worker %s stopped heartbeating during %s (last sign of life %s, more than %s s ago): '
          || 'the runner was killed or lost its connection; closed by the reaper',
          coalesce(e.worker_id, '(unknown)'), coalesce(c.phase, e.current_phase, 'extract'),
          to_char(coalesce(e.heartbeat_at, e.started_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          ${f.staleAfterS}::int)),
        tiendas_exitosas = coalesce(t.exitosas, e.tiendas_exitosas),
        tiendas_fallidas = coalesce(t.fallidas, e.tiendas_fallidas),
        records_extracted = coalesce(t.extracted, e.records_extracted),
        records_loaded = coalesce(t.loaded, e.records_loaded),
        duplicates_skipped = coalesce(t.duplicates, e.duplicates_skipped),
        current_phase = null
      from stale left join totals t on t.execution_id = stale.id left join culprit c on c.execution_id = stale.id
      where e.id = stale.id and e.status = 'running'
      returning e.id, e.etl_name, e.worker_id, e.error_phase
    )
    select c.id, c.etl_name, c.worker_id, c.error_phase,
      coalesce((select array_agg(l.tienda_id order by l.tienda_id) from lost_stores l where l.execution_id = c.id),
        '{}') as tiendas_lost,
      -- The tracker's event shape (tracker.sql.ts), so live views need no special case for the reaper.
      pg_notify('etl_events', jsonb_build_object(
        'execution_id', c.id, 'kind', 'execution_finished', 'status', 'failed')::text)
    from closed c`
}

/**
 * Staging rows (migration 042) left by a runner that died between staging and merging: their
 * execution is no longer running, so nobody will merge them. Staging holds only in-flight rows,
 * so this scan stays small.
 */
export function deleteOrphanStaging(db: Db) {
  return db`
    with orphan as (
      select distinct execution_id from ventas_staging
      union
      select distinct execution_id from inventario_staging
    ), done as (
      select o.execution_id from orphan o
      where not exists (select 1 from etl_executions e where e.id = o.execution_id and e.status = 'running')
    ), v as (
      delete from ventas_staging s using done where s.execution_id = done.execution_id
    )
    delete from inventario_staging s using done where s.execution_id = done.execution_id`
}

export type ClosedQueuedExecution = {
  id: number
  etl_name: string
  job_id: string | null
  job_state: string | null
}

export type QueuedFilter = {
  /** A queued execution without a job_id is closed once it is older than this (its sender never attached one). */
  graceS: number
  /** pg-boss's schema and the queue of each ETL (boss.ts). */
  bossSchema: string
  queues: Record<string, string>
}

/**
 * Closes `queued` executions that nothing will ever pick up, in one statement: their pg-boss job
 * no longer exists (deleted, or removed by retention) or is in a final state (completed, cancelled,
 * failed: aborted, expired or out of retries), or they have no job_id and are older than the grace.
 * Left queued they would block every later manual run of their stores with 409 (history-api
 * findOverlap counts queued rows).
 *
 * - A job in created/retry/active is left alone: a runner will still (or is about to) claim it.
 * - The execution and its job are written in one transaction by the history API, so a queued row
 *   whose job row is missing is not one still being sent.
 * - `for update skip locked` + `status = 'queued'` rechecked under the lock: several runners
 *   reap at once, and a runner claiming the row in the meantime wins.
 * - Only ETLs with a known queue are looked at; the job is found by its (name, id) primary key.
 * - error_category is `unknown`, not `worker_lost`: no worker was lost (nothing ever ran), and
 *   why the job ended (cancelled, expired, retries exhausted, deleted) is not known here; the
 *   message says what happened. error_phase stays null: no phase was reached.
 * - started_at = now() (chk_started_at: only queued rows have none), duration 0, no detail rows.
 */
export function closeAbandonedQueuedExecutions(db: Db, f: QueuedFilter) {
  const etlNames = Object.keys(f.queues)
  const queueNames = etlNames.map((n) => f.queues[n]!)
  return db<ClosedQueuedExecution[]>`
    with abandoned as (
      select e.id, e.job_id, j.state::text as job_state
      from etl_executions e
      join unnest(${etlNames}::text[], ${queueNames}::text[]) as q(etl_name, queue) on q.etl_name = e.etl_name
      left join ${db(f.bossSchema)}.job j on j.name = q.queue and j.id = e.job_id
      where e.status = 'queued'
        and case
          when e.job_id is null then e.created_at < now() - make_interval(secs => ${f.graceS})
          else j.id is null or j.state in ('completed', 'cancelled', 'failed')
        end
      for update of e skip locked
    ),
    closed as (
      update etl_executions e set
        status = 'failed',
        started_at = now(),
        finished_at = now(),
        duration_seconds = 0,
        current_phase = null,
        error_category = 'unknown',
        error_message = 'the job of this queued execution ended without running it ('
          || case
            when a.job_id is null then 'it never got a pg-boss job'
            when a.job_state is null then 'pg-boss job ' || a.job_id || ' no longer exists'
            else 'pg-boss job ' || a.job_id || ' is ' || a.job_state
          end
          || '); closed by the reaper so that its stores can be run again'
      from abandoned a
      where e.id = a.id and e.status = 'queued'
      returning e.id, e.etl_name, a.job_id, a.job_state
    )
    select c.id, c.etl_name, c.job_id, c.job_state,
      pg_notify('etl_events', jsonb_build_object(
        'execution_id', c.id, 'kind', 'execution_finished', 'status', 'failed')::text)
    from closed c`
}
