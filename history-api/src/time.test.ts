import { describe, expect, it } from 'vitest'
import { dateIn, dayStart, isRealLocalDateTime, nextDayStart, parseStoreDateTime, zonedToInstant } from './time.ts'

describe('TZ_TIENDAS wall clocks', () => {
  it('reads the plan’s local times in Caracas (UTC−4, no DST)', () => {
    expect(parseStoreDateTime('2026-01-25 00:00:00', 'America/Caracas').toISOString()).toBe('2026-01-25T04:00:00.000Z')
    expect(parseStoreDateTime('2026-01-25 23:59:59', 'America/Caracas').toISOString()).toBe('2026-01-26T03:59:59.000Z')
    expect(parseStoreDateTime('2026-01-25T00:00:00-04:00', 'America/Caracas').toISOString()).toBe(
      '2026-01-25T04:00:00.000Z',
    )
  })

  it('gives whole calendar days, across month ends and DST changes', () => {
    expect(dayStart('2026-01-26', 'America/Caracas').toISOString()).toBe('2026-01-26T04:00:00.000Z')
    expect(nextDayStart('2026-01-31', 'America/Caracas').toISOString()).toBe('2026-02-01T04:00:00.000Z')
    expect(dayStart('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-08T05:00:00.000Z')
    expect(nextDayStart('2026-03-08', 'America/New_York').toISOString()).toBe('2026-03-09T04:00:00.000Z')
    expect(dayStart('2026-01-26', 'Asia/Kolkata').toISOString()).toBe('2026-01-25T18:30:00.000Z')
    expect(
      zonedToInstant({ year: 2026, month: 12, day: 31, hour: 23, minute: 59, second: 59 }, 'UTC').toISOString(),
    ).toBe('2026-12-31T23:59:59.000Z')
  })

  it('names the calendar day of an instant in the zone', () => {
    expect(dateIn(new Date('2026-01-26T03:59:59Z'), 'America/Caracas')).toBe('2026-01-25')
    expect(dateIn(new Date('2026-01-26T04:00:00Z'), 'America/Caracas')).toBe('2026-01-26')
  })

  it('refuses calendar-impossible local times', () => {
    expect(isRealLocalDateTime('2026-02-28 23:59:59')).toBe(true)
    expect(isRealLocalDateTime('2028-02-29 00:00:00')).toBe(true)
    for (const bad of [
      '2026-02-29 00:00:00',
      '2026-02-30 00:00:00',
      '2026-04-31 10:00:00',
      '2026-01-25 24:00:00',
      '2026-01-25 10:60:00',
    ]) {
      expect(isRealLocalDateTime(bad), bad).toBe(false)
    }
  })
})
