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

export const ALERT_TIPOS = [
  'success_rate_low',
  'tienda_consecutive_failures',
  'incidente_red',
  'tienda_sin_datos',
  'tienda_intermitente',
] as const

export const Alert = z
  .strictObject({
    id: z.int().min(1),
    tipo: z.enum(ALERT_TIPOS),
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
