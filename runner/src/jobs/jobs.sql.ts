import type { Db } from '../db.ts'

export type JobExecution = {
  id: number
  status: 'queued' | 'running' | 'success' | 'partial' | 'failed'
  error_category: string | null
  tienda_ids: string[]
  fecha_desde: Date | null
  fecha_hasta: Date | null
}

export function findExecutionForJob(db: Db, id: number) {
  return db<JobExecution[]>`
    select id, status, error_category, tienda_ids, fecha_desde, fecha_hasta
    from etl_executions where id = ${id}`.then((rows) => rows[0])
}

/**
 * A job whose run threw instead of finishing (its tracker could not write: PostgreSQL restarting,
 * a bug) closes what it left open rather than leave it to the reaper: the executions it started
 * (job_id, set by the tracker) that are still running, and its queued execution if the run never
 * got to claim it. Their running stores are closed with them. `message` is already redacted.
 *
 * The status comes from the stores like the tracker's roll-up (tracker.sql.ts finishExecutionRollup):
 * stores that loaded stay loaded, so a run that threw only while finishing is success or partial,
 * not failed. Stores left `running` count as failed; stores never attempted become `skipped` rows
 * (only for a run that had started, as the roll-up does); counts are re-read from the stores. The
 * error fields say the run crashed whatever the status.
 */
export function markJobExecutionsCrashed(db: Db, f: { jobId: string; queuedId: number | null }, message: string) {
  return db<{ id: number }[]>`
    with target as (
      select id, status, tienda_ids from etl_executions
      where (job_id = ${f.jobId}::uuid and status = 'running')
         or (id = ${f.queuedId} and status in ('queued', 'running'))
      for update
    ),
    skipped as (
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status)
      select target.id, t.id, t.nombre, t.source_system, 'skipped'
      from target cross join unnest(target.tienda_ids) as r(tienda_id) join tiendas t on t.id = r.tienda_id
      where target.status = 'running'
        and not exists (select 1 from etl_execution_details x where x.execution_id = target.id and x.tienda_id = r.tienda_id)
      on conflict (execution_id, tienda_id) do nothing
      returning execution_id
    ),
    lost as (
      update etl_execution_details d set status = 'failed', error_phase = coalesce(d.current_phase, 'extract'),
        error_category = 'unknown', error_message = ${message}, finished_at = now(), current_phase = null,
        duration_seconds = round(extract(epoch from now() - coalesce(d.started_at, now()))::numeric, 2)
      from target where d.execution_id = target.id and d.status = 'running'
      returning d.execution_id
    ),
    -- This statement's snapshot still reads the stores being failed as running (counted failed
    -- here) and does not see the skipped rows being inserted (added from their CTE).
    totals as (
      select s.execution_id, count(*)::int as total, count(*) filter (where s.status = 'success')::int as ok,
        coalesce(sum(s.records_extracted), 0)::int as extracted, coalesce(sum(s.records_loaded), 0)::int as loaded,
        coalesce(sum(s.duplicates_skipped), 0)::int as duplicates
      from (
        select d.execution_id, d.status, d.records_extracted, d.records_loaded, d.duplicates_skipped
        from etl_execution_details d join target on target.id = d.execution_id
        union all
        select execution_id, 'skipped', 0, 0, 0 from skipped
      ) s
      group by s.execution_id
    )
    update etl_executions e set
      status = case when t.total > 0 and t.ok = t.total then 'success' when t.ok > 0 then 'partial' else 'failed' end,
      started_at = coalesce(e.started_at, now()),
      finished_at = now(),
      duration_seconds = round(extract(epoch from now() - coalesce(e.started_at, now()))::numeric, 2),
      error_phase = coalesce(e.current_phase, 'extract'),
      error_category = 'unknown',
      error_message = ${message},
      tiendas_count = greatest(e.tiendas_count, coalesce(t.total, 0)),
      tiendas_exitosas = coalesce(t.ok, 0),
      tiendas_fallidas = coalesce(t.total - t.ok, 0),
      records_extracted = coalesce(t.extracted, 0),
      records_loaded = coalesce(t.loaded, 0),
      records_upserted = coalesce(t.loaded, 0),
      duplicates_skipped = coalesce(t.duplicates, 0),
      current_phase = null
    from target left join totals t on t.execution_id = target.id
    where e.id = target.id
    returning e.id`
}
