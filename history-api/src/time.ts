// Wall-clock times of the chain's time zone (TZ_TIENDAS) ↔ instants, through Luxon's zone rules.
// Inputs without an offset (`2026-01-25 00:00:00`, a plain date) are read in that zone (DESIGN §7, §12).
import { DateTime } from 'luxon'

export type WallClock = { year: number; month: number; day: number; hour?: number; minute?: number; second?: number }

/** The instant at which the clocks of `tz` show `w`. */
export function zonedToInstant(w: WallClock, tz: string): Date {
  return DateTime.fromObject(w, { zone: tz }).toJSDate()
}

/** The calendar date (`YYYY-MM-DD`) of instant `d` in `tz`. */
export function dateIn(d: Date, tz: string): string {
  return DateTime.fromJSDate(d, { zone: tz }).toISODate()!
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const LOCAL = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/** Start of calendar day `YYYY-MM-DD` in `tz`. */
export function dayStart(date: string, tz: string): Date {
  return DateTime.fromISO(date, { zone: tz }).startOf('day').toJSDate()
}

/** Start of the day after `YYYY-MM-DD` in `tz` (an exclusive end of that day). */
export function nextDayStart(date: string, tz: string): Date {
  return DateTime.fromISO(date, { zone: tz }).plus({ days: 1 }).startOf('day').toJSDate()
}

export const isPlainDate = (s: string) => DATE.test(s)

/** `YYYY-MM-DD HH:MM:SS` read in `tz`, or an RFC 3339 date-time with offset (already validated). */
export function parseStoreDateTime(s: string, tz: string): Date {
  if (!LOCAL.test(s)) return new Date(s)
  return DateTime.fromSQL(s, { zone: tz }).toJSDate()
}

/** True when the digits name a real calendar moment (no 2026-02-30, no 25:00). */
export function isRealLocalDateTime(s: string): boolean {
  // Luxon takes ISO's 24:00 as the next midnight; the plan's local times stop at 23:59:59.
  return LOCAL.test(s) && !s.includes(' 24:') && DateTime.fromSQL(s, { zone: 'UTC' }).isValid
}
