// Gaps that heal themselves (plan §1.4 calls recovery "automatic"). One pass, run by the `etl-recovery`
// cron job (recovery-job.ts) on whichever runner takes it:
//  1. nothing when operators paused it (etl_recovery_settings, PUT /api/etl/gaps/auto-recovery);
//  2. gaps whose last allowed attempt was a run that finished without loading them are given up on;
//  3. at most RECOVERY_BATCH due gaps of the last RECOVERY_MAX_AGE_H hours, oldest failure first
//     (auto-recovery.sql.ts selectDueGaps);
//  4. each of their stores is probed once with a bare TCP connect (cheap, RECOVERY_PROBE_TIMEOUT_MS):
//     a store that does not answer costs its gaps an attempt and nothing else — no execution row;
//  5. the stores that answer get one recovery run per gap (triggered_by `recovery`, recovered_gap_id),
//     queued through queueRun, the one way a run is queued (scripts/lib/queue-run.ts), in the same
//     transaction that counts the attempt; a run in the way (RunConflict) costs nothing, next pass;
//  6. `gap_sin_recuperar` alerts follow the gaps given up on (etl_evaluate_gap_alerts, migration 075).
// Between attempts a gap waits RECOVERY_BACKOFF_BASE_S × 2^(attempts−1), capped at RECOVERY_BACKOFF_MAX_S.
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { queueRun, RunConflict } from '../../../scripts/lib/queue-run.ts'
import type { AlertChange } from '../alerts/alerts.sql.ts'
import type { RunnerConfig } from '../config.ts'
import { alertEvaluations, recoveryAttempts } from '../metrics.ts'
import { probeTcp } from '../sources/tcp-probe.ts'
import {
  type DueGap,
  evaluateGapAlertRules,
  isRecoveryPaused,
  markExhaustedGaps,
  recordAttempt,
  selectDueGaps,
} from './auto-recovery.sql.ts'

export type RecoverySettings = Pick<
  RunnerConfig,
  | 'RECOVERY_BATCH'
  | 'RECOVERY_MAX_ATTEMPTS'
  | 'RECOVERY_BACKOFF_BASE_S'
  | 'RECOVERY_BACKOFF_MAX_S'
  | 'RECOVERY_PROBE_TIMEOUT_MS'
  | 'RECOVERY_MAX_AGE_H'
>

export type RecoveryDeps = {
  db: Sql
  boss: Pick<PgBoss, 'send'>
  config: RecoverySettings
  logger: Logger
  /** What to do with the gap_sin_recuperar alerts opened or resolved (log, post to the webhook). */
  onAlertChanges?: (changes: AlertChange[]) => Promise<void>
}

export type RecoveryPassResult = {
  paused: boolean
  /** Recovery runs queued: execution id, gap id and stores. */
  queued: { executionId: number; gapId: number; tiendaIds: string[] }[]
  /** Stores that did not answer the probe. */
  unanswered: string[]
  /** Gaps given up on in this pass. */
  exhausted: { gapId: number; tiendaId: string }[]
  alerts: AlertChange[]
}

/** Seconds to wait after attempt number `attempt` (1-based); null after the last one. */
export function backoffAfter(attempt: number, c: RecoverySettings): number | null {
  if (attempt >= c.RECOVERY_MAX_ATTEMPTS) return null
  return Math.min(c.RECOVERY_BACKOFF_BASE_S * 2 ** (attempt - 1), c.RECOVERY_BACKOFF_MAX_S)
}

export async function recoveryPass(deps: RecoveryDeps): Promise<RecoveryPassResult> {
  const { db, config, logger } = deps
  const result: RecoveryPassResult = { paused: false, queued: [], unanswered: [], exhausted: [], alerts: [] }
  if (await isRecoveryPaused(db)) {
    logger.info('automatic gap recovery is paused by an operator; pass skipped')
    return { ...result, paused: true }
  }
  const finished = await markExhaustedGaps(db, config.RECOVERY_MAX_ATTEMPTS)
  result.exhausted.push(...finished.map((g) => ({ gapId: g.gap_id, tiendaId: g.tienda_id })))

  const due = await selectDueGaps(db, {
    maxAttempts: config.RECOVERY_MAX_ATTEMPTS,
    maxAgeH: config.RECOVERY_MAX_AGE_H,
    limit: config.RECOVERY_BATCH,
  })
  const answers = await probeStores(due, config.RECOVERY_PROBE_TIMEOUT_MS)
  for (const [gapId, gaps] of Map.groupBy(due, (g) => g.gap_id)) {
    const reachable = gaps.filter((g) => answers.get(g.tienda_id)?.connected)
    for (const g of gaps.filter((g) => !reachable.includes(g))) {
      const attempt = g.attempts + 1
      const exhausted = attempt >= config.RECOVERY_MAX_ATTEMPTS
      await recordAttempt(db, {
        gapId,
        tiendaId: g.tienda_id,
        outcome: 'sin_respuesta',
        executionId: null,
        backoffS: backoffAfter(attempt, config),
        exhausted,
      })
      recoveryAttempts.inc({ outcome: exhausted ? 'agotado' : 'sin_respuesta' })
      if (!result.unanswered.includes(g.tienda_id)) result.unanswered.push(g.tienda_id)
      if (exhausted) result.exhausted.push({ gapId, tiendaId: g.tienda_id })
      logger.info(
        { gap_id: gapId, tienda_id: g.tienda_id, attempt, error_code: answers.get(g.tienda_id)?.errorCode },
        exhausted ? 'gap given up on: the store did not answer its last attempt' : 'store does not answer; gap waits',
      )
    }
    if (reachable.length) {
      const queued = await queueRecovery(deps, gapId, reachable)
      if (queued) result.queued.push(queued)
    }
  }

  result.alerts = await evaluateGapAlertRules(db, config.RECOVERY_MAX_ATTEMPTS).catch((error: unknown) => {
    alertEvaluations.inc({ outcome: 'failed' })
    throw error
  })
  alertEvaluations.inc({ outcome: 'ok' })
  if (result.alerts.length) await deps.onAlertChanges?.(result.alerts)
  return result
}

async function probeStores(due: DueGap[], timeoutMs: number) {
  const stores = new Map(due.map((g) => [g.tienda_id, g]))
  const probes = await Promise.all(
    [...stores.values()].map(async (s) => [s.tienda_id, await probeTcp(s.host, s.port, timeoutMs)] as const),
  )
  return new Map(probes)
}

async function queueRecovery(deps: RecoveryDeps, gapId: number, gaps: DueGap[]) {
  const [first] = gaps as [DueGap, ...DueGap[]]
  const tiendaIds = gaps.map((g) => g.tienda_id)
  try {
    const executionId = await deps.db.begin(async (tx) => {
      const id = await queueRun(tx, deps.boss, {
        etlName: first.etl_name,
        etlType: 'recovery',
        triggeredBy: 'recovery',
        tiendas: gaps.map((g) => ({ id: g.tienda_id, source_system: g.source_system })),
        desde: first.fecha_desde,
        hasta: first.fecha_hasta,
        recoveredGapId: gapId,
      })
      for (const g of gaps) {
        await recordAttempt(tx, {
          gapId,
          tiendaId: g.tienda_id,
          outcome: 'encolada',
          executionId: id,
          backoffS: backoffAfter(g.attempts + 1, deps.config),
          exhausted: false,
        })
      }
      return id
    })
    recoveryAttempts.inc({ outcome: 'encolada' }, gaps.length)
    deps.logger.info(
      { gap_id: gapId, execution_id: executionId, tiendas: tiendaIds },
      'stores answer again: recovery run queued',
    )
    return { executionId, gapId, tiendaIds }
  } catch (error) {
    if (!(error instanceof RunConflict)) throw error
    // Another run of this ETL includes the store right now: not an attempt; the next pass sees.
    deps.logger.info(
      { gap_id: gapId, tiendas: tiendaIds, reason: error.message },
      'recovery waits for a run in the way',
    )
    return undefined
  }
}
