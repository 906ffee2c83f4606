// Schemas of GET /api/etl/alerts (plan §8.3), each checked against the contract's generated type.
import { z } from '@hono/zod-openapi'
import { EtlName, nullable, TiendaId } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const dateTime = () => z.string().openapi({ format: 'date-time' })

export const ALERT_ESTADOS = ['activa', 'resuelta'] as const
export type AlertEstado = (typeof ALERT_ESTADOS)[number]

export const AlertsQuery = z.strictObject({
  estado: z.enum(ALERT_ESTADOS, { error: `must be one of: ${ALERT_ESTADOS.join(', ')}` }).optional(),
})
export type AlertsQuery = z.infer<typeof AlertsQuery>

export const Alert = z
  .strictObject({
    id: z.int().min(1),
    tipo: z.enum(['success_rate_low', 'tienda_consecutive_failures']),
    etl_name: EtlName,
    tienda_id: nullable(TiendaId),
    mensaje: z.string(),
    valor: z.number(),
    umbral: z.number(),
    detectada_at: dateTime(),
    resuelta_at: dateTime().nullable(),
    ultima_vez_at: dateTime(),
  })
  .openapi('Alert') satisfies z.ZodType<S['Alert']>

export type Alert = z.infer<typeof Alert>
