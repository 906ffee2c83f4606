// GET /api/etl/alerts against real PostgreSQL: rows as the runner's etl_evaluate_alerts() writes
// them, every response validated against openapi.yaml by the test client.
import type { Sql } from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../../test/helpers/history-seed.ts'
import type { Alert } from './alerts.schemas.ts'

type AlertSeed = {
  tipo: Alert['tipo']
  etl_name: Alert['etl_name']
  tienda_id?: string
  detectada_at: string
  resuelta_at?: string
}

async function addAlert(db: Sql, a: AlertSeed) {
  const [row] = await db<{ id: number }[]>`
    insert into etl_alerts (tipo, etl_name, tienda_id, mensaje, valor, umbral, detectada_at, ultima_vez_at, resuelta_at)
    values (${a.tipo}, ${a.etl_name}, ${a.tienda_id ?? null}, ${`alerta ${a.tipo} ${a.etl_name}`},
      ${a.tipo === 'success_rate_low' ? 72.5 : 6}, ${a.tipo === 'success_rate_low' ? 80 : 5},
      ${a.detectada_at}, ${a.resuelta_at ?? a.detectada_at}, ${a.resuelta_at ?? null})
    returning id`
  return row!.id
}

describe('GET /api/etl/alerts', () => {
  let database: TestDatabase
  let api: TestApi
  const ids: Record<string, number> = {}

  beforeAll(async () => {
    database = await createTestDatabase()
    api = await testApi({ db: database.sql })
    const db = database.sql
    ids.oldResolved = await addAlert(db, {
      tipo: 'success_rate_low',
      etl_name: 'inventario',
      detectada_at: '2026-01-27T08:00:00Z',
      resuelta_at: '2026-01-27T20:00:00Z',
    })
    ids.oldActive = await addAlert(db, {
      tipo: 'success_rate_low',
      etl_name: 'ventas',
      detectada_at: '2026-01-26T09:00:00Z',
    })
    ids.newActive = await addAlert(db, {
      tipo: 'tienda_consecutive_failures',
      etl_name: 'ventas',
      tienda_id: 'tienda_08',
      detectada_at: '2026-01-28T12:00:45Z',
    })
    ids.newResolved = await addAlert(db, {
      tipo: 'tienda_consecutive_failures',
      etl_name: 'inventario',
      tienda_id: 'tienda_03',
      detectada_at: '2026-01-28T13:00:00Z',
      resuelta_at: '2026-01-28T14:00:00Z',
    })
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  const listed = async (query = '') => {
    const r = await api.call('get', `/api/etl/alerts${query}`)
    expect(r.status, query).toBe(200)
    return r.body as Alert[]
  }

  it('lists active alerts first, then newest detected first, in the contract’s shape', async () => {
    const all = await listed()
    expect(all.map((a) => a.id)).toEqual([ids.newActive, ids.oldActive, ids.newResolved, ids.oldResolved])
    expect(all[0]).toEqual({
      id: ids.newActive,
      tipo: 'tienda_consecutive_failures',
      etl_name: 'ventas',
      tienda_id: 'tienda_08',
      mensaje: 'alerta tienda_consecutive_failures ventas',
      valor: 6,
      umbral: 5,
      detectada_at: '2026-01-28T12:00:45.000Z',
      resuelta_at: null,
      ultima_vez_at: '2026-01-28T12:00:45.000Z',
      detalle: null,
    })
    expect(all[3]).toMatchObject({ tienda_id: null, valor: 72.5, umbral: 80, resuelta_at: '2026-01-27T20:00:00.000Z' })
  })

  it('filters by estado', async () => {
    expect((await listed('?estado=activa')).map((a) => a.id)).toEqual([ids.newActive, ids.oldActive])
    expect((await listed('?estado=resuelta')).map((a) => a.id)).toEqual([ids.newResolved, ids.oldResolved])
  })

  it('serves what the runner’s evaluation writes', async () => {
    const db = database.sql
    await addTiendas(db, ['tienda_01'])
    await addExecution(db, { status: 'failed' }, [{ tienda_id: 'tienda_01', status: 'failed' }])
    await addExecution(db, { status: 'success' }, [{ tienda_id: 'tienda_01', status: 'success' }])
    await db`update etl_alerts set resuelta_at = now() where resuelta_at is null`
    const [opened] = await db`select id from etl_evaluate_alerts(80, 5)`
    const active = await listed('?estado=activa')
    expect(active).toEqual([
      expect.objectContaining({ id: opened!.id, tipo: 'success_rate_low', etl_name: 'ventas', valor: 50, umbral: 80 }),
    ])
    expect(active[0]!.mensaje).toMatch(/^Tasa de éxito de ventas en las últimas 24 h: 50.00 %/)
  })

  it('400 naming the parameter for an unknown estado or an unknown parameter; 401 without a token', async () => {
    for (const [query, name] of [
      ['?estado=abierta', 'estado'],
      ['?estado=', 'estado'],
      ['?etl=ventas', 'etl'],
      ['?tipo=otra', 'tipo'],
      ['?limit=501', 'limit'],
      ['?tienda=TIENDA%20X', 'tienda'],
      ["?estado=activa'%20or%201=1--", 'estado'],
    ]) {
      const r = await api.call('get', `/api/etl/alerts${query}`)
      expect(r.status, query).toBe(400)
      expect(r.body, query).toMatchObject({ 'invalid-params': [{ name }] })
    }
    expect((await api.call('get', '/api/etl/alerts', { token: null })).status).toBe(401)
    const unknown = await api.call('get', '/api/etl/alerts?tienda=tienda_zz')
    expect(unknown).toMatchObject({ status: 422, body: { 'invalid-params': [{ name: 'tienda' }] } })
  })
})
