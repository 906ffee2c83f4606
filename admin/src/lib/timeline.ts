// The per-run timeline (Gantt) as positions: one row per store, one bar per phase of each attempt
// (TimelineSpan, written by the tracker when the store finishes), placed on the run's own clock so
// "3 intentos" reads as three attempts separated by their retry waits.
import type { Schemas } from './api/schemas.ts'

type Tienda = Schemas['TiendaDetail']
export type Barra = {
  span: Schemas['TimelineSpan']
  /** Left edge and width, in % of the run's time axis. */
  left: number
  width: number
  /** Seconds from the start of the axis. */
  desde: number
}
export type Fila = { tienda: Tienda; barras: Barra[]; intentos: number }
export type Linea = { filas: Fila[]; inicio: number; total: number; marcas: { pos: number; segundos: number }[] }

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN)

/**
 * Spans of every store on one axis, from the first start to the last end. Stores without spans (not
 * started, skipped, or rows older than the timeline) keep their row, empty. `ahora` closes the axis of a
 * run still going. A bar is never narrower than 0.4 % so a sub-second phase stays visible.
 */
export function lineaDeTiempo(tiendas: Tienda[], ahora = Date.now()): Linea {
  const inicios = tiendas.flatMap((t) => [ms(t.started_at), ...t.timeline.map((s) => ms(s.started_at))])
  const fines = tiendas.flatMap((t) => [ms(t.finished_at), ...t.timeline.map((s) => ms(s.finished_at))])
  const validos = (xs: number[]) => xs.filter((x) => Number.isFinite(x))
  const inicio = Math.min(...validos(inicios), Number.POSITIVE_INFINITY)
  if (!Number.isFinite(inicio))
    return { filas: tiendas.map((t) => ({ tienda: t, barras: [], intentos: 0 })), inicio: 0, total: 0, marcas: [] }
  const corriendo = tiendas.some((t) => t.status === 'running')
  const fin = Math.max(...validos(fines), corriendo ? ahora : inicio, inicio + 1)
  const total = fin - inicio
  const filas = tiendas.map((tienda) => ({
    tienda,
    intentos: Math.max(0, ...tienda.timeline.map((s) => s.attempt)),
    barras: tienda.timeline.map((span) => {
      const a = ms(span.started_at) - inicio
      const b = ms(span.finished_at) - inicio
      const left = (a / total) * 100
      return { span, desde: a / 1000, left, width: Math.max(0.4, Math.min(100 - left, ((b - a) / total) * 100)) }
    }),
  }))
  const marcas = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ pos: f * 100, segundos: (f * total) / 1000 }))
  return { filas, inicio, total: total / 1000, marcas }
}
