// Public operator endpoints: liveness, readiness, metrics, the served contract and its docs page.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import { schemaBehindMessage } from '../../../scripts/lib/migrations.ts'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { internalError } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import type { Metrics } from './metrics.ts'

type S = components['schemas']

const Health = z.strictObject({ status: z.literal('ok') }).openapi('Health') satisfies z.ZodType<S['Health']>
const Readiness = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']),
    database: z.enum(['ok', 'down']),
    schema: z.enum(['ok', 'behind', 'unknown']),
    detail: z.string().optional(),
  })
  .openapi('Readiness') satisfies z.ZodType<S['Readiness']>

const publicRoute = { security: [], tags: ['operations'] }

const healthRoute = createRoute({
  ...publicRoute,
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  summary: 'Liveness',
  responses: {
    200: { description: 'Alive.', content: { 'application/json': { schema: Health } } },
    ...internalError,
  },
})
const readyRoute = createRoute({
  ...publicRoute,
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  summary: 'Readiness',
  responses: {
    200: { description: 'Ready.', content: { 'application/json': { schema: Readiness } } },
    503: {
      description: 'Not ready; the database does not answer or its schema is behind.',
      content: { 'application/json': { schema: Readiness } },
    },
  },
})
const metricsRoute = createRoute({
  ...publicRoute,
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics',
  responses: { 200: { description: 'The metrics.', content: { 'text/plain': { schema: z.string() } } } },
})
const documentRoute = createRoute({
  ...publicRoute,
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This contract',
  responses: {
    200: {
      description: 'The OpenAPI document.',
      content: {
        'application/json': {
          schema: z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({}), paths: z.looseObject({}) }),
        },
      },
    },
  },
})
const docsRoute = createRoute({
  ...publicRoute,
  method: 'get',
  path: '/docs',
  operationId: 'getDocs',
  summary: 'Human-readable API docs',
  responses: { 200: { description: 'The docs page.', content: { 'text/html': { schema: z.string() } } } },
})

/**
 * `pools`: the primary and, when configured, the replica — ready means every one answers.
 * `pendingMigrations`: the migrations this release has that the primary has not applied.
 */
export type OperationsDeps = {
  pools: Db[]
  pendingMigrations: () => Promise<string[]>
  metrics: Metrics
  document: () => Record<string, unknown>
}

const READY_TIMEOUT_MS = 2000

export const operationsRoutes = (deps: OperationsDeps) => {
  const docs = Scalar({ url: '/openapi.json', pageTitle: 'Fluxion ETL history API' })
  return new OpenAPIHono({ defaultHook: validationHook })
    .openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyRoute, async (c) => {
      const probe = Promise.all(deps.pools.map((db) => db`select 1`)).then(() => deps.pendingMigrations())
      const timeout = new Promise<null>((r) => setTimeout(() => r(null), READY_TIMEOUT_MS).unref())
      const pending = await Promise.race([probe, timeout]).catch(() => null)
      if (pending === null) {
        return c.json({ status: 'unavailable' as const, database: 'down' as const, schema: 'unknown' as const }, 503)
      }
      if (pending.length > 0) {
        const detail = schemaBehindMessage(pending)
        return c.json(
          { status: 'unavailable' as const, database: 'ok' as const, schema: 'behind' as const, detail },
          503,
        )
      }
      return c.json({ status: 'ok' as const, database: 'ok' as const, schema: 'ok' as const }, 200)
    })
    .openapi(metricsRoute, async (c) => {
      const body = await deps.metrics.registry.metrics()
      return c.text(body, 200, { 'Content-Type': deps.metrics.registry.contentType })
    })
    .openapi(documentRoute, (c) => c.json(deps.document() as { openapi: '3.1.0'; info: object; paths: object }, 200))
    .openapi(docsRoute, (c) => docs(c, async () => {}) as Promise<Response>)
}
