// Schemas of the JSONB columns the history serves: network diagnostics (execution and store) and a
// store's phase timeline, with the plan's PhaseMetrics aggregated from it. All closed, each
// checked against the contract's generated type with `satisfies`.
import { z } from '@hono/zod-openapi'
import type { components } from '../generated/openapi.ts'
import { ErrorCategory, nullable, Phase, TiendaId } from './executions.schemas.ts'

type S = components['schemas']

const dateTime = () => z.string().openapi({ format: 'date-time' })
const port = () => z.int().min(0).max(65535).nullable()
const latency = () => z.number().min(0).nullable()

export const DriverErrorCode = z.string().nullable().openapi('DriverErrorCode') satisfies z.ZodType<
  S['DriverErrorCode']
>

export const TiendaNetworkDiagnostics = z
  .strictObject({
    ip: z.string().nullable(),
    port: port(),
    latency_ms: latency(),
    error_code: DriverErrorCode,
    tcp_connected: z.boolean().optional(),
    requests: z.int().min(0).optional(),
    errors: z.int().min(0).optional(),
    failed_attempts: z.array(z.string()).max(5).optional(),
  })
  .openapi('TiendaNetworkDiagnostics') satisfies z.ZodType<S['TiendaNetworkDiagnostics']>

export const FailedStoreNetwork = z
  .strictObject({
    tienda_id: TiendaId,
    ip: z.string().nullable(),
    port: port(),
    latency_ms: latency(),
    error_code: DriverErrorCode,
  })
  .openapi('FailedStoreNetwork') satisfies z.ZodType<S['FailedStoreNetwork']>

export const ExecutionNetworkDiagnostics = z
  .strictObject({
    ip: z.string().nullable(),
    port: port(),
    tienda_id: nullable(TiendaId),
    latency_ms: latency(),
    error_code: DriverErrorCode,
    failed_stores: z.int().min(1),
    stores: z.array(FailedStoreNetwork).max(25),
  })
  .openapi('ExecutionNetworkDiagnostics') satisfies z.ZodType<S['ExecutionNetworkDiagnostics']>

export const TimelinePhase = z
  .enum(['extract', 'transform', 'load', 'retry_wait'])
  .openapi('TimelinePhase') satisfies z.ZodType<S['TimelinePhase']>

export const TimelineSpan = z
  .strictObject({
    attempt: z.int().min(1),
    phase: TimelinePhase,
    started_at: dateTime(),
    finished_at: dateTime(),
    duration_seconds: z.number().min(0),
    records: z.int().min(0),
    errors: z.int().min(0).max(1),
    error_category: nullable(ErrorCategory),
    error_code: DriverErrorCode,
  })
  .openapi('TimelineSpan') satisfies z.ZodType<S['TimelineSpan']>

export const PhaseMetrics = z
  .strictObject({
    phase: Phase,
    started_at: dateTime(),
    finished_at: dateTime(),
    duration_seconds: z.number().min(0),
    records_processed: z.int().min(0),
    errors_count: z.int().min(0),
  })
  .openapi('PhaseMetrics') satisfies z.ZodType<S['PhaseMetrics']>

export type TiendaNetworkDiagnostics = z.infer<typeof TiendaNetworkDiagnostics>
export type ExecutionNetworkDiagnostics = z.infer<typeof ExecutionNetworkDiagnostics>
export type TimelineSpan = z.infer<typeof TimelineSpan>
export type PhaseMetrics = z.infer<typeof PhaseMetrics>
