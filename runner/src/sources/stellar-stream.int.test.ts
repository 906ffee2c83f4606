// The Stellar source on its own, against the SQL Server stand-in over loopback: how rows are
// streamed and batched, and the failures the runner's requestTimeout alone would not catch.
import net from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { salesFor } from '../../../test/fakes/sales-data.ts'
import { startStellarStore } from '../../../test/fakes/tds-server.ts'
import { classifyError } from '../tracker/classify-error.ts'
import { createStellarSource } from './stellar.ts'

// Short enough that a stall fails fast, long enough for a loaded 2-core machine to start a day's
// rowset (600 ms timed out there before the first packet, with two test files running).
const config = {
  SOURCE_CONNECT_TIMEOUT_MS: 2_000,
  SOURCE_REQUEST_TIMEOUT_MS: 2_000,
  STELLAR_USER: 'etl_reader',
  STELLAR_PASSWORD: 'not-checked',
  STELLAR_DATABASE: 'stellar',
}
const DAY = { desde: new Date('2026-11-01T00:00:00Z'), hasta: new Date('2026-11-02T00:00:00Z') }

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

async function store(invoicesPerHour = 240) {
  const s = await startStellarStore({ tiendaId: 'tienda_30', invoicesPerHour })
  cleanups.push(() => s.close())
  return s
}

function source(batchSize: number) {
  const src = createStellarSource(config, { batchSize })
  cleanups.push(() => src.close())
  return src
}

describe('streaming', () => {
  test('a day of rows arrives in batches of at most batchSize, the next one only when asked for', async () => {
    const s = await store()
    const src = source(1000)
    const sizes: number[] = []
    let rows = 0
    for await (const batch of src.ventas({ id: 'tienda_30', host: s.host, port: s.port }, DAY, {})) {
      sizes.push(batch.length)
      rows += batch.length
      // A slow consumer (the load): the paused request must not lose or reorder rows meanwhile.
      await new Promise((r) => setTimeout(r, 20))
    }
    const expected = salesFor('tienda_30', DAY.desde, DAY.hasta, 240)
    expect(rows).toBe(expected.length)
    expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 1000))
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000 + 200)
  })

  test('rows equal the stand-in’s, in order, and the window travels as @desde/@hasta parameters', async () => {
    const s = await store(60)
    const src = source(50)
    const got: unknown[] = []
    for await (const batch of src.ventas({ id: 'tienda_30', host: s.host, port: s.port }, DAY, {})) got.push(...batch)
    expect(got).toEqual(salesFor('tienda_30', DAY.desde, DAY.hasta, 60))
    expect(s.queries).toHaveLength(1)
    expect(s.queries[0]!.params).toEqual({ '@desde': DAY.desde, '@hasta': DAY.hasta })
    expect(s.queries[0]!.statement).not.toContain('2026')
  })

  test('a consumer that stops early cancels the query and the pool closes cleanly', async () => {
    const s = await store()
    const src = source(500)
    for await (const batch of src.ventas({ id: 'tienda_30', host: s.host, port: s.port }, DAY, {})) {
      expect(batch.length).toBeGreaterThan(0)
      break
    }
    await src.close()
  })

  test('a server that goes quiet mid-rowset fails as db_timeout instead of hanging the run', async () => {
    const s = await store()
    // Forwards the login and the first packets of the answer, then stops passing bytes to the
    // client while keeping both sockets open: tedious's requestTimeout stopped at the first packet.
    const proxy = await stallingProxy(s.port, 64 * 1024)
    const src = source(100_000)
    const started = performance.now()
    const error = await (async () => {
      try {
        for await (const _ of src.ventas({ id: 'tienda_30', host: '127.0.0.1', port: proxy.port }, DAY, {})) {
          // a single batch larger than the window: rows accumulate until the stall
        }
      } catch (e) {
        return e
      }
      throw new Error('expected the stalled rowset to fail')
    })()
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(classifyError(error, 'extract', 'stellar')).toMatchObject({
      phase: 'extract',
      category: 'db_timeout',
      source: 'stellar_db',
    })
  })
})

/** A loopback TCP proxy that stops forwarding server → client after `limit` bytes. */
async function stallingProxy(targetPort: number, limit: number) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
    }
    let forwarded = 0
    client.on('data', (b) => upstream.write(b))
    upstream.on('data', (b) => {
      if (forwarded >= limit) return
      forwarded += b.length
      client.write(b)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((r) => server.close(r))
  })
  return { port: (server.address() as net.AddressInfo).port }
}
