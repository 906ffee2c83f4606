// Alerts of plan §8.3, evaluated after every execution (run-etl.ts calls evaluateAlertsAfterRun).
// PostgreSQL decides (etl_evaluate_alerts, migration 041: deduplicated, refreshed while the condition
// holds, resolved when it clears, safe from many runners at once); this module then posts each alert
// it opened or resolved to ALERT_WEBHOOK_URL, when one is configured.
//
// Best effort by design: an alert is an observation about runs, never a reason for a run to fail or
// hang. The evaluation is bounded by a statement_timeout, each post by its own undici Agent's
// timeouts, and the whole by a deadline; failures are logged (with the alert id) and swallowed.
// The webhook URL may carry a token in its path (Slack-style): only its origin is ever logged.

import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { RunnerConfig } from '../config.ts'
import { alertEvaluations } from '../metrics.ts'
import { configuredSecrets, createRedactor, type Redactor } from '../tracker/redact.ts'
import { type AlertChange, type AlertThresholds, evaluateAlertRules } from './alerts.sql.ts'
import { queueDeliveries } from './deliveries.ts'

export { type AlertWebhookPayload, webhookPayload } from './webhook-payload.ts'

export type AlertSettings = Pick<
  RunnerConfig,
  | 'ALERT_WEBHOOK_URL'
  | 'ALERT_WEBHOOK_SECRET'
  | 'ALERT_DELIVERY_ATTEMPTS'
  | 'ALERT_MIN_SUCCESS_RATE'
  | 'ALERT_MAX_CONSECUTIVE_FAILURES'
  | 'ALERT_WEBHOOK_TIMEOUT_MS'
  | 'ALERT_NETWORK_MIN_STORES'
  | 'ALERT_NETWORK_MIN_PCT'
  | 'ALERT_NO_DATA_MIN_PCT'
  | 'ALERT_NO_DATA_WEEKS'
  | 'ALERT_NO_DATA_MIN_WEEKS'
  | 'ALERT_FLAPPING_FAILURES'
  | 'ALERT_FLAPPING_RUNS'
  | 'KLK_API_TOKEN'
  | 'STELLAR_PASSWORD'
  | 'DATABASE_URL'
>

export type AlertDeps = {
  db: Sql
  config: AlertSettings
  logger: Logger
  /** The alert-delivery queue (a runner's pg-boss); absent → one immediate post per change. */
  boss?: Pick<PgBoss, 'send'>
  /** statement_timeout of the evaluation; default EVALUATE_TIMEOUT_MS. */
  evaluateTimeoutMs?: number
}

export const EVALUATE_TIMEOUT_MS = 5000

const errorFields = (error: unknown, redact: Redactor) => {
  const e = error as { code?: string; name?: string; message?: string }
  // DOMExceptions (the request's AbortSignal timeout) carry a numeric legacy code: their name says more.
  const code = typeof e?.code === 'string' ? e.code : (e?.name ?? null)
  return { err_code: code, err_message: redact(String(e?.message ?? error)) }
}

/** Evaluates the alerts and posts what changed. Throws when the evaluation itself fails. */
export function alertThresholds(c: AlertSettings): AlertThresholds {
  return {
    minSuccessRate: c.ALERT_MIN_SUCCESS_RATE,
    maxConsecutiveFailures: c.ALERT_MAX_CONSECUTIVE_FAILURES,
    networkMinStores: c.ALERT_NETWORK_MIN_STORES,
    networkMinPct: c.ALERT_NETWORK_MIN_PCT,
    noDataFraction: c.ALERT_NO_DATA_MIN_PCT / 100,
    noDataWeeks: c.ALERT_NO_DATA_WEEKS,
    noDataMinWeeks: c.ALERT_NO_DATA_MIN_WEEKS,
    flappingFailures: c.ALERT_FLAPPING_FAILURES,
    flappingRuns: c.ALERT_FLAPPING_RUNS,
  }
}

export async function evaluateAlerts(deps: AlertDeps): Promise<AlertChange[]> {
  const changes = await evaluateAlertRules(
    deps.db,
    alertThresholds(deps.config),
    deps.evaluateTimeoutMs ?? EVALUATE_TIMEOUT_MS,
  )
  await reportAlertChanges(deps, changes)
  return changes
}

/** Logs the alerts opened or resolved and, when a webhook is configured, records and queues their deliveries. */
export async function reportAlertChanges(deps: AlertDeps, changes: AlertChange[]): Promise<void> {
  for (const c of changes) {
    const fields = { alert_id: c.id, tipo: c.tipo, etl_name: c.etl_name, tienda_id: c.tienda_id, valor: c.valor }
    deps.logger.warn(fields, c.cambio === 'abierta' ? `alert opened: ${c.mensaje}` : `alert resolved: ${c.mensaje}`)
  }
  await queueDeliveries(deps, changes)
}

/**
 * The hook at the end of every run: never throws, and returns within the evaluation timeout plus
 * one webhook timeout (plus a margin) whatever the database or the receiver do.
 */
export async function evaluateAlertsAfterRun(deps: AlertDeps): Promise<void> {
  const redact = createRedactor([
    deps.config.ALERT_WEBHOOK_URL,
    deps.config.ALERT_WEBHOOK_SECRET,
    ...configuredSecrets(deps.config),
  ])
  const boundMs = (deps.evaluateTimeoutMs ?? EVALUATE_TIMEOUT_MS) + deps.config.ALERT_WEBHOOK_TIMEOUT_MS + 500
  const work = evaluateAlerts(deps).then(
    () => {
      alertEvaluations.inc({ outcome: 'ok' })
      return 'done' as const
    },
    (error: unknown) => {
      alertEvaluations.inc({ outcome: 'failed' })
      deps.logger.warn(errorFields(error, redact), 'alert evaluation failed; the run is unaffected')
      return 'failed' as const
    },
  )
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), boundMs)
    timer.unref()
  })
  try {
    if ((await Promise.race([work, deadline])) === 'late') {
      alertEvaluations.inc({ outcome: 'late' })
      deps.logger.warn({ bound_ms: boundMs }, 'alert evaluation still busy; the run returns without waiting for it')
    }
  } finally {
    clearTimeout(timer)
  }
}
