import { describe, expect, test } from 'vitest'
import { executionsHref, parseAlertFilters } from './alerts.ts'
import { setZonaTiendas } from './format.ts'

describe('alert history filters', () => {
  test('known values are kept, anything else dropped', () => {
    expect(
      parseAlertFilters(new URLSearchParams('estado=activa&tipo=gap_sin_recuperar&etl=ventas&tienda=tienda_08')),
    ).toEqual({ estado: 'activa', tipo: 'gap_sin_recuperar', etl: 'ventas', tienda: 'tienda_08' })
    expect(parseAlertFilters(new URLSearchParams("estado=abierta&tipo=x&etl=compras&tienda=T'1"))).toEqual({
      estado: '',
      tipo: '',
      etl: '',
      tienda: '',
    })
  })
})

describe('executionsHref', () => {
  const alert = {
    id: 7,
    tipo: 'tienda_consecutive_failures' as const,
    etl_name: 'ventas' as const,
    tienda_id: 'tienda_08',
    mensaje: '',
    valor: 6,
    umbral: 5,
    detectada_at: '2026-01-28T12:00:45Z',
    resuelta_at: '2026-01-29T14:00:00Z',
    ultima_vez_at: '2026-01-29T13:00:00Z',
    detalle: null,
  }

  test("links to the failed and partial runs of the alert's ETL and store over its days, in store time", () => {
    setZonaTiendas('America/Caracas')
    expect(executionsHref(alert)).toBe(
      '/historial?tipo=ventas&estado=failed%2Cpartial&desde=2026-01-27&hasta=2026-01-29&tienda=tienda_08',
    )
  })

  test('an ETL-wide alert still open: no store, until today', () => {
    setZonaTiendas('UTC')
    const href = executionsHref({ ...alert, tienda_id: null, resuelta_at: null }, new Date('2026-02-01T10:00:00Z'))
    expect(href).toBe('/historial?tipo=ventas&estado=failed%2Cpartial&desde=2026-01-27&hasta=2026-02-01')
  })
})
