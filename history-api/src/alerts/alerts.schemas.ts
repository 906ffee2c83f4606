// Schemas of GET /api/etl/alerts (plan §8.3), each checked against the contract's generated type.
import { z } from '@hono/zod-openapi'
import { EtlName, intParam, nullable, TiendaId } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const dateTime = () => z.string().openapi({ format: 'date-time' })

export const ALERT_ESTADOS = ['activa', 'resuelta'] as const
export type AlertEstado = (typeof ALERT_ESTADOS)[number]

export const ALERT_TIPOS = [
  'success_rate_low',
  'tienda_consecutive_failures',
  'incidente_red',
  'tienda_sin_datos',
  'tienda_intermitente',
  'gap_sin_recuperar',
] as const

export const AlertTipo = z
  .enum(ALERT_TIPOS, { error: `must be one of: ${ALERT_TIPOS.join(', ')}` })
  .openapi('AlertTipo') satisfies z.ZodType<S['AlertTipo']>
export type AlertTipo = z.infer<typeof AlertTipo>

export const AlertsQuery = z.strictObject({
  estado: z.enum(ALERT_ESTADOS, { error: `must be one of: ${ALERT_ESTADOS.join(', ')}` }).optional(),
  tipo: AlertTipo.optional(),
  etl_name: EtlName.optional(),
  tienda: TiendaId.optional(),
  limit: intParam(1, 500).default(200),
})
export type AlertsQuery = z.infer<typeof AlertsQuery>

const count = () => z.int().min(0)

export const AlertDetalle = z
  .strictObject({
    tiendas: z.array(z.strictObject({ tienda_id: TiendaId, tienda_nombre: z.string() })).optional(),
    tiendas_afectadas: count().optional(),
    tiendas_intentadas: count().optional(),
    tiendas_activas: count().optional(),
    porcentaje_cadena: z.number().nullable().optional(),
    execution_id: z.int().min(1).optional(),
    esperado: z.number().optional(),
    actual: count().optional(),
    fraccion: z.number().optional(),
    semanas: count().optional(),
    muestras: count().optional(),
    ventana_desde: dateTime().nullable().optional(),
    ventana_hasta: dateTime().nullable().optional(),
    fallos: count().optional(),
    ejecuciones: count().optional(),
    racha_maxima: count().optional(),
    execution_ids: z.array(z.int().min(1)).optional(),
  })
  .openapi('AlertDetalle') satisfies z.ZodType<S['AlertDetalle']>

export const Alert = z
  .strictObject({
    id: z.int().min(1),
    tipo: AlertTipo,
    etl_name: EtlName,
    tienda_id: nullable(TiendaId),
    mensaje: z.string(),
    valor: z.number(),
    umbral: z.number(),
    detectada_at: dateTime(),
    resuelta_at: dateTime().nullable(),
    ultima_vez_at: dateTime(),
    detalle: nullable(AlertDetalle),
  })
  .openapi('Alert') satisfies z.ZodType<S['Alert']>

export type Alert = z.infer<typeof Alert>

export const DELIVERY_ESTADOS = ['pendiente', 'entregada', 'fallida'] as const

export const AlertDelivery = z
  .strictObject({
    id: z.int().min(1),
    alert_id: z.int().min(1),
    cambio: z.enum(['abierta', 'resuelta']),
    estado: z.enum(DELIVERY_ESTADOS),
    attempts: z.int().min(0),
    last_status: z.int().nullable(),
    last_error: z.string().nullable(),
    created_at: dateTime(),
    last_attempt_at: dateTime().nullable(),
    delivered_at: dateTime().nullable(),
  })
  .openapi('AlertDelivery') satisfies z.ZodType<S['AlertDelivery']>

export type AlertDelivery = z.infer<typeof AlertDelivery>
