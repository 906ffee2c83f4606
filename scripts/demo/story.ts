// The demo chain's last month, store by store: what each stand-in did at a given moment. A pure,
// deterministic function of (store, moment, anchor) — the anchor is the instant the month leads up
// to (the first `npm start`), days count back from its calendar day in TZ_TIENDAS.
//
// Every story is over by the anchor: a store is healthy at any moment after it. The replay drives
// its own stand-ins at the simulated moment of each run (the window's scheduled time), while the
// live stand-ins of `npm start` live at real time — so re-extracting a window that failed in the
// story (a recovery from the panel) succeeds, as it would once a real store is back.
import { DateTime } from 'luxon'
import type { KlkFault } from '../../test/fakes/klk-simulator.ts'
import { hash } from '../../test/fakes/sales-data.ts'
import type { TdsFault } from '../../test/fakes/tds-server.ts'

export type StoryFault = KlkFault | TdsFault

/** A moment of the month as the stories read it: the TZ_TIENDAS calendar day and hour. */
export type Moment = { daysAgo: number; date: string; hour: number; weekday: number; slot: string }

export type Story = {
  tiendaId: string
  /** What the panel should end up showing (plan §1.3 category), for the tests and the README. */
  category: string
  says: string
  faultAt: (m: Moment) => StoryFault | null
}

// The hash's low bits follow the key's last characters too closely for dates: use higher ones.
const some = (key: string, oneIn: number) => (hash(key) >>> 8) % oneIn === 0

export const STORIES: Story[] = [
  {
    tiendaId: 'tienda_08',
    category: 'vpn_timeout',
    says: 'its VPN drops some evenings (connects time out)',
    faultAt: (m) => (m.hour >= 20 && some(`vpn:${m.date}`, 3) ? 'slow_connect' : null),
  },
  {
    tiendaId: 'tienda_05',
    category: 'api_auth',
    says: 'its KLK token expired for a week (401)',
    faultAt: (m) => (m.daysAgo >= 14 && m.daysAgo <= 20 ? 'http_401' : null),
  },
  {
    tiendaId: 'tienda_11',
    category: 'data_format',
    says: 'sent malformed rows for one day (a number as text)',
    faultAt: (m) => (m.daysAgo === 9 ? 'wrong_type' : null),
  },
  {
    tiendaId: 'tienda_18',
    category: 'db_connection',
    says: 'its SQL Server (Stellar) was down for a morning',
    faultAt: (m) => (m.daysAgo === 6 && m.hour < 12 ? 'refuse' : null),
  },
  {
    tiendaId: 'tienda_14',
    category: 'network_error',
    says: 'flapped for ten days (connections reset on about half the runs)',
    faultAt: (m) => (m.daysAgo >= 3 && m.daysAgo <= 12 && some(`flap:${m.slot}`, 2) ? 'reset' : null),
  },
  ...['tienda_02', 'tienda_03', 'tienda_04', 'tienda_06', 'tienda_07'].map(
    (tiendaId): Story => ({
      tiendaId,
      category: 'vpn_unreachable',
      says: 'was cut off, with four other stores, by a network incident one Sunday',
      faultAt: (m) => (m.weekday === 0 && m.daysAgo >= 8 && m.daysAgo <= 14 ? 'refuse' : null),
    }),
  ),
  {
    tiendaId: 'tienda_16',
    category: 'tienda_sin_datos',
    says: 'silently sends no rows on some days',
    faultAt: (m) => (some(`empty:${m.date}`, 4) ? 'empty' : null),
  },
]

/** What `tiendaId` did at moment `m` (null: it worked). */
export function storyFault(tiendaId: string, m: Moment): StoryFault | null {
  for (const story of STORIES) {
    if (story.tiendaId !== tiendaId) continue
    const fault = story.faultAt(m)
    if (fault) return fault
  }
  return null
}

// ── Time in TZ_TIENDAS ─────────────────────────────────────────────────────────────────────────

/** The zone's calendar day of `instant`, as YYYY-MM-DD. */
export function localDate(instant: Date, tz: string): string {
  return DateTime.fromJSDate(instant, { zone: tz }).toISODate()!
}

/** The instant of `hour`:00 on calendar day `date` (YYYY-MM-DD) in the zone. */
export function zonedInstant(date: string, hour: number, tz: string): Date {
  return DateTime.fromISO(date, { zone: tz }).set({ hour }).toJSDate()
}

export function momentOf(at: Date, anchor: Date, tz: string): Moment {
  const date = localDate(at, tz)
  const daysAgo = Math.round((Date.parse(localDate(anchor, tz)) - Date.parse(date)) / 86_400_000)
  const local = DateTime.fromJSDate(at, { zone: tz })
  // Luxon numbers weekdays 1 (Monday) … 7 (Sunday); the stories use Date's 0 (Sunday) … 6.
  return { daysAgo, date, hour: local.hour, weekday: local.weekday % 7, slot: at.toISOString() }
}
