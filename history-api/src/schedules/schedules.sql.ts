import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'

type EtlName = components['schemas']['EtlName']

export type ScheduleRow = {
  etl_name: EtlName
  cron: string | null
  tz: string | null
  paused: boolean
  paused_by: string | null
  paused_at: Date | null
  last_id: number | null
  last_status: components['schemas']['ExecutionStatus'] | null
  last_started_at: Date | null
  last_finished_at: Date | null
}

/**
 * Each ETL's schedule: the cron pg-boss holds for its queue (registered by the runners), the pause
 * recorded here, and the latest run the schedule started (idx on triggered_by keeps it an index scan).
 */
export function listSchedules(db: Db, queues: Record<EtlName, string>, only?: EtlName) {
  const etls = (Object.keys(queues) as EtlName[]).filter((e) => !only || e === only)
  return db<ScheduleRow[]>`
    select q.etl_name, s.cron, s.timezone as tz, coalesce(st.paused, false) as paused, st.paused_by, st.paused_at,
      l.id as last_id, l.status as last_status, l.started_at as last_started_at, l.finished_at as last_finished_at
    from unnest(${etls}::text[], ${etls.map((e) => queues[e])}::text[]) with ordinality as q(etl_name, queue, n)
    left join pgboss.schedule s on s.name = q.queue and s.key = ''
    left join etl_schedules_state st on st.etl_name = q.etl_name
    left join lateral (
      select e.id, e.status, e.started_at, e.finished_at from etl_executions e
      where e.etl_name = q.etl_name and e.triggered_by = 'scheduler'
      order by e.started_at desc nulls first, e.id desc limit 1) l on true
    order by q.n`
}

export function pauseSchedule(db: Db, etl: EtlName, who: string) {
  return db`
    insert into etl_schedules_state (etl_name, paused, paused_by, paused_at, updated_at)
    values (${etl}, true, ${who}, now(), now())
    on conflict (etl_name) do update set paused = true, updated_at = now(),
      -- Pausing a paused schedule keeps the first pause (who and since when).
      paused_by = case when etl_schedules_state.paused then etl_schedules_state.paused_by else excluded.paused_by end,
      paused_at = case when etl_schedules_state.paused then etl_schedules_state.paused_at else excluded.paused_at end`
}

export function resumeSchedule(db: Db, etl: EtlName) {
  return db`
    insert into etl_schedules_state (etl_name, paused, updated_at) values (${etl}, false, now())
    on conflict (etl_name) do update set paused = false, paused_by = null, paused_at = null, updated_at = now()`
}
