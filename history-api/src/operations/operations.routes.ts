// Public operator endpoints: liveness, readiness, metrics, the served contract and its docs page.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { Scalar } from '@scalar/hono-api-reference'
import { schemaBehindMessage } from '../../../scripts/lib/migrations.ts'
import { servedDocument } from '../contract.ts'
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
      content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenApiDocument' } } },
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
export type OperationsDeps = { pools: Db[]; pendingMigrations: () => Promise<string[]>; metrics: Metrics }

const READY_TIMEOUT_MS = 2000

/**
 * Where the client reached this API: behind a reverse proxy, the scheme and host it forwarded
 * (first X-Forwarded-Proto / X-Forwarded-Host value); otherwise the request's own. Only names the
 * `servers` entry of the served document.
 */
export function publicOrigin(url: string, headers: Record<string, string>): string {
  const own = new URL(url)
  const first = (v: string | undefined) => v?.split(',')[0]?.trim() || undefined
  const proto = first(headers['x-forwarded-proto'])
  const host = first(headers['x-forwarded-host'])
  const scheme = proto === 'http' || proto === 'https' ? proto : own.protocol.slice(0, -1)
  return `${scheme}://${host && /^[a-z0-9.:[\]-]+$/i.test(host) ? host : own.host}`
}

export const operationsRoutes = (deps: OperationsDeps) => {
  const docs = Scalar({ url: '/openapi.json', pageTitle: 'Fluxion ETL history API' })
  return (
    new OpenAPIHono({ defaultHook: validationHook })
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
      // openapi.yaml itself (the source of truth), not a document generated from these routes.
      .openapi(documentRoute, (c) => {
        const body = JSON.stringify(servedDocument(publicOrigin(c.req.url, c.req.header())))
        // A raw-schema response has no inferred body type: sent as JSON text.
        return c.body(body, 200, { 'Content-Type': 'application/json' }) as never
      })
      .openapi(docsRoute, (c) => docs(c, async () => {}) as Promise<Response>)
  )
}
