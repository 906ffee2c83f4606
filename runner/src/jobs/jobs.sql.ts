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
 * A run that threw instead of finishing (its tracker could not write, typically PostgreSQL
 * going away) is closed as failed so it does not sit `queued`/`running` until the reaper; the
 * message is already redacted by the caller. Stores still `running` are closed with it.
 * No-op for an execution the tracker managed to finish.
 */
export function markExecutionCrashed(db: Db, id: number, message: string) {
  return db`
    with lost as (
      update etl_execution_details set status = 'failed', error_phase = coalesce(current_phase, 'extract'),
        error_category = 'unknown', error_message = ${message}, finished_at = now(), current_phase = null,
        duration_seconds = round(extract(epoch from now() - coalesce(started_at, now()))::numeric, 2)
      where execution_id = ${id} and status = 'running'
      returning tienda_id
    )
    update etl_executions set
      status = 'failed',
      started_at = coalesce(started_at, now()),
      finished_at = now(),
      duration_seconds = round(extract(epoch from now() - coalesce(started_at, now()))::numeric, 2),
      error_phase = coalesce(current_phase, 'extract'),
      error_category = 'unknown',
      error_message = ${message},
      tiendas_fallidas = tiendas_fallidas + (select count(*) from lost),
      current_phase = null
    where id = ${id} and status in ('queued', 'running')`
}
