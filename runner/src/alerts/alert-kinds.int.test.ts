// The alerts of issue 11 (migration 070) against real PostgreSQL: network incidents and silent data
// loss raised by real runs (runEtl against the KLK simulator: blackholed ports, empty answers, thin
// stores), baselines and flapping histories seeded as the tracker writes its rows.
import pino from 'pino'
import type { Sql } from 'postgres'
import { describe, expect } from 'vitest'
import { salesFor } from '../../../test/fakes/sales-data.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addStore, fastConfig, runVentas } from '../../../test/helpers/etl-kit.ts'
import { addExecution, addTiendas } from '../../../test/helpers/history-seed.ts'
import { evaluateAlerts } from './evaluate-alerts.ts'

async function reset(db: Sql) {
  await db`delete from etl_executions`
  await db`delete from etl_alerts`
  await db`update tiendas set active = false`
}

type AlertView = {
  id: number
  tipo: string
  tienda_id: string | null
  valor: number
  umbral: number
  mensaje: string
  detalle: Record<string, unknown> | null
  activa: boolean
}

const alertsOf = (db: Sql, tipos: string[]) => db<AlertView[]>`
  select id, tipo, tienda_id, valor::float8 as valor, umbral::float8 as umbral, mensaje, detalle,
    resuelta_at is null as activa
  from etl_alerts where tipo in ${db(tipos)} order by id`

const STORE_ALERTS = ['tienda_consecutive_failures', 'tienda_intermitente', 'incidente_red', 'tienda_sin_datos']

describe('incidente_red', () => {
  pgTest(
    'five stores timing out in one run: one incident naming them, their per-store alerts folded; a run reaching them resolves it',
    async ({ db, database }) => {
      await reset(db)
      const down = ['tienda_n1', 'tienda_n2', 'tienda_n3', 'tienda_n4', 'tienda_n5']
      const stores = await Promise.all([
        ...down.map((tiendaId) => addStore(db, { tiendaId, fault: 'slow_connect' })),
        addStore(db, { tiendaId: 'tienda_ok' }),
        // Failing too, but reached (the API answers 500): its own problem, not the link's.
        addStore(db, { tiendaId: 'tienda_500', fault: 'http_500' }),
      ])
      const all = [...down, 'tienda_ok', 'tienda_500']
      const config = fastConfig(database.url)
      try {
        const first = await runVentas(db, config, all)
        expect(first.status).toBe('partial')
        const stored = await db`
          select count(*)::int as n from etl_execution_details
          where execution_id = ${first.id} and error_category = 'vpn_timeout'`
        expect(stored[0]!.n).toBe(5)

        const [incident, ...others] = await alertsOf(db, STORE_ALERTS)
        expect(others).toEqual([])
        expect(incident).toMatchObject({
          tipo: 'incidente_red',
          tienda_id: null,
          valor: 71.43,
          umbral: 30,
          activa: true,
        })
        expect(incident!.detalle).toEqual({
          tiendas: down.map((id) => ({ tienda_id: id, tienda_nombre: id.toUpperCase() })),
          tiendas_afectadas: 5,
          tiendas_intentadas: 7,
          tiendas_activas: 7,
          porcentaje_cadena: 71.43,
          execution_id: first.id,
        })
        expect(incident!.mensaje).toBe(
          'Incidente de red en ventas: 5 de 7 tiendas sin conexión (71.4 % de la cadena): ' +
            'TIENDA_N1, TIENDA_N2, TIENDA_N3, TIENDA_N4, TIENDA_N5',
        )

        // Five more runs: every store of the incident is past the consecutive threshold (6 > 5), yet
        // the only per-store alert is the one of the store the network did not explain.
        for (let i = 0; i < 5; i++) await runVentas(db, config, all)
        expect((await alertsOf(db, STORE_ALERTS)).map((a) => [a.tipo, a.tienda_id, a.activa])).toEqual([
          ['incidente_red', null, true],
          ['tienda_consecutive_failures', 'tienda_500', true],
        ])

        // A run that reaches only two of the five: still most of them down, still open.
        await Promise.all(stores.slice(0, 2).map((s) => s.setFault(null)))
        await runVentas(db, config, all)
        expect((await alertsOf(db, ['incidente_red'])).map((a) => a.activa)).toEqual([true])

        await Promise.all(stores.slice(2, 5).map((s) => s.setFault(null)))
        const back = await runVentas(db, config, all)
        expect(back.status).toBe('partial') // tienda_500 still answers 500
        expect(await alertsOf(db, ['incidente_red'])).toMatchObject([{ id: incident!.id, activa: false }])
        // No storm after the incident either: the stores are back, their streaks are over.
        expect((await alertsOf(db, STORE_ALERTS)).filter((a) => a.activa).map((a) => a.tienda_id)).toEqual([
          'tienda_500',
        ])
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    },
  )

  pgTest('two stores down, or three of twelve (25 %), is no incident', async ({ db }) => {
    await reset(db)
    const ids = Array.from({ length: 12 }, (_, i) => `tienda_${String(i + 1).padStart(2, '0')}`)
    await addTiendas(db, ids)
    const deps = { db, config: fastConfig('postgres://unused'), logger: pino({ level: 'silent' }) }
    const run = (failing: number) =>
      addExecution(
        db,
        { status: 'partial' },
        ids.map((tienda_id, i) =>
          i < failing
            ? { tienda_id, status: 'failed' as const, error_phase: 'extract', error_category: 'vpn_unreachable' }
            : { tienda_id, status: 'success' as const, records_loaded: 100 },
        ),
      )
    await run(2)
    await evaluateAlerts(deps)
    await run(3)
    await evaluateAlerts(deps)
    expect(await alertsOf(db, ['incidente_red'])).toEqual([])
    await run(4) // 33 %
    expect(await evaluateAlerts(deps)).toMatchObject([{ tipo: 'incidente_red', cambio: 'abierta', valor: 33.33 }])
  })

  pgTest('a Stellar db_connection counts as network only before the login', async ({ db }) => {
    await reset(db)
    const ids = ['tienda_s1', 'tienda_s2', 'tienda_s3', 'tienda_s4', 'tienda_s5', 'tienda_s6']
    await addTiendas(db, ids)
    const deps = { db, config: fastConfig('postgres://unused'), logger: pino({ level: 'silent' }) }
    const id = await addExecution(
      db,
      { status: 'failed' },
      ids.map((tienda_id) => ({
        tienda_id,
        status: 'failed' as const,
        error_phase: 'extract',
        error_category: 'db_connection',
      })),
    )
    // As the Stellar source records them (TiendaNetworkDiagnostics): two refused connections and a
    // reset before any TCP session; a refused login and two logins never answered on an open socket.
    const diagnostics: Record<string, object> = {
      tienda_s1: { error_code: 'ECONNREFUSED', tcp_connected: false },
      tienda_s2: { error_code: 'ECONNREFUSED', tcp_connected: false },
      tienda_s3: { error_code: 'ECONNRESET' },
      tienda_s4: { error_code: 'ELOGIN', tcp_connected: true },
      tienda_s5: { error_code: 'ETIMEOUT', tcp_connected: true },
      tienda_s6: { error_code: 'ETIMEOUT', tcp_connected: true },
    }
    for (const [tienda_id, d] of Object.entries(diagnostics)) {
      await db`
        update etl_execution_details set network_diagnostics = ${db.json({ ip: '10.8.0.9', port: 1433, latency_ms: null, ...d })}
        where execution_id = ${id} and tienda_id = ${tienda_id}`
    }
    const [incident] = (await evaluateAlerts(deps)).filter((c) => c.tipo === 'incidente_red')
    expect(incident?.detalle).toMatchObject({
      tiendas: ['tienda_s1', 'tienda_s2', 'tienda_s3'].map((tienda_id) => ({ tienda_id })),
      tiendas_afectadas: 3,
      tiendas_intentadas: 6,
    })
    expect(incident?.valor).toBe(50)
  })
})

const HOUR = 3_600_000
const WEEK = 7 * 24 * HOUR
// Monday 2 November 2026, 10:00–11:00 in Caracas (UTC−4), the chain's zone.
const MONDAY_10 = { desde: new Date('2026-11-02T14:00:00Z'), hasta: new Date('2026-11-02T15:00:00Z') }

/** `weeks` earlier Monday 10:00 windows, each loaded by a scheduled run with the given rows per store. */
async function seedMondays(db: Sql, weeks: number, rows: Record<string, (week: number) => number>) {
  for (let k = 1; k <= weeks; k++) {
    const desde = new Date(MONDAY_10.desde.getTime() - k * WEEK)
    const hasta = new Date(desde.getTime() + HOUR)
    await addExecution(
      db,
      { status: 'success', started_at: new Date(hasta.getTime() + 2000), fecha_desde: desde, fecha_hasta: hasta },
      Object.entries(rows).map(([tienda_id, f]) => {
        // Overlapping windows re-read lines: what the store delivered is new rows plus duplicates.
        const n = f(k)
        return { tienda_id, status: 'success' as const, records_loaded: n - 40, duplicates_skipped: 40 }
      }),
    )
  }
}

describe('tienda_sin_datos', () => {
  pgTest(
    'a Monday 10:00 that loads 0 or 150 rows where eight Mondays loaded ~1,000: expected and actual; two weeks of history: nothing',
    async ({ db, database }) => {
      await reset(db)
      // 150 lines in the hour: 1 to 3 lines per invoice, ~75 invoices.
      const thin = { tiendaId: 'tienda_thin', invoicesPerHour: 75 }
      const thinLines = salesFor(thin.tiendaId, MONDAY_10.desde, MONDAY_10.hasta, thin.invoicesPerHour).length
      const normalLines = salesFor('tienda_norm', MONDAY_10.desde, MONDAY_10.hasta).length
      expect(thinLines).toBeGreaterThan(100)
      expect(thinLines).toBeLessThan(200)
      const stores = await Promise.all([
        addStore(db, { tiendaId: 'tienda_zero', fault: 'empty' }),
        addStore(db, thin),
        addStore(db, { tiendaId: 'tienda_norm' }),
        addStore(db, { tiendaId: 'tienda_new', fault: 'empty' }),
      ])
      const around = (base: number) => (week: number) => base + ((week * 37) % 41) - 20
      await seedMondays(db, 8, {
        tienda_zero: around(1000),
        tienda_thin: around(1000),
        tienda_norm: around(normalLines),
      })
      await seedMondays(db, 2, { tienda_new: around(1000) })
      // Other hours and weekdays do not count: a busy Saturday at 10:00 is no baseline for Monday.
      for (let k = 1; k <= 8; k++) {
        const desde = new Date(MONDAY_10.desde.getTime() - k * WEEK + 5 * 24 * HOUR)
        await addExecution(
          db,
          { status: 'success', started_at: desde, fecha_desde: desde, fecha_hasta: new Date(desde.getTime() + HOUR) },
          [{ tienda_id: 'tienda_new', status: 'success', records_loaded: 1000 }],
        )
      }
      const config = fastConfig(database.url)
      try {
        const run = await runVentas(db, config, ['tienda_zero', 'tienda_thin', 'tienda_norm', 'tienda_new'], MONDAY_10)
        expect(run.status).toBe('success')
        const loaded = await db`
          select tienda_id, records_loaded from etl_execution_details where execution_id = ${run.id} order by tienda_id`
        expect(loaded).toEqual([
          { tienda_id: 'tienda_new', records_loaded: 0 },
          { tienda_id: 'tienda_norm', records_loaded: normalLines },
          { tienda_id: 'tienda_thin', records_loaded: thinLines },
          { tienda_id: 'tienda_zero', records_loaded: 0 },
        ])

        const raised = await alertsOf(db, ['tienda_sin_datos'])
        expect(raised.map((a) => a.tienda_id)).toEqual(['tienda_thin', 'tienda_zero'])
        // around(1000) over weeks 1..8 → 1000 + {17, 13, 9, 5, 1, -3, -7, -11}; median 1003.
        const expected = {
          esperado: 1003,
          fraccion: 0.2,
          semanas: 8,
          muestras: 8,
          execution_id: run.id,
          ventana_desde: '2026-11-02T14:00:00.000Z',
          ventana_hasta: '2026-11-02T15:00:00.000Z',
        }
        const [thinAlert, zeroAlert] = raised
        expect(zeroAlert).toMatchObject({ valor: 0, umbral: 200.6, activa: true, detalle: { ...expected, actual: 0 } })
        expect(thinAlert).toMatchObject({
          valor: thinLines,
          umbral: 200.6,
          detalle: { ...expected, actual: thinLines },
        })
        expect(zeroAlert!.mensaje).toBe(
          'La tienda TIENDA_ZERO cargó 0 filas en ventas; lo normal para ese día y hora es 1003.00 (mediana de 8 semanas)',
        )

        // Failing runs say nothing about the missing rows: the alert stays open through them.
        for (let i = 0; i < 10; i++) {
          await addExecution(db, { status: 'failed' }, [
            { tienda_id: 'tienda_zero', status: 'failed', error_phase: 'extract', error_category: 'api_error' },
          ])
        }
        await evaluateAlerts({ db, config, logger: pino({ level: 'silent' }) })
        expect((await alertsOf(db, ['tienda_sin_datos'])).map((a) => [a.tienda_id, a.activa])).toEqual([
          ['tienda_thin', true],
          ['tienda_zero', true],
        ])

        // The POS exports again and the baseline is what the store now sells: resolved.
        await stores[0]!.setFault(null)
        const zeroLines = salesFor('tienda_zero', MONDAY_10.desde, MONDAY_10.hasta).length
        await db`
          update etl_execution_details set records_loaded = ${zeroLines}, duplicates_skipped = 0
          where tienda_id = 'tienda_zero' and execution_id <> ${run.id}`
        const again = await runVentas(db, config, ['tienda_zero'], MONDAY_10)
        expect(again.status).toBe('success')
        expect((await alertsOf(db, ['tienda_sin_datos'])).map((a) => [a.tienda_id, a.activa])).toEqual([
          ['tienda_thin', true],
          ['tienda_zero', false],
        ])
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    },
  )
})

describe('tienda_intermitente', () => {
  pgTest(
    '4 failures in the last 10 runs, never 2 in a row → tienda_intermitente; a store simply down is not',
    async ({ db }) => {
      await reset(db)
      await addTiendas(db, ['tienda_fl', 'tienda_3f', 'tienda_dn'])
      const deps = { db, config: fastConfig('postgres://unused'), logger: pino({ level: 'silent' }) }
      // Oldest first. tienda_dn: down for its last 4 runs (one burst: the consecutive alert's business).
      const patterns: Record<string, string> = {
        tienda_fl: 'FSFSSFSSFS',
        tienda_3f: 'FSSFSSFSSS',
        tienda_dn: 'SSSSSSFFFF',
      }
      const t0 = Date.now() - 10 * HOUR
      for (let i = 0; i < 10; i++) {
        await addExecution(
          db,
          { status: 'partial', started_at: new Date(t0 + i * HOUR) },
          Object.entries(patterns).map(([tienda_id, p]) =>
            p[i] === 'F'
              ? { tienda_id, status: 'failed' as const, error_phase: 'extract', error_category: 'api_error' }
              : { tienda_id, status: 'success' as const, records_loaded: 10 },
          ),
        )
      }
      const changes = await evaluateAlerts(deps)
      expect(changes.filter((c) => c.tipo !== 'success_rate_low')).toMatchObject([
        {
          cambio: 'abierta',
          tipo: 'tienda_intermitente',
          tienda_id: 'tienda_fl',
          valor: 4,
          umbral: 4,
          mensaje:
            'La tienda TIENDA TIENDA_FL falló 4 de sus últimas 10 ejecuciones de ventas (nunca más de 1 seguidas)',
          detalle: { fallos: 4, ejecuciones: 10, racha_maxima: 1, execution_ids: expect.any(Array) },
        },
      ])
      const flapping = changes.find((c) => c.tipo === 'tienda_intermitente')!
      expect(flapping.detalle!.execution_ids).toHaveLength(4)

      // One more good run pushes the oldest failure out of the window: 3 of 10, resolved.
      await addExecution(db, { status: 'success', started_at: new Date(t0 + 10 * HOUR) }, [
        { tienda_id: 'tienda_fl', status: 'success', records_loaded: 10 },
      ])
      expect((await evaluateAlerts(deps)).filter((c) => c.tipo === 'tienda_intermitente')).toMatchObject([
        { cambio: 'resuelta', id: flapping.id },
      ])
    },
  )
})
