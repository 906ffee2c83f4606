// The simulator is only useful if a real HTTP client sees real failures: every fault is checked
// through undici 8 (the runner's client) against real loopback sockets, and the error codes
// asserted here are the ones classifyError maps (DESIGN §5).
import net from 'node:net'
import { Agent, fetch, request } from 'undici'
import { test as base, describe } from 'vitest'
import { blackholeListener } from './blackhole.ts'
import { type KlkFault, type KlkStore, startKlkStore, startKlkStores } from './klk-simulator.ts'
import { inventoryFor, salesFor } from './sales-data.ts'

const TOKEN = 'klk-test-token'
const TIMEOUT_MS = 300
const DESDE = '2026-11-02T08:00:00Z'
const HASTA = '2026-11-02T10:00:00Z'

// Everything a test opens is closed when that test ends, so tests can run concurrently: undici
// arms its connect and headers timers on a ~0.5 s tick, so each timeout costs ~1 s regardless.
function kit(onClose: (fn: () => unknown) => void) {
  const store = async (fault: KlkFault | null = null, faultDelayMs?: number) => {
    const s = await startKlkStore({ tiendaId: 'tienda_01', token: TOKEN, fault, faultDelayMs })
    onClose(() => s.close())
    return s
  }
  // A fresh agent per request: a pooled keep-alive socket must never hide a connect-level fault.
  const agent = () => {
    const a = new Agent({ connect: { timeout: TIMEOUT_MS }, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS })
    onClose(() => a.destroy())
    return a
  }
  const get = async (url: string, token: string | null = TOKEN) => {
    const res = await request(url, { dispatcher: agent(), headers: token ? { authorization: `Bearer ${token}` } : {} })
    return { status: res.statusCode, headers: res.headers, bytes: new Uint8Array(await res.body.arrayBuffer()) }
  }
  const getJson = async (url: string) => {
    const res = await get(url)
    return { status: res.status, body: JSON.parse(new TextDecoder().decode(res.bytes)) }
  }
  /** The rejection of a request that must fail, reading the body too (body timeouts surface there). */
  const failure = async (url: string) => {
    try {
      await get(url)
    } catch (error) {
      return error as NodeJS.ErrnoException
    }
    throw new Error(`${url} did not fail`)
  }
  return { onClose, store, agent, get, getJson, failure }
}

const test = base.extend<{ klk: ReturnType<typeof kit> }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
  klk: async ({}, use) => {
    const closers: (() => unknown)[] = []
    await use(kit((fn) => closers.push(fn)))
    await Promise.all(closers.map((fn) => fn()))
  },
})

function ventasUrl(s: KlkStore, query: Record<string, string | number> = {}) {
  const q = new URLSearchParams({ desde: DESDE, hasta: HASTA, ...query } as Record<string, string>)
  return `${s.url}/api/v1/ventas?${q}`
}

const asWire = (lines: object[]) => JSON.parse(JSON.stringify(lines))

describe.concurrent('data', () => {
  test('the same window twice is byte-identical, and its pages concatenate to salesFor()', async ({ expect, klk }) => {
    const s = await klk.store()
    const a = await klk.get(ventasUrl(s, { page_size: 50 }))
    const b = await klk.get(ventasUrl(s, { page_size: 50 }))
    expect(a.status).toBe(200)
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true)

    const expected = salesFor('tienda_01', new Date(DESDE), new Date(HASTA))
    const first = await klk.getJson(ventasUrl(s, { page_size: 50 }))
    expect(first.body).toMatchObject({ tienda_id: 'tienda_01', page: 1, page_size: 50, total: expected.length })
    expect(first.body.total_pages).toBe(Math.ceil(expected.length / 50))
    expect(first.body.total_pages).toBeGreaterThan(2)
    const lines = [...first.body.data]
    for (let page = 2; page <= first.body.total_pages; page++) {
      lines.push(...(await klk.getJson(ventasUrl(s, { page_size: 50, page }))).body.data)
    }
    expect(lines).toEqual(asWire(expected))
    expect(lines[0]).toEqual({
      numero_factura: expect.stringMatching(/^F\d+$/),
      linea: 1,
      fecha: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      codigo_producto: expect.stringMatching(/^P\d{4}$/),
      descripcion: expect.any(String),
      cantidad: expect.any(Number),
      precio_unitario: expect.any(Number),
      total: expect.any(Number),
    })
    expect((await klk.getJson(ventasUrl(s, { page_size: 50, page: 99 }))).body.data).toEqual([])
  })

  test('inventario uses the same envelope over inventoryFor()', async ({ expect, klk }) => {
    const s = await klk.store()
    const { status, body } = await klk.getJson(`${s.url}/api/v1/inventario?page_size=5&page=3`)
    const all = inventoryFor('tienda_01')
    expect(status).toBe(200)
    expect(body).toEqual({
      tienda_id: 'tienda_01',
      page: 3,
      page_size: 5,
      total_pages: 3,
      total: 12,
      data: all.slice(10),
    })
  })

  test('several stores: one port each, their own data, requests counted', async ({ expect, klk }) => {
    const stores = await startKlkStores(
      ['tienda_01', 'tienda_02', 'tienda_03'].map((tiendaId) => ({ tiendaId, token: TOKEN })),
    )
    klk.onClose(() => Promise.all(stores.map((s) => s.close())))
    expect(new Set(stores.map((s) => s.port)).size).toBe(3)
    const bodies = await Promise.all(stores.map(async (s) => (await klk.getJson(ventasUrl(s))).body))
    expect(bodies.map((b) => b.tienda_id)).toEqual(['tienda_01', 'tienda_02', 'tienda_03'])
    expect(bodies[1].data).toEqual(asWire(salesFor('tienda_02', new Date(DESDE), new Date(HASTA)).slice(0, 500)))
    expect(bodies[0].data).not.toEqual(bodies[1].data)
    expect(stores.map((s) => s.requests)).toEqual([1, 1, 1])
  })
})

describe.concurrent('contract errors', () => {
  test('401 without a token or with a wrong one', async ({ expect, klk }) => {
    const s = await klk.store()
    for (const token of [null, 'wrong']) {
      const res = await klk.get(ventasUrl(s), token)
      expect(res.status).toBe(401)
      expect(JSON.parse(new TextDecoder().decode(res.bytes))).toEqual({ error: expect.any(String) })
    }
  })

  test('400 for a missing or invalid window or page size', async ({ expect, klk }) => {
    const s = await klk.store()
    for (const url of [
      `${s.url}/api/v1/ventas`,
      ventasUrl(s, { desde: 'yesterday' }),
      ventasUrl(s, { hasta: '2026-11-02 10:00' }),
      ventasUrl(s, { desde: HASTA, hasta: DESDE }),
      ventasUrl(s, { page_size: 1001 }),
      ventasUrl(s, { page: 0 }),
    ]) {
      const { status, body } = await klk.getJson(url)
      expect([url, status]).toEqual([url, 400])
      expect(body).toEqual({ error: expect.any(String) })
    }
  })
})

describe.concurrent('connect-level faults', () => {
  test('blackhole: a plain net.connect with a 300 ms timeout times out (no connect, no refusal)', async ({
    expect,
    klk,
  }) => {
    const bh = await blackholeListener()
    klk.onClose(() => bh.close())
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: bh.host, port: bh.port })
      socket.setTimeout(300, () => resolve('timeout'))
      socket.on('connect', () => resolve('connected'))
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`))
      klk.onClose(() => socket.destroy())
    })
    expect(outcome).toBe('timeout')
  })

  test('slow_connect → UND_ERR_CONNECT_TIMEOUT on the same port; clearing it serves again', async ({ expect, klk }) => {
    const s = await klk.store()
    const port = s.port
    await s.setFault('slow_connect')
    expect(s.port).toBe(port)
    const started = performance.now()
    const error = await klk.failure(ventasUrl(s))
    expect(error.code).toBe('UND_ERR_CONNECT_TIMEOUT')
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20)
    // undici's own fetch wraps the same error.
    const viaFetch = await fetch(ventasUrl(s), { dispatcher: klk.agent() }).catch((e: Error) => e)
    expect(viaFetch).toBeInstanceOf(TypeError)
    expect((viaFetch as Error & { cause: { code: string } }).cause.code).toBe('UND_ERR_CONNECT_TIMEOUT')
    await s.setFault(null)
    expect((await klk.get(ventasUrl(s))).status).toBe(200)
    expect(s.requests).toBe(1)
  })

  test('slow_connect set at start', async ({ expect, klk }) => {
    const s = await klk.store('slow_connect')
    expect((await klk.failure(ventasUrl(s))).code).toBe('UND_ERR_CONNECT_TIMEOUT')
  })

  test('refuse → ECONNREFUSED, and the store comes back on the same port', async ({ expect, klk }) => {
    const s = await klk.store('refuse')
    const error = await klk.failure(ventasUrl(s))
    expect(error.code).toBe('ECONNREFUSED')
    expect(error.name).toBe('Error')
    await s.setFault(null)
    expect((await klk.get(ventasUrl(s))).status).toBe(200)
  })

  test('reset → ECONNRESET straight from the socket', async ({ expect, klk }) => {
    const s = await klk.store('reset')
    const error = await klk.failure(ventasUrl(s))
    expect(error).toMatchObject({ code: 'ECONNRESET', syscall: 'read' })
    expect(s.requests).toBe(1)
  })
})

describe.concurrent('timeouts', () => {
  test('stall_headers → UND_ERR_HEADERS_TIMEOUT', async ({ expect, klk }) => {
    const s = await klk.store('stall_headers')
    expect((await klk.failure(ventasUrl(s))).code).toBe('UND_ERR_HEADERS_TIMEOUT')
  })

  test('stall_body → 200 headers, then UND_ERR_BODY_TIMEOUT while reading', async ({ expect, klk }) => {
    const s = await klk.store('stall_body')
    const res = await request(ventasUrl(s), { dispatcher: klk.agent(), headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.statusCode).toBe(200)
    const error = await res.body.arrayBuffer().catch((e: NodeJS.ErrnoException) => e)
    expect((error as NodeJS.ErrnoException).code).toBe('UND_ERR_BODY_TIMEOUT')
  })

  test('with faultDelayMs under the timeout a stalled store is merely slow', async ({ expect, klk }) => {
    for (const fault of ['stall_headers', 'stall_body'] as const) {
      const s = await klk.store(fault, 100)
      const { status, body } = await klk.getJson(ventasUrl(s))
      expect([fault, status, body.total]).toEqual([fault, 200, body.data.length])
    }
  })
})

describe.concurrent('HTTP status faults', () => {
  test.for([
    ['http_401', 401],
    ['http_403', 403],
    ['http_500', 500],
    ['http_503', 503],
  ] as const)('%s → %i with a JSON error', async ([fault, status], { expect, klk }) => {
    const s = await klk.store(fault)
    const res = await klk.getJson(ventasUrl(s))
    expect(res).toEqual({ status, body: { error: expect.any(String) } })
  })

  test('fail_page_2: page 1 is served, page 2 is 500', async ({ expect, klk }) => {
    const s = await klk.store('fail_page_2')
    const first = await klk.getJson(ventasUrl(s, { page_size: 10 }))
    expect(first.status).toBe(200)
    expect(first.body.total_pages).toBeGreaterThan(1)
    expect((await klk.getJson(ventasUrl(s, { page_size: 10, page: 2 }))).status).toBe(500)
  })
})

describe.concurrent('payload faults', () => {
  test('invalid_utf8 → a fatal TextDecoder throws', async ({ expect, klk }) => {
    const s = await klk.store('invalid_utf8')
    const { status, bytes } = await klk.get(ventasUrl(s))
    expect(status).toBe(200)
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow(TypeError)
    expect(Buffer.from(bytes).includes(Buffer.from([0xc3, 0x28]))).toBe(true)
  })

  test('malformed_json → JSON.parse throws (the body is complete per Content-Length)', async ({ expect, klk }) => {
    const s = await klk.store('malformed_json')
    const { status, headers, bytes } = await klk.get(ventasUrl(s))
    expect(status).toBe(200)
    expect(Number(headers['content-length'])).toBe(bytes.length)
    expect(() => JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))).toThrow(SyntaxError)
  })

  test('wrong_type, missing_fields, out_of_range corrupt the first line of each page', async ({ expect, klk }) => {
    const s = await klk.store()
    const clean = (await klk.getJson(ventasUrl(s))).body.data
    await s.setFault('wrong_type')
    expect((await klk.getJson(ventasUrl(s))).body.data[0].cantidad).toBe('dos')
    await s.setFault('missing_fields')
    expect((await klk.getJson(ventasUrl(s))).body.data[0].numero_factura).toBeNull()
    await s.setFault('out_of_range')
    const ranged = (await klk.getJson(ventasUrl(s))).body.data
    expect(ranged[0].cantidad).toBe(-clean[0].cantidad)
    expect(ranged.slice(1)).toEqual(clean.slice(1))
    const stock = (await klk.getJson(`${s.url}/api/v1/inventario`)).body.data
    expect(stock[0].costo).toBeLessThan(0)
  })

  test('empty → 200 with no items, for ventas and inventario alike', async ({ expect, klk }) => {
    const s = await klk.store('empty')
    const empty = { tienda_id: 'tienda_01', page: 1, total_pages: 0, total: 0, data: [] }
    expect(await klk.getJson(ventasUrl(s))).toEqual({ status: 200, body: expect.objectContaining(empty) })
    const stock = await klk.getJson(`${s.url}/api/v1/inventario`)
    expect(stock).toEqual({ status: 200, body: expect.objectContaining(empty) })
  })
})
