import { describe, expect, test } from 'vitest'
import { mensajeCreado, mensajeEliminado, parseCierreFilters } from './cierres.ts'
import { diasEntre, formatFecha, formatRangoFechas } from './format.ts'

describe('store calendar', () => {
  test('what a new closure did, in the singular or the plural', () => {
    expect(mensajeCreado(2)).toBe('Cierre registrado. 2 ejecuciones pasadas de la tienda quedaron como cerradas.')
    expect(mensajeCreado(1)).toBe('Cierre registrado. 1 ejecución pasada de la tienda quedó como cerrada.')
    expect(mensajeCreado(0)).toBe('Cierre registrado. Ninguna ejecución pasada de la tienda cambió.')
    expect(mensajeCreado(1200)).toContain('1.200 ejecuciones pasadas')
  })

  test('what removing one did', () => {
    expect(mensajeEliminado(1)).toBe(
      'Cierre eliminado. 1 ejecución pasada de la tienda volvió a su estado anterior (fallida u omitida).',
    )
    expect(mensajeEliminado(3)).toContain('3 ejecuciones pasadas de la tienda volvieron a su estado anterior')
    expect(mensajeEliminado(0)).toBe('Cierre eliminado. Ninguna ejecución pasada de la tienda cambió.')
  })

  test('days read as the rest of the panel, both ends included', () => {
    expect(formatFecha('2026-12-24')).toBe('24/12/2026')
    expect(formatRangoFechas('2026-12-24', '2026-12-25')).toBe('24/12/2026 – 25/12/2026')
    expect(formatRangoFechas('2026-12-24', '2026-12-24')).toBe('24/12/2026')
    expect(diasEntre('2026-12-24', '2026-12-24')).toBe(1)
    expect(diasEntre('2026-12-31', '2027-01-02')).toBe(3)
    expect(diasEntre('2026-03-01', '2026-11-30')).toBe(275)
  })

  test('the store filter keeps a store id and drops anything else', () => {
    expect(parseCierreFilters(new URLSearchParams('tienda=tienda_08'))).toEqual({ tienda: 'tienda_08' })
    expect(parseCierreFilters(new URLSearchParams('tienda=<x>'))).toEqual({ tienda: '' })
    expect(parseCierreFilters(new URLSearchParams(''))).toEqual({ tienda: '' })
  })
})
