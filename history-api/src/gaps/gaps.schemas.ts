// Schemas of GET /api/etl/gaps and POST /api/etl/gaps/{id}/recover, checked against the contract.
import { z } from '@hono/zod-openapi'
import { ErrorCategory, EtlName, ExecutionIdValue, intParam, TiendaId } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const dateTime = () => z.string().openapi({ format: 'date-time' })

export const GAP_ESTADOS = ['pendiente', 'recuperado'] as const
export type GapEstado = (typeof GAP_ESTADOS)[number]

export const GapsQuery = z.strictObject({
  etl_name: EtlName.optional(),
  tienda: TiendaId.optional(),
  estado: z.enum(GAP_ESTADOS, { error: `must be one of: ${GAP_ESTADOS.join(', ')}` }).optional(),
  dias: intParam(1, 3650).optional(),
  limit: intParam(1, 1000).optional(),
})
export type GapsQuery = z.infer<typeof GapsQuery>

export const Gap = z
  .strictObject({
    id: ExecutionIdValue,
    etl_name: EtlName,
    tienda_id: TiendaId,
    tienda_nombre: z.string().nullable(),
    fecha_desde: dateTime().nullable(),
    fecha_hasta: dateTime().nullable(),
    error_category: ErrorCategory,
    detected_at: dateTime(),
    recovered_at: dateTime().nullable(),
    recovered_by_execution_id: z.int().min(1).nullable(),
    recovery_attempts: z.int().min(0),
    last_attempt_at: dateTime().nullable(),
    next_attempt_at: dateTime().nullable(),
    recovery_exhausted_at: dateTime().nullable(),
  })
  .openapi('Gap') satisfies z.ZodType<S['Gap']>

export type Gap = z.infer<typeof Gap>

export const AutoRecovery = z
  .strictObject({ paused: z.boolean(), updated_at: dateTime(), updated_by: z.string().nullable() })
  .openapi('AutoRecovery') satisfies z.ZodType<S['AutoRecovery']>

export const AutoRecoveryUpdate = z
  .strictObject({ paused: z.boolean({ error: 'must be true or false' }) })
  .openapi('AutoRecoveryUpdate') satisfies z.ZodType<S['AutoRecoveryUpdate']>
