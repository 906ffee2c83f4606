import type { Db } from '../db.ts'
import type { Alert, AlertEstado } from './alerts.schemas.ts'

export type AlertRow = {
  id: number
  tipo: Alert['tipo']
  etl_name: 'ventas' | 'inventario'
  tienda_id: string | null
  mensaje: string
  valor: number
  umbral: number
  detectada_at: Date
  resuelta_at: Date | null
  ultima_vez_at: Date
  detalle: Alert['detalle']
}

/**
 * Alerts written by the runner's etl_evaluate_alerts() (migrations 041, 070): active ones first, then
 * newest detected first. The table holds one row per episode of a condition (deduplicated while
 * open), so it stays small and is returned whole.
 */
export function listAlerts(db: Db, f: { estado?: AlertEstado }) {
  return db<AlertRow[]>`
    select id, tipo, etl_name, tienda_id, mensaje, valor::float8 as valor, umbral::float8 as umbral,
      detectada_at, resuelta_at, ultima_vez_at, detalle
    from etl_alerts
    where true
      ${f.estado === 'activa' ? db`and resuelta_at is null` : db``}
      ${f.estado === 'resuelta' ? db`and resuelta_at is not null` : db``}
    order by resuelta_at is not null, detectada_at desc, id desc`
}
