import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMigrations, migrateDown } from '../../../scripts/lib/migrations.ts'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'

describe('operator endpoints', () => {
  let database: TestDatabase
  let api: TestApi

  beforeAll(async () => {
    database = await createTestDatabase()
    api = await testApi({ db: database.sql })
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  it('/metrics counts requests and times them by route template, method and status', async () => {
    await api.call('get', '/api/etl/history')
    await api.call('get', '/api/etl/history/41')
    await api.call('get', '/api/etl/history/42')
    await api.call('get', '/api/etl/history?limit=0')
    await api.call('get', '/api/etl/stats', { token: null })
    const r = await api.call('get', '/metrics', { token: null })
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = r.body as string
    expect(text).toContain('http_requests_total{method="GET",route="/api/etl/history",status="200"} 1')
    expect(text).toContain('http_requests_total{method="GET",route="/api/etl/history/{id}",status="404"} 2')
    expect(text).toContain('http_requests_total{method="GET",route="/api/etl/history",status="400"} 1')
    expect(text).toMatch(/http_requests_total\{method="GET",route="[^"]+",status="401"\} 1/)
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/etl\/history",status="200"\} \d/,
    )
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/etl/history/{id}",status="404"} 2',
    )
  })

  it('/readyz is 503 when the database does not answer; /healthz stays 200', async () => {
    const down = await testApi({ db: postgres('postgres://nobody@127.0.0.1:1/none', { max: 1, connect_timeout: 1 }) })
    const ready = await down.call('get', '/readyz', { token: null })
    expect(ready.status).toBe(503)
    expect(ready.body).toEqual({ status: 'unavailable', database: 'down', schema: 'unknown' })
    expect((await down.call('get', '/healthz', { token: null })).body).toEqual({ status: 'ok' })
    expect((await api.call('get', '/readyz', { token: null })).body).toEqual({
      status: 'ok',
      database: 'ok',
      schema: 'ok',
    })
  })

  it('/readyz is 503 naming the migrations to apply when the schema is behind the release', async () => {
    const behind = await createTestDatabase()
    try {
      const newest = (await loadMigrations()).at(-1)!.version
      await migrateDown(behind.sql, newest)
      const r = await (await testApi({ db: behind.sql })).call('get', '/readyz', { token: null })
      expect(r.status).toBe(503)
      expect(r.body).toEqual({
        status: 'unavailable',
        database: 'ok',
        schema: 'behind',
        detail: `the database schema is behind this release (migration ${newest} not applied): run \`npm run migrate\``,
      })
    } finally {
      await behind.drop()
    }
  })

  it('unknown paths and methods are problem+json 404s, and errors carry no internals', async () => {
    const r = await api.call('get', '/api/nothing-here', { token: null })
    expect(r.status).toBe(404)
    expect(r.headers.get('content-type')).toBe('application/problem+json')
    const broken = await testApi({ db: postgres('postgres://nobody@127.0.0.1:1/none', { max: 1, connect_timeout: 1 }) })
    const failed = await broken.call('get', '/api/etl/history')
    expect(failed.status).toBe(500)
    expect(failed.body).toMatchObject({ detail: 'The request could not be completed; it has been logged.' })
    expect(JSON.stringify(failed.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|select|stack/i)
  })
})
