// Database rows → contract shapes (RFC 3339 UTC timestamps). Shared by the history routes and
// the event stream, whose `execution` and `tienda` events carry the same items.
import { iso } from '../db.ts'
import type { ExecutionDetail, TiendaDetail } from './detail.schemas.ts'
import type { ExecutionDetailRow, TiendaDetailRow } from './detail.sql.ts'
import { phaseMetrics, toExecutionNetwork, toTiendaNetwork, toTimeline } from './diagnostics.view.ts'
import type { ExecutionSummary } from './executions.schemas.ts'
import type { ExecutionRow } from './executions.sql.ts'
import { sanitizeStack, stripPaths } from './sanitize.ts'

const cleanMessage = (text: string | null) => (text === null ? null : stripPaths(text))

export function toSummary(r: ExecutionRow): ExecutionSummary {
  return {
    id: r.id,
    etl_name: r.etl_name,
    etl_type: r.etl_type,
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    duration_seconds: r.duration_seconds,
    status: r.status,
    records_extracted: r.records_extracted,
    records_loaded: r.records_loaded,
    duplicates_skipped: r.duplicates_skipped,
    tiendas_count: r.tiendas_count,
    tiendas_exitosas: r.tiendas_exitosas,
    tiendas_fallidas: r.tiendas_fallidas,
    tiendas_cerradas: r.tiendas_cerradas,
    error_phase: r.error_phase,
    error_category: r.error_category,
    triggered_by: r.triggered_by,
  }
}

export function toTiendaDetail(r: TiendaDetailRow): TiendaDetail {
  const network = toTiendaNetwork(r.network_diagnostics)
  const timeline = toTimeline(r.timeline)
  return {
    tienda_id: r.tienda_id,
    tienda_nombre: r.tienda_nombre,
    source_system: r.source_system,
    status: r.status,
    duration_seconds: r.duration_seconds,
    records_extracted: r.records_extracted,
    records_loaded: r.records_loaded,
    duplicates_skipped: r.duplicates_skipped,
    error_phase: r.error_phase,
    error_category: r.error_category,
    error_message: cleanMessage(r.error_message),
    started_at: r.started_at,
    finished_at: r.finished_at,
    attempts: r.attempts,
    server_ip: r.server_ip,
    server_port: r.server_port,
    connection_latency_ms: r.connection_latency_ms,
    error_code: network?.error_code ?? null,
    extract_duration_seconds: r.extract_duration_seconds,
    transform_duration_seconds: r.transform_duration_seconds,
    load_duration_seconds: r.load_duration_seconds,
    network_diagnostics: network,
    phase_metrics: phaseMetrics(timeline),
    timeline,
  }
}

export function toDetail(r: ExecutionDetailRow, tiendaRows: TiendaDetailRow[]): ExecutionDetail {
  const tiendas = tiendaRows.map(toTiendaDetail)
  return {
    ...toSummary(r),
    fecha_desde: iso(r.fecha_desde),
    fecha_hasta: iso(r.fecha_hasta),
    gaps_recovered: r.gaps_recovered,
    extract_duration_seconds: r.extract_duration_seconds,
    transform_duration_seconds: r.transform_duration_seconds,
    load_duration_seconds: r.load_duration_seconds,
    error_source: r.error_source,
    error_message: cleanMessage(r.error_message),
    error_detail: r.error_detail === null ? null : sanitizeStack(r.error_detail),
    source_system: r.source_system,
    is_recovery: r.is_recovery,
    current_phase: r.current_phase,
    records_upserted: r.records_upserted,
    records_failed: r.records_failed,
    api_requests_count: r.api_requests_count,
    api_errors_count: r.api_errors_count,
    network_diagnostics: toExecutionNetwork(r.network_diagnostics),
    recovered_gap_id: r.recovered_gap_id,
    rerun_of: r.rerun_of,
    rerun_scope: r.rerun_scope,
    reruns: r.reruns,
    cancel_requested_at: iso(r.cancel_requested_at),
    phase_metrics: phaseMetrics(tiendas.flatMap((t) => t.timeline)),
    tiendas_detail: tiendas,
  }
}
