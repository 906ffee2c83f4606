import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  formatDateTime,
  formatDay,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRelative,
  formatTiendas,
  lastDays,
  plural,
  setZonaTiendas,
  toStoreDateTime,
  windowDays,
  zonaTiendas,
  zonedDay,
} from './format.ts'

describe('formatDuration', () => {
  test.each([
    [45.2, '45,2s'],
    [0.04, '0s'],
    [5, '5s'],
    [59.94, '59,9s'],
    [59.96, '1m'],
    [150, '2m 30s'],
    [90.4, '1m 30s'],
    [3600, '1h'],
    [3725, '1h 2m'],
  ])('%s s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text)
  })

  test('missing or impossible values show a dash', () => {
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(undefined)).toBe('—')
    expect(formatDuration(-1)).toBe('—')
    expect(formatDuration(Number.NaN)).toBe('—')
  })
})

describe('numbers', () => {
  test('records use the es-VE thousands separator', () => {
    expect(formatNumber(12480)).toBe('12.480')
    expect(formatNumber(2150000)).toBe('2.150.000')
    expect(formatNumber(0)).toBe('0')
    expect(formatNumber(null)).toBe('—')
  })

  test('percentages keep up to two decimals with a comma', () => {
    expect(formatPercent(86.31)).toBe('86,31 %')
    expect(formatPercent(100)).toBe('100 %')
    expect(formatPercent(null)).toBe('—')
  })

  test('counts with their Spanish singular or plural', () => {
    expect(plural(1, 'fallida')).toBe('1 fallida')
    expect(plural(2, 'parcial', 'parciales')).toBe('2 parciales')
    expect(plural(1200, 'ejecución', 'ejecuciones')).toBe('1.200 ejecuciones')
  })

  test('stores column: closed stores only when there are some, singular or plural', () => {
    const conteo = { tiendas_exitosas: 18, tiendas_fallidas: 1, tiendas_cerradas: 0, tiendas_count: 19 }
    expect(formatTiendas(conteo)).toBe('18 ✓ / 1 ✗ / 19 total')
    expect(formatTiendas({ ...conteo, tiendas_fallidas: 0, tiendas_cerradas: 1 })).toBe(
      '18 ✓ / 0 ✗ / 1 cerrada / 19 total',
    )
    expect(formatTiendas({ ...conteo, tiendas_exitosas: 16, tiendas_fallidas: 0, tiendas_cerradas: 3 })).toBe(
      '16 ✓ / 0 ✗ / 3 cerradas / 19 total',
    )
  })
})

describe('dates in America/Caracas (UTC−4, no DST)', () => {
  beforeAll(() => setZonaTiendas('America/Caracas'))

  test('an instant is shown in the chain time zone, 24 h', () => {
    expect(formatDateTime('2026-01-26T10:00:00Z')).toBe('26/01/2026 06:00:00')
    expect(formatDateTime('2026-01-26T02:30:05Z')).toBe('25/01/2026 22:30:05')
  })

  test('missing or broken instants show a dash', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDateTime('not a date')).toBe('—')
  })

  test('calendar day of an instant follows the chain, not UTC', () => {
    expect(zonedDay('2026-01-26T03:59:59Z')).toBe('2026-01-25')
    expect(zonedDay('2026-01-26T04:00:00Z')).toBe('2026-01-26')
  })

  test('short day label', () => {
    expect(formatDay('2026-01-05')).toBe('05/01')
  })

  test('lastDays lists chain days ending today, oldest first', () => {
    const now = new Date('2026-03-01T02:00:00Z') // still 28 Feb in Caracas
    expect(lastDays(3, now)).toEqual(['2026-02-26', '2026-02-27', '2026-02-28'])
    expect(lastDays(1, now)).toEqual(['2026-02-28'])
  })

  test('windowDays adds the partial first day of a rolling window only when it has data', () => {
    const now = new Date('2026-03-01T02:00:00Z')
    expect(windowDays(2, [], now)).toEqual(['2026-02-27', '2026-02-28'])
    expect(windowDays(2, ['2026-02-26'], now)).toEqual(['2026-02-26', '2026-02-27', '2026-02-28'])
  })
})

describe('the chain time zone comes from the API (TZ_TIENDAS)', () => {
  afterAll(() => setZonaTiendas('America/Caracas'))

  test('another zone moves every instant and calendar day; an unknown zone is ignored', () => {
    setZonaTiendas('Asia/Kolkata')
    expect(zonaTiendas()).toBe('Asia/Kolkata')
    expect(formatDateTime('2026-01-26T10:00:00Z')).toBe('26/01/2026 15:30:00')
    expect(zonedDay('2026-01-26T20:00:00Z')).toBe('2026-01-27')
    setZonaTiendas('Mars/Olympus_Mons')
    expect(zonaTiendas()).toBe('Asia/Kolkata')
  })
})

describe('formatRelative', () => {
  const now = new Date('2026-01-26T10:00:00Z')
  test.each([
    ['2026-01-26T09:59:30Z', 'hace un momento'],
    ['2026-01-26T09:55:00Z', 'hace 5 minutos'],
    ['2026-01-26T08:00:00Z', 'hace 2 horas'],
    ['2026-01-25T10:00:00Z', 'ayer'],
    ['2026-01-21T10:00:00Z', 'hace 5 días'],
  ])('%s → %s', (iso, text) => {
    expect(formatRelative(iso, now)).toBe(text)
  })
  test('no instant, no distance', () => {
    expect(formatRelative(null, now)).toBe('—')
  })
})

describe('toStoreDateTime', () => {
  test('datetime-local values become the plan format read in TZ_TIENDAS', () => {
    expect(toStoreDateTime('2026-01-25T08:30')).toBe('2026-01-25 08:30:00')
    expect(toStoreDateTime('2026-01-25T23:59:59')).toBe('2026-01-25 23:59:59')
  })

  test('empty or malformed input is null', () => {
    expect(toStoreDateTime('')).toBeNull()
    expect(toStoreDateTime('25/01/2026')).toBeNull()
  })
})
