// Alert delivery that can be trusted (issue 11 item 6): a real runner (in this process) runs a store
// that fails, raises an alert and queues its delivery; the runner's alert-delivery worker posts it to a
// real HTTP receiver on loopback that checks the HMAC-SHA256 signature of the body. The receiver fails
// twice, then accepts: three posts in all, each signed, same body, same delivery id — and the record
// the history API shows says so. A receiver that never accepts exhausts the attempts: `fallida`.
import { createHmac, timingSafeEqual } from 'node:crypto'
import pino from 'pino'
import type { Sql } from 'postgres'
import { afterEach, describe, expect } from 'vitest'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import { startWebhookReceiver, type WebhookPost } from '../fakes/webhook-receiver.ts'
import { testApi } from '../helpers/api.ts'
import { pgTest } from '../helpers/db.ts'
import { addStore, fastConfig, WINDOW } from '../helpers/etl-kit.ts'
import { queueManualRun, waitFor } from '../helpers/runner-kit.ts'

const SECRET = 'whsec-5f1e0c-test-only'
const HOOK_TOKEN = 'T0KEN-in-path-93ab'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

type Post = { at: number; body: string; deliveryId: string | undefined; signed: boolean }

/** What a receiver does: recompute the HMAC of the raw body with its copy of the secret. */
function verify(secret: string, body: string, header: string | undefined): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(header ?? '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** A receiver that answers 500 to its first `failures` posts, then 204 (or 500 forever with Infinity). */
async function receiver(failures: number) {
  const signed = (p: WebhookPost) => verify(SECRET, p.body, p.headers['x-fluxion-signature'] as string | undefined)
  const hook = await startWebhookReceiver({
    path: `/hooks/${HOOK_TOKEN}`,
    answer: (p, n) => (signed(p) && n > failures ? 204 : 500),
  })
  cleanups.push(hook.close)
  return {
    url: hook.url,
    get posts(): Post[] {
      return hook.posts.map((p) => ({
        at: p.at,
        body: p.body,
        deliveryId: p.headers['x-fluxion-delivery'] as string | undefined,
        signed: signed(p),
      }))
    },
  }
}

async function runnerWith(db: Sql, url: string, extra: Record<string, string> = {}) {
  const config = fastConfig(url, {
    VENTAS_CRON: 'off',
    INVENTARIO_CRON: 'off',
    RECOVERY_CRON: 'off',
    ALERT_DELIVERY_RETRY_DELAY_S: '1',
    LOG_LEVEL: 'warn',
    ...extra,
  })
  const r: Runner = await startRunner({
    config,
    logger: pino({ level: 'silent' }),
    db,
    bossTiming: { schedule: false },
    workerId: 'delivery-test-runner',
  })
  cleanups.push(() => r.stop('test done'))
  return r
}

/** A failing store's run through the runner's queue: 0 % success opens success_rate_low. */
async function failingRun(db: Sql, r: Runner, tiendaId: string) {
  const store = await addStore(db, { tiendaId, fault: 'http_500' })
  cleanups.push(() => store.close())
  const { executionId } = await queueManualRun(db, r.boss, { etlName: 'ventas', tiendaIds: [tiendaId], ...WINDOW })
  await waitFor('the run to close', async () => {
    const [row] = await db`select status from etl_executions where id = ${executionId} and status = 'failed'`
    return row
  })
  // Evaluated by the runner that closed the run, just after closing it.
  const alert = await waitFor('the alert', async () => {
    const [a] = await db<{ id: number }[]>`
      select id from etl_alerts where tipo = 'success_rate_low' and resuelta_at is null`
    return a
  })
  return alert.id
}

describe('alert delivery', () => {
  pgTest(
    'a receiver that fails twice then accepts gets the signed alert three times; the record says so',
    async ({ db, database }) => {
      const hook = await receiver(2)
      const r = await runnerWith(db, database.url, { ALERT_WEBHOOK_URL: hook.url, ALERT_WEBHOOK_SECRET: SECRET })
      const alertId = await failingRun(db, r, 'tienda_d1')

      await waitFor('the delivery to succeed', async () => {
        const [d] =
          await db`select 1 from etl_alert_deliveries where alert_id = ${alertId} and delivered_at is not null`
        return d
      })
      // Nothing more comes once delivered.
      await new Promise((res) => setTimeout(res, 2500))
      expect(hook.posts).toHaveLength(3)
      expect(hook.posts.every((p) => p.signed)).toBe(true)
      expect(new Set(hook.posts.map((p) => p.body)).size).toBe(1)
      expect(new Set(hook.posts.map((p) => p.deliveryId)).size).toBe(1)
      const body = JSON.parse(hook.posts[0]!.body)
      expect(body).toMatchObject({
        source: 'fluxion-etl',
        cambio: 'abierta',
        alert: { id: alertId, tipo: 'success_rate_low' },
      })
      // The signature covers the body: one byte changed no longer verifies.
      expect(verify(SECRET, hook.posts[0]!.body.replace('abierta', 'resuelta'), signatureOf(hook.posts[0]!.body))).toBe(
        false,
      )
      // Retried with backoff: the second retry waited longer than the first.
      const [p1, p2, p3] = hook.posts.map((p) => p.at) as [number, number, number]
      expect(p2 - p1).toBeGreaterThanOrEqual(900)
      expect(p3 - p2).toBeGreaterThan(p2 - p1 - 500)

      const api = await testApi({ db })
      cleanups.push(() => api.close())
      const deliveries = await api.call('get', `/api/etl/alerts/${alertId}/deliveries`)
      expect(deliveries.status).toBe(200)
      expect(deliveries.body).toEqual([
        expect.objectContaining({
          alert_id: alertId,
          cambio: 'abierta',
          estado: 'entregada',
          attempts: 3,
          last_status: 204,
          last_error: null,
          delivered_at: expect.any(String),
        }),
      ])
      // Neither the secret nor the URL's token is stored anywhere the API or a job could show.
      const stored = JSON.stringify(await db`select * from etl_alert_deliveries`)
      const jobs = JSON.stringify(await db`select data, output from pgboss.job where name = 'alert-delivery'`)
      for (const text of [stored, jobs, JSON.stringify(deliveries.body)]) {
        expect(text).not.toContain(SECRET)
        expect(text).not.toContain(HOOK_TOKEN)
      }
    },
    60_000,
  )

  pgTest(
    'a receiver that never accepts: attempts run out, the delivery reads fallida with its last status',
    async ({ db, database }) => {
      await db`delete from etl_executions`
      await db`delete from etl_alerts`
      const hook = await receiver(Number.POSITIVE_INFINITY)
      const r = await runnerWith(db, database.url, {
        ALERT_WEBHOOK_URL: hook.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        ALERT_DELIVERY_ATTEMPTS: '2',
      })
      const alertId = await failingRun(db, r, 'tienda_d2')
      const api = await testApi({ db })
      cleanups.push(() => api.close())
      const failed = await waitFor('the delivery to be given up on', async () => {
        const res = await api.call('get', `/api/etl/alerts/${alertId}/deliveries`)
        const [d] = res.body as { estado: string; last_error: string }[]
        return d?.estado === 'fallida' ? d : undefined
      })
      expect(failed).toMatchObject({ attempts: 2, last_status: 500, delivered_at: null })
      expect(failed.last_error).toMatch(/HTTP 500/)
      await new Promise((res) => setTimeout(res, 2500))
      expect(hook.posts).toHaveLength(2)
    },
    60_000,
  )
})

const signatureOf = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`
