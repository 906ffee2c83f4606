// Formatting for the panel, one style everywhere (es-VE: "12.480", "45,2s", "86,31 %"):
// durations as the plan writes them ("2m 30s", "45,2s" with the es-VE decimal comma), numbers
// and percentages through the same es-VE formatter, instants in the chain's time zone (TZ_TIENDAS,
// served by the API: setZonaTiendas). Dates are assembled from parts so the output does not depend
// on how a given ICU release punctuates es-VE dates.

const SIN_DATO = '—'

const numero = new Intl.NumberFormat('es-VE', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('es-VE', { maximumFractionDigits: 1 })
const porcentaje = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 0, maximumFractionDigits: 2 })

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return SIN_DATO
  if (seconds < 60) {
    const oneDecimal = Math.round(seconds * 10) / 10
    if (oneDecimal < 60) return `${decimal.format(oneDecimal)}s`
  }
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`
  return s > 0 ? `${m}m ${s}s` : `${m}m`
}

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? SIN_DATO : numero.format(value)
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? SIN_DATO : `${porcentaje.format(value)} %`
}

const formatoPartes = (timeZone: string) =>
  new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  })

// The chain's time zone is the API's TZ_TIENDAS (GET /api/etl/config), set by the (app) layout
// before any page renders. One value per deployment, so module state is right on the server too.
// Until it is known (it always is behind the login), instants are shown in UTC and say so.
let zona = 'UTC'
let partes = formatoPartes(zona)

/** Shows every instant in `tz` (an IANA zone); an unknown zone is ignored. */
export function setZonaTiendas(tz: string | null | undefined): void {
  if (!tz || tz === zona) return
  try {
    partes = formatoPartes(tz)
    zona = tz
  } catch {
    // RangeError: this runtime does not know the zone; keep the previous one.
  }
}

export const zonaTiendas = () => zona
/** How every list names the zone its times are in. */
export const zonaTexto = () => `hora de las tiendas (${zona})`

function zoned(iso: string) {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return null
  const p = Object.fromEntries(partes.formatToParts(date).map((part) => [part.type, part.value]))
  return { y: p.year, mo: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second }
}

/** `26/01/2026 06:00:00` in the chain's time zone. */
export function formatDateTime(iso: string | null | undefined): string {
  const z = iso ? zoned(iso) : null
  return z ? `${z.d}/${z.mo}/${z.y} ${z.h}:${z.mi}:${z.s}` : SIN_DATO
}

/** The chain's calendar day of an instant, `YYYY-MM-DD`. */
export function zonedDay(iso: string): string | null {
  const z = zoned(iso)
  return z ? `${z.y}-${z.mo}-${z.d}` : null
}

/** A store-local calendar day as every date of the panel reads: `2026-12-24` → `24/12/2026`. */
export function formatFecha(fecha: string): string {
  const [y, mo, d] = fecha.split('-')
  return y && mo && d ? `${d}/${mo}/${y}` : fecha
}

/** Whole days from one date to another, both included: `24/12/2026 – 25/12/2026`, or the one day. */
export function formatRangoFechas(desde: string, hasta: string): string {
  return desde === hasta ? formatFecha(desde) : `${formatFecha(desde)} – ${formatFecha(hasta)}`
}

/** How many days a range of dates spans, both ends included (dates without time, so no DST). */
export function diasEntre(desde: string, hasta: string): number {
  return Math.round((Date.parse(`${hasta}T00:00:00Z`) - Date.parse(`${desde}T00:00:00Z`)) / 86_400_000) + 1
}

/** `2026-01-26` → `26/01`. */
export function formatDay(fecha: string): string {
  const [, mo, d] = fecha.split('-')
  return mo && d ? `${d}/${mo}` : fecha
}

/** The `dias` calendar days (chain's time zone) ending today, oldest first. */
export function lastDays(dias: number, now: Date = new Date()): string[] {
  const today = zonedDay(now.toISOString())
  if (!today) return []
  const base = Date.parse(`${today}T12:00:00Z`)
  return Array.from({ length: dias }, (_, i) => new Date(base - (dias - 1 - i) * 86_400_000).toISOString().slice(0, 10))
}

/**
 * The calendar days a rolling `dias` × 24 h window touches: `dias` days ending today, plus the
 * partial day before them when the data has something on it.
 */
export function windowDays(dias: number, used: Iterable<string>, now: Date = new Date()): string[] {
  const all = lastDays(dias + 1, now)
  const first = all[0]
  return first !== undefined && new Set(used).has(first) ? all : all.slice(1)
}

/** `1 fallida`, `2 fallidas`: a count with the Spanish singular or plural of its noun. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatNumber(n)} ${n === 1 ? singular : pluralForm}`
}

const relativo = new Intl.RelativeTimeFormat('es', { numeric: 'auto' })
const UNIDADES: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
]

/** "hace 5 min"-style distance of an instant from now: "hace 5 minutos", "ayer", "en 2 horas". */
export function formatRelative(iso: string | null | undefined, now: Date = new Date()): string {
  const at = iso ? Date.parse(iso) : Number.NaN
  if (Number.isNaN(at)) return SIN_DATO
  const seconds = Math.round((at - now.getTime()) / 1000)
  if (Math.abs(seconds) < 45) return 'hace un momento'
  for (const [unit, size] of UNIDADES) {
    if (Math.abs(seconds) >= size || unit === 'minute') {
      return relativo.format(Math.round(seconds / size), unit)
    }
  }
  return SIN_DATO
}

export type ConteoTiendas = {
  tiendas_exitosas: number
  tiendas_fallidas: number
  tiendas_cerradas: number
  tiendas_count: number
}

/** `18 ✓ / 1 ✗ / 19 total`; stores closed that day are named only when there are some. */
export function formatTiendas(c: ConteoTiendas): string {
  const cerradas = c.tiendas_cerradas > 0 ? ` / ${plural(c.tiendas_cerradas, 'cerrada')}` : ''
  return `${c.tiendas_exitosas} ✓ / ${c.tiendas_fallidas} ✗${cerradas} / ${c.tiendas_count} total`
}

/**
 * A `<input type="datetime-local">` value (`2026-01-25T08:30`) as the plan's run-form format,
 * `2026-01-25 08:30:00`, which the API reads in the chain's time zone. Empty → null.
 */
export function toStoreDateTime(local: string): string | null {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(local.trim())
  if (!match) return null
  return `${match[1]} ${match[2]}${match[3] ?? ':00'}`
}
