import type { Sql } from 'postgres'
import type { components } from '../generated/openapi.ts'

/** A row of etl_evaluate_alerts() (migrations 041, 070) or etl_evaluate_gap_alerts() (075): an alert opened or resolved just now. */
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
  /** What valor/umbral cannot say: store lists, expected and actual figures (contract's AlertDetalle). */
  detalle: components['schemas']['Alert']['detalle']
  cambio: 'abierta' | 'resuelta'
}

export type AlertThresholds = {
  minSuccessRate: number
  maxConsecutiveFailures: number
  networkMinStores: number
  networkMinPct: number
  /** A fraction (0.2), not a percentage. */
  noDataFraction: number
  noDataWeeks: number
  noDataMinWeeks: number
  flappingFailures: number
  flappingRuns: number
}

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
        detectada_at, resuelta_at, detalle, cambio
      from etl_evaluate_alerts(${t.minSuccessRate}::numeric, ${t.maxConsecutiveFailures}::int,
        ${t.networkMinStores}::int, ${t.networkMinPct}::numeric, ${t.noDataFraction}::numeric, ${t.noDataWeeks}::int,
        ${t.noDataMinWeeks}::int, ${t.flappingFailures}::int, ${t.flappingRuns}::int)
      order by id`
  })
}
