import { describe, expect, it } from 'vitest'
import type { Schemas } from './api/schemas.ts'
import { lineaDeTiempo } from './timeline.ts'

const span = (
  attempt: number,
  phase: Schemas['TimelinePhase'],
  from: number,
  to: number,
  errors = 0,
): Schemas['TimelineSpan'] => ({
  attempt,
  phase,
  started_at: new Date(Date.UTC(2026, 0, 26, 10, 0, from)).toISOString(),
  finished_at: new Date(Date.UTC(2026, 0, 26, 10, 0, to)).toISOString(),
  duration_seconds: to - from,
  records: 0,
  errors,
  error_category: errors ? 'vpn_timeout' : null,
  error_code: null,
})

const tienda = (id: string, timeline: Schemas['TimelineSpan'][]) =>
  ({
    tienda_id: id,
    tienda_nombre: id.toUpperCase(),
    status: 'success',
    started_at: null,
    finished_at: null,
    timeline,
  }) as unknown as Schemas['TiendaDetail']

describe('lineaDeTiempo', () => {
  it('places every attempt and retry wait of every store on the run’s own axis', () => {
    const l = lineaDeTiempo([
      tienda('tienda_01', [span(1, 'extract', 0, 10), span(1, 'load', 10, 20)]),
      tienda('tienda_08', [span(1, 'extract', 0, 5, 1), span(1, 'retry_wait', 5, 15), span(2, 'extract', 15, 40)]),
      tienda('tienda_02', []),
    ])
    expect(l.total).toBe(40)
    const [a, b, c] = l.filas
    expect(a!.barras.map((x) => [x.left, x.width])).toEqual([
      [0, 25],
      [25, 25],
    ])
    expect(b!.intentos).toBe(2)
    expect(b!.barras.map((x) => [x.span.phase, x.left, x.width, x.desde])).toEqual([
      ['extract', 0, 12.5, 0],
      ['retry_wait', 12.5, 25, 5],
      ['extract', 37.5, 62.5, 15],
    ])
    expect(c!.barras).toEqual([])
    expect(l.marcas.map((m) => m.segundos)).toEqual([0, 10, 20, 30, 40])
  })

  it('has no axis when no store has a timeline', () => {
    expect(lineaDeTiempo([tienda('tienda_01', [])]).marcas).toEqual([])
  })
})
