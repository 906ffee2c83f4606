import type { z } from '@hono/zod-openapi'
import type { Db } from '../db.ts'
import type { AlertDetalle, AlertEstado, AlertTipo } from './alerts.schemas.ts'

type AlertDetalleRow = z.infer<typeof AlertDetalle> | null

export type AlertRow = {
  id: number
  tipo: AlertTipo
  etl_name: 'ventas' | 'inventario'
  tienda_id: string | null
  mensaje: string
  valor: number
  umbral: number
  detectada_at: Date
  resuelta_at: Date | null
  ultima_vez_at: Date
  detalle: AlertDetalleRow
}

/**
 * Alerts written by the runner's etl_evaluate_alerts() (migrations 041, 070): active ones first, then
 * newest detected first. The table holds one row per episode of a condition (deduplicated while
 * open), so it stays small; `limit` bounds the history page anyway.
 */
export type AlertFilters = { estado?: AlertEstado; tipo?: AlertTipo; etl_name?: string; tienda?: string; limit: number }

export function listAlerts(db: Db, f: AlertFilters) {
  return db<AlertRow[]>`
    select id, tipo, etl_name, tienda_id, mensaje, valor::float8 as valor, umbral::float8 as umbral,
      detectada_at, resuelta_at, ultima_vez_at, detalle
    from etl_alerts
    where true
      ${f.estado === 'activa' ? db`and resuelta_at is null` : db``}
      ${f.estado === 'resuelta' ? db`and resuelta_at is not null` : db``}
      ${f.tipo ? db`and tipo = ${f.tipo}` : db``}
      ${f.etl_name ? db`and etl_name = ${f.etl_name}` : db``}
      ${f.tienda ? db`and tienda_id = ${f.tienda}` : db``}
    order by resuelta_at is not null, detectada_at desc, id desc
    limit ${f.limit}`
}

export function alertExists(db: Db, id: number) {
  return db`select 1 from etl_alerts where id = ${id}`.then((r) => r.length > 0)
}

export type DeliveryRow = {
  id: number
  alert_id: number
  cambio: 'abierta' | 'resuelta'
  estado: 'pendiente' | 'entregada' | 'fallida'
  attempts: number
  last_status: number | null
  last_error: string | null
  created_at: Date
  last_attempt_at: Date | null
  delivered_at: Date | null
}

/** Webhook deliveries of an alert (migration 076), written by the runners' alert-delivery queue. */
export function listAlertDeliveries(db: Db, alertId: number) {
  return db<DeliveryRow[]>`
    select id, alert_id, cambio,
      case when delivered_at is not null then 'entregada' when attempts >= max_attempts then 'fallida'
        else 'pendiente' end as estado,
      attempts, last_status, last_error, created_at, last_attempt_at, delivered_at
    from etl_alert_deliveries where alert_id = ${alertId}
    order by id`
}
