// The network side of a store or an execution, as the detail shows it: `ip:port`, connect latency.
import { formatNumber } from './format.ts'

const SIN_DATO = '—'

/** `10.8.0.15:80`; `10.8.0.15` without a port; a dash when the address is unknown. */
export function direccion(ip: string | null | undefined, port: number | null | undefined): string {
  if (!ip) return SIN_DATO
  const host = ip.includes(':') ? `[${ip}]` : ip
  return port === null || port === undefined ? host : `${host}:${port}`
}

/** `12,5 ms` (es-VE decimals); `sin conexión` when no TCP connection was established. */
export function formatLatencia(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'sin conexión'
  if (ms < 10) return `${ms.toLocaleString('es-VE', { maximumFractionDigits: 1 })} ms`
  return `${formatNumber(Math.round(ms))} ms`
}
