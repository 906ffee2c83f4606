import { describe, expect, test } from 'vitest'
import { historyHref, mayMatch, pageCount, parseFilters, totalFrom } from './filters.ts'

describe('parseFilters', () => {
  test('no parameters: first page, no filters', () => {
    const parsed = parseFilters(new URLSearchParams(''))
    expect(parsed.hasFilters).toBe(false)
    expect(parsed.page).toBe(1)
    expect(parsed.query).toEqual({ limit: 25, offset: 0 })
  })

  test('Spanish URL keys map onto the API query', () => {
    const parsed = parseFilters(
      new URLSearchParams(
        'tipo=ventas&estado=failed&desde=2026-01-01&hasta=2026-01-31&origen=cli&tienda=tienda_08&fase=extract&categoria=vpn_timeout&pagina=3',
      ),
    )
    expect(parsed.hasFilters).toBe(true)
    expect(parsed.ignored).toEqual([])
    expect(parsed.query).toEqual({
      etl_name: 'ventas',
      status: ['failed'],
      fecha_desde: '2026-01-01',
      fecha_hasta: '2026-01-31',
      triggered_by: 'cli',
      tienda: 'tienda_08',
      error_phase: 'extract',
      error_category: 'vpn_timeout',
      limit: 25,
      offset: 50,
    })
  })

  test('several states, an id search and an order', () => {
    const parsed = parseFilters(
      new URLSearchParams('estado=failed,partial,failed&ejecucion=123&orden=-duration_seconds'),
    )
    expect(parsed.query).toEqual({
      status: ['failed', 'partial'],
      id: 123,
      sort: '-duration_seconds',
      limit: 25,
      offset: 0,
    })
    expect(parsed.values.estado).toBe('failed,partial')
    expect(parsed.hasFilters).toBe(true)
    // The order alone is not a filter; newest first is the API's default and stays implicit.
    expect(parseFilters(new URLSearchParams('orden=records_loaded')).hasFilters).toBe(false)
    expect(parseFilters(new URLSearchParams('orden=-started_at')).query).toEqual({ limit: 25, offset: 0 })
    expect(parseFilters(new URLSearchParams('orden=tiempo&ejecucion=0&estado=failed,roto')).ignored).toEqual([
      'estado=failed,roto',
      'ejecucion=0',
      'orden=tiempo',
    ])
  })

  test('values the API would reject are dropped and reported', () => {
    const parsed = parseFilters(new URLSearchParams("estado=roto&desde=2026-02-30&tienda=x';drop&pagina=-2"))
    expect(parsed.ignored).toEqual(['estado=roto', "tienda=x';drop", 'desde=2026-02-30'])
    expect(parsed.hasFilters).toBe(false)
    expect(parsed.page).toBe(1)
    expect(parsed.query).toEqual({ limit: 25, offset: 0 })
  })
})

describe('historyHref', () => {
  test('keeps only set filters and pages after the first', () => {
    expect(historyHref({ estado: 'failed', tipo: '' })).toBe('/historial?estado=failed')
    expect(historyHref({ estado: 'failed' }, 2)).toBe('/historial?estado=failed&pagina=2')
    expect(historyHref({})).toBe('/historial')
  })
})

describe('pagination', () => {
  test('page count from X-Total-Count', () => {
    expect(pageCount(0)).toBe(1)
    expect(pageCount(25)).toBe(1)
    expect(pageCount(26)).toBe(2)
  })

  test('a missing or broken header falls back', () => {
    expect(totalFrom('168', 3)).toBe(168)
    expect(totalFrom(null, 3)).toBe(3)
    expect(totalFrom('abc', 3)).toBe(3)
  })
})

describe('mayMatch', () => {
  const row = {
    id: 7,
    etl_name: 'ventas',
    etl_type: 'manual',
    started_at: '2026-01-26T10:00:00Z',
    finished_at: null,
    duration_seconds: null,
    status: 'running',
    records_extracted: 0,
    records_loaded: 0,
    duplicates_skipped: 0,
    tiendas_count: 2,
    tiendas_exitosas: 1,
    tiendas_fallidas: 0,
    tiendas_cerradas: 0,
    error_phase: null,
    error_category: null,
    triggered_by: 'cli',
  } as const

  test('an event outside the enum filters is ignored; store and dates never exclude', () => {
    const none = parseFilters(new URLSearchParams('')).values
    expect(mayMatch(none, row)).toBe(true)
    expect(mayMatch(parseFilters(new URLSearchParams('estado=failed')).values, row)).toBe(false)
    expect(mayMatch(parseFilters(new URLSearchParams('tipo=ventas&origen=cli')).values, row)).toBe(true)
    expect(mayMatch(parseFilters(new URLSearchParams('tipo=inventario')).values, row)).toBe(false)
    expect(mayMatch(parseFilters(new URLSearchParams('tienda=tienda_99&desde=2020-01-01')).values, row)).toBe(true)
    expect(mayMatch(parseFilters(new URLSearchParams('estado=failed,running')).values, row)).toBe(true)
    expect(mayMatch(parseFilters(new URLSearchParams('estado=queued,success')).values, row)).toBe(false)
    expect(mayMatch(parseFilters(new URLSearchParams('ejecucion=8')).values, row)).toBe(false)
    expect(mayMatch(parseFilters(new URLSearchParams('ejecucion=7')).values, row)).toBe(true)
  })
})
