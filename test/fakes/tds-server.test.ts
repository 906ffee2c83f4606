// The stand-in is only useful if the real driver accepts it and fails on it the way it fails on
// a real SQL Server: every case here goes through mssql 12 / tedious over loopback sockets, and
// the error shapes asserted are the ones classifyError maps (DESIGN §5).
import sql from 'mssql'
import { test as base, describe, expect } from 'vitest'
import { salesFor } from './sales-data.ts'
import { type StellarStore, startStellarStore, startTdsServer, type TdsFault } from './tds-server.ts'

const CONNECT_MS = 400
const REQUEST_MS = 400
const DESDE = new Date('2026-11-02T08:00:00Z')
const HASTA = new Date('2026-11-02T10:00:00Z')
const VENTAS = `
  SELECT numero_factura, linea, fecha, codigo_producto, descripcion, cantidad, precio_unitario, total
  FROM dbo.ventas_detalle WHERE fecha >= @desde AND fecha <= @hasta ORDER BY fecha, numero_factura, linea`

type PoolOptions = { packetSize?: number; requestTimeout?: number }

function kit(onClose: (fn: () => unknown) => void) {
  const store = async (fault: TdsFault | null = null, invoicesPerHour?: number) => {
    const s = await startStellarStore({ tiendaId: 'tienda_20', fault, invoicesPerHour })
    onClose(() => s.close())
    return s
  }
  const pool = (s: StellarStore, options: PoolOptions = {}) => {
    const p = new sql.ConnectionPool({
      server: s.host,
      port: s.port,
      user: 'etl_reader',
      password: 'not-checked',
      database: 'stellar',
      connectionTimeout: CONNECT_MS,
      requestTimeout: options.requestTimeout ?? REQUEST_MS,
      options: { encrypt: false, trustServerCertificate: true, packetSize: options.packetSize },
    })
    onClose(() => p.close())
    return p
  }
  const ventas = (p: sql.ConnectionPool, desde = DESDE, hasta = HASTA) =>
    p.request().input('desde', sql.DateTime2, desde).input('hasta', sql.DateTime2, hasta).query(VENTAS)
  /** The rejection of something that must fail, with how long it took. */
  const failure = async (run: () => Promise<unknown>) => {
    const started = performance.now()
    try {
      await run()
    } catch (error) {
      return { error: error as sql.MSSQLError & { number?: number }, ms: performance.now() - started }
    }
    throw new Error('expected a driver error')
  }
  return { store, pool, ventas, failure }
}

const test = base.extend<{ tds: ReturnType<typeof kit> }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  tds: async ({}, use) => {
    const closers: (() => unknown)[] = []
    await use(kit((fn) => closers.push(fn)))
    await Promise.all(closers.map((fn) => fn()))
  },
})

describe('data', () => {
  test('a parameterised query returns typed rows equal to salesFor() for the window', async ({ tds }) => {
    const s = await tds.store()
    const p = await tds.pool(s).connect()
    const result = await tds.ventas(p)
    const expected = salesFor('tienda_20', DESDE, HASTA)
    expect(expected.length).toBeGreaterThan(100)
    expect(result.recordset).toEqual(expected)
    expect(result.rowsAffected).toEqual([expected.length])
    const first = result.recordset[0]
    expect(first.fecha).toBeInstanceOf(Date)
    expect(typeof first.linea).toBe('number')
    expect(typeof first.total).toBe('number')
    expect(typeof first.descripcion).toBe('string')
    const { columns } = result.recordset
    // mssql reports the column's TDS max length, which is in bytes: nvarchar(30) → 60.
    expect(columns.numero_factura).toMatchObject({ type: sql.NVarChar, length: 60 })
    expect(columns.linea).toMatchObject({ type: sql.Int })
    expect(columns.fecha).toMatchObject({ type: sql.DateTime2, scale: 3 })
    expect(columns.cantidad).toMatchObject({ type: sql.Decimal, precision: 12, scale: 3 })
    expect(columns.total).toMatchObject({ type: sql.Decimal, precision: 14, scale: 2 })
    // The window travelled as typed parameters, not inside the statement text.
    expect(s.queries).toEqual([{ statement: VENTAS, params: { '@desde': DESDE, '@hasta': HASTA } }])
  })

  test('datetime and datetimeoffset parameters select the same window', async ({ tds }) => {
    const s = await tds.store()
    const p = await tds.pool(s).connect()
    const expected = salesFor('tienda_20', DESDE, HASTA)
    const asDateTime = await p
      .request()
      .input('desde', sql.DateTime, DESDE)
      .input('hasta', sql.DateTime, HASTA)
      .query(VENTAS)
    const asOffset = await p
      .request()
      .input('desde', sql.DateTimeOffset, DESDE)
      .input('hasta', sql.DateTimeOffset, HASTA)
      .query(VENTAS)
    expect(asDateTime.recordset).toEqual(expected)
    expect(asOffset.recordset).toEqual(expected)
  })

  test('a streamed request over a window of many packets gets exactly the same rows', async ({ tds }) => {
    const s = await tds.store(null, 240)
    const p = await tds.pool(s, { requestTimeout: 5000 }).connect()
    const desde = new Date('2026-11-01T00:00:00Z')
    const hasta = new Date('2026-11-02T00:00:00Z')
    const request = p.request().input('desde', sql.DateTime2, desde).input('hasta', sql.DateTime2, hasta)
    request.stream = true
    const rows: unknown[] = []
    const finished = new Promise<void>((resolve, reject) => {
      request.on('row', (r) => rows.push(r))
      request.on('error', reject)
      request.on('done', () => resolve())
    })
    void request.query(VENTAS)
    await finished
    const expected = salesFor('tienda_20', desde, hasta, 240)
    // ~11k rows of ~170 bytes: hundreds of 4 KiB packets, rows split across their boundaries.
    expect(expected.length).toBeGreaterThan(10_000)
    expect(rows).toEqual(expected)
  })

  test('a 512-byte packet size (tokens split across many small packets) changes nothing', async ({ tds }) => {
    const s = await tds.store()
    const p = await tds.pool(s, { packetSize: 512 }).connect()
    expect((await tds.ventas(p)).recordset).toEqual(salesFor('tienda_20', DESDE, HASTA))
  })

  test('cancelling a streamed request mid-rowset is acknowledged and the connection is reused', async ({ tds }) => {
    const s = await tds.store(null, 240)
    const p = await tds.pool(s, { requestTimeout: 5000 }).connect()
    const request = p
      .request()
      .input('desde', sql.DateTime2, new Date('2026-11-01T00:00:00Z'))
      .input('hasta', sql.DateTime2, new Date('2026-11-08T00:00:00Z'))
    request.stream = true
    const failed = new Promise<sql.MSSQLError>((resolve) => request.on('error', resolve))
    // A week (~80k rows, ~14 MB) outgrows the loopback socket buffers, and pausing makes tedious
    // stop reading: the server is still mid-rowset, blocked on a full socket, when the ATTENTION
    // arrives (a one-day window was sent whole before it, which only tests the late-ack path).
    request.once('row', () => {
      request.pause()
      setTimeout(() => request.cancel(), 50)
    })
    void request.query(VENTAS)
    expect(await failed).toMatchObject({ name: 'RequestError', code: 'ECANCEL' })
    expect((await tds.ventas(p)).recordset).toEqual(salesFor('tienda_20', DESDE, HASTA, 240))
  })

  test('stores started together listen on their own ports and serve their own data', async ({ tds }) => {
    const server = await startTdsServer({ stores: { tienda_20: {}, tienda_21: { fault: 'login_failed' } } })
    try {
      const { tienda_20, tienda_21 } = server.stores
      expect(tienda_20?.port).not.toBe(tienda_21?.port)
      const ok = await tds.pool(tienda_20!).connect()
      expect((await tds.ventas(ok)).recordset).toEqual(salesFor('tienda_20', DESDE, HASTA))
      const { error } = await tds.failure(() => tds.pool(tienda_21!).connect())
      expect(error.code).toBe('ELOGIN')
    } finally {
      await server.close()
    }
  })
})

describe('faults', () => {
  test('refuse → ConnectionError ESOCKET whose cause holds ECONNREFUSED; clearing it serves on the same port', async ({
    tds,
  }) => {
    const s = await tds.store('refuse')
    const { error } = await tds.failure(() => tds.pool(s).connect())
    expect(error).toMatchObject({ name: 'ConnectionError', code: 'ESOCKET' })
    // mssql → tedious ConnectionError → AggregateError (one attempt per resolved address).
    const attempts = (error.originalError?.cause as AggregateError | undefined)?.errors ?? []
    expect(attempts.map((e: NodeJS.ErrnoException) => e.code)).toEqual(['ECONNREFUSED'])

    const port = s.port
    await s.setFault(null)
    expect(s.port).toBe(port)
    const p = await tds.pool(s).connect()
    expect((await tds.ventas(p)).recordset.length).toBeGreaterThan(0)
  })

  test('silent_prelogin → ConnectionError ETIMEOUT after connectionTimeout', async ({ tds }) => {
    const s = await tds.store('silent_prelogin')
    const { error, ms } = await tds.failure(() => tds.pool(s).connect())
    expect(error).toMatchObject({ name: 'ConnectionError', code: 'ETIMEOUT' })
    expect(error.message).toContain(`in ${CONNECT_MS}ms`)
    expect(ms).toBeGreaterThanOrEqual(CONNECT_MS - 20)
  })

  test('login_failed → ConnectionError ELOGIN with the server message', async ({ tds }) => {
    const s = await tds.store('login_failed')
    const { error } = await tds.failure(() => tds.pool(s).connect())
    expect(error).toMatchObject({
      name: 'ConnectionError',
      code: 'ELOGIN',
      message: "Login failed for user 'etl_reader'.",
    })
  })

  test('sql_error → RequestError EREQUEST number 208; the connection stays usable', async ({ tds }) => {
    const s = await tds.store()
    const p = await tds.pool(s).connect()
    await s.setFault('sql_error')
    const { error } = await tds.failure(() => tds.ventas(p))
    expect(error).toMatchObject({
      name: 'RequestError',
      code: 'EREQUEST',
      number: 208,
      message: "Invalid object name 'dbo.ventas_detalle'.",
    })
    await s.setFault(null)
    expect((await tds.ventas(p)).recordset.length).toBeGreaterThan(0)
  })

  test('stall_query → RequestError ETIMEOUT after requestTimeout, acknowledged so the pool recovers', async ({
    tds,
  }) => {
    const s = await tds.store('stall_query')
    const p = await tds.pool(s).connect()
    const { error, ms } = await tds.failure(() => tds.ventas(p))
    expect(error).toMatchObject({ name: 'RequestError', code: 'ETIMEOUT' })
    expect(error.message).toBe(`Timeout: Request failed to complete in ${REQUEST_MS}ms`)
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 20)
    // Without the attention acknowledgement tedious would wait its 5 s cancelTimeout instead.
    expect(ms).toBeLessThan(REQUEST_MS + 1000)
    await s.setFault(null)
    expect((await tds.ventas(p)).recordset.length).toBeGreaterThan(0)
  })

  test('empty → the query succeeds with no rows', async ({ tds }) => {
    const s = await tds.store('empty')
    const p = await tds.pool(s).connect()
    expect((await tds.ventas(p)).recordset).toEqual([])
    await s.setFault(null)
    expect((await tds.ventas(p)).recordset.length).toBeGreaterThan(0)
  })

  test('drop_mid_rowset → RequestError ECONNRESET "socket hang up" after some rows', async ({ tds }) => {
    const s = await tds.store('drop_mid_rowset')
    const p = await tds.pool(s).connect()
    const request = p.request().input('desde', sql.DateTime2, DESDE).input('hasta', sql.DateTime2, HASTA)
    request.stream = true
    let rows = 0
    request.on('row', () => rows++)
    const failed = new Promise<sql.MSSQLError>((resolve) => request.on('error', resolve))
    void request.query(VENTAS)
    const error = await failed
    // tedious reports the server's FIN mid-response as the socket error itself, not as an
    // ESOCKET ConnectionError: mssql wraps it into a RequestError carrying its code.
    expect(error).toMatchObject({ name: 'RequestError', code: 'ECONNRESET', message: 'socket hang up' })
    expect(rows).toBeGreaterThan(0)
    expect(rows).toBeLessThan(salesFor('tienda_20', DESDE, HASTA).length)

    // The pool drops the dead connection and opens a new one.
    await s.setFault(null)
    expect((await tds.ventas(p)).recordset).toEqual(salesFor('tienda_20', DESDE, HASTA))
  })
})
