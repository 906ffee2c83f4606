// Schemas of the store calendar (GET/POST /api/etl/closures, DELETE /api/etl/closures/{id}), checked
// against the contract.
import { z } from '@hono/zod-openapi'
import { TiendaId } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

const fecha = () => z.iso.date({ error: 'must be a date (YYYY-MM-DD)' })
const count = () => z.int().min(0)

export const CIERRE_MOTIVOS = ['feriado', 'inventario', 'obras', 'otro'] as const
export const CierreMotivo = z
  .enum(CIERRE_MOTIVOS, { error: `must be one of: ${CIERRE_MOTIVOS.join(', ')}` })
  .openapi('CierreMotivo') satisfies z.ZodType<S['CierreMotivo']>

/** The longest closure: a store shut for a year of works. */
export const MAX_CIERRE_DIAS = 366

export const Cierre = z
  .strictObject({
    id: z.int().min(1),
    tienda_id: TiendaId,
    tienda_nombre: z.string().nullable(),
    fecha_desde: fecha(),
    fecha_hasta: fecha(),
    motivo: CierreMotivo,
    nota: z.string().max(500).nullable(),
    creado_por: z.string().nullable(),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Cierre') satisfies z.ZodType<S['Cierre']>
export type Cierre = z.infer<typeof Cierre>

export const CierreNuevo = z
  .strictObject({
    tienda_id: TiendaId,
    fecha_desde: fecha(),
    fecha_hasta: fecha(),
    motivo: CierreMotivo,
    nota: z.string().max(500, { error: 'must be at most 500 characters' }).nullable().optional(),
  })
  .openapi('CierreNuevo') satisfies z.ZodType<S['CierreNuevo']>

export const CierreCreado = z
  .strictObject({ cierre: Cierre, tiendas_reclasificadas: count() })
  .openapi('CierreCreado') satisfies z.ZodType<S['CierreCreado']>

export const CierreEliminado = z
  .strictObject({ id: z.int().min(1), tiendas_reclasificadas: count() })
  .openapi('CierreEliminado') satisfies z.ZodType<S['CierreEliminado']>

export const ClosuresQuery = z.strictObject({
  tienda: TiendaId.optional(),
  desde: fecha().optional(),
  hasta: fecha().optional(),
})

export const ClosureIdParam = z.strictObject({
  id: z.preprocess(
    (v) => (typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : v),
    z.int().min(1).max(2147483647),
  ),
})
