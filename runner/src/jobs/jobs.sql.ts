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
 */
export function markJobExecutionsCrashed(db: Db, f: { jobId: string; queuedId: number | null }, message: string) {
  return db<{ id: number }[]>`
    with target as (
      select id from etl_executions
      where (job_id = ${f.jobId}::uuid and status = 'running')
         or (id = ${f.queuedId} and status in ('queued', 'running'))
      for update
    ),
    lost as (
      update etl_execution_details d set status = 'failed', error_phase = coalesce(d.current_phase, 'extract'),
        error_category = 'unknown', error_message = ${message}, finished_at = now(), current_phase = null,
        duration_seconds = round(extract(epoch from now() - coalesce(d.started_at, now()))::numeric, 2)
      from target where d.execution_id = target.id and d.status = 'running'
      returning d.execution_id
    )
    update etl_executions e set
      status = 'failed',
      started_at = coalesce(e.started_at, now()),
      finished_at = now(),
      duration_seconds = round(extract(epoch from now() - coalesce(e.started_at, now()))::numeric, 2),
      error_phase = coalesce(e.current_phase, 'extract'),
      error_category = 'unknown',
      error_message = ${message},
      tiendas_fallidas = e.tiendas_fallidas + (select count(*) from lost where lost.execution_id = e.id),
      current_phase = null
    from target where e.id = target.id
    returning e.id`
}
