// GET /api/etl/stats (plan §3.1): finished executions of the rolling window, plus what is
// running or queued now, a daily trend and a store × day failure map (DESIGN §12).
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Db } from '../db.ts'
import { etlErrors } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { type EtlStats, EtlStats as EtlStatsSchema, StatsQuery } from './stats.schemas.ts'
import { readStats, type StatsRow } from './stats.sql.ts'

const statsRoute = createRoute({
  method: 'get',
  path: '/api/etl/stats',
  tags: ['stats'],
  operationId: 'getStats',
  summary: 'Aggregated statistics',
  description:
    'Finished executions started in the rolling window now − dias × 24 h (successful + partial + failed = ' +
    'total_executions); running and queued apart; daily buckets in TZ_TIENDAS calendar days.',
  request: { query: StatsQuery },
  responses: {
    200: { description: 'The statistics.', content: { 'application/json': { schema: EtlStatsSchema } } },
    ...etlErrors,
  },
})

export type StatsDeps = { read: Db; tz: string; clock: () => Date }

type Category = keyof EtlStats['errors_by_category'] & string

export function toStats(r: StatsRow, dias: number, etlName: EtlStats['etl_name']): EtlStats {
  const byPhase = { extract: 0, transform: 0, load: 0 }
  const byCategory: Record<string, number> = {}
  for (const e of r.errors) {
    byPhase[e.phase as keyof typeof byPhase] += e.n
    if (e.category) byCategory[e.category as Category] = (byCategory[e.category] ?? 0) + e.n
  }
  return {
    total_executions: r.successful + r.partial + r.failed,
    successful: r.successful,
    partial: r.partial,
    failed: r.failed,
    success_rate: r.success_rate,
    avg_duration_seconds: r.avg_duration_seconds,
    total_records_loaded: r.total_records_loaded,
    total_duplicates: r.total_duplicates,
    errors_by_phase: byPhase,
    errors_by_category: byCategory,
    tiendas_con_mas_fallos: r.tiendas.map((t) => ({
      tienda_id: t.tienda_id,
      tienda_nombre: t.tienda_nombre,
      total_ejecuciones: t.total,
      fallos: t.fallos,
      error_mas_comun: t.error_mas_comun as EtlStats['tiendas_con_mas_fallos'][number]['error_mas_comun'],
    })),
    running: r.running,
    queued: r.queued,
    dias,
    etl_name: etlName,
    tendencia_diaria: r.tendencia,
    mapa_fallos: r.mapa,
  }
}

export const statsRoutes = (deps: StatsDeps) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(statsRoute, async (c) => {
    const { etl_name, dias } = c.req.valid('query')
    const since = new Date(deps.clock().getTime() - dias * 24 * 3600 * 1000)
    const [row] = await readStats(deps.read, { since, etlName: etl_name ?? null, tz: deps.tz })
    return c.json(toStats(row!, dias, etl_name ?? null), 200)
  })
