import { z } from '@hono/zod-openapi'
import { ErrorCategory, EtlName, intParam, nullable, TiendaId, TriggeredBy } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'

type S = components['schemas']

export const StatsQuery = z.strictObject({
  etl_name: EtlName.optional(),
  dias: intParam(1, 90).default(7),
})

const count = () => z.int().min(0)
const seconds = () => z.number().min(0).nullable()
const fecha = () => z.iso.date()

export const ErrorsByPhase = z
  .strictObject({ extract: count(), transform: count(), load: count() })
  .openapi('ErrorsByPhase') satisfies z.ZodType<S['ErrorsByPhase']>

const ErrorCount = z.int().min(1).openapi('ErrorCount') satisfies z.ZodType<S['ErrorCount']>

/** One optional count per category: generated clients keep the key set (a record would lose it). */
export const ErrorsByCategory = z
  .strictObject(
    Object.fromEntries(ErrorCategory.options.map((c) => [c, ErrorCount.optional()])) as {
      [K in S['ErrorCategory']]: z.ZodOptional<typeof ErrorCount>
    },
  )
  // propertyNames (JSON Schema 2020-12) has no type in zod-to-openapi; the generator copies it through.
  .openapi('ErrorsByCategory', {
    propertyNames: { $ref: '#/components/schemas/ErrorCategory' },
  } as Record<never, never>) satisfies z.ZodType<S['ErrorsByCategory']>

export const TiendaFallos = z
  .strictObject({
    tienda_id: TiendaId,
    tienda_nombre: z.string().nullable(),
    total_ejecuciones: count(),
    fallos: z.int().min(1),
    error_mas_comun: nullable(ErrorCategory),
  })
  .openapi('TiendaFallos') satisfies z.ZodType<S['TiendaFallos']>

export const TendenciaDia = z
  .strictObject({ fecha: fecha(), exitosas: count(), parciales: count(), fallidas: count() })
  .openapi('TendenciaDia') satisfies z.ZodType<S['TendenciaDia']>

export const MapaFallosCelda = z
  .strictObject({ tienda_id: TiendaId, fecha: fecha(), fallos: z.int().min(1) })
  .openapi('MapaFallosCelda') satisfies z.ZodType<S['MapaFallosCelda']>

export const TiempoPromedioPorFase = z
  .strictObject({ extract: seconds(), transform: seconds(), load: seconds() })
  .openapi('TiempoPromedioPorFase') satisfies z.ZodType<S['TiempoPromedioPorFase']>

export const DistribucionOrigen = z
  .strictObject({
    triggered_by: TriggeredBy,
    total_ejecuciones: z.int().min(1),
    exitosas: count(),
    fallidas: count(),
    duracion_promedio: seconds(),
  })
  .openapi('DistribucionOrigen') satisfies z.ZodType<S['DistribucionOrigen']>

export const EtlStats = z
  .strictObject({
    total_executions: count(),
    successful: count(),
    partial: count(),
    failed: count(),
    success_rate: z.number().min(0).max(100).nullable(),
    avg_duration_seconds: z.number().min(0).nullable(),
    total_records_loaded: count(),
    total_duplicates: count(),
    errors_by_phase: ErrorsByPhase,
    errors_by_category: ErrorsByCategory,
    tiendas_con_mas_fallos: z.array(TiendaFallos).max(10),
    running: count(),
    queued: count(),
    dias: z.int().min(1).max(90),
    etl_name: nullable(EtlName),
    tendencia_diaria: z.array(TendenciaDia).max(91),
    mapa_fallos: z.array(MapaFallosCelda),
    tiempo_promedio_por_fase: TiempoPromedioPorFase,
    distribucion_por_origen: z.array(DistribucionOrigen).max(5),
  })
  .openapi('EtlStats') satisfies z.ZodType<S['EtlStats']>

export type EtlStats = z.infer<typeof EtlStats>
