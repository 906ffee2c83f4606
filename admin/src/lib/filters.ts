// The history filters live in the URL (Spanish keys, so a shared link reads well) and map onto the
// API's query parameters. A value the API would reject (unknown enum, malformed date) is dropped
// and reported instead of turning a shared link into an error page.
import type { HistoryQuery, Schemas } from './api/schemas.ts'
import { categoria, estadoEjecucion, etlNombre, fase, isKeyOf, origen } from './labels.ts'

export const PAGE_SIZE = 25

export type FilterValues = {
  tipo: string
  /** One status or several, comma-separated (`failed,partial`). */
  estado: string
  /** Search by execution id. */
  ejecucion: string
  /** The list order, as the API writes it (`-duration_seconds`); empty is newest first. */
  orden: string
  desde: string
  hasta: string
  origen: string
  tienda: string
  fase: string
  categoria: string
}

export type ParsedFilters = {
  values: FilterValues
  query: HistoryQuery
  page: number
  hasFilters: boolean
  ignored: string[]
}

const FECHA = /^\d{4}-\d{2}-\d{2}$/
const TIENDA = /^[a-z0-9_]{1,50}$/

export const filterKeys = [
  'tipo',
  'estado',
  'ejecucion',
  'desde',
  'hasta',
  'origen',
  'tienda',
  'fase',
  'categoria',
  'orden',
] as const

/** The sortable columns and the API's order values (HistorySort in the contract). */
export const ORDENES = [
  '-started_at',
  'started_at',
  '-duration_seconds',
  'duration_seconds',
  '-records_loaded',
  'records_loaded',
] as const satisfies readonly Schemas['HistorySort'][]
export type Orden = (typeof ORDENES)[number]
const DEFAULT_ORDEN: Orden = '-started_at'

/** Selected statuses of a `estado` value; nothing valid → null. */
export function estadosDe(value: string): Schemas['ExecutionStatus'][] | null {
  const items = value.split(',').filter(Boolean)
  if (items.length === 0 || !items.every((i) => isKeyOf(estadoEjecucion, i))) return null
  return [...new Set(items)] as Schemas['ExecutionStatus'][]
}

export function parseFilters(params: URLSearchParams, pageSize = PAGE_SIZE): ParsedFilters {
  const values = Object.fromEntries(filterKeys.map((k) => [k, params.get(k)?.trim() ?? ''])) as FilterValues
  // The form without JavaScript sends each checked state as its own `estado`.
  values.estado = params
    .getAll('estado')
    .map((v) => v.trim())
    .filter(Boolean)
    .join(',')
  const query: HistoryQuery = {}
  const ignored: string[] = []

  const take = <K extends string>(key: keyof FilterValues, valid: (value: string) => value is K): K | null => {
    const value = values[key]
    if (!value) return null
    if (valid(value)) return value
    ignored.push(`${key}=${value}`)
    values[key] = ''
    return null
  }
  const tipo = take('tipo', (v) => isKeyOf(etlNombre, v))
  const estado = take('estado', (v): v is string => estadosDe(v) !== null)
  const ejecucion = take('ejecucion', (v): v is string => /^[1-9]\d{0,9}$/.test(v) && Number(v) <= 2147483647)
  const orden = take('orden', (v): v is Orden => (ORDENES as readonly string[]).includes(v))
  const origenValue = take('origen', (v) => isKeyOf(origen, v))
  const faseValue = take('fase', (v) => isKeyOf(fase, v))
  const categoriaValue = take('categoria', (v) => isKeyOf(categoria, v))
  const tienda = take('tienda', (v): v is string => TIENDA.test(v))
  const desde = take('desde', (v): v is string => validDate(v))
  const hasta = take('hasta', (v): v is string => validDate(v))
  if (tipo) query.etl_name = tipo
  if (estado) {
    const estados = estadosDe(estado)!
    query.status = estados
    values.estado = estados.join(',')
  }
  if (ejecucion) query.id = Number(ejecucion)
  if (orden && orden !== DEFAULT_ORDEN) query.sort = orden
  else values.orden = ''
  if (origenValue) query.triggered_by = origenValue
  if (faseValue) query.error_phase = faseValue
  if (categoriaValue) query.error_category = categoriaValue
  if (tienda) query.tienda = tienda
  if (desde) query.fecha_desde = desde
  if (hasta) query.fecha_hasta = hasta

  const rawPage = Number(params.get('pagina') ?? '1')
  const page = Number.isInteger(rawPage) && rawPage >= 1 ? rawPage : 1
  query.limit = pageSize
  query.offset = (page - 1) * pageSize

  const hasFilters = filterKeys.some((k) => k !== 'orden' && values[k] !== '')
  return { values, query, page, hasFilters, ignored }
}

function validDate(value: string): boolean {
  if (!FECHA.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
}

/**
 * Whether a live execution event may concern a history page with these filters. The store and
 * the dates cannot be judged from the event, so they never exclude.
 */
export function mayMatch(values: FilterValues, row: Schemas['ExecutionSummary']): boolean {
  return (
    (!values.tipo || values.tipo === row.etl_name) &&
    (!values.estado || values.estado.split(',').includes(row.status)) &&
    (!values.ejecucion || values.ejecucion === String(row.id)) &&
    (!values.origen || values.origen === row.triggered_by) &&
    (!values.fase || values.fase === row.error_phase) &&
    (!values.categoria || values.categoria === row.error_category)
  )
}

/** The CSV export of the list these filters show (every page), through the panel's relay. */
export function exportHref(values: Partial<FilterValues>): string {
  return historyHref(values, 1, '/datos/historial.csv')
}

/** The URL of the history with these filters and page (empty values are left out). */
export function historyHref(values: Partial<FilterValues>, page = 1, base = '/historial'): string {
  const params = new URLSearchParams()
  for (const key of filterKeys) {
    const value = values[key]
    if (value) params.set(key, value)
  }
  if (page > 1) params.set('pagina', String(page))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

export function pageCount(total: number, pageSize = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize))
}

/** `X-Total-Count` as a number; a missing or broken header counts what the page shows. */
export function totalFrom(header: string | null, fallback: number): number {
  const total = header === null ? Number.NaN : Number(header)
  return Number.isInteger(total) && total >= 0 ? total : fallback
}
