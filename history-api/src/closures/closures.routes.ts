// The store calendar: GET/POST /api/etl/closures and DELETE /api/etl/closures/{id}. A closure takes a
// store out of the runs whose window lies inside it (the runner records it `closed`), and reclassifies
// what the history already holds for those days in the same transaction (closures.sql.ts).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { DateTime } from 'luxon'
import type { Sql } from 'postgres'
import type { AuthVariables } from '../auth.ts'
import { type Db, iso } from '../db.ts'
import { findTienda } from '../executions/executions.sql.ts'
import { bodyTooLarge, etlErrors, NoQuery } from '../openapi.ts'
import { invalid, problem, validationHook } from '../problem.ts'
import {
  Cierre,
  CierreCreado,
  CierreEliminado,
  CierreNuevo,
  ClosureIdParam,
  ClosuresQuery,
  MAX_CIERRE_DIAS,
} from './closures.schemas.ts'
import { type CierreRow, createCierre, deleteCierre, listCierres } from './closures.sql.ts'

const listClosuresRoute = createRoute({
  method: 'get',
  path: '/api/etl/closures',
  tags: ['tiendas'],
  operationId: 'listClosures',
  summary: 'List store closures',
  request: { query: ClosuresQuery },
  responses: {
    200: { description: 'The closures.', content: { 'application/json': { schema: z.array(Cierre) } } },
    ...etlErrors,
  },
})

const createClosureRoute = createRoute({
  method: 'post',
  path: '/api/etl/closures',
  tags: ['tiendas'],
  operationId: 'createClosure',
  summary: 'Close a store for a range of days',
  request: {
    query: NoQuery,
    body: { required: true, content: { 'application/json': { schema: CierreNuevo } } },
  },
  responses: {
    201: {
      description: 'The closure as stored, and how many store rows of past runs it reclassified.',
      content: { 'application/json': { schema: CierreCreado } },
    },
    ...etlErrors,
    ...bodyTooLarge,
  },
})

const deleteClosureRoute = createRoute({
  method: 'delete',
  path: '/api/etl/closures/{id}',
  tags: ['tiendas'],
  operationId: 'deleteClosure',
  summary: 'Remove a store closure',
  request: { params: ClosureIdParam, query: NoQuery },
  responses: {
    200: {
      description: 'Removed; how many store rows of past runs went back to failed or skipped.',
      content: { 'application/json': { schema: CierreEliminado } },
    },
    ...etlErrors,
  },
})

const toCierre = (r: CierreRow): Cierre => ({
  id: r.id,
  tienda_id: r.tienda_id,
  tienda_nombre: r.tienda_nombre,
  fecha_desde: r.fecha_desde,
  fecha_hasta: r.fecha_hasta,
  motivo: r.motivo as Cierre['motivo'],
  nota: r.nota,
  creado_por: r.creado_por,
  created_at: iso(r.created_at)!,
})

export type ClosuresDeps = { read: Db; write: Sql }

export const closuresRoutes = (deps: ClosuresDeps) =>
  new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook })
    .openapi(listClosuresRoute, async (c) => {
      const q = c.req.valid('query')
      if (q.desde && q.hasta && q.desde > q.hasta) {
        return invalid(c, 422, [{ name: 'desde', reason: 'must not be later than hasta', code: 'after_end' }])
      }
      const rows = await listCierres(deps.read, q)
      return c.json(rows.map(toCierre), 200)
    })
    .openapi(createClosureRoute, async (c) => {
      const body = c.req.valid('json')
      if (body.fecha_desde > body.fecha_hasta) {
        return invalid(c, 422, [
          { name: 'fecha_desde', reason: 'must not be later than fecha_hasta', code: 'after_end' },
        ])
      }
      const dias = DateTime.fromISO(body.fecha_hasta).diff(DateTime.fromISO(body.fecha_desde), 'days').days
      if (dias > MAX_CIERRE_DIAS) {
        return invalid(c, 422, [
          {
            name: 'fecha_hasta',
            reason: `must be at most ${MAX_CIERRE_DIAS} days after fecha_desde`,
            code: 'window_too_long',
          },
        ])
      }
      if (!(await findTienda(deps.write, body.tienda_id))) {
        return invalid(c, 422, [
          { name: 'tienda_id', reason: `${body.tienda_id} is not a known store`, code: 'unknown_store' },
        ])
      }
      const { cierre, reclasificadas } = await createCierre(deps.write, {
        tiendaId: body.tienda_id,
        fechaDesde: body.fecha_desde,
        fechaHasta: body.fecha_hasta,
        motivo: body.motivo,
        nota: body.nota?.trim() || null,
        creadoPor: c.get('user').sub,
      })
      return c.json({ cierre: toCierre(cierre), tiendas_reclasificadas: reclasificadas }, 201)
    })
    .openapi(deleteClosureRoute, async (c) => {
      const { id } = c.req.valid('param')
      const removed = await deleteCierre(deps.write, id)
      if (!removed) return problem(c, 404, `Closure ${id} does not exist.`)
      return c.json({ id, tiendas_reclasificadas: removed.reclasificadas }, 200)
    })
