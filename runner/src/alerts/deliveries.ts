// Alert delivery that can be trusted (issue 11 item 6). Every alert opened or resolved while
// ALERT_WEBHOOK_URL is set becomes a row of etl_alert_deliveries (migration 076) holding the body to
// post, and an `alert-delivery` pg-boss job naming it — written in one transaction, so a delivery is
// never recorded without its job nor sent without its record. Any runner works the job
// (jobs/alert-delivery-job.ts): it posts the stored body, signed, and records the attempt; a post that
// fails throws, and pg-boss retries it with backoff (ALERT_DELIVERY_ATTEMPTS, ALERT_DELIVERY_RETRY_DELAY_S).
// A run never waits for a delivery: it only writes the row and the job.
//
// Signature: `X-Fluxion-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes under
// ALERT_WEBHOOK_SECRET>` (GitHub's scheme), plus `X-Fluxion-Delivery: <id>` so a receiver can drop a
// retry of a post it did get but whose answer was lost. The secret and the URL live only in the
// runners' environment: never in the row, a log line or an API response.
//
// Without a queue to send through (a caller that runs no pg-boss), the delivery is posted once, right
// away, and recorded the same way.
import { createHmac } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { Agent, request } from 'undici'
import { bossDb } from '../../../scripts/lib/queue-run.ts'
import type { RunnerConfig } from '../config.ts'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { ALERT_DELIVERY_QUEUE } from '../jobs/boss.ts'
import { alertDeliveries } from '../metrics.ts'
import { configuredSecrets, createRedactor } from '../tracker/redact.ts'
import type { AlertChange } from './alerts.sql.ts'
import { webhookPayload } from './webhook-payload.ts'

export type DeliverySettings = Pick<
  RunnerConfig,
  | 'ALERT_WEBHOOK_URL'
  | 'ALERT_WEBHOOK_SECRET'
  | 'ALERT_WEBHOOK_TIMEOUT_MS'
  | 'ALERT_DELIVERY_ATTEMPTS'
  | 'KLK_API_TOKEN'
  | 'STELLAR_PASSWORD'
  | 'DATABASE_URL'
>

export type DeliveryDeps = {
  db: Sql
  config: DeliverySettings
  logger: Logger
  /** The queue to deliver through; absent → one immediate attempt. */
  boss?: Pick<PgBoss, 'send'>
}

export const SIGNATURE_HEADER = 'x-fluxion-signature'
export const DELIVERY_HEADER = 'x-fluxion-delivery'

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export const redactorFor = (config: DeliverySettings) =>
  createRedactor([config.ALERT_WEBHOOK_URL, config.ALERT_WEBHOOK_SECRET, ...configuredSecrets(config)])

const insertDelivery = (db: Db, change: AlertChange, maxAttempts: number) =>
  db<{ id: number }[]>`
    insert into etl_alert_deliveries (alert_id, cambio, body, max_attempts)
    values (${change.id}, ${change.cambio}, ${db.json(webhookPayload(change) as never)}, ${maxAttempts})
    on conflict (alert_id, cambio) do nothing
    returning id`.then((r) => r[0]?.id)

/** Records a delivery per change and queues it (or posts it once when there is no queue). */
export async function queueDeliveries(deps: DeliveryDeps, changes: AlertChange[]): Promise<number[]> {
  const { db, config } = deps
  if (!config.ALERT_WEBHOOK_URL || changes.length === 0) return []
  const boss = deps.boss
  if (boss) {
    return db.begin(async (tx) => {
      const ids: number[] = []
      for (const change of changes) {
        const id = await insertDelivery(tx, change, config.ALERT_DELIVERY_ATTEMPTS)
        if (id === undefined) continue
        const job: components['schemas']['AlertDeliveryJob'] = { delivery_id: id }
        await boss.send(ALERT_DELIVERY_QUEUE, job, { db: bossDb(tx) })
        ids.push(id)
      }
      return ids
    })
  }
  const ids: number[] = []
  for (const change of changes) {
    const id = await insertDelivery(db, change, 1)
    if (id !== undefined) ids.push(id)
  }
  await Promise.all(ids.map((id) => deliverOnce(deps, id)))
  return ids
}

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number; attempts: number }
  | { kind: 'failed'; status: number | null; error: string; attempts: number; last: boolean }
  | { kind: 'already' | 'gone' }

type StoredDelivery = { alert_id: number; body: unknown; attempts: number; max_attempts: number; delivered: boolean }

/** One post of a stored delivery, recorded whatever happens; never throws for a receiver's failure. */
export async function deliverOnce(deps: DeliveryDeps, deliveryId: number): Promise<DeliveryOutcome> {
  const { db, config } = deps
  const url = config.ALERT_WEBHOOK_URL
  const [row] = await db<StoredDelivery[]>`
    select alert_id, body, attempts, max_attempts, delivered_at is not null as delivered
    from etl_alert_deliveries where id = ${deliveryId}`
  if (!row) return { kind: 'gone' }
  if (row.delivered) return { kind: 'already' }
  const log = deps.logger.child({ alert_id: row.alert_id, delivery_id: deliveryId })
  if (!url) {
    log.warn('alert delivery dropped: ALERT_WEBHOOK_URL is no longer set on this runner')
    return { kind: 'gone' }
  }
  const redact = redactorFor(config)
  const body = JSON.stringify(row.body)
  const timeoutMs = config.ALERT_WEBHOOK_TIMEOUT_MS
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  let status: number | null = null
  let error: string | null = null
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fluxion-etl-runner',
        [DELIVERY_HEADER]: String(deliveryId),
        ...(config.ALERT_WEBHOOK_SECRET ? { [SIGNATURE_HEADER]: signBody(config.ALERT_WEBHOOK_SECRET, body) } : {}),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    await res.body.dump()
    status = res.statusCode
    if (status < 200 || status >= 300) error = `the receiver answered HTTP ${status}`
  } catch (e) {
    const err = e as { code?: string; name?: string; message?: string }
    // DOMExceptions (the request's AbortSignal timeout) carry a numeric legacy code: their name says more.
    const code = typeof err?.code === 'string' ? err.code : (err?.name ?? 'Error')
    error = `${code}: ${redact(String(err?.message ?? e))}`
    log.warn({ err_code: code, err_message: redact(String(err?.message ?? e)) }, 'alert webhook post failed')
  } finally {
    // destroy, not close: a receiver that stalls must not keep the socket (or the process) alive.
    await agent.destroy().catch(() => {})
  }
  const [recorded] = await db<{ attempts: number; max_attempts: number }[]>`
    update etl_alert_deliveries set attempts = attempts + 1, last_attempt_at = now(), last_status = ${status},
      last_error = ${error}, delivered_at = ${error === null ? db`now()` : null}
    where id = ${deliveryId}
    returning attempts, max_attempts`
  const attempts = recorded?.attempts ?? row.attempts + 1
  alertDeliveries.inc({ outcome: error === null ? 'delivered' : 'failed' })
  if (error === null) {
    log.info({ status, attempts }, 'alert posted to the webhook')
    return { kind: 'delivered', status: status!, attempts }
  }
  if (status !== null) log.warn({ status, attempts }, 'alert webhook answered with an error status')
  const last = attempts >= (recorded?.max_attempts ?? row.max_attempts)
  return { kind: 'failed', status, error, attempts, last }
}
