// The detail of one execution (GET /api/etl/history/{id}) and of one of its stores, which the
// event stream's `tienda` events carry too.
import { z } from '@hono/zod-openapi'
import type { components } from '../generated/openapi.ts'
import {
  DriverErrorCode,
  ExecutionNetworkDiagnostics,
  PhaseMetrics,
  TiendaNetworkDiagnostics,
  TimelineSpan,
} from './diagnostics.schemas.ts'
import {
  count,
  dateTime,
  ErrorCategory,
  ErrorSource,
  ExecutionIdValue,
  ExecutionSourceSystem,
  ExecutionStatus,
  ExecutionSummary,
  nullable,
  Phase,
  SourceSystem,
  seconds,
  TiendaId,
  TiendaStatus,
} from './executions.schemas.ts'

type S = components['schemas']

export const TiendaDetail = z
  .strictObject({
    tienda_id: TiendaId,
    tienda_nombre: z.string().nullable(),
    source_system: SourceSystem,
    status: TiendaStatus,
    duration_seconds: seconds(),
    records_extracted: count(),
    records_loaded: count(),
    duplicates_skipped: count(),
    error_phase: nullable(Phase),
    error_category: nullable(ErrorCategory),
    error_message: z.string().nullable(),
    started_at: dateTime().nullable(),
    finished_at: dateTime().nullable(),
    attempts: count(),
    server_ip: z.string().nullable(),
    server_port: z.int().min(0).max(65535).nullable(),
    connection_latency_ms: seconds(),
    error_code: DriverErrorCode,
    extract_duration_seconds: seconds(),
    transform_duration_seconds: seconds(),
    load_duration_seconds: seconds(),
    network_diagnostics: nullable(TiendaNetworkDiagnostics),
    phase_metrics: z.array(PhaseMetrics).max(3),
    timeline: z.array(TimelineSpan),
  })
  .openapi('TiendaDetail') satisfies z.ZodType<S['TiendaDetail']>

export const RerunScope = z
  .enum(['failed', 'all'], { error: 'must be failed or all' })
  .openapi('RerunScope') satisfies z.ZodType<S['RerunScope']>

export const RerunLink = z
  .strictObject({ id: ExecutionIdValue, status: ExecutionStatus, rerun_scope: RerunScope, tiendas_count: count() })
  .openapi('RerunLink') satisfies z.ZodType<S['RerunLink']>

export const ExecutionDetail = z
  .strictObject({
    ...ExecutionSummary.shape,
    fecha_desde: dateTime().nullable(),
    fecha_hasta: dateTime().nullable(),
    gaps_recovered: count(),
    extract_duration_seconds: seconds(),
    transform_duration_seconds: seconds(),
    load_duration_seconds: seconds(),
    error_source: nullable(ErrorSource),
    error_message: z.string().nullable(),
    error_detail: z.string().nullable(),
    source_system: nullable(ExecutionSourceSystem),
    is_recovery: z.boolean(),
    current_phase: nullable(Phase),
    records_upserted: count(),
    records_failed: count(),
    api_requests_count: count(),
    api_errors_count: count(),
    network_diagnostics: nullable(ExecutionNetworkDiagnostics),
    recovered_gap_id: z.int().min(1).nullable(),
    rerun_of: z.int().min(1).nullable(),
    rerun_scope: nullable(RerunScope),
    reruns: z.array(RerunLink).max(50),
    cancel_requested_at: dateTime().nullable(),
    phase_metrics: z.array(PhaseMetrics).max(3),
    tiendas_detail: z.array(TiendaDetail),
  })
  .openapi('ExecutionDetail') satisfies z.ZodType<S['ExecutionDetail']>

export type ExecutionDetail = z.infer<typeof ExecutionDetail>
export type TiendaDetail = z.infer<typeof TiendaDetail>
