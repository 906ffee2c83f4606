// The store calendar page's pieces that are not markup: its URL filter and the sentences that say
// what creating or removing a closure did to the history (CierreCreado / CierreEliminado).
import { plural } from './format.ts'

const TIENDA = /^[a-z0-9_]{1,50}$/

/** ?tienda=tienda_08 keeps one store's closures; anything else is dropped. */
export function parseCierreFilters(params: URLSearchParams): { tienda: string } {
  const tienda = params.get('tienda')
  return { tienda: tienda && TIENDA.test(tienda) ? tienda : '' }
}

const ejecuciones = (n: number) => plural(n, 'ejecución pasada', 'ejecuciones pasadas')

/** After POST /api/etl/closures: how many of the store's past runs it turned `closed`. */
export function mensajeCreado(reclasificadas: number): string {
  if (reclasificadas === 0) return 'Cierre registrado. Ninguna ejecución pasada de la tienda cambió.'
  return `Cierre registrado. ${ejecuciones(reclasificadas)} de la tienda ${
    reclasificadas === 1 ? 'quedó como cerrada' : 'quedaron como cerradas'
  }.`
}

/** After DELETE /api/etl/closures/{id}: how many past runs went back to failed or skipped. */
export function mensajeEliminado(reclasificadas: number): string {
  if (reclasificadas === 0) return 'Cierre eliminado. Ninguna ejecución pasada de la tienda cambió.'
  return `Cierre eliminado. ${ejecuciones(reclasificadas)} de la tienda ${
    reclasificadas === 1 ? 'volvió' : 'volvieron'
  } a su estado anterior (fallida u omitida).`
}
