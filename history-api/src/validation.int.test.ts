// The bad-input table (DESIGN §11): every parameter × invalid values → 400/422 problem+json
// naming the field; SQL-injection strings in every string filter → no 500, no rows, no change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../test/helpers/history-seed.ts'

type Case = [query: string, status: 400 | 422, name: string]

const BAD_DATES = [
  '2026-02-30',
  '2026-13-01',
  '2026-1-5',
  '26-01-01',
  'yesterday',
  '2026-01-26T10:00:00',
  '2026-01-26 10:00:00',
  '2027-02-29',
]

const historyCases: Case[] = [
  ...['0', '201', '-1', 'abc', '1.5', '', '1e2', ' 5'].map(
    (v): Case => [`limit=${encodeURIComponent(v)}`, 400, 'limit'],
  ),
  ...['-1', 'abc', '1000001', '0.5'].map((v): Case => [`offset=${v}`, 400, 'offset']),
  ...['nomina', 'VENTAS', ''].map((v): Case => [`etl_name=${v}`, 400, 'etl_name']),
  ...['done', 'SUCCESS', ''].map((v): Case => [`status=${v}`, 400, 'status']),
  ['status=success&status=failed', 400, 'status'],
  ...['aws', 'admin'].map((v): Case => [`triggered_by=${v}`, 400, 'triggered_by']),
  ...['parse', 'Extract'].map((v): Case => [`error_phase=${v}`, 400, 'error_phase']),
  ...['timeout', 'vpn-timeout'].map((v): Case => [`error_category=${v}`, 400, 'error_category']),
  ...['TIENDA_01', 'tienda-01', 'x'.repeat(51), ''].map((v): Case => [`tienda=${v}`, 400, 'tienda']),
  ...BAD_DATES.map((v): Case => [`fecha_desde=${encodeURIComponent(v)}`, 400, 'fecha_desde']),
  ...BAD_DATES.map((v): Case => [`fecha_hasta=${encodeURIComponent(v)}`, 400, 'fecha_hasta']),
  ['estatus=failed', 400, 'estatus'],
  ['limit=10&Limit=10', 400, 'Limit'],
  ['fecha_desde=2026-01-27&fecha_hasta=2026-01-26', 422, 'fecha_desde'],
  ['fecha_desde=2026-01-26T10:00:01Z&fecha_hasta=2026-01-26T10:00:00Z', 422, 'fecha_desde'],
  ['tienda=tienda_77', 422, 'tienda'],
]

const statsCases: Case[] = [
  ...['0', '91', '-1', 'abc', '7.5', ''].map((v): Case => [`dias=${v}`, 400, 'dias']),
  ['etl_name=nomina', 400, 'etl_name'],
  ['limit=5', 400, 'limit'],
]

const validRun = {
  etl_name: 'ventas',
  tienda_ids: ['tienda_01'],
  fecha_inicio: '2026-01-25 00:00:00',
  fecha_fin: '2026-01-25 23:59:59',
}
const runCases: [label: string, body: unknown, name: string][] = [
  ['etl_name missing', { tienda_ids: ['tienda_01'] }, 'etl_name'],
  ['etl_name unknown', { ...validRun, etl_name: 'nomina' }, 'etl_name'],
  ['tienda_ids empty', { ...validRun, tienda_ids: [] }, 'tienda_ids'],
  ['tienda_ids not an array', { ...validRun, tienda_ids: 'tienda_01' }, 'tienda_ids'],
  ['tienda_ids too many', { ...validRun, tienda_ids: Array.from({ length: 201 }, (_, i) => `t${i}`) }, 'tienda_ids'],
  ['tienda_ids bad id', { ...validRun, tienda_ids: ['tienda_01', 'Tienda 2'] }, 'tienda_ids[1]'],
  ['tienda_ids repeated', { ...validRun, tienda_ids: ['tienda_01', 'tienda_02', 'tienda_01'] }, 'tienda_ids[2]'],
  ['fecha_inicio impossible', { ...validRun, fecha_inicio: '2026-02-30 00:00:00' }, 'fecha_inicio'],
  ['fecha_inicio 25:00', { ...validRun, fecha_inicio: '2026-01-25 25:00:00' }, 'fecha_inicio'],
  ['fecha_fin malformed', { ...validRun, fecha_fin: '2026/01/25' }, 'fecha_fin'],
  ['fecha_fin without offset', { ...validRun, fecha_fin: '2026-01-25T23:59:59' }, 'fecha_fin'],
  ['fecha_inicio RFC 3339 impossible', { ...validRun, fecha_inicio: '2026-02-30T00:00:00Z' }, 'fecha_inicio'],
  ['fecha_fin alone', { etl_name: 'ventas', fecha_fin: '2026-01-25 23:59:59' }, 'fecha_inicio'],
  ['fecha_inicio alone', { etl_name: 'ventas', fecha_inicio: '2026-01-25 23:59:59' }, 'fecha_fin'],
  ['unknown field', { ...validRun, prioridad: 'alta' }, 'prioridad'],
  ['not an object', ['ventas'], 'body'],
]

const INJECTIONS = [
  "ventas' OR '1'='1",
  "'; DROP TABLE etl_executions; --",
  'tienda_01) OR 1=1 --',
  '1; SELECT pg_sleep(5)--',
  "' UNION SELECT id, password_hash FROM admin_users --",
  '%27%20OR%201%3D1',
  '$1',
]
const STRING_FILTERS = [
  'etl_name',
  'status',
  'triggered_by',
  'tienda',
  'error_phase',
  'error_category',
  'fecha_desde',
  'fecha_hasta',
]

describe('bad input', () => {
  let database: TestDatabase
  let api: TestApi
  const snapshot = () =>
    database.sql`select (select count(*) from etl_executions)::int as e, (select count(*) from tiendas)::int as t,
      (select count(*) from admin_users)::int as u`.then((r) => r[0])

  beforeAll(async () => {
    database = await createTestDatabase()
    await addTiendas(database.sql, ['tienda_01', 'tienda_02'])
    await addExecution(database.sql, { status: 'success' }, [{ tienda_id: 'tienda_01' }])
    api = await testApi({ db: database.sql })
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  const expectProblem = (
    r: { status: number; body: unknown; headers: Headers },
    status: number,
    name: string,
    label: string,
  ) => {
    expect(r.status, label).toBe(status)
    expect(r.headers.get('content-type'), label).toBe('application/problem+json')
    const body = r.body as { detail: string; 'invalid-params': { name: string; reason: string; code: string }[] }
    expect(
      body['invalid-params'].map((p) => p.name),
      label,
    ).toContain(name)
    expect(body.detail, label).toContain(name)
    // Every foreseeable bad input carries a code a client can word in its own language.
    expect(body['invalid-params'].find((p) => p.name === name)?.code, label).not.toBe('invalid')
  }

  it('codes name the rule each field broke', async () => {
    const codes = async (method: 'get' | 'post', path: string, body?: unknown) => {
      const r = await api.call(method, path, body === undefined ? {} : { body })
      return (r.body as { 'invalid-params': { name: string; code: string }[] })['invalid-params'].map((p) => [
        p.name,
        p.code,
      ])
    }
    expect(await codes('get', '/api/etl/history?limit=500&estatus=x&etl_name=nomina&tienda=X')).toEqual([
      ['etl_name', 'one_of'],
      ['tienda', 'format'],
      ['limit', 'out_of_range'],
      ['estatus', 'unknown'],
    ])
    expect(await codes('get', '/api/etl/history?fecha_desde=2026-01-27&fecha_hasta=2026-01-26')).toEqual([
      ['fecha_desde', 'after_end'],
    ])
    expect(await codes('get', '/api/etl/history?tienda=tienda_77')).toEqual([['tienda', 'unknown_store']])
    expect(
      await codes('post', '/api/etl/run', {
        etl_name: 'ventas',
        tienda_ids: ['tienda_01', 'tienda_01'],
        fecha_inicio: '2026-02-30 00:00:00',
      }),
    ).toEqual([
      ['tienda_ids[1]', 'duplicate'],
      ['fecha_inicio', 'format'],
    ])
    expect(await codes('post', '/api/etl/run', { etl_name: 'ventas', fecha_inicio: '2026-01-25 00:00:00' })).toEqual([
      ['fecha_fin', 'required'],
    ])
    expect(await codes('post', '/api/etl/run', { ...validRun, fecha_fin: '2026-03-30 00:00:00' })).toEqual([
      ['fecha_fin', 'window_too_long'],
    ])
    expect(await codes('post', '/api/etl/run', { ...validRun, tienda_ids: ['tienda_01', 'tienda_77'] })).toEqual([
      ['tienda_ids[1]', 'unknown_store'],
    ])
  })

  it('history: every parameter × invalid values', async () => {
    for (const [query, status, name] of historyCases) {
      expectProblem(await api.call('get', `/api/etl/history?${query}`), status, name, query)
    }
  })

  it('stats, detail and the parameterless routes', async () => {
    for (const [query, status, name] of statsCases) {
      expectProblem(await api.call('get', `/api/etl/stats?${query}`), status, name, query)
    }
    for (const id of ['abc', '0', '-1', '1.5', '2147483648', '1e3']) {
      expectProblem(await api.call('get', `/api/etl/history/${id}`), 400, 'id', id)
    }
    for (const path of ['/api/etl/history/1?verbose=1', '/api/etl/tiendas?activas=true', '/api/etl/events?since=1']) {
      expectProblem(await api.call('get', path), 400, new URL(path, 'http://x').searchParams.keys().next().value!, path)
    }
  })

  it('run body: every field × invalid values, malformed JSON, wrong type, oversized', async () => {
    for (const [label, body, name] of runCases) {
      expectProblem(await api.call('post', '/api/etl/run', { body }), 400, name, label)
    }
    expectProblem(
      await api.call('post', '/api/etl/run', {
        rawBody: '{"etl_name": "ventas",',
        headers: { 'Content-Type': 'application/json' },
      }),
      400,
      'body',
      'malformed JSON',
    )
    expectProblem(
      await api.call('post', '/api/etl/run', {
        rawBody: 'etl_name=ventas',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
      400,
      'Content-Type',
      'form body',
    )
    expectProblem(
      await api.call('post', '/api/etl/run?dry_run=1', { body: validRun }),
      400,
      'dry_run',
      'unknown query parameter',
    )
    const huge = { ...validRun, nota: 'x'.repeat(70 * 1024) }
    const big = await api.call('post', '/api/etl/run', { body: huge })
    expect(big.status).toBe(413)
    expect(big.body).toMatchObject({ status: 413, detail: 'The request body exceeds 65536 bytes.' })
    const login = await api.call('post', '/api/auth/login', {
      token: null,
      body: { email: 'a@b.c', password: 'x'.repeat(70 * 1024) },
    })
    expect(login.status).toBe(413)
    for (const [label, body, name] of [
      ['bad email', { email: 'not-an-email', password: 'x' }, 'email'],
      ['empty password', { email: 'a@fluxion.test', password: '' }, 'password'],
      ['unknown field', { email: 'a@fluxion.test', password: 'x', remember: true }, 'remember'],
    ] as const) {
      expectProblem(await api.call('post', '/api/auth/login', { token: null, body }), 400, name, label)
    }
  })

  it('SQL injection in every string filter, the id and the bodies: never a 500, never a row', async () => {
    const before = await snapshot()
    for (const attack of INJECTIONS) {
      for (const name of STRING_FILTERS) {
        const r = await api.call('get', `/api/etl/history?${name}=${encodeURIComponent(attack)}`)
        expect([400, 422], `${name}=${attack}`).toContain(r.status)
        expect(Array.isArray(r.body), `${name}=${attack}`).toBe(false)
      }
      const stats = await api.call('get', `/api/etl/stats?etl_name=${encodeURIComponent(attack)}`)
      expect(stats.status).toBe(400)
      const param = await api.call('get', `/api/etl/history?${encodeURIComponent(attack)}=1`)
      expect(param.status).toBe(400)
      const detail = await api.call('get', `/api/etl/history/${encodeURIComponent(attack)}`)
      expect([400, 404]).toContain(detail.status)
      const run = await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: [attack] } })
      expect(run.status).toBe(400)
      const login = await api.call('post', '/api/auth/login', {
        token: null,
        body: { email: attack, password: attack },
      })
      expect([400, 401]).toContain(login.status)
    }
    expect(await snapshot()).toEqual(before)
  })
})
