// GET /api/etl/stats (plan §3.1): finished executions of the rolling window, plus what is
// running or queued now, a daily trend and a store × day failure map (DESIGN §12).
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { TypedResponse } from 'hono'
import type { Db } from '../db.ts'
import { etlErrors } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { jsonResponse, type ResponseCache } from '../response-cache.ts'
import { type EtlStats, EtlStats as EtlStatsSchema, StatsQuery } from './stats.schemas.ts'
import { readStats } from './stats.sql.ts'

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

export type StatsDeps = { read: Db; tz: string; clock: () => Date; cache: ResponseCache }

type TypedJson<T> = Response & TypedResponse<T, 200, 'json'>

export const statsRoutes = (deps: StatsDeps) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(statsRoute, async (c) => {
    const { etl_name, dias } = c.req.valid('query')
    // Kept until the history changes, and at most the cache's maximum age (5 s): a kept answer's
    // window ends that much earlier than now, the only thing that moves without a write.
    const answer = await deps.cache.get(`stats ${new URL(c.req.url).search}`, async () => {
      const now = deps.clock()
      const since = new Date(now.getTime() - dias * 24 * 3600 * 1000)
      const body = await readStats(deps.read, { since, now, dias, etlName: etl_name ?? null, tz: deps.tz })
      // Built by PostgreSQL (stats.sql.ts) in the contract's shape: sent as it comes.
      return jsonResponse(body)
    })
    return c.body(answer.body, 200, answer.headers) as unknown as TypedJson<EtlStats>
  })
