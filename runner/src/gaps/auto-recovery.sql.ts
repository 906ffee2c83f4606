// Statements of the automatic gap recovery pass (auto-recovery.ts); tables of migrations/075.
import type { Sql } from 'postgres'
import type { AlertChange } from '../alerts/alerts.sql.ts'
import type { Db } from '../db.ts'
import type { EtlName } from '../jobs/boss.ts'

export function isRecoveryPaused(db: Db) {
  return db<{ paused: boolean }[]>`select paused from etl_recovery_settings`.then((r) => r[0]?.paused ?? false)
}

/** A pending gap that is due, with what the pass needs to probe its store and queue its run. */
export type DueGap = {
  gap_id: number
  etl_name: EtlName
  tienda_id: string
  source_system: string
  host: string
  port: number
  attempts: number
  fecha_desde: Date | null
  fecha_hasta: Date | null
}

/**
 * Pending gaps (etl_gaps, 040) of active stores that recovery may try now, oldest failure first:
 * never tried, or tried fewer than `maxAttempts` times with their backoff over and not given up on.
 * Only failures of the last `maxAgeH` hours: the candidates are read per store from the recent end of
 * its detail index, and only they go through the view's "recovered since?" test — so a pass costs the
 * same on a month of history as on years of it (the view alone tests every failure ever recorded:
 * 2.5 min on 950k detail rows, against 20 ms here). Older gaps are left to operators.
 * Gaps left by recovery runs themselves are not targets: their window is their original gap's, which
 * recovery is already retrying (otherwise every failed attempt would breed a fresh gap to retry).
 * A gap whose last recovery run is still queued or running waits for it.
 * The window leaves widened to whole milliseconds, as for recovery from the panel (history-api
 * gaps.sql.ts listGapStores): a window a microsecond short would never count as covering the gap.
 */
export function selectDueGaps(db: Db, p: { maxAttempts: number; maxAgeH: number; limit: number }) {
  return db<DueGap[]>`
    select g.id as gap_id, g.etl_name, g.tienda_id, t.source_system, t.host, t.port,
      coalesce(r.attempts, 0)::int as attempts,
      date_trunc('milliseconds', g.fecha_desde) as fecha_desde,
      date_trunc('milliseconds', g.fecha_hasta)
        + (g.fecha_hasta > date_trunc('milliseconds', g.fecha_hasta))::int * interval '1 millisecond' as fecha_hasta
    from tiendas t
    cross join (values ('ventas'), ('inventario')) as n(etl_name)
    join etl_execution_details d on d.tienda_id = t.id and d.execution_etl_name = n.etl_name
      and d.execution_started_at >= now() - make_interval(hours => ${p.maxAgeH}) and d.status = 'failed'
    join etl_executions e on e.id = d.execution_id and not e.is_recovery
    join etl_gaps g on g.id = d.execution_id and g.tienda_id = d.tienda_id and g.recovered_at is null
    left join etl_gap_recovery r on r.gap_id = g.id and r.tienda_id = g.tienda_id
    left join etl_executions last on last.id = r.last_execution_id
    where t.active
      and (r.gap_id is null
        or (r.exhausted_at is null and r.attempts < ${p.maxAttempts} and r.next_attempt_at <= now()
            and (last.id is null or last.status not in ('queued', 'running'))))
    order by g.detected_at, g.id, g.tienda_id
    limit ${p.limit}`
}

export type Attempt = {
  gapId: number
  tiendaId: string
  outcome: 'sin_respuesta' | 'encolada'
  executionId: number | null
  /** Seconds until the next attempt; null when this was the last one. */
  backoffS: number | null
  /** This attempt already tells the gap is lost (the store did not answer the last probe). */
  exhausted: boolean
}

/** Counts one attempt at a gap (first one inserts its row). */
export function recordAttempt(db: Db, a: Attempt) {
  const next = a.backoffS === null ? null : db`now() + make_interval(secs => ${a.backoffS})`
  return db`
    insert into etl_gap_recovery as r (gap_id, tienda_id, attempts, last_attempt_at, next_attempt_at, last_outcome,
      last_execution_id, exhausted_at)
    values (${a.gapId}, ${a.tiendaId}, 1, now(), ${next}, ${a.outcome}, ${a.executionId},
      ${a.exhausted ? db`now()` : null})
    on conflict (gap_id, tienda_id) do update set
      attempts = r.attempts + 1,
      last_attempt_at = now(),
      next_attempt_at = excluded.next_attempt_at,
      last_outcome = excluded.last_outcome,
      last_execution_id = coalesce(excluded.last_execution_id, r.last_execution_id),
      exhausted_at = excluded.exhausted_at`
}

/**
 * Gives up on the gaps whose last allowed attempt was a recovery run that has finished without
 * loading them (they are still pending). Returns them.
 */
export function markExhaustedGaps(db: Db, maxAttempts: number) {
  return db<{ gap_id: number; tienda_id: string }[]>`
    update etl_gap_recovery r set exhausted_at = now(), next_attempt_at = null
    from (
      select c.gap_id, c.tienda_id
      from etl_gap_recovery c
      -- One gap looked up per candidate (LIMIT keeps the planner from computing the whole view).
      cross join lateral (
        select g.recovered_at from etl_gaps g where g.id = c.gap_id and g.tienda_id = c.tienda_id limit 1) g
      where c.exhausted_at is null and c.attempts >= ${maxAttempts} and g.recovered_at is null
        and not exists (
          select 1 from etl_executions x where x.id = c.last_execution_id and x.status in ('queued', 'running'))
    ) lost
    where r.gap_id = lost.gap_id and r.tienda_id = lost.tienda_id
    returning r.gap_id, r.tienda_id`
}

/** gap_sin_recuperar alerts opened or resolved (migration 075), bounded like the run alerts. */
export function evaluateGapAlertRules(db: Sql, maxAttempts: number, timeoutMs = 5000) {
  return db.begin(async (tx) => {
    await tx`select set_config('statement_timeout', ${String(timeoutMs)}, true)`
    return tx<AlertChange[]>`
      select id, tipo, etl_name, tienda_id, mensaje, valor::float8 as valor, umbral::float8 as umbral,
        detectada_at, resuelta_at, cambio
      from etl_evaluate_gap_alerts(${maxAttempts}::int)
      order by id`
  })
}
