// The JSONB columns → the contract's closed shapes. The runner writes them and migration 050
// converted older rows, but what the API serves is built here key by key from what the contract
// declares: a key the runner adds later never leaks into a response undeclared, and a value of
// the wrong type becomes null (or the span is dropped) instead of breaking the contract.

import type {
  ExecutionNetworkDiagnostics,
  PhaseMetrics,
  TiendaNetworkDiagnostics,
  TimelineSpan,
} from './diagnostics.schemas.ts'
import { ErrorCategory, Phase, TIENDA_ID } from './executions.schemas.ts'

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown) => (typeof v === 'string' ? v : null)
const int = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : null
const nonNegative = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null)
const instant = (v: unknown) => {
  if (typeof v !== 'string') return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}
const round2 = (n: number) => Math.round(n * 100) / 100

const PHASES = Phase.options
const SPAN_PHASES = new Set<string>([...PHASES, 'retry_wait'])
const CATEGORIES = new Set<string>(ErrorCategory.options)

/** A store's address part, shared by both shapes. `code` is the key rows had before migration 050. */
function address(d: Json) {
  return {
    ip: str(d.ip),
    port: int(d.port, 0, 65535),
    latency_ms: nonNegative(d.latency_ms),
    error_code: str(d.error_code) ?? str(d.code),
  }
}

export function toTiendaNetwork(raw: unknown): TiendaNetworkDiagnostics | null {
  if (!isObject(raw)) return null
  const out: TiendaNetworkDiagnostics = address(raw)
  if (typeof raw.tcp_connected === 'boolean') out.tcp_connected = raw.tcp_connected
  const requests = int(raw.requests)
  if (requests !== null) out.requests = requests
  const errors = int(raw.errors)
  if (errors !== null) out.errors = errors
  if (Array.isArray(raw.failed_attempts)) {
    out.failed_attempts = raw.failed_attempts.filter((a): a is string => typeof a === 'string').slice(0, 5)
  }
  return out
}

export function toExecutionNetwork(raw: unknown): ExecutionNetworkDiagnostics | null {
  if (!isObject(raw)) return null
  const stores = (Array.isArray(raw.stores) ? raw.stores : [])
    .filter((s): s is Json => isObject(s) && typeof s.tienda_id === 'string' && TIENDA_ID.test(s.tienda_id))
    .slice(0, 25)
    .map((s) => ({ tienda_id: s.tienda_id as string, ...address(s) }))
  const tiendaId = str(raw.tienda_id)
  return {
    ...address(raw),
    tienda_id: tiendaId && TIENDA_ID.test(tiendaId) ? tiendaId : null,
    failed_stores: Math.max(int(raw.failed_stores, 1) ?? 0, stores.length, 1),
    stores,
  }
}

export function toTimeline(raw: unknown): TimelineSpan[] {
  if (!Array.isArray(raw)) return []
  return raw.flatMap((s): TimelineSpan[] => {
    if (!isObject(s)) return []
    const attempt = int(s.attempt, 1)
    const startedAt = instant(s.started_at)
    const finishedAt = instant(s.finished_at)
    if (attempt === null || typeof s.phase !== 'string' || !SPAN_PHASES.has(s.phase) || !startedAt || !finishedAt) {
      return []
    }
    const category = str(s.error_category)
    return [
      {
        attempt,
        phase: s.phase as TimelineSpan['phase'],
        started_at: startedAt,
        finished_at: finishedAt,
        duration_seconds: nonNegative(s.duration_seconds) ?? 0,
        records: int(s.records) ?? 0,
        errors: int(s.errors, 0, 1) ?? 0,
        error_category: category && CATEGORIES.has(category) ? (category as TimelineSpan['error_category']) : null,
        error_code: str(s.error_code),
      },
    ]
  })
}

/** The plan's PhaseMetrics: each ETL phase's spans aggregated (retry waits are not a phase). */
export function phaseMetrics(spans: readonly TimelineSpan[]): PhaseMetrics[] {
  // Most stores of a detail have no spans: no per-phase arrays for them (90 KB for 200 stores).
  if (spans.length === 0) return []
  return PHASES.flatMap((phase): PhaseMetrics[] => {
    const of = spans.filter((s) => s.phase === phase)
    if (of.length === 0) return []
    // Same-format UTC ISO strings (toTimeline normalises them) sort in time order.
    const starts = of.map((s) => s.started_at).sort()
    const ends = of.map((s) => s.finished_at).sort()
    return [
      {
        phase,
        started_at: starts[0]!,
        finished_at: ends.at(-1)!,
        duration_seconds: round2(of.reduce((n, s) => n + s.duration_seconds, 0)),
        records_processed: of.reduce((n, s) => n + s.records, 0),
        errors_count: of.reduce((n, s) => n + s.errors, 0),
      },
    ]
  })
}
