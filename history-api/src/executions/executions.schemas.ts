// Schemas of the history routes, and the vocabulary (enums, ids) the other features share.
// Each is checked against the contract's generated type with `satisfies`.
import { z } from '@hono/zod-openapi'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const oneOf = (values: readonly string[]) => ({ error: `must be one of: ${values.join(', ')}` })
const enumOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, oneOf(values))

export const EtlName = enumOf(['ventas', 'inventario']).openapi('EtlName') satisfies z.ZodType<S['EtlName']>
export const EtlType = enumOf(['scheduled', 'manual', 'recovery']).openapi('EtlType') satisfies z.ZodType<S['EtlType']>
export const ExecutionStatus = enumOf(['queued', 'running', 'success', 'partial', 'failed', 'cancelled']).openapi(
  'ExecutionStatus',
) satisfies z.ZodType<S['ExecutionStatus']>
export const TiendaStatus = enumOf(['running', 'success', 'failed', 'skipped', 'closed']).openapi(
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

const STATUSES = ExecutionStatus.options
type Status = (typeof STATUSES)[number]

/** `failed,partial`: one status or several, comma-separated (OpenAPI style form, explode false). */
export const StatusList = z
  .string({ error: 'must be given once, as one status or several separated by commas' })
  .transform((value, ctx): Status[] => {
    const items = value.split(',')
    if (!items.every((i): i is Status => (STATUSES as readonly string[]).includes(i))) {
      const message = `must be one or more of ${STATUSES.join(', ')}, separated by commas`
      ctx.addIssue({ code: 'custom', message, params: { code: 'one_of' } })
      return z.NEVER
    }
    if (new Set(items).size !== items.length) {
      ctx.addIssue({ code: 'custom', message: 'must not repeat a status', params: { code: 'duplicate' } })
      return z.NEVER
    }
    return items
  })
  .openapi({
    type: 'array',
    items: { $ref: '#/components/schemas/ExecutionStatus' },
    minItems: 1,
    maxItems: 6,
    uniqueItems: true,
    param: { style: 'form', explode: false },
  } as Record<never, never>)

/** List orders: a field of the plan, `-` first for descending; ties break on id the same way. */
export const HistorySort = enumOf([
  '-started_at',
  'started_at',
  '-duration_seconds',
  'duration_seconds',
  '-records_loaded',
  'records_loaded',
]).openapi('HistorySort') satisfies z.ZodType<S['HistorySort']>

const HistoryFilterShape = {
  etl_name: EtlName.optional(),
  status: StatusList.optional(),
  fecha_desde: DateOrDateTime.optional(),
  fecha_hasta: DateOrDateTime.optional(),
  triggered_by: TriggeredBy.optional(),
  tienda: TiendaId.optional(),
  error_phase: Phase.optional(),
  error_category: ErrorCategory.optional(),
  id: z.preprocess((v) => (typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : v), ExecutionIdValue).optional(),
  sort: HistorySort.default('-started_at'),
}

export const HistoryQuery = z.strictObject({
  ...HistoryFilterShape,
  limit: intParam(1, 200).default(50),
  offset: intParam(0, 1_000_000).default(0),
})
export type HistoryQuery = z.infer<typeof HistoryQuery>

/** The export takes the list's filters and order, and every row (no page). */
export const HistoryExportQuery = z.strictObject(HistoryFilterShape)
export type HistoryExportQuery = z.infer<typeof HistoryExportQuery>

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
    tiendas_cerradas: count(),
    error_phase: nullable(Phase),
    error_category: nullable(ErrorCategory),
    triggered_by: TriggeredBy,
  })
  .openapi('ExecutionSummary') satisfies z.ZodType<S['ExecutionSummary']>

export type ExecutionSummary = z.infer<typeof ExecutionSummary>
