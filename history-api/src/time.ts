// Wall-clock times of the chain's time zone (TZ_TIENDAS) ↔ instants, with Intl only. Inputs
// without an offset (`2026-01-25 00:00:00`, a plain date) are read in that zone (DESIGN §7, §12).

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(tz: string) {
  let f = formatters.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(tz, f)
  }
  return f
}

/** Offset of `tz` from UTC at instant `ms`, in milliseconds (Caracas: −4 h). */
function offsetAt(tz: string, ms: number): number {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  )
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  )
  return wall - Math.floor(ms / 1000) * 1000
}

export type WallClock = { year: number; month: number; day: number; hour?: number; minute?: number; second?: number }

/** The instant at which the clocks of `tz` show `w` (the later one, should a DST change repeat it). */
export function zonedToInstant(w: WallClock, tz: string): Date {
  const wall = Date.UTC(w.year, w.month - 1, w.day, w.hour ?? 0, w.minute ?? 0, w.second ?? 0)
  let guess = wall - offsetAt(tz, wall)
  guess = wall - offsetAt(tz, guess)
  return new Date(guess)
}

/** The calendar date (`YYYY-MM-DD`) of instant `d` in `tz`. */
export function dateIn(d: Date, tz: string): string {
  const parts = Object.fromEntries(
    formatter(tz)
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}`
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const LOCAL = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/

/** Start of calendar day `YYYY-MM-DD` in `tz`. */
export function dayStart(date: string, tz: string): Date {
  const [, y, m, d] = DATE.exec(date) ?? []
  return zonedToInstant({ year: Number(y), month: Number(m), day: Number(d) }, tz)
}

/** Start of the day after `YYYY-MM-DD` in `tz` (an exclusive end of that day). */
export function nextDayStart(date: string, tz: string): Date {
  const [, y, m, d] = DATE.exec(date) ?? []
  return zonedToInstant({ year: Number(y), month: Number(m), day: Number(d) + 1 }, tz)
}

export const isPlainDate = (s: string) => DATE.test(s)

/** `YYYY-MM-DD HH:MM:SS` read in `tz`, or an RFC 3339 date-time with offset (already validated). */
export function parseStoreDateTime(s: string, tz: string): Date {
  const local = LOCAL.exec(s)
  if (!local) return new Date(s)
  const [, y, mo, d, h, mi, se] = local.map(Number) as number[]
  return zonedToInstant({ year: y!, month: mo!, day: d!, hour: h, minute: mi, second: se }, tz)
}

/** True when the digits name a real calendar moment (no 2026-02-30, no 25:00). */
export function isRealLocalDateTime(s: string): boolean {
  const local = LOCAL.exec(s)
  if (!local) return false
  const [, y, mo, d, h, mi, se] = local.map(Number) as number[]
  const t = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, se))
  return (
    t.getUTCFullYear() === y && t.getUTCMonth() === mo! - 1 && t.getUTCDate() === d && h! < 24 && mi! < 60 && se! < 60
  )
}
