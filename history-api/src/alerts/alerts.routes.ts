// GET /api/etl/alerts: the alerts of plan §8.3 the runner raises after every execution
// (runner/src/alerts/evaluate-alerts.ts), active first, then newest first.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { type Db, iso } from '../db.ts'
import { ExecutionIdParam } from '../executions/executions.schemas.ts'
import { findTienda } from '../executions/executions.sql.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { invalid, problem, validationHook } from '../problem.ts'
import { Alert, AlertDelivery, AlertsQuery } from './alerts.schemas.ts'
import { type AlertRow, alertExists, type DeliveryRow, listAlertDeliveries, listAlerts } from './alerts.sql.ts'

const listRoute = createRoute({
  method: 'get',
  path: '/api/etl/alerts',
  tags: ['alerts'],
  operationId: 'listAlerts',
  summary: 'List alerts',
  description:
    'success_rate_low (an ETL under 80 % over the last 24 h), tienda_consecutive_failures (a store failing more ' +
    'than 5 times in a row), incidente_red, tienda_sin_datos, tienda_intermitente and gap_sin_recuperar (gaps ' +
    'automatic recovery gave up on); one alert per condition, resolved when it clears. Active first, then newest ' +
    'first; filters by tipo, etl_name and tienda.',
  request: { query: AlertsQuery },
  responses: {
    200: { description: 'The alerts.', content: { 'application/json': { schema: z.array(Alert) } } },
    ...etlErrors,
  },
})

const deliveriesRoute = createRoute({
  method: 'get',
  path: '/api/etl/alerts/{id}/deliveries',
  tags: ['alerts'],
  operationId: 'listAlertDeliveries',
  summary: 'Webhook deliveries of an alert',
  description: 'One per change of the alert posted to the webhook: attempts, last status, when delivered.',
  request: { params: ExecutionIdParam, query: NoQuery },
  responses: {
    200: { description: 'The deliveries.', content: { 'application/json': { schema: z.array(AlertDelivery) } } },
    ...etlErrors,
  },
})

const toDelivery = (r: DeliveryRow): AlertDelivery => ({
  ...r,
  created_at: iso(r.created_at)!,
  last_attempt_at: iso(r.last_attempt_at),
  delivered_at: iso(r.delivered_at),
})

function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    tipo: r.tipo,
    etl_name: r.etl_name,
    tienda_id: r.tienda_id,
    mensaje: r.mensaje,
    valor: r.valor,
    umbral: r.umbral,
    detectada_at: iso(r.detectada_at)!,
    resuelta_at: iso(r.resuelta_at),
    ultima_vez_at: iso(r.ultima_vez_at)!,
    detalle: r.detalle,
  }
}

export const alertsRoutes = (deps: { read: Db }) =>
  new OpenAPIHono({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query')
      if (q.tienda && !(await findTienda(deps.read, q.tienda))) {
        return invalid(c, 422, [{ name: 'tienda', reason: `${q.tienda} is not a known store`, code: 'unknown_store' }])
      }
      const rows = await listAlerts(deps.read, q)
      return c.json(rows.map(toAlert), 200)
    })
    .openapi(deliveriesRoute, async (c) => {
      const { id } = c.req.valid('param')
      if (!(await alertExists(deps.read, id))) return problem(c, 404, `Alert ${id} does not exist.`)
      return c.json((await listAlertDeliveries(deps.read, id)).map(toDelivery), 200)
    })
