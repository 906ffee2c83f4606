// Schemas of the history routes, and the vocabulary (enums, ids) the other features share.
// Each is checked against the contract's generated type with `satisfies`.
import { z } from '@hono/zod-openapi'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const oneOf = (values: readonly string[]) => ({ error: `must be one of: ${values.join(', ')}` })
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, oneOf(values))

export const EtlName = enumOf(['ventas', 'inventario']).openapi('EtlName') satisfies z.ZodType<S['EtlName']>
export const EtlType = enumOf(['scheduled', 'manual', 'recovery']).openapi('EtlType') satisfies z.ZodType<S['EtlType']>
export const ExecutionStatus = enumOf(['queued', 'running', 'success', 'partial', 'failed']).openapi(
  'ExecutionStatus',
) satisfies z.ZodType<S['ExecutionStatus']>
export const TiendaStatus = enumOf(['running', 'success', 'failed', 'skipped']).openapi(
  'TiendaStatus',
) satisfies z.ZodType<S['TiendaStatus']>
export const TriggeredBy = enumOf(['eventbridge', 'fluxion_admin', 'cli', 'recovery', 'scheduler']).openapi(
  'TriggeredBy',
) satisfies z.ZodType<S['TriggeredBy']>
export const Phase = enumOf(['extract', 'transform', 'load']).openapi('Phase') satisfies z.ZodType<S['Phase']>
export const ErrorCategory = enumOf([
  'vpn_timeout',
  'vpn_unreachable',
  'api_timeout',
  'api_error',
  'api_auth',
  'db_connection',
  'db_timeout',
  'db_error',
  'network_error',
  'data_validation',
  'data_format',
  'missing_fields',
  'encoding_error',
  'pg_connection',
  'pg_timeout',
  'constraint_violation',
  'disk_full',
  'deadlock',
  'unknown',
  'worker_lost',
]).openapi('ErrorCategory') satisfies z.ZodType<S['ErrorCategory']>
export const ErrorSource = enumOf(['klk_api', 'stellar_db', 'postgresql']).openapi('ErrorSource') satisfies z.ZodType<
  S['ErrorSource']
>
export const SourceSystem = enumOf(['klk', 'stellar']).openapi('SourceSystem') satisfies z.ZodType<S['SourceSystem']>
export const ExecutionSourceSystem = enumOf(['klk', 'stellar', 'mixed']).openapi(
  'ExecutionSourceSystem',
) satisfies z.ZodType<S['ExecutionSourceSystem']>

export const TIENDA_ID = /^[a-z0-9_]{1,50}$/
export const TiendaId = z
  .string({ error: 'must be a store id matching ^[a-z0-9_]{1,50}$' })
  .regex(TIENDA_ID, 'must match ^[a-z0-9_]{1,50}$')
  .openapi('TiendaId') satisfies z.ZodType<S['TiendaId']>

const MAX_ID = 2147483647
export const ExecutionIdValue = z
  .int({ error: `must be an integer between 1 and ${MAX_ID}` })
  .min(1, `must be an integer between 1 and ${MAX_ID}`)
  .max(MAX_ID, `must be an integer between 1 and ${MAX_ID}`)
  .openapi('ExecutionIdValue') satisfies z.ZodType<S['ExecutionIdValue']>

/** An integer query/path parameter: digits only (no `1e2`, no blanks), then bounds. */
export const intParam = (min: number, max: number) => {
  const message = `must be an integer between ${min} and ${max}`
  return z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d{1,12}$/.test(v) ? Number(v) : v),
    z.int({ error: message }).min(min, message).max(max, message),
  )
}

export const nullable = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()])
export const dateTime = () => z.string().openapi({ format: 'date-time' })
export const seconds = () => z.number().min(0).nullable()
export const count = () => z.int().min(0)

export const DateOrDateTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an RFC 3339 date-time with offset or a date YYYY-MM-DD (a real calendar day)',
  })
  .openapi('DateOrDateTime') satisfies z.ZodType<S['DateOrDateTime']>

export const HistoryQuery = z.strictObject({
  etl_name: EtlName.optional(),
  status: ExecutionStatus.optional(),
  fecha_desde: DateOrDateTime.optional(),
  fecha_hasta: DateOrDateTime.optional(),
  triggered_by: TriggeredBy.optional(),
  tienda: TiendaId.optional(),
  error_phase: Phase.optional(),
  error_category: ErrorCategory.optional(),
  limit: intParam(1, 200).default(50),
  offset: intParam(0, 1_000_000).default(0),
})
export type HistoryQuery = z.infer<typeof HistoryQuery>

export const ExecutionIdParam = z.strictObject({
  id: z.preprocess((v) => (typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : v), ExecutionIdValue),
})

export const ExecutionSummary = z
  .strictObject({
    id: ExecutionIdValue,
    etl_name: EtlName,
    etl_type: EtlType,
    started_at: dateTime().nullable(),
    finished_at: dateTime().nullable(),
    duration_seconds: seconds(),
    status: ExecutionStatus,
    records_extracted: count(),
    records_loaded: count(),
    duplicates_skipped: count(),
    tiendas_count: count(),
    tiendas_exitosas: count(),
    tiendas_fallidas: count(),
    error_phase: nullable(Phase),
    error_category: nullable(ErrorCategory),
    triggered_by: TriggeredBy,
  })
  .openapi('ExecutionSummary') satisfies z.ZodType<S['ExecutionSummary']>

export type ExecutionSummary = z.infer<typeof ExecutionSummary>
