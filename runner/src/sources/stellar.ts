// Stellar stores: SQL Server per store, reached over the VPN with mssql (tedious).
//
// - One ConnectionPool per store and run (max 1 connection: a store gets one query per run),
//   created on first use and closed by close() at the end of the run.
// - Credentials and the default database come from configuration (STELLAR_USER, STELLAR_PASSWORD,
//   STELLAR_DATABASE), never from the database; `tiendas.database_name` only overrides the name.
// - The window travels as typed DateTime2 parameters of sp_executesql, never inside the text.
// - Rows are streamed and handed out in batches; the request is paused while a batch is being
//   loaded, so tedious stops reading, TCP backpressure holds the server, and a large window never
//   sits whole in memory.
// - A bare TCP probe runs beside the driver's connect: it tells a dropped SYN (vpn_timeout) from a
//   server that connected but never answered the login (db_connection) — tedious reports both as
//   ConnectionError ETIMEOUT — and gives the store's ip and connect latency for its diagnostics.
import sql from 'mssql'
import type { ExtractOptions, NetworkDiagnostics, Source, SourceTienda, VentasWindow } from './source.ts'
import { probeTcp, type TcpProbe } from './tcp-probe.ts'

export const STELLAR_VENTAS_QUERY =
  'SELECT numero_factura, linea, fecha, codigo_producto, descripcion, cantidad, precio_unitario, total ' +
  'FROM dbo.ventas_detalle WHERE fecha >= @desde AND fecha <= @hasta ORDER BY fecha, numero_factura, linea'

export type StellarConfig = {
  SOURCE_CONNECT_TIMEOUT_MS: number
  SOURCE_REQUEST_TIMEOUT_MS: number
  STELLAR_USER: string
  STELLAR_PASSWORD: string
  STELLAR_DATABASE: string
}

/** Rows per batch (~1 MB of sale lines): the request is paused at each until the consumer takes it. */
const DEFAULT_BATCH = 5_000

type OpenPool = { pool: sql.ConnectionPool; diagnostics: NetworkDiagnostics }

export function createStellarSource(config: StellarConfig, options: { batchSize?: number } = {}): Source {
  const batchSize = options.batchSize ?? DEFAULT_BATCH
  const pools = new Map<string, Promise<OpenPool>>()

  async function open(tienda: SourceTienda): Promise<OpenPool> {
    const pool = new sql.ConnectionPool({
      server: tienda.host,
      port: tienda.port,
      database: tienda.database_name || config.STELLAR_DATABASE,
      user: config.STELLAR_USER,
      password: config.STELLAR_PASSWORD,
      connectionTimeout: config.SOURCE_CONNECT_TIMEOUT_MS,
      requestTimeout: config.SOURCE_REQUEST_TIMEOUT_MS,
      // One query per store and run: a second connection would only be a second login to wait for.
      pool: { min: 0, max: 1 },
      options: {
        // The stores' SQL Servers are reached only through the VPN tunnel (already encrypted) and
        // run with self-signed certificates; a store can opt in with tiendas.settings.encrypt = true.
        encrypt: tienda.settings?.encrypt === true,
        trustServerCertificate: true,
        appName: 'fluxion-etl',
        // A cancelled query (watchdog, aborted run) waits this long for the server's acknowledgement
        // before the connection is dropped; tedious's 5 s default would hold up close() on a dead link.
        cancelTimeout: config.SOURCE_CONNECT_TIMEOUT_MS,
      },
    })
    // tedious reports some connect failures both to connect()'s promise and as an 'error' event;
    // an EventEmitter 'error' with no listener would crash the runner.
    pool.on('error', () => {})
    const probe = probeTcp(tienda.host, tienda.port, config.SOURCE_CONNECT_TIMEOUT_MS)
    try {
      await pool.connect()
    } catch (error) {
      await pool.close().catch(() => {})
      const tcpProbe = await probe
      // classify-error reads tcpProbe.connected (ETIMEOUT: vpn_timeout vs db_connection).
      throw Object.assign(asError(error), { tcpProbe, diagnostics: diagnosticsFrom(tcpProbe, error) })
    }
    return { pool, diagnostics: diagnosticsFrom(await probe, null) }
  }

  function poolFor(tienda: SourceTienda): Promise<OpenPool> {
    const existing = pools.get(tienda.id)
    if (existing) return existing
    const opening = open(tienda)
    pools.set(tienda.id, opening)
    // A failed connect is not kept: the store's next attempt (retry) gets a fresh pool.
    opening.catch(() => {
      if (pools.get(tienda.id) === opening) pools.delete(tienda.id)
    })
    return opening
  }

  async function* ventas(tienda: SourceTienda, window: VentasWindow, opts: ExtractOptions): AsyncGenerator<unknown[]> {
    let opened: OpenPool
    try {
      opened = await poolFor(tienda)
    } catch (error) {
      opts.onRequest?.(false)
      throw error
    }
    opts.onConnected?.(opened.diagnostics)
    try {
      yield* streamVentas(opened.pool, window, {
        batchSize,
        idleMs: config.SOURCE_REQUEST_TIMEOUT_MS,
        signal: opts.signal,
      })
    } catch (error) {
      opts.onRequest?.(false)
      throw error
    }
    opts.onRequest?.(true)
  }

  return {
    sourceSystem: 'stellar',
    ventas,
    // No inventario: the plan's inventario ETL reads KLK only (etl_inventario_klk_postgres.py) and
    // Stellar's stock tables are not part of it; run-etl leaves Stellar stores out of inventario runs.
    async close() {
      const opening = [...pools.values()]
      pools.clear()
      await Promise.all(
        opening.map(async (entry) => {
          const opened = await entry.catch(() => null)
          await opened?.pool.close().catch(() => {})
        }),
      )
    },
  }
}

async function* streamVentas(
  pool: sql.ConnectionPool,
  window: VentasWindow,
  opts: { batchSize: number; idleMs: number; signal?: AbortSignal },
): AsyncGenerator<unknown[]> {
  const request = pool.request()
  request.stream = true
  request.input('desde', sql.DateTime2, window.desde)
  request.input('hasta', sql.DateTime2, window.hasta)

  const ready: unknown[][] = []
  let batch: unknown[] = []
  let failure: unknown = null
  let finished = false
  let paused = false
  let wake: (() => void) | null = null
  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }

  // tedious's requestTimeout stops at the first packet of the answer: a server (or VPN) that
  // goes quiet mid-rowset would hang the run forever. This watchdog gives the same budget to
  // every gap between rows while we are reading, and fails like the driver's own timeout.
  let idle: NodeJS.Timeout | undefined
  const armIdle = () => {
    clearTimeout(idle)
    idle = setTimeout(() => {
      failure ??= new sql.RequestError(`Timeout: no row received for ${opts.idleMs}ms mid-rowset`, 'ETIMEOUT')
      request.cancel()
      notify()
    }, opts.idleMs)
  }

  request.on('recordset', armIdle)
  request.on('row', (row: unknown) => {
    batch.push(row)
    if (batch.length >= opts.batchSize) {
      ready.push(batch)
      batch = []
      if (!paused) {
        paused = true
        clearTimeout(idle)
        request.pause()
      }
      notify()
    } else if (!paused) armIdle()
  })
  request.on('error', (error: unknown) => {
    failure ??= error
    notify()
  })
  request.on('done', () => {
    finished = true
    notify()
  })
  const onAbort = () => request.cancel()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  // In stream mode errors arrive as 'error' events; the promise itself always resolves.
  request.query(STELLAR_VENTAS_QUERY).catch(() => {})

  try {
    for (;;) {
      if (failure) throw failure
      const next = ready.shift()
      if (next) {
        yield next
        if (ready.length === 0 && paused && !finished) {
          paused = false
          armIdle()
          request.resume()
        }
        continue
      }
      if (finished) {
        if (batch.length > 0) yield batch.splice(0)
        return
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    clearTimeout(idle)
    opts.signal?.removeEventListener('abort', onAbort)
    // The consumer stopped early (its load failed, the run was aborted): stop the server too.
    if (!finished) request.cancel()
  }
}

function diagnosticsFrom(probe: TcpProbe, error: unknown): NetworkDiagnostics {
  return {
    ip: probe.ip,
    port: probe.port,
    latency_ms: probe.connected ? probe.latencyMs : null,
    tcp_connected: probe.connected,
    error_code: error ? driverCode(error) : probe.errorCode,
  }
}

/** The most specific code: the socket's (ECONNREFUSED, ENOTFOUND…) under tedious's ESOCKET. */
export function driverCode(error: unknown): string | null {
  const e = error as { code?: unknown; originalError?: { cause?: { code?: unknown; errors?: { code?: unknown }[] } } }
  const cause = e.originalError?.cause
  const inner = cause?.errors?.[0]?.code ?? cause?.code
  if (typeof inner === 'string') return inner
  return typeof e.code === 'string' ? e.code : null
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
