// GET /api/etl/tiendas: the chain's stores, for the run form and the filters.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Db } from '../db.ts'
import { SourceSystem, TiendaId } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { listTiendas } from './tiendas.sql.ts'

export const Tienda = z
  .strictObject({
    id: TiendaId,
    nombre: z.string(),
    source_system: SourceSystem,
    host: z.string(),
    port: z.int().min(1).max(65535),
    active: z.boolean(),
  })
  .openapi('Tienda') satisfies z.ZodType<components['schemas']['Tienda']>

const tiendasRoute = createRoute({
  method: 'get',
  path: '/api/etl/tiendas',
  tags: ['tiendas'],
  operationId: 'listTiendas',
  summary: 'List stores',
  description: 'Every store of the chain, active or not, ordered by `id`.',
  request: { query: NoQuery },
  responses: {
    200: { description: 'The stores.', content: { 'application/json': { schema: z.array(Tienda) } } },
    ...etlErrors,
  },
})

export const tiendasRoutes = (deps: { read: Db }) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(tiendasRoute, async (c) => {
    const rows = await listTiendas(deps.read)
    return c.json(rows as z.infer<typeof Tienda>[], 200)
  })
