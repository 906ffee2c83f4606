// KLK point-of-sale API simulator: one real HTTP server (node:http) per store, each on its own
// host:port as real stores are behind the VPN. Used by the runner's integration tests and the demo.
//
// ── The KLK API contract (what runner/src/sources/klk.ts calls) ─────────────────────────────────
// Auth      every request carries `Authorization: Bearer <token>`; missing or wrong token →
//           401 {"error": "..."}.
// Ventas    GET /api/v1/ventas?desde=<RFC3339>&hasta=<RFC3339>&page=<1..>&page_size=<1..1000>
//           page defaults to 1, page_size to 500. Missing/invalid desde or hasta, desde > hasta,
//           or a bad page/page_size → 400 {"error": "..."}.
//           200 application/json; charset=utf-8
//           { "tienda_id": "tienda_01", "page": 1, "page_size": 500, "total_pages": 3, "total": 1210,
//             "data": [ { "numero_factura": "F123", "linea": 1, "fecha": "2026-11-02T10:15:00.000Z",
//                         "codigo_producto": "P0001", "descripcion": "HARINA PAN 1KG",
//                         "cantidad": 2, "precio_unitario": 12.5, "total": 25 } ] }
//           Lines are salesFor(tienda, desde, hasta) in its order (fecha, then linea), both
//           bounds inclusive. total_pages = ceil(total / page_size) (0 for an empty window); a
//           page past the end is 200 with empty data.
// Inventario GET /api/v1/inventario?page=&page_size= → the same envelope, data items
//           { "codigo_producto", "descripcion", "existencia", "costo" } from inventoryFor(tienda).
// Anything else → 404 (unknown path) or 405 (not GET), JSON {"error"}.
//
// Network model (test/fakes/link.ts): with `link`, every answer waits one RTT (two on a fresh
// connection) and 200 bodies leave in chunks at the store's bandwidth. Stores can listen on any
// loopback address (127.0.0.0/8 is all local on Linux), so many stores share one port.
// ────────────────────────────────────────────────────────────────────────────────────────────────
import type { Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { reservePort } from '../../scripts/lib/reserved-port.ts'
import { type Blackhole, blackholeListener } from './blackhole.ts'
import { createLink, LINK_CHUNK, type Link, type LinkOptions } from './link.ts'
import { inventoryFor, type SaleLine, type StockItem, salesFor } from './sales-data.ts'

/** Fault → what the store does. Data faults corrupt the first item of every page they serve. */
export const KLK_FAULTS = {
  slow_connect: 'the HTTP server is replaced by a blackhole on the same port: TCP connect never completes',
  refuse: 'nothing listens on the port: connect gets ECONNREFUSED',
  stall_headers: 'reads the request, never sends headers (or sends the normal answer after faultDelayMs)',
  stall_body: 'sends 200 headers and half the body, then stalls (or sends the rest after faultDelayMs)',
  reset: 'reads the request, then aborts the socket with a TCP RST',
  http_401: '401 {"error"} even with the right token',
  http_403: '403 {"error"}',
  http_500: '500 {"error"}',
  http_503: '503 {"error"} with Retry-After: 1',
  malformed_json: '200 with the JSON body cut in half (Content-Length matches what is sent)',
  wrong_type: 'ventas cantidad "dos" / inventario existencia "diez" (a string where a number goes)',
  missing_fields: 'ventas numero_factura null / inventario codigo_producto null',
  out_of_range: 'ventas cantidad negative / inventario costo negative',
  invalid_utf8: 'the bytes 0xC3 0x28 (not UTF-8) inside the first descripcion',
  fail_page_2: 'page 1 is served normally, page 2 and later → 500 (a partial extraction)',
  empty: '200 with no items at all (total 0): a store that silently sends nothing',
} as const

export type KlkFault = keyof typeof KLK_FAULTS

export type KlkStoreOptions = {
  tiendaId: string
  host?: string
  /** 0 picks a free port; the chosen port is kept across every fault switch. */
  port?: number
  token: string
  invoicesPerHour?: number
  fault?: KlkFault | null
  /** For stall_headers / stall_body: answer normally after this delay. Unset: stall until close(). */
  faultDelayMs?: number
  /** For fail_page_2: the first page that fails (default 2), to fail late in a long window. */
  failFromPage?: number
  /** RTT and bandwidth of the store's VPN link (test/fakes/link.ts). Unset: loopback speed. */
  link?: LinkOptions
}

export type KlkStore = {
  readonly tiendaId: string
  readonly host: string
  readonly port: number
  readonly url: string
  readonly fault: KlkFault | null
  /** HTTP requests that reached the store (whatever was answered). */
  readonly requests: number
  /** Await it: slow_connect and refuse rebind the port before it resolves. */
  setFault(fault: KlkFault | null): Promise<void>
  close(): Promise<void>
}

type Listening = { kind: 'http'; server: Server } | { kind: 'blackhole'; blackhole: Blackhole } | { kind: 'none' }

type Reply = { status: number; body: unknown }

export async function startKlkStore(options: KlkStoreOptions): Promise<KlkStore> {
  const { tiendaId, token, invoicesPerHour = 60, faultDelayMs, failFromPage = 2 } = options
  const link = createLink(options.link)
  const host = options.host ?? '127.0.0.1'
  // The store's port is held from start to close (reserved-port.ts): a fault switch closes one
  // listener and binds the next, and nothing else on the machine may take the port in between.
  const reserved = await reservePort(host, options.port ?? 0)
  const port = reserved.port
  let fault: KlkFault | null = null
  let requests = 0
  let closed = false
  let closing: Promise<void> | undefined
  let listening: Listening = { kind: 'none' }
  // Timers of stalled answers: close() must not leave the process waiting on them.
  const timers = new Set<NodeJS.Timeout>()
  const later = (fn: () => void) => {
    if (faultDelayMs === undefined) return
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, faultDelayMs)
    timers.add(timer)
  }

  const handle = (authorization: string | undefined, method: string, rawUrl: string): Reply => {
    if (authorization !== `Bearer ${token}`) return error(401, 'missing or invalid bearer token')
    if (fault === 'http_401') return error(401, 'token expired')
    if (fault === 'http_403') return error(403, `token not allowed for ${tiendaId}`)
    if (fault === 'http_500') return error(500, 'internal error')
    if (fault === 'http_503') return error(503, 'service unavailable')
    if (method !== 'GET') return error(405, `${method} not allowed`)
    const url = new URL(rawUrl, 'http://klk')
    const paging = parsePaging(url.searchParams)
    if (typeof paging === 'string') return error(400, paging)
    if (fault === 'fail_page_2' && paging.page >= failFromPage) return error(500, `page ${paging.page} failed`)
    if (url.pathname === '/api/v1/ventas') {
      const window = parseWindow(url.searchParams)
      if (typeof window === 'string') return error(400, window)
      const lines = fault === 'empty' ? [] : salesFor(tiendaId, window.desde, window.hasta, invoicesPerHour)
      return { status: 200, body: envelope(tiendaId, paging, lines, corruptSale) }
    }
    if (url.pathname === '/api/v1/inventario') {
      const items = fault === 'empty' ? [] : inventoryFor(tiendaId)
      return { status: 200, body: envelope(tiendaId, paging, items, corruptStock) }
    }
    return error(404, `no route ${url.pathname}`)
  }

  const corruptSale = (line: Record<string, unknown>) => {
    if (fault === 'wrong_type') line.cantidad = 'dos'
    if (fault === 'missing_fields') line.numero_factura = null
    if (fault === 'out_of_range') line.cantidad = -Math.abs(Number(line.cantidad))
  }
  const corruptStock = (item: Record<string, unknown>) => {
    if (fault === 'wrong_type') item.existencia = 'diez'
    if (fault === 'missing_fields') item.codigo_producto = null
    if (fault === 'out_of_range') item.costo = -Math.abs(Number(item.costo))
  }

  const send = async (res: ServerResponse, reply: Reply, connection: object) => {
    if (link.active) {
      await link.rtt(connection)
      if (res.destroyed) return
    }
    const body = encode(reply.body, fault)
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
    }
    if (reply.status === 503) headers['retry-after'] = 1
    if (fault === 'stall_headers' && reply.status === 200) {
      later(() => res.writeHead(reply.status, headers).end(body))
      return
    }
    if (fault === 'stall_body' && reply.status === 200) {
      const half = Math.floor(body.length / 2)
      res.writeHead(reply.status, headers)
      res.write(body.subarray(0, half))
      later(() => res.end(body.subarray(half)))
      return
    }
    if (fault === 'malformed_json' && reply.status === 200) {
      const cut = body.subarray(0, Math.max(1, Math.floor(body.length / 2)))
      res.writeHead(reply.status, { ...headers, 'content-length': cut.length }).end(cut)
      return
    }
    if (link.bytesPerSecond > 0) return paced(res.writeHead(reply.status, headers), body, link)
    res.writeHead(reply.status, headers).end(body)
  }

  const startHttp = async (): Promise<Listening> => {
    const server = createServer((req, res) => {
      requests++
      // A real peer reset, not an orderly FIN: the client sees ECONNRESET.
      if (fault === 'reset') {
        req.socket.resetAndDestroy()
        return
      }
      req.resume()
      req.on('end', () => {
        const reply = handle(req.headers.authorization, req.method ?? 'GET', req.url ?? '/')
        // A paced answer outlives this handler: a failure while writing it ends the connection.
        send(res, reply, req.socket).catch((error: Error) => res.destroy(error))
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return { kind: 'http', server }
  }

  const stopListening = async () => {
    const current = listening
    listening = { kind: 'none' }
    if (current.kind === 'http') {
      // Pooled keep-alive sockets would otherwise keep answering a store that is "down".
      const done = new Promise<void>((resolve) => current.server.close(() => resolve()))
      current.server.closeAllConnections()
      await done
    }
    if (current.kind === 'blackhole') await current.blackhole.close()
  }

  const want = (f: KlkFault | null): Listening['kind'] =>
    f === 'slow_connect' ? 'blackhole' : f === 'refuse' ? 'none' : 'http'

  // Fault switches are serialised: each one may close and rebind the port.
  let switching = Promise.resolve()
  const setFault = (next: KlkFault | null) => {
    const step = switching.then(async () => {
      if (closed) throw new Error(`KLK store ${tiendaId} is closed`)
      fault = next
      if (want(next) === listening.kind) return
      await stopListening()
      if (want(next) === 'http') listening = await startHttp()
      if (want(next) === 'blackhole') listening = { kind: 'blackhole', blackhole: await blackholeListener(host, port) }
    })
    switching = step.catch(() => {})
    return step
  }

  try {
    await setFault(options.fault ?? null)
  } catch (error) {
    reserved.release()
    throw error
  }

  return {
    tiendaId,
    host,
    get port() {
      return port
    },
    get url() {
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    },
    get fault() {
      return fault
    },
    get requests() {
      return requests
    },
    setFault,
    close() {
      closing ??= switching.then(async () => {
        closed = true
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        await stopListening()
        reserved.release()
      })
      return closing
    },
  }
}

/** Starts every store; if one fails to start, the ones already started are closed. */
export async function startKlkStores(stores: KlkStoreOptions[]): Promise<KlkStore[]> {
  const results = await Promise.allSettled(stores.map(startKlkStore))
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) {
    await Promise.all(started.map((s) => s.close()))
    throw failed.reason
  }
  return started
}

const error = (status: number, message: string): Reply => ({ status, body: { error: message } })

/** The body in chunks at the link's rate; stops quietly when the client (or close()) cuts the socket. */
async function paced(res: ServerResponse, body: Buffer, link: Link) {
  for (let at = 0; at < body.length; at += LINK_CHUNK) {
    const chunk = body.subarray(at, at + LINK_CHUNK)
    await link.transmit(chunk.length)
    if (res.destroyed) return
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          res.off('drain', go).off('close', go)
          resolve()
        }
        res.on('drain', go).on('close', go)
      })
    }
  }
  if (!res.destroyed) res.end()
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

type Paging = { page: number; page_size: number }

function parsePaging(q: URLSearchParams): Paging | string {
  const page = intParam(q, 'page', 1)
  const pageSize = intParam(q, 'page_size', 500)
  if (page === undefined || page < 1) return 'page must be an integer >= 1'
  if (pageSize === undefined || pageSize < 1 || pageSize > 1000) return 'page_size must be an integer in 1..1000'
  return { page, page_size: pageSize }
}

function intParam(q: URLSearchParams, name: string, fallback: number): number | undefined {
  const raw = q.get(name)
  if (raw === null) return fallback
  return /^\d+$/.test(raw) ? Number(raw) : undefined
}

function parseWindow(q: URLSearchParams): { desde: Date; hasta: Date } | string {
  const desde = q.get('desde')
  const hasta = q.get('hasta')
  if (!desde || !hasta) return 'desde and hasta are required (RFC 3339)'
  if (!RFC3339.test(desde) || Number.isNaN(Date.parse(desde))) return `desde is not RFC 3339: ${desde}`
  if (!RFC3339.test(hasta) || Number.isNaN(Date.parse(hasta))) return `hasta is not RFC 3339: ${hasta}`
  if (Date.parse(desde) > Date.parse(hasta)) return 'desde is after hasta'
  return { desde: new Date(desde), hasta: new Date(hasta) }
}

function envelope(
  tiendaId: string,
  { page, page_size }: Paging,
  all: readonly (SaleLine | StockItem)[],
  corrupt: (item: Record<string, unknown>) => void,
) {
  const data: Record<string, unknown>[] = all
    .slice((page - 1) * page_size, page * page_size)
    .map((item) => ({ ...item }))
  if (data[0]) corrupt(data[0])
  return {
    tienda_id: tiendaId,
    page,
    page_size,
    total_pages: Math.ceil(all.length / page_size),
    total: all.length,
    data,
  }
}

// A marker that JSON.stringify leaves alone, swapped for raw bytes after encoding.
const BAD_UTF8_MARKER = '@@INVALID_UTF8@@'

function encode(body: unknown, fault: KlkFault | null): Buffer {
  if (fault !== 'invalid_utf8' || !isPage(body)) return Buffer.from(JSON.stringify(body), 'utf8')
  const first = body.data[0]
  if (first) first.descripcion = `${String(first.descripcion)} ${BAD_UTF8_MARKER}`
  else body.tienda_id = `${body.tienda_id} ${BAD_UTF8_MARKER}`
  const json = Buffer.from(JSON.stringify(body), 'utf8')
  const at = json.indexOf(BAD_UTF8_MARKER)
  // 0xC3 opens a two-byte sequence; 0x28 '(' is not a continuation byte.
  return Buffer.concat([json.subarray(0, at), Buffer.from([0xc3, 0x28]), json.subarray(at + BAD_UTF8_MARKER.length)])
}

function isPage(body: unknown): body is { tienda_id: string; data: Record<string, unknown>[] } {
  return typeof body === 'object' && body !== null && 'data' in body && Array.isArray(body.data)
}
