import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../../test/helpers/history-seed.ts'

const at = (s: string) => new Date(s)
const ids = (body: unknown) => (body as { id: number }[]).map((r) => r.id)

describe('GET /api/etl/history and /history/{id}', () => {
  let database: TestDatabase
  let api: TestApi
  const e: Record<string, number> = {}

  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  beforeAll(async () => {
    database = await createTestDatabase()
    const db = database.sql
    api = await testApi({ db })
    await addTiendas(db, ['tienda_01', 'tienda_02', 'tienda_08', 'tienda_09'], { inactive: ['tienda_09'] })
    // Caracas is UTC−4: 2026-01-26T03:59:59Z is still 25 January there.
    e.lateJan25 = await addExecution(db, { started_at: at('2026-01-26T03:59:59Z'), triggered_by: 'cli' }, [
      { tienda_id: 'tienda_01' },
    ])
    e.earlyJan26 = await addExecution(db, { started_at: at('2026-01-26T04:00:00Z'), etl_name: 'inventario' }, [
      { tienda_id: 'tienda_01' },
      { tienda_id: 'tienda_02' },
    ])
    e.failed = await addExecution(
      db,
      {
        started_at: at('2026-01-26T10:00:00Z'),
        status: 'partial',
        error_phase: 'extract',
        error_category: 'vpn_timeout',
      },
      [
        { tienda_id: 'tienda_01' },
        { tienda_id: 'tienda_08', status: 'failed', error_phase: 'extract', error_category: 'vpn_timeout' },
      ],
    )
    // Same start as `failed`: the id breaks the tie, newest first.
    e.sameStart = await addExecution(db, { started_at: at('2026-01-26T10:00:00Z'), triggered_by: 'eventbridge' }, [
      { tienda_id: 'tienda_02' },
    ])
    e.running = await addExecution(db, { started_at: at('2026-01-27T09:00:00Z'), status: 'running' }, [
      { tienda_id: 'tienda_08', status: 'running' },
    ])
    e.queued = await addExecution(db, {
      status: 'queued',
      etl_type: 'manual',
      triggered_by: 'fluxion_admin',
      tienda_ids: ['tienda_08', 'tienda_02'],
    })
  })

  it('lists newest first, queued on top, ties by id, with the plan fields exactly', async () => {
    const r = await api.call('get', '/api/etl/history')
    expect(r.status).toBe(200)
    expect(ids(r.body)).toEqual([e.queued, e.running, e.sameStart, e.failed, e.earlyJan26, e.lateJan25])
    expect(Object.keys((r.body as object[])[0]!).sort()).toEqual(
      [
        'id',
        'etl_name',
        'etl_type',
        'started_at',
        'finished_at',
        'duration_seconds',
        'status',
        'records_extracted',
        'records_loaded',
        'duplicates_skipped',
        'tiendas_count',
        'tiendas_exitosas',
        'tiendas_fallidas',
        'tiendas_cerradas',
        'error_phase',
        'error_category',
        'triggered_by',
      ].sort(),
    )
    expect(r.headers.get('x-total-count')).toBe('6')
  })

  it('each filter narrows the list and X-Total-Count counts the matches', async () => {
    const cases: [string, number[]][] = [
      ['etl_name=inventario', [e.earlyJan26!]],
      ['status=partial', [e.failed!]],
      ['status=queued', [e.queued!]],
      ['triggered_by=eventbridge', [e.sameStart!]],
      ['error_phase=extract', [e.failed!]],
      ['error_category=vpn_timeout', [e.failed!]],
      ['error_category=deadlock', []],
      ['tienda=tienda_08', [e.queued!, e.running!, e.failed!]],
      ['tienda=tienda_01', [e.failed!, e.earlyJan26!, e.lateJan25!]],
      ['tienda=tienda_09', []],
      ['fecha_desde=2026-01-26', [e.running!, e.sameStart!, e.failed!, e.earlyJan26!]],
      ['fecha_hasta=2026-01-25', [e.lateJan25!]],
      ['fecha_desde=2026-01-26T10:00:00Z&fecha_hasta=2026-01-26T10:00:00Z', [e.sameStart!, e.failed!]],
      ['fecha_desde=2026-01-26T06:00:00-04:00&fecha_hasta=2026-01-26', [e.sameStart!, e.failed!]],
      ['etl_name=ventas&status=success', [e.sameStart!, e.lateJan25!]],
      ['tienda=tienda_02&etl_name=ventas', [e.queued!, e.sameStart!]],
      ['tienda=tienda_08&status=running', [e.running!]],
    ]
    for (const [query, expected] of cases) {
      const r = await api.call('get', `/api/etl/history?${query}`)
      expect(r.status, query).toBe(200)
      expect(ids(r.body), query).toEqual(expected)
      expect(r.headers.get('x-total-count'), query).toBe(String(expected.length))
    }
  })

  it('pages with Link headers that keep the filters', async () => {
    const first = await api.call('get', '/api/etl/history?etl_name=ventas&limit=2')
    expect(ids(first.body)).toEqual([e.queued, e.running])
    expect(first.headers.get('x-total-count')).toBe('5')
    expect(first.headers.get('link')).toBe(
      '</api/etl/history?etl_name=ventas&limit=2&offset=0>; rel="first", ' +
        '</api/etl/history?etl_name=ventas&limit=2&offset=2>; rel="next", ' +
        '</api/etl/history?etl_name=ventas&limit=2&offset=4>; rel="last"',
    )
    const last = await api.call('get', '/api/etl/history?etl_name=ventas&limit=2&offset=4')
    expect(ids(last.body)).toEqual([e.lateJan25])
    expect(last.headers.get('link')).toContain('offset=2>; rel="prev"')
    expect(last.headers.get('link')).not.toContain('rel="next"')
    // Store filter: the page boundary falls between the queued run and the started ones.
    const tienda = await api.call('get', '/api/etl/history?tienda=tienda_08&limit=2&offset=1')
    expect(ids(tienda.body)).toEqual([e.running, e.failed])
    const beyond = await api.call('get', '/api/etl/history?limit=50&offset=100')
    expect(beyond.body).toEqual([])
    expect(beyond.headers.get('x-total-count')).toBe('6')
  })

  it('fecha_desde after fecha_hasta and an unknown store are 422 naming the field', async () => {
    const dates = await api.call('get', '/api/etl/history?fecha_desde=2026-01-27&fecha_hasta=2026-01-26')
    expect(dates.status).toBe(422)
    expect(dates.body).toMatchObject({ 'invalid-params': [{ name: 'fecha_desde' }] })
    const store = await api.call('get', '/api/etl/history?tienda=tienda_99')
    expect(store.status).toBe(422)
    expect(store.body).toMatchObject({
      'invalid-params': [{ name: 'tienda', reason: 'tienda_99 is not a known store' }],
    })
  })

  it('detail: the plan shape with stores ordered by id; 404 and 400', async () => {
    const r = await api.call('get', `/api/etl/history/${e.failed}`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      id: e.failed,
      status: 'partial',
      error_phase: 'extract',
      error_category: 'vpn_timeout',
      started_at: '2026-01-26T10:00:00.000Z',
      tiendas_detail: [
        { tienda_id: 'tienda_01', status: 'success', error_category: null },
        { tienda_id: 'tienda_08', status: 'failed', error_phase: 'extract', error_category: 'vpn_timeout' },
      ],
    })
    // The stores' timestamps are written by PostgreSQL (detail.sql.ts): exactly as Date#toISOString
    // writes them (microseconds cut to milliseconds), null as null; numbers stay numbers.
    await database.sql`
      update etl_execution_details set started_at = '2026-01-26 10:00:01.234567+00', finished_at = null,
        duration_seconds = 2.35, connection_latency_ms = 12.5
      where execution_id = ${e.failed!} and tienda_id = 'tienda_08'`
    const stores = ((await api.call('get', `/api/etl/history/${e.failed}`)).body as { tiendas_detail: object[] })
      .tiendas_detail
    expect(stores[1]).toMatchObject({
      tienda_id: 'tienda_08',
      started_at: new Date('2026-01-26T10:00:01.234567Z').toISOString(),
      finished_at: null,
      duration_seconds: 2.35,
      connection_latency_ms: 12.5,
      records_extracted: expect.any(Number),
    })
    const missing = await api.call('get', '/api/etl/history/999999')
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ detail: 'Execution 999999 does not exist.' })
    for (const bad of ['abc', '0', '1.5', '-3', '2147483648']) {
      const res = await api.call('get', `/api/etl/history/${bad}`)
      expect(res.status, bad).toBe(400)
      expect(res.body, bad).toMatchObject({ 'invalid-params': [{ name: 'id' }] })
    }
  })

  it('detail: every column of a store row arrives in its own field (rows are read as arrays)', async () => {
    const span = {
      attempt: 2,
      phase: 'load',
      started_at: '2026-01-26T10:00:03.000Z',
      finished_at: '2026-01-26T10:00:04.500Z',
      duration_seconds: 1.5,
      records: 41,
      errors: 0,
      error_category: null,
      error_code: null,
    }
    await database.sql`
      update etl_execution_details set tienda_nombre = 'NOMBRE 08', source_system = 'stellar', status = 'failed',
        duration_seconds = 7.25, records_extracted = 43, records_loaded = 41, duplicates_skipped = 2,
        error_phase = 'load', error_category = 'deadlock', error_message = 'deadlock detected',
        started_at = '2026-01-26 10:00:01.5+00', finished_at = '2026-01-26 10:00:08.75+00', attempts = 3,
        server_ip = '10.0.8.1', server_port = 1433, connection_latency_ms = 12.5, extract_duration_seconds = 1.25,
        transform_duration_seconds = 0.5, load_duration_seconds = 4.75,
        network_diagnostics = ${database.sql.json({ ip: '10.0.8.1', port: 1433, latency_ms: 12.5, error_code: '40P01' })},
        timeline = ${database.sql.json([span])}
      where execution_id = ${e.failed!} and tienda_id = 'tienda_08'`
    const r = await api.call('get', `/api/etl/history/${e.failed}`)
    const store = (r.body as { tiendas_detail: { tienda_id: string }[] }).tiendas_detail.find(
      (t) => t.tienda_id === 'tienda_08',
    )
    expect(store).toEqual({
      tienda_id: 'tienda_08',
      tienda_nombre: 'NOMBRE 08',
      source_system: 'stellar',
      status: 'failed',
      duration_seconds: 7.25,
      records_extracted: 43,
      records_loaded: 41,
      duplicates_skipped: 2,
      error_phase: 'load',
      error_category: 'deadlock',
      error_message: 'deadlock detected',
      started_at: '2026-01-26T10:00:01.500Z',
      finished_at: '2026-01-26T10:00:08.750Z',
      attempts: 3,
      server_ip: '10.0.8.1',
      server_port: 1433,
      connection_latency_ms: 12.5,
      error_code: '40P01',
      extract_duration_seconds: 1.25,
      transform_duration_seconds: 0.5,
      load_duration_seconds: 4.75,
      network_diagnostics: { ip: '10.0.8.1', port: 1433, latency_ms: 12.5, error_code: '40P01' },
      phase_metrics: [
        {
          phase: 'load',
          started_at: span.started_at,
          finished_at: span.finished_at,
          duration_seconds: 1.5,
          records_processed: 41,
          errors_count: 0,
        },
      ],
      timeline: [span],
    })
  })

  it('serves the error detail sanitised: no server paths, no internal frames (plan §8.2)', async () => {
    const detail = [
      'Error: connect ECONNREFUSED 127.0.0.1:18108',
      '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1637:16)',
      '    at async fetchPage (/srv/fluxion/runner/src/sources/klk.ts:88:19)',
      '    at async /srv/fluxion/node_modules/p-limit/index.js:23:5',
    ].join('\n')
    await database.sql`
      update etl_executions set error_detail = ${detail},
        error_message = ${"config missing: open '/srv/fluxion/.data/klk.json'"} where id = ${e.failed!}`
    const r = await api.call('get', `/api/etl/history/${e.failed}`)
    const body = r.body as { error_detail: string; error_message: string }
    expect(body.error_detail).toBe(
      [
        'Error: connect ECONNREFUSED 127.0.0.1:18108',
        '    … 1 internal frame omitted',
        '    at async fetchPage (klk.ts:88)',
        '    … 1 internal frame omitted',
      ].join('\n'),
    )
    expect(body.error_message).toBe("config missing: open 'klk.json'")
  })
})
