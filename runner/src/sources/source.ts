// What the ETL needs from a store's source system. The KLK source (klk.ts) and the Stellar source
// (stellar.ts) both fit it, so run-etl.ts picks one per store by tiendas.source_system and never
// knows which protocol is behind it.
//
// Errors are the drivers' own (undici, tedious, JSON.parse, TextDecoder), possibly wrapped with
// context in `cause`: tracker/classify-error.ts reads them. A source may attach `diagnostics`
// (NetworkDiagnostics) and `tcpProbe: { connected }` to an error it throws.
import type { SourceSystem } from '../tracker/classify-error.ts'

/** The store as the sources see it: a row of `tiendas` (credentials come from configuration). */
export type SourceTienda = {
  id: string
  host: string
  port: number
  database_name?: string | null
  settings?: Record<string, unknown> | null
}

/** Both bounds inclusive. */
export type VentasWindow = { desde: Date; hasta: Date }

/**
 * Network facts about one store's connection, as the sources learn them and the tracker stores them
 * (openapi TiendaNetworkDiagnostics): address, TCP connect latency, the driver's error code.
 */
export type NetworkDiagnostics = {
  ip: string | null
  port: number | null
  latency_ms: number | null
  error_code: string | null
  tcp_connected?: boolean
}

export type ExtractOptions = {
  signal?: AbortSignal
  /** Called once the source knows how the connection went (ip, latency), before rows flow. */
  onConnected?: (diagnostics: NetworkDiagnostics) => void
  /** Called per request to the store's API/database; `ok` false when it failed. */
  onRequest?: (ok: boolean) => void
}

/**
 * Raw rows, a batch (page) at a time; the next batch is fetched only when asked for. Rows are
 * `unknown`: the transform (etl/*.schema.ts) validates them.
 */
export type Source = {
  readonly sourceSystem: SourceSystem
  ventas(tienda: SourceTienda, window: VentasWindow, opts: ExtractOptions): AsyncIterable<unknown[]>
  /** Absent when the system has no inventory feed (Stellar: the plan's inventario ETL is KLK's). */
  inventario?(tienda: SourceTienda, opts: ExtractOptions): AsyncIterable<unknown[]>
  close(): Promise<void>
}

export type Sources = Partial<Record<SourceSystem, Source>>

/** Diagnostics a source attached to the error it threw, if any. */
export function diagnosticsOf(error: unknown): NetworkDiagnostics | undefined {
  let current: unknown = error
  for (let depth = 0; current && typeof current === 'object' && depth < 8; depth++) {
    const d = (current as { diagnostics?: unknown }).diagnostics
    if (d && typeof d === 'object' && 'ip' in d) return d as NetworkDiagnostics
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
