// Alerts of plan §8.3 as the runner raises them: failures produced by real runs (runEtl against
// the KLK simulator) or seeded rows, evaluated in real PostgreSQL, posted to a real HTTP receiver
// (node:http on an ephemeral loopback port). A receiver that refuses or stalls never fails a run.
import type { IncomingHttpHeaders } from 'node:http'
import pino from 'pino'
import type { Sql } from 'postgres'
import { describe, expect } from 'vitest'
import { startWebhookReceiver } from '../../../test/fakes/webhook-receiver.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addStore, closedPort, etlDeps, fastConfig, runVentas, TOKEN, WINDOW } from '../../../test/helpers/etl-kit.ts'
import { addExecution } from '../../../test/helpers/history-seed.ts'
import { runEtl } from '../etl/run-etl.ts'
import { type AlertWebhookPayload, evaluateAlerts, evaluateAlertsAfterRun } from './evaluate-alerts.ts'

/** The token a Slack-style webhook URL carries in its path: it must never reach a log line. */
const HOOK_SECRET = 'T0KEN-hook-7f3a9c21'

type Received = { path: string; headers: IncomingHttpHeaders; payload: AlertWebhookPayload }

async function startWebhook(mode: 'answer' | 'stall' = 'answer') {
  const hook = await startWebhookReceiver({
    path: `/hooks/${HOOK_SECRET}`,
    answer: () => (mode === 'answer' ? 204 : null),
  })
  return {
    url: hook.url,
    get received(): Received[] {
      return hook.posts.map((p) => ({ path: p.path, headers: p.headers, payload: JSON.parse(p.body) }))
    },
    close: hook.close,
  }
}

async function reset(db: Sql) {
  await db`delete from etl_executions`
  await db`delete from etl_alerts`
  await db`update tiendas set active = false`
}

const alerts = (db: Sql) => db`
  select tipo, etl_name, tienda_id, valor::float8 as valor, resuelta_at is null as activa
  from etl_alerts order by id`

const changesOf = (hook: { received: Received[] }) =>
  hook.received.map((r) => [r.payload.cambio, r.payload.alert.tipo, r.payload.alert.tienda_id])

describe('alert evaluation after runs', () => {
  pgTest(
    'a store failing 6 runs in a row opens tienda_consecutive_failures; a success resolves it; the webhook gets both',
    async ({ db, database }) => {
      await reset(db)
      const hook = await startWebhook()
      const store = await addStore(db, { tiendaId: 'tienda_al', fault: 'http_500' })
      const config = fastConfig(database.url, { ALERT_WEBHOOK_URL: hook.url })
      try {
        for (let i = 0; i < 5; i++) expect((await runVentas(db, config, ['tienda_al'])).status).toBe('failed')
        // Five failures in a row is the threshold, not over it; the 0 % success rate is.
        expect(await alerts(db)).toEqual([
          { tipo: 'success_rate_low', etl_name: 'ventas', tienda_id: null, valor: 0, activa: true },
        ])
        expect((await runVentas(db, config, ['tienda_al'])).status).toBe('failed')
        expect(await alerts(db)).toEqual([
          { tipo: 'success_rate_low', etl_name: 'ventas', tienda_id: null, valor: 0, activa: true },
          { tipo: 'tienda_consecutive_failures', etl_name: 'ventas', tienda_id: 'tienda_al', valor: 6, activa: true },
        ])

        await store.setFault(null)
        expect((await runVentas(db, config, ['tienda_al'])).status).toBe('success')
        expect(await alerts(db)).toEqual([
          // 1 of 7 runs succeeded: still low, refreshed with the new rate.
          { tipo: 'success_rate_low', etl_name: 'ventas', tienda_id: null, valor: 14.29, activa: true },
          { tipo: 'tienda_consecutive_failures', etl_name: 'ventas', tienda_id: 'tienda_al', valor: 6, activa: false },
        ])

        expect(changesOf(hook)).toEqual([
          ['abierta', 'success_rate_low', null],
          ['abierta', 'tienda_consecutive_failures', 'tienda_al'],
          ['resuelta', 'tienda_consecutive_failures', 'tienda_al'],
        ])
        const [, opened, resolved] = hook.received
        expect(opened!.headers['content-type']).toBe('application/json')
        expect(opened!.payload).toEqual({
          source: 'fluxion-etl',
          cambio: 'abierta',
          text: '[Fluxion ETL] Alerta abierta: La tienda tienda_al falló 6 veces seguidas en ventas',
          alert: {
            id: expect.any(Number),
            tipo: 'tienda_consecutive_failures',
            etl_name: 'ventas',
            tienda_id: 'tienda_al',
            mensaje: 'La tienda tienda_al falló 6 veces seguidas en ventas',
            valor: 6,
            umbral: 5,
            detectada_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
            resuelta_at: null,
            detalle: null,
          },
        })
        expect(resolved!.payload.alert.id).toBe(opened!.payload.alert.id)
        expect(Date.parse(resolved!.payload.alert.resuelta_at!)).toBeGreaterThan(0)
        expect(JSON.stringify(hook.received)).not.toContain(TOKEN)
      } finally {
        await Promise.all([store.close(), hook.close()])
      }
    },
  )

  pgTest(
    'success rate under 80 % in 24 h: one alert however often evaluated, resolved when the rate recovers',
    async ({ db, database }) => {
      await reset(db)
      const hook = await startWebhook()
      const deps = {
        db,
        config: fastConfig(database.url, { ALERT_WEBHOOK_URL: hook.url }),
        logger: pino({ level: 'silent' }),
      }
      try {
        await addExecution(db, { status: 'success' })
        await addExecution(db, { status: 'failed' })
        await addExecution(db, { etl_name: 'inventario', status: 'success' })
        // Older than 24 h: not counted.
        await addExecution(db, { status: 'success', started_at: new Date(Date.now() - 25 * 3600_000) })
        const opened = await evaluateAlerts(deps)
        expect(opened).toMatchObject([{ cambio: 'abierta', tipo: 'success_rate_low', etl_name: 'ventas', valor: 50 }])
        const [before] = await db`select ultima_vez_at from etl_alerts`

        expect(await evaluateAlerts(deps)).toEqual([])
        expect(await alerts(db)).toEqual([
          { tipo: 'success_rate_low', etl_name: 'ventas', tienda_id: null, valor: 50, activa: true },
        ])
        const [after] = await db`select ultima_vez_at from etl_alerts`
        expect(after!.ultima_vez_at.getTime()).toBeGreaterThanOrEqual(before!.ultima_vez_at.getTime())

        // 4 of 5 = 80 %: no longer under the threshold.
        for (let i = 0; i < 3; i++) await addExecution(db, { status: 'success' })
        expect(await evaluateAlerts(deps)).toMatchObject([{ cambio: 'resuelta', id: opened[0]!.id }])
        expect(await alerts(db)).toMatchObject([{ tipo: 'success_rate_low', activa: false }])
        expect(changesOf(hook)).toEqual([
          ['abierta', 'success_rate_low', null],
          ['resuelta', 'success_rate_low', null],
        ])

        // A condition that comes back is a new alert, not the old one reopened.
        for (let i = 0; i < 2; i++) await addExecution(db, { status: 'failed' })
        expect(await evaluateAlerts(deps)).toMatchObject([{ cambio: 'abierta', tipo: 'success_rate_low' }])
        expect((await alerts(db)).map((a) => a.activa)).toEqual([false, true])
      } finally {
        await hook.close()
      }
    },
  )

  pgTest(
    'a webhook that refuses connections or never answers does not fail or hold up the run',
    async ({ db, database }) => {
      await reset(db)
      const stalled = await startWebhook('stall')
      const store = await addStore(db, { tiendaId: 'tienda_wh', fault: 'http_500' })
      try {
        const refused = `http://127.0.0.1:${await closedPort()}/hooks/${HOOK_SECRET}`
        for (const [url, code] of [
          [refused, /^ECONNREFUSED$/],
          [stalled.url, /^(TimeoutError|UND_ERR_HEADERS_TIMEOUT)$/],
        ] as const) {
          await db`delete from etl_alerts`
          const config = fastConfig(database.url, { ALERT_WEBHOOK_URL: url, ALERT_WEBHOOK_TIMEOUT_MS: '400' })
          const { deps, logs } = etlDeps(db, config)
          const started = performance.now()
          const run = await runEtl(deps, {
            etlName: 'ventas',
            tiendaIds: ['tienda_wh'],
            ...WINDOW,
            triggeredBy: 'cli',
            etlType: 'manual',
          })
          expect(performance.now() - started, url).toBeLessThan(3000)
          expect(run.status).toBe('failed')
          const [alert] = await db<{ id: number }[]>`select id from etl_alerts where resuelta_at is null`
          const failure = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'alert webhook post failed')
          expect(failure, url).toMatchObject({ alert_id: alert!.id, execution_id: run.id })
          expect(failure.err_code, url).toMatch(code)
          expect(logs.join('\n')).not.toContain(HOOK_SECRET)
        }
        expect(stalled.received.length).toBe(1)
      } finally {
        await Promise.all([store.close(), stalled.close()])
      }
    },
  )

  pgTest(
    'an evaluation that fails or waits on a lock is logged and bounded; the run is unaffected',
    async ({ db, database }) => {
      await reset(db)
      const store = await addStore(db, { tiendaId: 'tienda_ev' })
      const config = fastConfig(database.url)
      try {
        await db`alter function etl_evaluate_alerts(numeric, integer, integer, numeric, numeric, integer, integer, integer, integer) rename to etl_evaluate_alerts_away`
        const { deps, logs } = etlDeps(db, config)
        try {
          const run = await runEtl(deps, {
            etlName: 'ventas',
            tiendaIds: ['tienda_ev'],
            ...WINDOW,
            triggeredBy: 'cli',
            etlType: 'manual',
          })
          expect(run.status).toBe('success')
        } finally {
          await db`alter function etl_evaluate_alerts_away(numeric, integer, integer, numeric, numeric, integer, integer, integer, integer) rename to etl_evaluate_alerts`
        }
        expect(logs.some((l) => l.includes('alert evaluation failed'))).toBe(true)

        // Another evaluation holding the lock: statement_timeout ends the wait.
        const captured = etlDeps(db, config)
        const waited = await db.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(hashtext('etl_evaluate_alerts'))`
          const started = performance.now()
          await evaluateAlertsAfterRun({ db, config, logger: captured.deps.logger, evaluateTimeoutMs: 300 })
          return performance.now() - started
        })
        expect(waited).toBeLessThan(2000)
        const failed = captured.logs.map((l) => JSON.parse(l)).find((l) => l.msg.startsWith('alert evaluation failed'))
        expect(failed?.err_message).toMatch(/statement timeout/)
      } finally {
        await store.close()
      }
    },
  )
})
