// The VPN model of the stand-ins, measured on real transfers over loopback: the benchmarks that
// rely on it are only as true as these knobs. Bands are wide (0.8–1.6×) because the machine is
// shared; what they catch is a knob that does nothing or counts twice. And the fleet: many stores,
// each on its own loopback address, all at one port, each answering as itself.
import sql from 'mssql'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, test } from 'vitest'
import { startFleet } from './fleet.ts'
import { startKlkStore } from './klk-simulator.ts'
import { salesFor } from './sales-data.ts'
import { startStellarStore } from './tds-server.ts'

const TOKEN = 'link-test-token'
const closers: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((fn) => fn()))
})

const agent = () => {
  const a = new Agent({ connect: { timeout: 2000 } })
  closers.push(() => a.destroy())
  return a
}

async function get(dispatcher: Agent, url: string) {
  const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${TOKEN}` } })
  const bytes = new Uint8Array(await res.body.arrayBuffer())
  return { status: res.statusCode, bytes }
}

const seconds = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

describe('KLK simulator link', () => {
  test('1 MB of pages at 1 MB/s takes about 1 s', async () => {
    const store = await startKlkStore({ tiendaId: 'tienda_01', token: TOKEN, link: { bytesPerSecond: 1_000_000 } })
    closers.push(() => store.close())
    const a = agent()
    // Two days of sales: ~5,800 lines, 1000 a page, ~170 bytes a line → 6 pages of ~1 MB in all.
    const url = (page: number) =>
      `${store.url}/api/v1/ventas?desde=2026-11-01T00:00:00Z&hasta=2026-11-02T23:59:59Z&page_size=1000&page=${page}`
    let received = 0
    const elapsed = await seconds(async () => {
      for (let page = 1; received < 1_000_000; page++) {
        const r = await get(a, url(page))
        expect(r.status).toBe(200)
        expect(r.bytes.length).toBeGreaterThan(100_000)
        received += r.bytes.length
      }
    })
    const expected = received / 1_000_000
    expect(expected).toBeGreaterThan(1)
    expect(expected).toBeLessThan(1.3)
    expect(elapsed).toBeGreaterThan(0.8 * expected)
    expect(elapsed).toBeLessThan(1.6 * expected)
  })

  test('every answer waits one RTT, the first on a connection two (the handshake)', async () => {
    const store = await startKlkStore({ tiendaId: 'tienda_01', token: TOKEN, link: { rttMs: 150 } })
    closers.push(() => store.close())
    const a = agent()
    const first = await seconds(() => get(a, `${store.url}/api/v1/inventario`))
    const next = await seconds(async () => {
      for (let i = 0; i < 5; i++) await get(a, `${store.url}/api/v1/inventario`)
    })
    expect(first).toBeGreaterThan(0.8 * 0.3)
    expect(first).toBeLessThan(1.6 * 0.3)
    expect(next).toBeGreaterThan(0.8 * 0.75)
    expect(next).toBeLessThan(1.6 * 0.75)
  })

  test('without a link the store answers at loopback speed', async () => {
    const store = await startKlkStore({ tiendaId: 'tienda_01', token: TOKEN })
    closers.push(() => store.close())
    const a = agent()
    const elapsed = await seconds(async () => {
      for (let i = 0; i < 5; i++) await get(a, `${store.url}/api/v1/inventario`)
    })
    expect(elapsed).toBeLessThan(0.5)
  })
})

const pool = (host: string, port: number) => {
  const p = new sql.ConnectionPool({
    server: host,
    port,
    user: 'etl_reader',
    password: 'not-checked',
    database: 'stellar',
    connectionTimeout: 5000,
    requestTimeout: 10_000,
    options: { encrypt: false, trustServerCertificate: true },
  })
  closers.push(() => p.close())
  return p
}
const ventas = (p: sql.ConnectionPool, desde: Date, hasta: Date) =>
  p
    .request()
    .input('desde', sql.DateTime2, desde)
    .input('hasta', sql.DateTime2, hasta)
    .query('SELECT numero_factura FROM dbo.ventas_detalle WHERE fecha >= @desde AND fecha <= @hasta')

describe('TDS stand-in link', () => {
  test('a ~1 MB rowset at 1 MB/s takes about 1 s, and every answer one RTT', async () => {
    const desde = new Date('2026-11-01T00:00:00Z')
    const hasta = new Date('2026-11-04T12:00:00Z')
    const store = await startStellarStore({ tiendaId: 'tienda_19', link: { bytesPerSecond: 1_000_000 } })
    closers.push(() => store.close())
    const p = pool(store.host, store.port)
    await p.connect()
    const lines = salesFor('tienda_19', desde, hasta).length
    const before = store.bytesSent
    let rows = 0
    const elapsed = await seconds(async () => {
      rows = (await ventas(p, desde, hasta)).recordset.length
    })
    expect(rows).toBe(lines)
    const rowsetBytes = store.bytesSent - before
    expect(rowsetBytes).toBeGreaterThan(900_000)
    expect(rowsetBytes).toBeLessThan(1_400_000)
    const expected = rowsetBytes / 1_000_000
    // The link is a floor: no byte leaves faster than the bucket allows, whatever the CPU does. The
    // decoding of ~1 MB of TDS costs CPU too (seconds on a busy machine) and overlaps the pacing, so
    // only the ceiling subtracts the same query against a store with no link, measured side by side.
    expect(elapsed).toBeGreaterThan(0.8 * expected)
    const free = await startStellarStore({ tiendaId: 'tienda_19' })
    closers.push(() => free.close())
    const f = pool(free.host, free.port)
    await f.connect()
    const baseline = await seconds(async () => {
      await ventas(f, desde, hasta)
    })
    expect(elapsed - baseline).toBeLessThan(1.6 * expected)

    // Every client message is answered one RTT later, the first on a connection two: count the
    // messages the store handled for a connect and a query, and time them against that many RTTs.
    const slow = await startStellarStore({ tiendaId: 'tienda_18', link: { rttMs: 200 } })
    closers.push(() => slow.close())
    const q = pool(slow.host, slow.port)
    const connectAndQuery = await seconds(async () => {
      await q.connect()
      await ventas(q, desde, new Date(desde.getTime() + 60_000))
    })
    const trips = slow.roundTrips + slow.connections
    expect(trips).toBeGreaterThanOrEqual(4)
    expect(connectAndQuery).toBeGreaterThan(0.8 * 0.2 * trips)
    expect(connectAndQuery).toBeLessThan(1.6 * 0.2 * trips)
  })
})

describe('fleet: many loopback addresses, one port', () => {
  test('50 stores share a port, each on its own address answering as itself', async () => {
    const fleet = await startFleet({ count: 50, token: TOKEN, addressBase: '127.58.0.1', stellarEvery: 10 })
    closers.push(() => fleet.close())
    expect(new Set(fleet.stores.map((s) => s.port))).toEqual(new Set([fleet.port]))
    expect(new Set(fleet.stores.map((s) => s.host)).size).toBe(50)
    expect(fleet.stores.filter((s) => s.sourceSystem === 'stellar').map((s) => s.tiendaId)).toEqual([
      'tienda_10',
      'tienda_20',
      'tienda_30',
      'tienda_40',
      'tienda_50',
    ])
    const a = agent()
    for (const s of fleet.stores.filter((x) => x.sourceSystem === 'klk')) {
      const r = await get(a, `http://${s.host}:${s.port}/api/v1/inventario`)
      expect(r.status).toBe(200)
      expect(JSON.parse(new TextDecoder().decode(r.bytes)).tienda_id).toBe(s.tiendaId)
    }
    const stellar = fleet.stores.find((s) => s.tiendaId === 'tienda_30')!
    const p = pool(stellar.host, stellar.port)
    const desde = new Date('2026-11-02T08:00:00Z')
    const hasta = new Date('2026-11-02T09:00:00Z')
    const rows = (await ventas(await p.connect(), desde, hasta)).recordset
    expect(rows.map((r) => r.numero_factura)).toEqual(salesFor('tienda_30', desde, hasta).map((l) => l.numero_factura))
  })

  test('one store going dark at the shared port leaves its neighbours answering', async () => {
    const fleet = await startFleet({ count: 3, token: TOKEN, addressBase: '127.58.1.1' })
    closers.push(() => fleet.close())
    const [one, two, three] = fleet.stores
    await (two!.handle as Awaited<ReturnType<typeof startKlkStore>>).setFault('refuse')
    const a = agent()
    for (const s of [one!, three!])
      expect((await get(a, `http://${s.host}:${s.port}/api/v1/inventario`)).status).toBe(200)
    const refused = await get(a, `http://${two!.host}:${two!.port}/api/v1/inventario`).catch(
      (e: NodeJS.ErrnoException) => e,
    )
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })
})
