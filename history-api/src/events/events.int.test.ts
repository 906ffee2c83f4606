// The event stream over real HTTP: a client reading GET /api/etl/events sees a running
// execution's stores complete while the runner's ExecutionTracker writes the rows and notifies
// `etl_events` — no polling anywhere. (A test may import the runner; history-api never does.)
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExecutionTracker } from '../../../runner/src/tracker/execution-tracker.ts'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { schemaErrors, validateHttpResponse, validateResponse } from '../../../test/helpers/contract.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addTiendas } from '../../../test/helpers/history-seed.ts'
import { connect } from '../db.ts'
import { listenOnNewPools } from '../listen.ts'

type Received = { event: string; data: Record<string, unknown> }

/** A server-sent event reader over a fetch body: `until(pred)` reads until `pred` holds. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  const received: Received[] = []
  let buffer = ''
  async function until(pred: () => boolean, timeoutMs: number) {
    const timer = setTimeout(() => void reader.cancel(), timeoutMs)
    try {
      while (!pred()) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before the condition; got ${received.map((r) => r.event).join(', ')}`)
        buffer += value
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = block.split('\n')
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7)
          const data = lines
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n')
          received.push(event ? { event, data: JSON.parse(data) } : { event: `comment:${block}`, data: {} })
        }
      }
    } finally {
      clearTimeout(timer)
    }
  }
  return { received, until, close: () => reader.cancel() }
}

describe('GET /api/etl/events', () => {
  let database: TestDatabase
  let api: TestApi
  let server: ReturnType<typeof serve>
  let base: string

  beforeAll(async () => {
    database = await createTestDatabase()
    await addTiendas(database.sql, ['tienda_01', 'tienda_02'])
    api = await testApi({ db: database.sql, pingMs: 200 })
    server = serve({ fetch: api.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((r) => server.once('listening', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await api?.close()
    ;(server as unknown as { closeAllConnections?: () => void })?.closeAllConnections?.()
    await new Promise((r) => server?.close(r))
    await database?.drop()
  })

  it('streams the stores of a running execution as they finish, then the execution', async () => {
    const db = database.sql
    const res = await fetch(`${base}/api/etl/events`, { headers: { Authorization: `Bearer ${api.token}` } })
    expect(res.status).toBe(200)
    await validateHttpResponse('get', '/api/etl/events', res)
    const sse = sseReader(res.body!)
    const events = sse.received
    // The first comment is written once the stream listens: from here on nothing is missed.
    await sse.until(() => events.some((e) => e.event === 'comment:: connected'), 5000)

    // The runner's own tracker runs an execution of two stores: one loads, one times out.
    const tracker = new ExecutionTracker({ db, logger: pino({ level: 'silent' }), heartbeatSeconds: 60 })
    const { id } = await tracker.startExecution({
      etlName: 'ventas',
      etlType: 'scheduled',
      triggeredBy: 'scheduler',
      tiendaIds: ['tienda_01', 'tienda_02'],
    })
    const seen = (event: string, match: Record<string, unknown>) =>
      events.some((e) => e.event === event && Object.entries(match).every(([k, v]) => e.data[k] === v))
    // The hub reads the execution when notified, so `running` is only seen while it still runs: wait for it.
    await sse.until(() => seen('execution', { id, status: 'running' }), 10_000)
    const store = (tiendaId: string) =>
      tracker.startTienda({
        id: tiendaId,
        nombre: tiendaId.toUpperCase(),
        sourceSystem: 'klk',
        host: '127.0.0.1',
        port: 18100,
      })
    const [t1, t2] = [(await store('tienda_01'))!, (await store('tienda_02'))!]
    await t1.markLoad()
    await t1.finishSuccess({ extracted: 10, loaded: 10, duplicates: 0 })
    await t2.finishError({
      phase: 'extract',
      category: 'vpn_timeout',
      source: 'klk_api',
      message: 'connect timeout after 10000 ms',
      code: 'UND_ERR_CONNECT_TIMEOUT',
    })
    await tracker.finishExecution()

    // Each notification is read and sent on its own, so the three may arrive in any order.
    await sse.until(
      () =>
        seen('execution', { id, status: 'partial' }) &&
        seen('tienda', { tienda_id: 'tienda_01', status: 'success' }) &&
        seen('tienda', { tienda_id: 'tienda_02', status: 'failed' }),
      10_000,
    )
    await sse.close()

    for (const e of events.filter((x) => !x.event.startsWith('comment:'))) {
      expect(schemaErrors('StreamEvent', e), JSON.stringify(e)).toEqual([])
    }
    const tiendaEvents = events.filter((e) => e.event === 'tienda').map((e) => `${e.data.tienda_id}:${e.data.status}`)
    expect(tiendaEvents).toContain('tienda_01:success')
    expect(tiendaEvents).toContain('tienda_02:failed')
    const last = events.filter((e) => e.event === 'execution' && e.data.status === 'partial').at(-1)!
    expect(last.data).toMatchObject({
      id,
      status: 'partial',
      tiendas_exitosas: 1,
      tiendas_fallidas: 1,
      error_category: 'vpn_timeout',
    })
  })

  it('a LISTEN refused at first (PostgreSQL unreachable) is tried again on a new pool by the next client', async () => {
    let attempts = 0
    // A port nothing listens on, then the database: what a restart of PostgreSQL looks like to the API.
    const listen = listenOnNewPools(() =>
      connect(attempts++ === 0 ? 'postgres://postgres@127.0.0.1:1/postgres' : database.url, { max: 1 }),
    )
    const other = await testApi({ db: database.sql, listen, pingMs: 200 })
    const open = () => other.request('/api/etl/events', { headers: { Authorization: `Bearer ${other.token}` } })
    try {
      expect(await (await open()).text()).toBe(': unavailable\n\n')
      const sse = sseReader((await open()).body!)
      await sse.until(() => sse.received.some((e) => e.event === 'comment:: connected'), 5000)
      const [row] = await database.sql<{ id: number }[]>`
        insert into etl_executions (etl_name, etl_type, status, triggered_by, tiendas_count, tienda_ids)
        values ('ventas', 'manual', 'queued', 'cli', 1, '{tienda_01}') returning id`
      await database.sql`select pg_notify('etl_events', ${JSON.stringify({ execution_id: row!.id })})`
      await sse.until(() => sse.received.some((e) => e.event === 'execution' && e.data.id === row!.id), 10_000)
      await sse.close()
      expect(attempts).toBe(2)
    } finally {
      await other.close()
    }
  })

  it('sends keep-alive pings and needs a super_admin token', async () => {
    const res = await fetch(`${base}/api/etl/events`, { headers: { Authorization: `Bearer ${api.token}` } })
    const sse = sseReader(res.body!)
    await sse.until(() => sse.received.some((e) => e.event === 'comment:: ping'), 3000)
    await sse.close()
    const anonymous = await fetch(`${base}/api/etl/events`)
    expect(anonymous.status).toBe(401)
    validateResponse(
      'get',
      '/api/etl/events',
      401,
      anonymous.headers.get('content-type'),
      await anonymous.json(),
      anonymous.headers,
    )
  })
})
