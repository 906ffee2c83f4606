// The store calendar end to end: closures entered through the API (every response validated against
// openapi.yaml), real runs by the runner's runEtl against KLK simulator stores, and what the history,
// the gaps, the alerts and the statistics rollups then say. A store closed for a window is not
// contacted and is recorded `closed`; a closure entered after the fact turns the failures it covers
// into `closed` (and back when it is removed), with the execution's counts and status following.
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evaluateAlertsAfterRun } from '../../../runner/src/alerts/evaluate-alerts.ts'
import type { RunnerConfig } from '../../../runner/src/config.ts'
import type { KlkStore } from '../../../test/fakes/klk-simulator.ts'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addStore, closedPort, fastConfig, registerStore, runVentas } from '../../../test/helpers/etl-kit.ts'
import { expectStoresAccountedFor } from '../../../test/helpers/invariants.ts'
import { rollupsMatchRebuild } from '../../../test/helpers/rollups.ts'

type Detail = {
  status: string
  tiendas_count: number
  tiendas_exitosas: number
  tiendas_fallidas: number
  tiendas_cerradas: number
  error_category: string | null
  tiendas_detail: { tienda_id: string; status: string; error_category: string | null; attempts: number }[]
}
type Gap = { id: number; tienda_id: string; recovered_at: string | null }

const silent = pino({ level: 'silent' })

describe('store closures (GET/POST/DELETE /api/etl/closures)', () => {
  let database: TestDatabase
  let api: TestApi
  let config: RunnerConfig
  const stores: KlkStore[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    const db = database.sql
    stores.push(await addStore(db, { tiendaId: 'tienda_51' }), await addStore(db, { tiendaId: 'tienda_52' }))
    // A store behind a VPN that is down: every connect is refused.
    await registerStore(db, { id: 'tienda_53', host: '127.0.0.1', port: await closedPort() })
    api = await testApi({ db })
    config = fastConfig(database.url, { ALERT_MAX_CONSECUTIVE_FAILURES: '2' })
  })
  afterAll(async () => {
    await api?.close()
    await Promise.all(stores.map((s) => s.close()))
    await database?.drop()
  })

  const detail = async (id: number) => {
    const res = await api.call('get', `/api/etl/history/${id}`)
    expect(res.status).toBe(200)
    return res.body as Detail
  }
  const store = (d: Detail, id: string) => d.tiendas_detail.find((t) => t.tienda_id === id)!
  const pendingGaps = async () => {
    const res = await api.call('get', '/api/etl/gaps?estado=pendiente')
    expect(res.status).toBe(200)
    return (res.body as Gap[]).map((g) => `${g.id}:${g.tienda_id}`)
  }
  const close = (body: Record<string, unknown>) => api.call('post', '/api/etl/closures', { body })

  it('a store closed for the window is not contacted, is recorded closed, and the run succeeds without it', async () => {
    const db = database.sql
    const created = await close({
      tienda_id: 'tienda_52',
      fecha_desde: '2026-11-02',
      fecha_hasta: '2026-11-02',
      motivo: 'inventario',
      nota: 'Conteo anual',
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      cierre: {
        tienda_id: 'tienda_52',
        tienda_nombre: 'TIENDA_52',
        fecha_desde: '2026-11-02',
        fecha_hasta: '2026-11-02',
        motivo: 'inventario',
        nota: 'Conteo anual',
        creado_por: expect.any(String),
      },
      tiendas_reclasificadas: 0,
    })

    const run = await runVentas(db, config, ['tienda_51', 'tienda_52'])
    expect(stores[1]!.requests, 'the closed store was contacted').toBe(0)
    expect(stores[0]!.requests).toBeGreaterThan(0)
    const d = await detail(run.id)
    expect(d).toMatchObject({
      status: 'success',
      tiendas_count: 2,
      tiendas_exitosas: 1,
      tiendas_fallidas: 0,
      tiendas_cerradas: 1,
    })
    expect(store(d, 'tienda_52')).toMatchObject({ status: 'closed', error_category: null, attempts: 0 })
    await expectStoresAccountedFor(db, run.id)
    const [loaded] = await db`select count(*)::int as n from ventas where tienda_id = 'tienda_52'`
    expect(loaded).toEqual({ n: 0 })
  })

  it('a closure entered after the failures makes them closed: no gap, no alert, the run a success; removing it brings them back', async () => {
    const db = database.sql
    // Three failed runs of the unreachable store → a consecutive-failures alert (threshold 2) and three gaps.
    const runs = []
    for (let i = 0; i < 3; i++) runs.push(await runVentas(db, config, ['tienda_51', 'tienda_53']))
    await evaluateAlertsAfterRun({ db, config, logger: silent })
    const open = () =>
      db`select tipo from etl_alerts where tienda_id = 'tienda_53' and resuelta_at is null order by tipo`
    expect(await open()).toEqual([{ tipo: 'tienda_consecutive_failures' }])
    for (const r of runs) {
      expect(await detail(r.id)).toMatchObject({ status: 'partial', tiendas_fallidas: 1, tiendas_cerradas: 0 })
    }
    const gapsBefore = await pendingGaps()
    expect(gapsBefore).toEqual(expect.arrayContaining(runs.map((r) => `${r.id}:tienda_53`)))

    // Works at the store: closed from the day before the window through the window's (store-local) day.
    const created = await close({
      tienda_id: 'tienda_53',
      fecha_desde: '2026-11-01',
      fecha_hasta: '2026-11-02',
      motivo: 'obras',
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ tiendas_reclasificadas: 3, cierre: { nota: null } })
    for (const r of runs) {
      const d = await detail(r.id)
      expect(d).toMatchObject({
        status: 'success',
        tiendas_exitosas: 1,
        tiendas_fallidas: 0,
        tiendas_cerradas: 1,
        error_category: null,
      })
      // Reclassified, not rewritten: the store's own error stays for the record.
      expect(store(d, 'tienda_53')).toMatchObject({ status: 'closed', error_category: 'vpn_unreachable' })
    }
    expect(await pendingGaps()).toEqual([])
    await evaluateAlertsAfterRun({ db, config, logger: silent })
    expect(await open()).toEqual([])
    await rollupsMatchRebuild(db)

    const closureId = (created.body as { cierre: { id: number } }).cierre.id
    const removed = await api.call('delete', `/api/etl/closures/${closureId}`)
    expect(removed.status).toBe(200)
    expect(removed.body).toEqual({ id: closureId, tiendas_reclasificadas: 3 })
    for (const r of runs) {
      const d = await detail(r.id)
      expect(d).toMatchObject({ status: 'partial', tiendas_fallidas: 1, tiendas_cerradas: 0 })
      expect(store(d, 'tienda_53')).toMatchObject({ status: 'failed', error_category: 'vpn_unreachable' })
    }
    expect(await pendingGaps()).toEqual(gapsBefore)
    await rollupsMatchRebuild(db)
    expect((await api.call('delete', `/api/etl/closures/${closureId}`)).status).toBe(404)
  })

  it('closure days are the chain’s local days: the day before the window’s local date does not cover it', async () => {
    const db = database.sql
    // WINDOW is 10:00–10:30 UTC on 2 November = 06:00–06:30 in America/Caracas (the default TZ_TIENDAS).
    const created = await close({
      tienda_id: 'tienda_51',
      fecha_desde: '2026-10-31',
      fecha_hasta: '2026-11-01',
      motivo: 'feriado',
    })
    expect(created.status).toBe(201)
    const run = await runVentas(db, config, ['tienda_51'])
    expect(await detail(run.id)).toMatchObject({ status: 'success', tiendas_exitosas: 1, tiendas_cerradas: 0 })
    // …while a window at 22:00 local on 1 November (02:00 UTC on the 2nd) lies inside it.
    const late = await runVentas(db, config, ['tienda_51'], {
      desde: new Date('2026-11-02T02:00:00Z'),
      hasta: new Date('2026-11-02T02:30:00Z'),
    })
    expect(await detail(late.id)).toMatchObject({ status: 'success', tiendas_exitosas: 0, tiendas_cerradas: 1 })
  })

  it('lists closures newest first, filtered by store and by overlapping dates', async () => {
    const all = await api.call('get', '/api/etl/closures')
    expect(all.status).toBe(200)
    const list = all.body as { tienda_id: string; fecha_desde: string }[]
    expect(list.map((c) => c.fecha_desde)).toEqual([...list.map((c) => c.fecha_desde)].sort().reverse())
    expect(list.map((c) => c.tienda_id)).toEqual(expect.arrayContaining(['tienda_51', 'tienda_52']))
    const one = await api.call('get', '/api/etl/closures?tienda=tienda_52')
    expect((one.body as { tienda_id: string }[]).map((c) => c.tienda_id)).toEqual(['tienda_52'])
    const window = await api.call('get', '/api/etl/closures?desde=2026-11-02&hasta=2026-11-30')
    expect((window.body as { tienda_id: string }[]).map((c) => c.tienda_id)).toEqual(['tienda_52'])
  })

  it('refuses bad closures naming the field, and writes nothing', async () => {
    const db = database.sql
    const [before] = await db`select count(*)::int as n from tienda_cierres`
    const base = { tienda_id: 'tienda_51', fecha_desde: '2026-12-24', fecha_hasta: '2026-12-25', motivo: 'feriado' }
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ ...base, fecha_hasta: '2026-12-23' }, 422, 'fecha_desde', 'after_end'],
      [{ ...base, fecha_hasta: '2027-12-26' }, 422, 'fecha_hasta', 'window_too_long'],
      [{ ...base, tienda_id: 'tienda_99' }, 422, 'tienda_id', 'unknown_store'],
      [{ ...base, motivo: 'vacaciones' }, 400, 'motivo', 'one_of'],
      [{ ...base, fecha_desde: '24/12/2026' }, 400, 'fecha_desde', 'format'],
      [{ ...base, nota: 'x'.repeat(501) }, 400, 'nota', 'size'],
      [{ ...base, extra: 1 }, 400, 'extra', 'unknown'],
    ]
    for (const [body, status, name, code] of cases) {
      const res = await close(body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      expect((res.body as { 'invalid-params': { name: string; code: string }[] })['invalid-params']).toContainEqual(
        expect.objectContaining({ name, code }),
      )
    }
    expect((await api.call('get', '/api/etl/closures?desde=2026-12-02&hasta=2026-12-01')).status).toBe(422)
    expect((await api.call('delete', '/api/etl/closures/0')).status).toBe(400)
    const [after] = await db`select count(*)::int as n from tienda_cierres`
    expect(after).toEqual(before)
  })
})
