// KLK stores: the point-of-sale HTTP API behind the VPN (contract at the top of
// test/fakes/klk-simulator.ts). undici 8's own `request` with an undici 8 Agent (TOOLCHAIN pitfall
// 8: global fetch is Node's bundled undici and rejects this Agent).
//
// - Connect, headers and body timeouts come from SOURCE_CONNECT_TIMEOUT_MS / SOURCE_REQUEST_TIMEOUT_MS,
//   so a dropped SYN, a silent API and a stalled body surface as undici's own timeout errors.
// - The connector is wrapped to measure each TCP connect (latency, resolved ip, error code): that is
//   the store's network diagnostics, taken from the very connection the requests use.
// - Bodies are read as bytes and decoded with a fatal TextDecoder: invalid UTF-8 is an error
//   (encoding_error), not silently replaced characters.
// - One Agent per source; a source lives for one run (run-etl.ts closes it), so every run measures
//   a fresh connect and no keep-alive socket outlives the run.
import { isIP } from 'node:net'
import { Agent, buildConnector, request } from 'undici'
import { z } from 'zod'
import type { ExtractOptions, NetworkDiagnostics, Source, SourceTienda, VentasWindow } from './source.ts'

export type KlkConfig = {
  KLK_API_TOKEN: string
  SOURCE_CONNECT_TIMEOUT_MS: number
  SOURCE_REQUEST_TIMEOUT_MS: number
}

/** The simulator's (and KLK's) largest page: fewer round trips per store. */
const PAGE_SIZE = 1000
const ERROR_BODY_MAX = 300

/** An HTTP status ≥ 400 from the store's API; classify-error reads `statusCode`. */
export class KlkHttpError extends Error {
  readonly statusCode: number
  readonly code: string
  constructor(message: string, statusCode: number) {
    super(message)
    this.name = 'KlkHttpError'
    this.statusCode = statusCode
    this.code = `HTTP_${statusCode}`
  }
}

// The page envelope. Items stay `unknown`: etl/*.schema.ts validates them.
const pageSchema = z.object({
  total_pages: z.number().int().min(0),
  data: z.array(z.unknown()),
})

type ConnectInfo = { ip: string | null; latencyMs: number; code: string | null }

export function createKlkSource(config: KlkConfig): Source {
  const connects = new Map<string, ConnectInfo>()
  const connector = buildConnector({ timeout: config.SOURCE_CONNECT_TIMEOUT_MS })
  const agent = new Agent({
    connect: (options, callback) => {
      const started = performance.now()
      connector(options, (...args) => {
        const [error, socket] = args
        connects.set(originKey(options.hostname, options.port), {
          // A connect that never completed has no socket; an IP-literal host still names the target.
          ip: socket?.remoteAddress ?? (isIP(options.hostname) ? options.hostname : null),
          latencyMs: Math.round((performance.now() - started) * 100) / 100,
          code: (error as { code?: string } | null)?.code ?? null,
        })
        callback(...args)
      })
    },
    headersTimeout: config.SOURCE_REQUEST_TIMEOUT_MS,
    bodyTimeout: config.SOURCE_REQUEST_TIMEOUT_MS,
  })

  const diagnostics = (tienda: SourceTienda, url: URL, error: unknown): NetworkDiagnostics => {
    const c = connects.get(originKey(url.hostname, url.port))
    return {
      ip: c?.ip ?? null,
      port: tienda.port,
      latency_ms: c && !c.code ? c.latencyMs : null,
      tcp_connected: c ? !c.code : undefined,
      error_code: c?.code ?? codeOf(error),
    }
  }

  async function getPage(tienda: SourceTienda, url: URL, label: string, opts: ExtractOptions) {
    let bytes: Uint8Array
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers: { authorization: `Bearer ${config.KLK_API_TOKEN}`, accept: 'application/json' },
        signal: opts.signal,
      })
      bytes = await res.body.bytes()
      if (res.statusCode >= 400) {
        throw new KlkHttpError(`${label} → HTTP ${res.statusCode}: ${errorText(bytes)}`, res.statusCode)
      }
    } catch (error) {
      opts.onRequest?.(false)
      const d = diagnostics(tienda, url, error)
      opts.onConnected?.(d)
      if (error instanceof KlkHttpError) throw Object.assign(error, { diagnostics: d })
      throw Object.assign(new Error(`${label}: ${(error as Error)?.message ?? error}`, { cause: error }), {
        diagnostics: d,
      })
    }
    opts.onRequest?.(true)
    opts.onConnected?.(diagnostics(tienda, url, null))
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch (error) {
      throw new Error(`${label}: the body is not valid UTF-8`, { cause: error })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      throw new Error(`${label}: the body is not JSON (${(error as Error).message})`, { cause: error })
    }
    return pageSchema.parse(json, { reportInput: true })
  }

  async function* pages(tienda: SourceTienda, path: string, query: Record<string, string>, opts: ExtractOptions) {
    const base = baseUrl(tienda)
    for (let page = 1, totalPages = 1; page <= totalPages; page++) {
      const url = new URL(path, base)
      for (const [k, v] of Object.entries({ ...query, page: String(page), page_size: String(PAGE_SIZE) })) {
        url.searchParams.set(k, v)
      }
      const body = await getPage(tienda, url, `KLK ${tienda.id} GET ${path} (page ${page})`, opts)
      totalPages = body.total_pages
      yield body.data
    }
  }

  return {
    sourceSystem: 'klk',
    ventas: (tienda: SourceTienda, window: VentasWindow, opts: ExtractOptions) =>
      pages(tienda, '/api/v1/ventas', { desde: window.desde.toISOString(), hasta: window.hasta.toISOString() }, opts),
    inventario: (tienda: SourceTienda, opts: ExtractOptions) => pages(tienda, '/api/v1/inventario', {}, opts),
    close: () => agent.close(),
  }
}

// undici hands the connector the URL's hostname and port ('' for the scheme's default).
const originKey = (hostname: string, port: string) => `${hostname}|${port}`

function baseUrl(tienda: SourceTienda): string {
  const scheme = tienda.settings?.scheme === 'https' ? 'https' : 'http'
  const host = tienda.host.includes(':') && !tienda.host.startsWith('[') ? `[${tienda.host}]` : tienda.host
  return `${scheme}://${host}:${tienda.port}`
}

/** The API's {"error": "..."} if it sent one, else the start of the body. */
function errorText(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 4096))
  try {
    const parsed = JSON.parse(text) as { error?: unknown }
    if (typeof parsed?.error === 'string') return parsed.error.slice(0, ERROR_BODY_MAX)
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, ERROR_BODY_MAX) || '(empty body)'
}

function codeOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : null
}
