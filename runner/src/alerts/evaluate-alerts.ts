// Alerts of plan §8.3, evaluated after every execution (run-etl.ts calls evaluateAlertsAfterRun).
// PostgreSQL decides (etl_evaluate_alerts, migration 041: deduplicated, refreshed while the condition
// holds, resolved when it clears, safe from many runners at once); this module then posts each alert
// it opened or resolved to ALERT_WEBHOOK_URL, when one is configured.
//
// Best effort by design: an alert is an observation about runs, never a reason for a run to fail or
// hang. The evaluation is bounded by a statement_timeout, each post by its own undici Agent's
// timeouts, and the whole by a deadline; failures are logged (with the alert id) and swallowed.
// The webhook URL may carry a token in its path (Slack-style): only its origin is ever logged.
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { Agent, request } from 'undici'
import type { RunnerConfig } from '../config.ts'
import { configuredSecrets, createRedactor, type Redactor } from '../tracker/redact.ts'
import { type AlertChange, evaluateAlertRules } from './alerts.sql.ts'

export type AlertSettings = Pick<
  RunnerConfig,
  | 'ALERT_WEBHOOK_URL'
  | 'ALERT_MIN_SUCCESS_RATE'
  | 'ALERT_MAX_CONSECUTIVE_FAILURES'
  | 'ALERT_WEBHOOK_TIMEOUT_MS'
  | 'KLK_API_TOKEN'
  | 'STELLAR_PASSWORD'
  | 'DATABASE_URL'
>

export type AlertDeps = {
  db: Sql
  config: AlertSettings
  logger: Logger
  /** statement_timeout of the evaluation; default EVALUATE_TIMEOUT_MS. */
  evaluateTimeoutMs?: number
}

export const EVALUATE_TIMEOUT_MS = 5000

/** What the webhook receives: the alert as GET /api/etl/alerts shows it, plus a line for chat tools. */
export type AlertWebhookPayload = {
  source: 'fluxion-etl'
  cambio: AlertChange['cambio']
  text: string
  alert: Omit<AlertChange, 'cambio' | 'detectada_at' | 'resuelta_at'> & {
    detectada_at: string
    resuelta_at: string | null
  }
}

export function webhookPayload(change: AlertChange): AlertWebhookPayload {
  const { cambio, detectada_at, resuelta_at, ...alert } = change
  const prefix = cambio === 'abierta' ? 'Alerta abierta' : 'Alerta resuelta'
  return {
    source: 'fluxion-etl',
    cambio,
    text: `[Fluxion ETL] ${prefix}: ${change.mensaje}`,
    alert: { ...alert, detectada_at: detectada_at.toISOString(), resuelta_at: resuelta_at?.toISOString() ?? null },
  }
}

const errorFields = (error: unknown, redact: Redactor) => {
  const e = error as { code?: string; name?: string; message?: string }
  // DOMExceptions (the request's AbortSignal timeout) carry a numeric legacy code: their name says more.
  const code = typeof e?.code === 'string' ? e.code : (e?.name ?? null)
  return { err_code: code, err_message: redact(String(e?.message ?? error)) }
}

async function postAlert(agent: Agent, url: string, change: AlertChange, timeoutMs: number): Promise<number> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', 'user-agent': 'fluxion-etl-runner' },
    body: JSON.stringify(webhookPayload(change)),
    signal: AbortSignal.timeout(timeoutMs),
  })
  await res.body.dump()
  return res.statusCode
}

/** Posts every change at once; never throws. Redirects are not followed. */
export async function postAlerts(deps: AlertDeps, url: string, changes: AlertChange[]): Promise<void> {
  const timeoutMs = deps.config.ALERT_WEBHOOK_TIMEOUT_MS
  const redact = createRedactor([url, ...configuredSecrets(deps.config)])
  const log = deps.logger.child({ webhook: new URL(url).origin })
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  try {
    await Promise.all(
      changes.map(async (change) => {
        try {
          const status = await postAlert(agent, url, change, timeoutMs)
          if (status >= 200 && status < 300) log.info({ alert_id: change.id, status }, 'alert posted to the webhook')
          else log.warn({ alert_id: change.id, status }, 'alert webhook answered with an error status')
        } catch (error) {
          log.warn({ alert_id: change.id, ...errorFields(error, redact) }, 'alert webhook post failed')
        }
      }),
    )
  } finally {
    // destroy, not close: a receiver that stalls must not keep the socket (or the process) alive.
    await agent.destroy().catch(() => {})
  }
}

/** Evaluates the alerts and posts what changed. Throws when the evaluation itself fails. */
export async function evaluateAlerts(deps: AlertDeps): Promise<AlertChange[]> {
  const changes = await evaluateAlertRules(
    deps.db,
    {
      minSuccessRate: deps.config.ALERT_MIN_SUCCESS_RATE,
      maxConsecutiveFailures: deps.config.ALERT_MAX_CONSECUTIVE_FAILURES,
    },
    deps.evaluateTimeoutMs ?? EVALUATE_TIMEOUT_MS,
  )
  await reportAlertChanges(deps, changes)
  return changes
}

/** Logs the alerts opened or resolved and posts them to the webhook when one is configured. */
export async function reportAlertChanges(deps: AlertDeps, changes: AlertChange[]): Promise<void> {
  for (const c of changes) {
    const fields = { alert_id: c.id, tipo: c.tipo, etl_name: c.etl_name, tienda_id: c.tienda_id, valor: c.valor }
    deps.logger.warn(fields, c.cambio === 'abierta' ? `alert opened: ${c.mensaje}` : `alert resolved: ${c.mensaje}`)
  }
  const url = deps.config.ALERT_WEBHOOK_URL
  if (url && changes.length) await postAlerts(deps, url, changes)
}

/**
 * The hook at the end of every run: never throws, and returns within the evaluation timeout plus
 * one webhook timeout (plus a margin) whatever the database or the receiver do.
 */
export async function evaluateAlertsAfterRun(deps: AlertDeps): Promise<void> {
  const redact = createRedactor([deps.config.ALERT_WEBHOOK_URL, ...configuredSecrets(deps.config)])
  const boundMs = (deps.evaluateTimeoutMs ?? EVALUATE_TIMEOUT_MS) + deps.config.ALERT_WEBHOOK_TIMEOUT_MS + 500
  const work = evaluateAlerts(deps).then(
    () => 'done' as const,
    (error: unknown) => {
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
      deps.logger.warn({ bound_ms: boundMs }, 'alert evaluation still busy; the run returns without waiting for it')
    }
  } finally {
    clearTimeout(timer)
  }
}
