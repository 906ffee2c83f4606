// GET /api/etl/config: what a client needs to present the data as the API reads it — today the
// chain's time zone (TZ_TIENDAS), in which the admin panel shows every instant.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { components } from '../generated/openapi.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { validationHook } from '../problem.ts'

const EtlConfig = z.strictObject({ tz_tiendas: z.string().min(1) }).openapi('EtlConfig') satisfies z.ZodType<
  components['schemas']['EtlConfig']
>

const configRoute = createRoute({
  method: 'get',
  path: '/api/etl/config',
  tags: ['config'],
  operationId: 'getConfig',
  summary: "The API's presentation settings",
  request: { query: NoQuery },
  responses: {
    200: { description: 'The settings.', content: { 'application/json': { schema: EtlConfig } } },
    ...etlErrors,
  },
})

export const etlConfigRoutes = (deps: { tz: string }) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(configRoute, (c) => c.json({ tz_tiendas: deps.tz }, 200))
