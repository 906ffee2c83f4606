// The event stream over real HTTP: a client reading GET /api/etl/events sees a running
// execution's stores complete while a tracker-like writer updates the rows and notifies
// `etl_events` exactly as the runner does — no polling anywhere.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { schemaErrors, validateHttpResponse, validateResponse } from '../../../test/helpers/contract.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addTiendas } from '../../../test/helpers/history-seed.ts'

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
    const notify = (payload: object) => db`select pg_notify('etl_events', ${JSON.stringify(payload)})`
    const res = await fetch(`${base}/api/etl/events`, { headers: { Authorization: `Bearer ${api.token}` } })
    expect(res.status).toBe(200)
    await validateHttpResponse('get', '/api/etl/events', res)
    const sse = sseReader(res.body!)
    const events = sse.received
    // The first comment is written once the stream listens: from here on nothing is missed.
    await sse.until(() => events.some((e) => e.event === 'comment:: connected'), 5000)

    // What the tracker does: start the execution, start each store, finish each store, finish.
    const [{ id }] = (await db`
      insert into etl_executions (etl_name, status, started_at, triggered_by, tiendas_count, tienda_ids)
      values ('ventas', 'running', now(), 'scheduler', 2, '{tienda_01,tienda_02}') returning id`) as unknown as [
      { id: number },
    ]
    await notify({ execution_id: id, kind: 'execution_started' })
    for (const t of ['tienda_01', 'tienda_02']) {
      await db`insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at, attempts)
               values (${id}, ${t}, ${t.toUpperCase()}, 'klk', 'running', now(), 1)`
      await notify({ execution_id: id, tienda_id: t, kind: 'tienda_started' })
    }
    await db`update etl_execution_details set status = 'success', finished_at = now(), duration_seconds = 1.5,
             records_extracted = 10, records_loaded = 10 where execution_id = ${id} and tienda_id = 'tienda_01'`
    await db`update etl_executions set tiendas_exitosas = 1, records_loaded = 10 where id = ${id}`
    await notify({ execution_id: id, tienda_id: 'tienda_01', kind: 'tienda_finished' })
    await db`update etl_execution_details set status = 'failed', finished_at = now(), duration_seconds = 2,
             error_phase = 'extract', error_category = 'vpn_timeout', error_message = 'connect timeout'
             where execution_id = ${id} and tienda_id = 'tienda_02'`
    await notify({ execution_id: id, tienda_id: 'tienda_02', kind: 'tienda_finished' })
    await db`update etl_executions set status = 'partial', finished_at = now(), duration_seconds = 2.1,
             tiendas_fallidas = 1, error_phase = 'extract', error_category = 'vpn_timeout' where id = ${id}`
    await notify({ execution_id: id, kind: 'execution_finished' })
    const seen = (event: string, match: Record<string, unknown>) =>
      events.some((e) => e.event === event && Object.entries(match).every(([k, v]) => e.data[k] === v))
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
    expect(events.some((e) => e.event === 'execution' && e.data.status === 'running')).toBe(true)
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
