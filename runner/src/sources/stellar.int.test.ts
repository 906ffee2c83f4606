// Stellar stores through the whole runner path: runEtl → the Stellar source (real mssql/tedious)
// → the SQL Server stand-in on loopback → transform → load into a throwaway PostgreSQL, with the
// execution and its detail rows as an operator reads them. Every fault is produced by real
// sockets: a closed port, a listener that never answers, a kernel that drops the SYN.
import pino from 'pino'
import type { Sql } from 'postgres'
import { afterAll, describe, expect } from 'vitest'
import { blackholeListener } from '../../../test/fakes/blackhole.ts'
import { salesFor } from '../../../test/fakes/sales-data.ts'
import { type StellarStore, startStellarStore, type TdsFault } from '../../../test/fakes/tds-server.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addKlkStores, testConfig } from '../../../test/helpers/runner-kit.ts'
import { runEtl } from '../etl/run-etl.ts'

const logger = pino({ level: 'silent' })
const STELLAR_PASSWORD = 'Stellar-S3cret-9d2f'
const WINDOW = { desde: new Date('2026-11-02T12:00:00Z'), hasta: new Date('2026-11-02T14:00:00Z') }

const closers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  await Promise.all(closers.map((fn) => fn().catch(() => {})))
})

const config = (url: string, extra: Record<string, string> = {}) =>
  testConfig(url, {
    SOURCE_CONNECT_TIMEOUT_MS: '400',
    SOURCE_REQUEST_TIMEOUT_MS: '600',
    SOURCE_RETRIES: '0',
    STELLAR_USER: 'etl_reader',
    STELLAR_PASSWORD,
    STELLAR_DATABASE: 'stellar',
    ...extra,
  })

async function addStellarStore(db: Sql, tiendaId: string, fault: TdsFault | null = null): Promise<StellarStore> {
  const store = await startStellarStore({ tiendaId, fault })
  closers.push(() => store.close())
  await registerStellar(db, tiendaId, store.host, store.port)
  return store
}

async function registerStellar(db: Sql, tiendaId: string, host: string, port: number) {
  await db`
    insert into tiendas (id, nombre, source_system, host, port)
    values (${tiendaId}, ${`Stellar ${tiendaId}`}, 'stellar', ${host}, ${port})
    on conflict (id) do update set host = excluded.host, port = excluded.port, active = true`
}

function run(
  db: Sql,
  url: string,
  tiendaIds: string[],
  etlName: 'ventas' | 'inventario' = 'ventas',
  extra: Record<string, string> = {},
) {
  const window = etlName === 'ventas' ? WINDOW : {}
  return runEtl(
    { db, config: config(url, extra), logger },
    { etlName, tiendaIds, ...window, triggeredBy: 'cli', etlType: 'manual' },
  )
}

async function executionOf(db: Sql, id: number) {
  const [execution] = await db`select * from etl_executions where id = ${id}`
  const details = await db`select * from etl_execution_details where execution_id = ${id} order by tienda_id`
  return { execution: execution!, details }
}

const ventasOf = async (db: Sql, tiendaId: string) =>
  Number((await db`select count(*)::int as n from ventas where tienda_id = ${tiendaId}`)[0]!.n)

describe('a healthy Stellar store', () => {
  pgTest(
    'loads exactly the stand-in’s rows for the window; a re-run counts them all as duplicates',
    async ({ db, database }) => {
      const store = await addStellarStore(db, 'tienda_40')
      const expected = salesFor('tienda_40', WINDOW.desde, WINDOW.hasta)
      expect(expected.length).toBeGreaterThan(100)

      const first = await run(db, database.url, ['tienda_40'])
      const { execution, details } = await executionOf(db, first.id)
      expect(execution).toMatchObject({
        status: 'success',
        source_system: 'stellar',
        records_extracted: expected.length,
        records_loaded: expected.length,
        duplicates_skipped: 0,
        tiendas_count: 1,
        tiendas_exitosas: 1,
        error_category: null,
      })
      expect(details).toHaveLength(1)
      expect(details[0]).toMatchObject({
        tienda_id: 'tienda_40',
        source_system: 'stellar',
        status: 'success',
        records_loaded: expected.length,
        server_ip: '127.0.0.1',
        server_port: store.port,
      })
      expect(Number(details[0]!.connection_latency_ms)).toBeGreaterThanOrEqual(0)
      expect(details[0]!.network_diagnostics).toMatchObject({ ip: '127.0.0.1', port: store.port, tcp_connected: true })
      expect(JSON.stringify(details[0]!.network_diagnostics).length).toBeLessThan(1000)

      // What landed is the stand-in's data, line for line.
      const loaded = await db`
      select numero_factura, linea, fecha, codigo_producto, descripcion,
        cantidad::float8 as cantidad, precio_unitario::float8 as precio_unitario, total::float8 as total
      from ventas where tienda_id = 'tienda_40' order by fecha, numero_factura, linea`
      expect(loaded.map((r) => ({ ...r }))).toEqual(expected)

      // The window reached SQL Server as typed parameters of sp_executesql, never inside the text.
      expect(store.queries).toHaveLength(1)
      expect(store.queries[0]!.params).toEqual({ '@desde': WINDOW.desde, '@hasta': WINDOW.hasta })
      expect(store.queries[0]!.statement).toMatch(/fecha >= @desde AND fecha <= @hasta/)
      expect(store.queries[0]!.statement).not.toMatch(/2026/)

      const again = await run(db, database.url, ['tienda_40'])
      expect((await executionOf(db, again.id)).execution).toMatchObject({
        status: 'success',
        records_extracted: expected.length,
        records_loaded: 0,
        duplicates_skipped: expected.length,
      })
      expect(await ventasOf(db, 'tienda_40')).toBe(expected.length)
    },
  )
})

// DESIGN §5, Stellar column. One store per execution, so the execution's dominant error is the store's.
// tcp: what the probe beside the driver's connect saw — it is what tells silent_prelogin
// (db_connection) from a dropped SYN (vpn_timeout), both ConnectionError ETIMEOUT for tedious.
const FAULTS = [
  { fault: 'refuse', tienda: 'tienda_41', category: 'db_connection', tcp: false, why: 'closed port, ECONNREFUSED' },
  { fault: 'silent_prelogin', tienda: 'tienda_42', category: 'db_connection', tcp: true, why: 'login never answered' },
  { fault: 'login_failed', tienda: 'tienda_43', category: 'db_connection', tcp: true, why: 'error 18456, ELOGIN' },
  { fault: 'sql_error', tienda: 'tienda_44', category: 'db_error', tcp: true, why: 'error 208, EREQUEST' },
  { fault: 'stall_query', tienda: 'tienda_45', category: 'db_timeout', tcp: true, why: 'query past requestTimeout' },
  { fault: 'drop_mid_rowset', tienda: 'tienda_46', category: 'db_connection', tcp: true, why: 'socket cut mid-rowset' },
] as const

describe('each fault of the stand-in → the category of DESIGN §5 on the detail row and the execution', () => {
  for (const { fault, tienda, category, tcp, why } of FAULTS) {
    pgTest(`${fault} (${why}) → extract/${category}/stellar_db`, async ({ db, database }) => {
      await addStellarStore(db, tienda, fault)
      const row = await run(db, database.url, [tienda])
      const { execution, details } = await executionOf(db, row.id)
      const error = { error_phase: 'extract', error_category: category, error_source: 'stellar_db' }
      expect(execution).toMatchObject({
        status: 'failed',
        source_system: 'stellar',
        tiendas_count: 1,
        tiendas_fallidas: 1,
        records_loaded: 0,
        ...error,
      })
      expect(details[0]).toMatchObject({ tienda_id: tienda, source_system: 'stellar', status: 'failed', ...error })
      expect(details[0]!.error_message).toBeTruthy()
      expect(details[0]!.network_diagnostics).toMatchObject({ ip: '127.0.0.1', tcp_connected: tcp })
      expect(await ventasOf(db, tienda)).toBe(0)
    })
  }

  pgTest(
    'a TCP connect that never completes (SYN dropped) → extract/vpn_timeout/stellar_db',
    async ({ db, database }) => {
      const blackhole = await blackholeListener('127.0.0.1', 0)
      closers.push(() => blackhole.close())
      await registerStellar(db, 'tienda_47', blackhole.host, blackhole.port)
      const started = performance.now()
      const row = await run(db, database.url, ['tienda_47'])
      const { execution, details } = await executionOf(db, row.id)
      const error = { error_phase: 'extract', error_category: 'vpn_timeout', error_source: 'stellar_db' }
      expect(execution).toMatchObject({ status: 'failed', source_system: 'stellar', ...error })
      expect(details[0]).toMatchObject({ status: 'failed', ...error })
      expect(details[0]!.network_diagnostics).toMatchObject({ tcp_connected: false })
      // Bounded by SOURCE_CONNECT_TIMEOUT_MS (the probe runs beside the driver, not after it).
      expect(performance.now() - started).toBeLessThan(3_000)
    },
  )

  pgTest('the Stellar password never reaches a stored column', async ({ db }) => {
    const executions = await db`select row_to_json(e)::text as t from etl_executions e`
    const details = await db`select row_to_json(d)::text as t from etl_execution_details d`
    const text = [...executions, ...details].map((r) => r.t).join('\n')
    expect(text.length).toBeGreaterThan(0)
    expect(text).not.toContain(STELLAR_PASSWORD)
  })
})

describe('retries', () => {
  pgTest(
    'a connection dropped mid-rowset is retried on a fresh connection and then loads whole',
    async ({ db, database }) => {
      const store = await addStellarStore(db, 'tienda_48', 'drop_mid_rowset')
      const running = run(db, database.url, ['tienda_48'], 'ventas', {
        SOURCE_RETRIES: '1',
        SOURCE_RETRY_BASE_MS: '200',
      })
      // The first attempt's query reaches the store and is cut; the store is healthy for the retry
      // (the backoff is at least 100 ms, far longer than this poll).
      while (store.queries.length === 0) await new Promise((r) => setTimeout(r, 5))
      await store.setFault(null)
      const row = await running
      const expected = salesFor('tienda_48', WINDOW.desde, WINDOW.hasta).length
      const { execution, details } = await executionOf(db, row.id)
      expect(execution).toMatchObject({ status: 'success', records_loaded: expected, duplicates_skipped: 0 })
      expect(details[0]).toMatchObject({ status: 'success', attempts: 2, error_category: null })
      expect(details[0]!.network_diagnostics).toMatchObject({ failed_attempts: ['db_connection:ECONNRESET'] })
      expect(store.queries).toHaveLength(2)
      expect(await ventasOf(db, 'tienda_48')).toBe(expected)
    },
  )
})

describe('mixed runs', () => {
  pgTest(
    '3 KLK + 2 Stellar, one KLK http_401 and one Stellar login_failed → partial, mixed, 5/3/2',
    async ({ db, database }) => {
      const klk = await addKlkStores(db, [
        { tiendaId: 'tienda_51' },
        { tiendaId: 'tienda_52' },
        { tiendaId: 'tienda_53', fault: 'http_401' },
      ])
      closers.push(() => Promise.all(klk.map((s) => s.close())))
      await addStellarStore(db, 'tienda_54')
      await addStellarStore(db, 'tienda_55', 'login_failed')

      const row = await run(db, database.url, ['tienda_51', 'tienda_52', 'tienda_53', 'tienda_54', 'tienda_55'])
      const { execution, details } = await executionOf(db, row.id)
      const healthy = ['tienda_51', 'tienda_52', 'tienda_54']
      const lines = healthy.map((t) => salesFor(t, WINDOW.desde, WINDOW.hasta).length)
      const total = lines.reduce((a, b) => a + b, 0)
      expect(execution).toMatchObject({
        status: 'partial',
        source_system: 'mixed',
        tiendas_count: 5,
        tiendas_exitosas: 3,
        tiendas_fallidas: 2,
        records_extracted: total,
        records_loaded: total,
        duplicates_skipped: 0,
      })
      // Two failures of different categories, one each: the dominant error is the earliest of them.
      expect(['api_auth', 'db_connection']).toContain(execution.error_category)
      expect(
        details.map((d) => [
          d.tienda_id,
          d.source_system,
          d.status,
          d.error_category,
          d.error_source,
          d.records_loaded,
        ]),
      ).toEqual([
        ['tienda_51', 'klk', 'success', null, null, lines[0]],
        ['tienda_52', 'klk', 'success', null, null, lines[1]],
        ['tienda_53', 'klk', 'failed', 'api_auth', 'klk_api', 0],
        ['tienda_54', 'stellar', 'success', null, null, lines[2]],
        ['tienda_55', 'stellar', 'failed', 'db_connection', 'stellar_db', 0],
      ])
      for (const t of healthy) expect(await ventasOf(db, t)).toBe(salesFor(t, WINDOW.desde, WINDOW.hasta).length)
    },
  )
})

// Decision: the plan's inventario ETL is KLK's (etl_inventario_klk_postgres.py) and Stellar's stock
// tables are not part of it, so the Stellar source has no inventario feed and run-etl leaves Stellar
// stores out of inventario runs. They get no detail row at all: a `skipped` row would count against
// the run (the roll-up counts every store that is not a success as fallida), and nothing was due.
describe('inventario', () => {
  pgTest(
    'Stellar stores are left out of an inventario run: never contacted, the run is a success',
    async ({ db, database }) => {
      const klk = await addKlkStores(db, [{ tiendaId: 'tienda_61' }])
      closers.push(() => Promise.all(klk.map((s) => s.close())))
      await addStellarStore(db, 'tienda_62', 'login_failed')
      const row = await run(db, database.url, ['tienda_61', 'tienda_62'], 'inventario')
      const { execution, details } = await executionOf(db, row.id)
      expect(execution).toMatchObject({
        status: 'success',
        source_system: 'klk',
        tiendas_count: 1,
        tiendas_fallidas: 0,
      })
      expect(execution.tienda_ids).toEqual(['tienda_61'])
      expect(details.map((d) => [d.tienda_id, d.status])).toEqual([['tienda_61', 'success']])
    },
  )

  pgTest(
    'an inventario run of Stellar stores only is refused before anything is written, naming why',
    async ({ db, database }) => {
      await addStellarStore(db, 'tienda_63')
      const before = await db`select count(*)::int as n from etl_executions`
      await expect(run(db, database.url, ['tienda_63'], 'inventario')).rejects.toThrow(/tienda_63.*inventario/i)
      expect(await db`select count(*)::int as n from etl_executions`).toEqual(before)
    },
  )
})
