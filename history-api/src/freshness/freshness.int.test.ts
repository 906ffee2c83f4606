// GET /api/etl/freshness: per store × ETL, the last successful window, the lag, the failure
// streak and the newest run; stalest first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../../test/helpers/history-seed.ts'

const NOW = new Date('2026-01-26T12:00:00Z')
const at = (s: string) => new Date(s)

describe('GET /api/etl/freshness', () => {
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
    api = await testApi({ db, clock: () => NOW })
    // tienda_04 runs Stellar (history-seed: every fourth store), so it has no inventario row.
    await addTiendas(db, ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04'])
    const window = async (id: number, desde: string, hasta: string) => {
      await db`update etl_executions set fecha_desde = ${at(desde)}, fecha_hasta = ${at(hasta)} where id = ${id}`
    }
    e.ok01 = await addExecution(db, { started_at: at('2026-01-26T08:00:00Z') }, [{ tienda_id: 'tienda_01' }])
    await window(e.ok01, '2026-01-26T07:30:00Z', '2026-01-26T08:00:00Z')
    for (const hour of ['09', '10']) {
      e[`fail${hour}`] = await addExecution(db, { started_at: at(`2026-01-26T${hour}:00:00Z`), status: 'failed' }, [
        { tienda_id: 'tienda_01', status: 'failed', error_phase: 'extract', error_category: 'vpn_timeout' },
      ])
    }
    e.ok02 = await addExecution(db, { started_at: at('2026-01-26T11:00:00Z') }, [{ tienda_id: 'tienda_02' }])
    await window(e.ok02, '2026-01-26T10:30:00Z', '2026-01-26T11:00:00Z')
    e.inv02 = await addExecution(db, { started_at: at('2026-01-26T11:30:00Z'), etl_name: 'inventario' }, [
      { tienda_id: 'tienda_02' },
    ])
  })

  it('each store × ETL: last successful window, lag, failure streak, newest run; stalest first', async () => {
    const r = await api.call('get', '/api/etl/freshness?etl_name=ventas')
    expect(r.status).toBe(200)
    const rows = r.body as Record<string, unknown>[]
    expect(rows.map((x) => x.tienda_id)).toEqual(['tienda_03', 'tienda_04', 'tienda_01', 'tienda_02'])
    expect(rows[0]).toMatchObject({ ultima_exitosa: null, datos_hasta: null, retraso_segundos: null, racha_fallos: 0 })
    expect(rows[0]!.ultima_ejecucion).toBeNull()
    expect(rows[2]).toEqual({
      tienda_id: 'tienda_01',
      tienda_nombre: 'TIENDA TIENDA_01',
      source_system: 'klk',
      active: true,
      etl_name: 'ventas',
      ultima_exitosa: {
        execution_id: e.ok01,
        fecha_desde: '2026-01-26T07:30:00.000Z',
        fecha_hasta: '2026-01-26T08:00:00.000Z',
        finished_at: '2026-01-26T08:00:10.000Z',
      },
      datos_hasta: '2026-01-26T08:00:00.000Z',
      retraso_segundos: 4 * 3600,
      racha_fallos: 2,
      ultima_ejecucion: { execution_id: e.fail10, status: 'failed', started_at: '2026-01-26T10:00:00.000Z' },
    })
    expect(rows[3]).toMatchObject({ tienda_id: 'tienda_02', retraso_segundos: 3600, racha_fallos: 0 })
  })

  it('inventario reaches as far as its snapshot finished, and only KLK stores have it', async () => {
    const r = await api.call('get', '/api/etl/freshness?etl_name=inventario')
    const rows = r.body as Record<string, unknown>[]
    expect(rows.map((x) => x.tienda_id)).toEqual(['tienda_01', 'tienda_03', 'tienda_02'])
    expect(rows[2]).toMatchObject({ datos_hasta: '2026-01-26T11:30:10.000Z', retraso_segundos: 1790 })
    const all = await api.call('get', '/api/etl/freshness')
    expect((all.body as unknown[]).length).toBe(7)
  })

  it('bad input names the parameter', async () => {
    for (const [query, name] of [
      ['etl_name=nomina', 'etl_name'],
      ['dias=3', 'dias'],
    ]) {
      const r = await api.call('get', `/api/etl/freshness?${query}`)
      expect(r.status).toBe(400)
      expect(r.body).toMatchObject({ 'invalid-params': [{ name }] })
    }
  })
})
