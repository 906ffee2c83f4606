// GET /api/etl/alerts: the alerts of plan §8.3 the runner raises after every execution
// (runner/src/alerts/evaluate-alerts.ts), active first, then newest first.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { type Db, iso } from '../db.ts'
import { etlErrors } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { Alert, AlertsQuery } from './alerts.schemas.ts'
import { type AlertRow, listAlerts } from './alerts.sql.ts'

const listRoute = createRoute({
  method: 'get',
  path: '/api/etl/alerts',
  tags: ['alerts'],
  operationId: 'listAlerts',
  summary: 'List alerts',
  description:
    'success_rate_low (an ETL under 80 % over the last 24 h), tienda_consecutive_failures (a store failing more ' +
    'than 5 times in a row), incidente_red, tienda_sin_datos and tienda_intermitente; one alert per condition, ' +
    'resolved when it clears. Active first, then newest first.',
  request: { query: AlertsQuery },
  responses: {
    200: { description: 'The alerts.', content: { 'application/json': { schema: z.array(Alert) } } },
    ...etlErrors,
  },
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
  new OpenAPIHono({ defaultHook: validationHook }).openapi(listRoute, async (c) => {
    const rows = await listAlerts(deps.read, c.req.valid('query'))
    return c.json(rows.map(toAlert), 200)
  })
