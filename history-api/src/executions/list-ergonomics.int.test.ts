// The list's ergonomics (issue 13, capability 5): sortable columns, several statuses at once,
// search by id, and the CSV export of exactly what the list shows, streamed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../../test/helpers/history-seed.ts'
import { CSV_COLUMNS } from './export.routes.ts'

const at = (s: string) => new Date(s)
const ids = (body: unknown) => (body as { id: number }[]).map((r) => r.id)

/** The CSV as list items: header names → values, numbers and nulls as the JSON list has them. */
function parseCsv(text: string) {
  expect(text.endsWith('\r\n')).toBe(true)
  expect(text).not.toContain('"') // no field here needs quoting; a quote would mean a bad split
  const [header, ...lines] = text.slice(0, -2).split('\r\n')
  const names = header!.split(',')
  return lines.map((line) =>
    Object.fromEntries(
      line.split(',').map((v, i) => {
        const name = names[i]!
        if (v === '') return [name, null]
        return [name, /^(id|duration_seconds|records_|duplicates_|tiendas_)/.test(name) ? Number(v) : v]
      }),
    ),
  )
}

describe('history list: sort, several statuses, id search, CSV export', () => {
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
    await addTiendas(db, ['tienda_01', 'tienda_08'])
    const add = (name: string, seed: Parameters<typeof addExecution>[1], tiendas: string[]) =>
      addExecution(
        db,
        seed,
        tiendas.map((tienda_id) => ({ tienda_id })),
      ).then((id) => {
        e[name] = id
      })
    await add('slow', { started_at: at('2026-01-20T10:00:00Z'), duration_seconds: 300, records_loaded: 10 }, [
      'tienda_01',
    ])
    await add(
      'failedBig',
      { started_at: at('2026-01-21T10:00:00Z'), status: 'failed', duration_seconds: 12, records_loaded: 900 },
      ['tienda_08'],
    )
    await add(
      'partial',
      { started_at: at('2026-01-22T10:00:00Z'), status: 'partial', duration_seconds: 45.2, records_loaded: 500 },
      ['tienda_01', 'tienda_08'],
    )
    await add(
      'fast',
      { started_at: at('2026-01-23T10:00:00Z'), duration_seconds: 1.5, records_loaded: 0, etl_name: 'inventario' },
      ['tienda_01'],
    )
    await add(
      'failedSmall',
      { started_at: at('2026-01-24T10:00:00Z'), status: 'failed', duration_seconds: 12, records_loaded: 0 },
      ['tienda_01'],
    )
    await add('running', { started_at: at('2026-01-25T10:00:00Z'), status: 'running', records_loaded: 40 }, [
      'tienda_08',
    ])
    e.queued = await addExecution(db, { status: 'queued', etl_type: 'manual', tienda_ids: ['tienda_08'] })
  })

  it('sorts by each sortable field both ways; ties by id the same way; no value first descending', async () => {
    const cases: [string, string[]][] = [
      ['-started_at', ['queued', 'running', 'failedSmall', 'fast', 'partial', 'failedBig', 'slow']],
      ['started_at', ['slow', 'failedBig', 'partial', 'fast', 'failedSmall', 'running', 'queued']],
      ['-duration_seconds', ['queued', 'running', 'slow', 'partial', 'failedSmall', 'failedBig', 'fast']],
      ['duration_seconds', ['fast', 'failedBig', 'failedSmall', 'partial', 'slow', 'running', 'queued']],
      ['-records_loaded', ['failedBig', 'partial', 'running', 'slow', 'queued', 'failedSmall', 'fast']],
      ['records_loaded', ['fast', 'failedSmall', 'queued', 'slow', 'running', 'partial', 'failedBig']],
    ]
    for (const [sort, names] of cases) {
      const r = await api.call('get', `/api/etl/history?sort=${sort}`)
      expect(r.status, sort).toBe(200)
      expect(ids(r.body), sort).toEqual(names.map((n) => e[n]))
    }
  })

  it('several statuses at once, merged in the order asked, counted and paged', async () => {
    const both = await api.call('get', '/api/etl/history?status=failed,partial')
    expect(ids(both.body)).toEqual([e.failedSmall, e.partial, e.failedBig])
    expect(both.headers.get('x-total-count')).toBe('3')
    const longest = await api.call('get', '/api/etl/history?status=partial,failed&sort=-duration_seconds')
    expect(ids(longest.body)).toEqual([e.partial, e.failedSmall, e.failedBig])
    // Page by page across the merge: each page is the next in order, none repeats.
    const pages = []
    for (const offset of [0, 1, 2, 3]) {
      const r = await api.call(
        'get',
        `/api/etl/history?status=failed,partial&sort=records_loaded&limit=1&offset=${offset}`,
      )
      expect(r.headers.get('x-total-count')).toBe('3')
      pages.push(...ids(r.body))
    }
    expect(pages).toEqual([e.failedSmall, e.partial, e.failedBig])
    const withOthers = await api.call('get', '/api/etl/history?status=failed,success&etl_name=inventario')
    expect(ids(withOthers.body)).toEqual([e.fast])
    expect(withOthers.headers.get('x-total-count')).toBe('1')
  })

  it('finds an execution by id, alone or with other filters', async () => {
    const r = await api.call('get', `/api/etl/history?id=${e.partial}`)
    expect(ids(r.body)).toEqual([e.partial])
    expect(r.headers.get('x-total-count')).toBe('1')
    expect(ids((await api.call('get', `/api/etl/history?id=${e.partial}&status=failed`)).body)).toEqual([])
    expect(ids((await api.call('get', `/api/etl/history?id=${e.partial}&tienda=tienda_08`)).body)).toEqual([e.partial])
    const none = await api.call('get', '/api/etl/history?id=2147483647')
    expect(none.body).toEqual([])
    expect(none.headers.get('x-total-count')).toBe('0')
  })

  it('a store filter with another order keeps its queued runs and its total', async () => {
    const r = await api.call('get', '/api/etl/history?tienda=tienda_08&sort=-records_loaded')
    expect(ids(r.body)).toEqual([e.failedBig, e.partial, e.running, e.queued])
    expect(r.headers.get('x-total-count')).toBe('4')
  })

  it('exports as CSV exactly the list of the same filters and order, with the plan field names', async () => {
    for (const query of [
      '',
      'status=failed,partial&sort=-duration_seconds',
      'tienda=tienda_08',
      'etl_name=ventas&sort=started_at',
    ]) {
      const list = await api.call('get', `/api/etl/history?${query}&limit=200`)
      const res = await api.request(`/api/etl/history.csv?${query}`, {
        headers: { Authorization: `Bearer ${api.token}` },
      })
      expect(res.status, query).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="historial-ejecuciones.csv"')
      const text = await res.text()
      expect(text.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','))
      expect(parseCsv(text), query).toEqual(list.body)
    }
  })

  it('streams any number of rows', async () => {
    await database.sql`
      insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
        tiendas_count, tiendas_exitosas, tiendas_fallidas)
      select 'ventas', 'scheduled', 'success', timestamptz '2025-01-01' + g * interval '1 minute',
        timestamptz '2025-01-01' + g * interval '1 minute' + interval '5 seconds', 5, 'scheduler', 1, 1, 0
      from generate_series(1, 5000) g`
    const res = await api.request('/api/etl/history.csv?status=success', {
      headers: { Authorization: `Bearer ${api.token}` },
    })
    const reader = res.body!.getReader()
    let chunks = 0
    let text = ''
    const decoder = new TextDecoder()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      chunks++
      text += decoder.decode(value, { stream: true })
    }
    const rows = parseCsv(text)
    expect(rows).toHaveLength(5000 + 2)
    expect(chunks).toBeGreaterThan(5) // header, then one chunk per cursor batch
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
  })

  it('refuses bad values of the new parameters, naming them', async () => {
    const cases: [string, number, string, string][] = [
      ['sort=duration', 400, 'sort', 'one_of'],
      ['sort=-id', 400, 'sort', 'one_of'],
      ['status=failed,failed', 400, 'status', 'duplicate'],
      ['status=failed,', 400, 'status', 'one_of'],
      ['status=failed,done', 400, 'status', 'one_of'],
      ['status=failed&status=partial', 400, 'status', 'type'],
      ['id=0', 400, 'id', 'out_of_range'],
      ['id=abc', 400, 'id', 'out_of_range'],
    ]
    for (const [query, status, name, code] of cases) {
      for (const path of ['/api/etl/history', '/api/etl/history.csv']) {
        const r = await api.call('get', `${path}?${query}`)
        expect(r.status, `${path}?${query}`).toBe(status)
        expect((r.body as { 'invalid-params': unknown[] })['invalid-params'], query).toEqual([
          expect.objectContaining({ name, code }),
        ])
      }
    }
    const paged = await api.call('get', '/api/etl/history.csv?limit=10')
    expect(paged.status).toBe(400)
    expect(paged.body).toMatchObject({ 'invalid-params': [{ name: 'limit', code: 'unknown' }] })
    const upsideDown = await api.call('get', '/api/etl/history.csv?fecha_desde=2026-01-27&fecha_hasta=2026-01-26')
    expect(upsideDown.status).toBe(422)
    const noStore = await api.call('get', '/api/etl/history.csv?tienda=tienda_77')
    expect(noStore.body).toMatchObject({ 'invalid-params': [{ name: 'tienda', code: 'unknown_store' }] })
  })
})
