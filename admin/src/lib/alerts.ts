// The alert history page's pieces that are not markup: URL filters and the link from an alert to the
// executions behind it (the history list filtered to its ETL, its store and the days it spans).
import type { Schemas } from './api/schemas.ts'
import { historyHref } from './filters.ts'
import { zonedDay } from './format.ts'
import { etlNombre, isKeyOf } from './labels.ts'

export const tipoAlerta: Record<Schemas['AlertTipo'], string> = {
  success_rate_low: 'Tasa de éxito baja',
  tienda_consecutive_failures: 'Fallos seguidos de una tienda',
  incidente_red: 'Incidente de red',
  tienda_sin_datos: 'Tienda sin datos',
  tienda_intermitente: 'Tienda intermitente',
  gap_sin_recuperar: 'Datos sin recuperar',
}

export const estadoEntrega: Record<Schemas['AlertDelivery']['estado'], string> = {
  pendiente: 'reintentando',
  entregada: 'entregada',
  fallida: 'no entregada',
}

const TIENDA = /^[a-z0-9_]{1,50}$/

export type AlertFilters = { estado: 'activa' | 'resuelta' | ''; tipo: string; etl: string; tienda: string }

/** ?estado=activa|resuelta, ?tipo=…, ?etl=ventas|inventario, ?tienda=tienda_08; anything else is dropped. */
export function parseAlertFilters(params: URLSearchParams): AlertFilters {
  const estado = params.get('estado')
  const tipo = params.get('tipo')
  const etl = params.get('etl')
  const tienda = params.get('tienda')
  return {
    estado: estado === 'activa' || estado === 'resuelta' ? estado : '',
    tipo: isKeyOf(tipoAlerta, tipo) ? tipo : '',
    etl: isKeyOf(etlNombre, etl) ? etl : '',
    tienda: tienda && TIENDA.test(tienda) ? tienda : '',
  }
}

/**
 * The failed and partial runs of the alert's ETL (and store) from the day before it was detected (the
 * 24 h a rate looks back over) to the day it resolved, or today while it is active.
 */
export function executionsHref(a: Schemas['Alert'], now: Date = new Date()): string {
  const desde = zonedDay(new Date(Date.parse(a.detectada_at) - 24 * 3600_000).toISOString())
  const hasta = zonedDay(a.resuelta_at ?? now.toISOString())
  return historyHref({
    tipo: a.etl_name,
    estado: 'failed,partial',
    ...(a.tienda_id ? { tienda: a.tienda_id } : {}),
    ...(desde ? { desde } : {}),
    ...(hasta ? { hasta } : {}),
  })
}
