// GET /api/etl/freshness: per store and ETL, how far its data reaches and how it has been
// doing — the operator's "which stores are behind" view (issue 13, capability 4). The stalest
// come first. A store's own run history is the history list filtered by `tienda`.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { type Db, iso } from '../db.ts'
import { EtlName, ExecutionIdValue, SourceSystem, TiendaId, TiendaStatus } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { etlErrors } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { type FreshnessRow, listFreshness, MAX_STREAK } from './freshness.sql.ts'

type S = components['schemas']
const dateTime = () => z.string().openapi({ format: 'date-time' })

const FreshnessQuery = z.strictObject({ etl_name: EtlName.optional() })

export const TiendaFreshness = z
  .strictObject({
    tienda_id: TiendaId,
    tienda_nombre: z.string(),
    source_system: SourceSystem,
    active: z.boolean(),
    etl_name: EtlName,
    ultima_exitosa: z
      .strictObject({
        execution_id: ExecutionIdValue,
        fecha_desde: dateTime().nullable(),
        fecha_hasta: dateTime().nullable(),
        finished_at: dateTime().nullable(),
      })
      .nullable(),
    datos_hasta: dateTime().nullable(),
    retraso_segundos: z.int().min(0).nullable(),
    racha_fallos: z.int().min(0).max(MAX_STREAK),
    ultima_ejecucion: z
      .strictObject({ execution_id: ExecutionIdValue, status: TiendaStatus, started_at: dateTime() })
      .nullable(),
  })
  .openapi('TiendaFreshness') satisfies z.ZodType<S['TiendaFreshness']>
type TiendaFreshness = z.infer<typeof TiendaFreshness>

const freshnessRoute = createRoute({
  method: 'get',
  path: '/api/etl/freshness',
  tags: ['tiendas'],
  operationId: 'listFreshness',
  summary: 'Data freshness per store and ETL',
  request: { query: FreshnessQuery },
  responses: {
    200: { description: 'Stalest first.', content: { 'application/json': { schema: z.array(TiendaFreshness) } } },
    ...etlErrors,
  },
})

function toFreshness(r: FreshnessRow, now: Date): TiendaFreshness {
  return {
    tienda_id: r.tienda_id,
    tienda_nombre: r.tienda_nombre,
    source_system: r.source_system as TiendaFreshness['source_system'],
    active: r.active,
    etl_name: r.etl_name,
    ultima_exitosa: r.ok_execution_id
      ? {
          execution_id: r.ok_execution_id,
          fecha_desde: iso(r.ok_fecha_desde),
          fecha_hasta: iso(r.ok_fecha_hasta),
          finished_at: iso(r.ok_finished_at),
        }
      : null,
    datos_hasta: iso(r.datos_hasta),
    retraso_segundos: r.datos_hasta ? Math.max(0, Math.round((now.getTime() - r.datos_hasta.getTime()) / 1000)) : null,
    racha_fallos: r.racha_fallos,
    ultima_ejecucion:
      r.last_execution_id && r.last_started_at
        ? {
            execution_id: r.last_execution_id,
            status: r.last_status as S['TiendaStatus'],
            started_at: iso(r.last_started_at)!,
          }
        : null,
  }
}

export const freshnessRoutes = (deps: { read: Db; clock: () => Date }) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(freshnessRoute, async (c) => {
    const { etl_name } = c.req.valid('query')
    const rows = await listFreshness(deps.read, { etlName: etl_name })
    const now = deps.clock()
    return c.json(
      rows.map((r) => toFreshness(r, now)),
      200,
    )
  })
