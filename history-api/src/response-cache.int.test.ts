// Kept history responses (list, detail, statistics) against PostgreSQL: migration 093's triggers notify a committed change,
// the cache drops what it kept, an uncommitted change is not announced, postgres.js listens again
// after its connection is killed, and a write through the API is read back at once.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { ReservedSql } from 'postgres'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../test/helpers/history-seed.ts'
import { connect } from './db.ts'
import { listenOnNewPools } from './listen.ts'
import { type ChangeFeed, createResponseCache, historyChanges, type ResponseCache } from './response-cache.ts'

const ids = (body: unknown) => (body as { id: number }[]).map((e) => e.id)

/** Polls `fn` until it holds; the notification arrives in milliseconds, the kept responses live a minute. */
async function eventually(fn: () => Promise<boolean>, timeoutMs = 3000) {
  const until = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('kept history responses', () => {
  let database: TestDatabase
  let api: TestApi
  let cache: ResponseCache
  let registry: Registry
  let listens = 0
  let conn: ReservedSql | undefined

  const reads = async () =>
    (await registry.getSingleMetric('history_api_response_cache_total')!.get()).values.find(
      (v) => v.labels.result === 'read',
    )?.value ?? 0

  const setup = async (feed: ChangeFeed) => {
    registry = new Registry()
    cache = createResponseCache(feed, { maxBytes: 1 << 20, maxAgeMs: 60_000, registry })
    api = await testApi({ db: database.sql, cache })
    await cache.ready
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    await addTiendas(database.sql, ['tienda_01', 'tienda_02'])
  })
  afterEach(async () => {
    await conn?.unsafe('rollback').catch(() => {})
    conn?.release()
    conn = undefined
    await api?.close()
    await database.sql`delete from etl_executions`
  })
  afterAll(async () => {
    await database?.drop()
  })

  const counted: ChangeFeed = (onChange, onListen) =>
    historyChanges(listenOnNewPools(() => connect(database.url, { max: 1 })))(onChange, () => {
      listens++
      onListen()
    })

  it('answers from memory until a committed change is notified; an uncommitted one changes nothing', async () => {
    await setup(counted)
    const a = await addExecution(database.sql, { started_at: new Date(Date.now() - 60_000) }, [
      { tienda_id: 'tienda_01' },
    ])
    // The insert's own notification may land while the first reads run (they are then not kept):
    // wait until each answer comes from memory.
    const keptNow = async (path: string) => {
      await api.call('get', path)
      const before = await reads()
      await api.call('get', path)
      return (await reads()) === before
    }
    for (const path of ['/api/etl/history?limit=10', `/api/etl/history/${a}`, '/api/etl/stats?dias=1']) {
      await eventually(() => keptNow(path))
    }
    const first = await api.call('get', '/api/etl/history?limit=10')
    expect(ids(first.body)).toEqual([a])
    const detail = await api.call('get', `/api/etl/history/${a}`)
    expect(detail.status).toBe(200)
    const stats = await api.call('get', '/api/etl/stats?dias=1')
    expect((stats.body as { total_executions: number }).total_executions).toBe(1)
    const readsBefore = await reads()
    for (let i = 0; i < 5; i++) {
      const again = await api.call('get', '/api/etl/history?limit=10')
      expect(again.body).toEqual(first.body)
      expect(again.headers.get('x-total-count')).toBe('1')
      expect((await api.call('get', `/api/etl/history/${a}`)).body).toEqual(detail.body)
      expect((await api.call('get', '/api/etl/stats?dias=1')).body).toEqual(stats.body)
    }
    expect(await reads()).toBe(readsBefore)

    // A change inside an open transaction: not visible, not announced — the kept page stays right.
    conn = await database.sql.reserve()
    await conn`begin`
    const b = await addExecution(conn as never, { started_at: new Date() })
    await new Promise((r) => setTimeout(r, 100))
    expect(ids((await api.call('get', '/api/etl/history?limit=10')).body)).toEqual([a])
    await conn`commit`
    await eventually(async () => ids((await api.call('get', '/api/etl/history?limit=10')).body)[0] === b)
    const after = await api.call('get', '/api/etl/history?limit=10')
    expect(ids(after.body)).toEqual([b, a])
    expect(after.headers.get('x-total-count')).toBe('2')
    const statsAfter = await api.call('get', '/api/etl/stats?dias=1')
    expect((statsAfter.body as { total_executions: number }).total_executions).toBe(2)

    // The detail follows a store's update (etl_execution_details' trigger), and a store's new name (tiendas').
    await database.sql`update etl_execution_details set records_loaded = 77 where execution_id = ${a}`
    await eventually(
      async () =>
        ((await api.call('get', `/api/etl/history/${a}`)).body as { tiendas_detail: { records_loaded: number }[] })
          .tiendas_detail[0]!.records_loaded === 77,
    )
  })

  it('concurrent requests share a read, and each gets its own refusal or 404', async () => {
    await setup(counted)
    const a = await addExecution(database.sql, { started_at: new Date() })
    const pages = await Promise.all(Array.from({ length: 6 }, () => api.call('get', '/api/etl/history?limit=5')))
    for (const p of pages) expect(ids(p.body)).toEqual([a])
    // Over real HTTP: a Response shared by joined requests would be sent once and fail the others.
    const server = serve({ fetch: api.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((r) => server.once('listening', r))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/etl/history?tienda=tienda_99`
      const refusals = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(url, { headers: { Authorization: `Bearer ${api.token}` } }).then(async (r) => ({
            status: r.status,
            body: await r.text(),
          })),
        ),
      )
      for (const r of refusals) {
        expect(r.status).toBe(422)
        expect(r.body).toContain('tienda_99 is not a known store')
      }
    } finally {
      server.close()
    }
    const missing = await Promise.all(Array.from({ length: 6 }, () => api.call('get', '/api/etl/history/999999')))
    for (const r of missing) expect(r.status).toBe(404)
  })

  it('listens again after its connection is killed, and hears changes again', async () => {
    listens = 0
    await setup(counted)
    expect(listens).toBe(1)
    const a = await addExecution(database.sql, { started_at: new Date(Date.now() - 60_000) })
    expect(ids((await api.call('get', '/api/etl/history?limit=10')).body)).toEqual([a])
    await database.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()`
    await eventually(async () => listens === 2, 10_000)
    const b = await addExecution(database.sql, { started_at: new Date() })
    await eventually(async () => ids((await api.call('get', '/api/etl/history?limit=10')).body)[0] === b)
  })

  it('a LISTEN that failed (PostgreSQL refused the connection) is tried again on a new pool, then responses are kept', async () => {
    const a = await addExecution(database.sql, { started_at: new Date() })
    let attempts = 0
    // A port nothing listens on, then the database: what a restart of PostgreSQL looks like to the API.
    const feed = historyChanges(
      listenOnNewPools(() =>
        connect(attempts++ === 0 ? 'postgres://postgres@127.0.0.1:1/postgres' : database.url, { max: 1 }),
      ),
    )
    registry = new Registry()
    cache = createResponseCache(feed, { maxBytes: 1 << 20, maxAgeMs: 60_000, retryMs: 50, registry })
    api = await testApi({ db: database.sql, cache })
    await cache.ready
    expect(attempts).toBe(2)
    expect(ids((await api.call('get', '/api/etl/history?limit=5')).body)).toEqual([a])
    const readsBefore = await reads()
    await api.call('get', '/api/etl/history?limit=5')
    expect(await reads()).toBe(readsBefore)
  })

  it('a write through the API is read back at once, without waiting for the notification', async () => {
    // A feed that never delivers a change: only the API's own write may drop the kept detail.
    await setup((_onChange, onListen) =>
      historyChanges(listenOnNewPools(() => connect(database.url, { max: 1 })))(() => {}, onListen),
    )
    const a = await addExecution(database.sql, { status: 'running', started_at: new Date() })
    const before = await api.call('get', `/api/etl/history/${a}`)
    expect((before.body as { cancel_requested_at: string | null }).cancel_requested_at).toBeNull()
    const cancel = await api.call('post', `/api/etl/executions/${a}/cancel`)
    expect(cancel.status).toBe(202)
    const after = await api.call('get', `/api/etl/history/${a}`)
    expect((after.body as { cancel_requested_at: string | null }).cancel_requested_at).not.toBeNull()
  })
})
