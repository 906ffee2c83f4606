import type { Sql } from 'postgres'
import type { components } from '../generated/openapi.ts'

/** A row of etl_evaluate_alerts() (migration 041) or etl_evaluate_gap_alerts() (075): an alert opened or resolved just now. */
export type AlertChange = {
  id: number
  tipo: components['schemas']['AlertTipo']
  etl_name: 'ventas' | 'inventario'
  tienda_id: string | null
  mensaje: string
  valor: number
  umbral: number
  detectada_at: Date
  resuelta_at: Date | null
  cambio: 'abierta' | 'resuelta'
}

export type AlertThresholds = { minSuccessRate: number; maxConsecutiveFailures: number }

/**
 * Opens, refreshes and resolves the alerts in one statement (the function serialises concurrent
 * callers with an advisory lock). statement_timeout bounds it, lock wait included, so a busy
 * database makes the evaluation fail fast instead of holding the run that asked for it.
 */
export function evaluateAlertRules(db: Sql, t: AlertThresholds, timeoutMs: number) {
  return db.begin(async (tx) => {
    await tx`select set_config('statement_timeout', ${String(timeoutMs)}, true)`
    return tx<AlertChange[]>`
      select id, tipo, etl_name, tienda_id, mensaje, valor::float8 as valor, umbral::float8 as umbral,
        detectada_at, resuelta_at, cambio
      from etl_evaluate_alerts(${t.minSuccessRate}::numeric, ${t.maxConsecutiveFailures}::int)
      order by id`
  })
}
