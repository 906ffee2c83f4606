import { describe, expect, test } from 'vitest'
import { describeProblem, fieldLabel } from './problem.ts'

describe('describeProblem', () => {
  test('422 names each field by its Spanish label and keeps the reason', () => {
    const view = describeProblem(
      {
        type: 'about:blank',
        title: 'Unprocessable Content',
        status: 422,
        detail: 'fecha_inicio is after fecha_fin',
        'invalid-params': [{ name: 'fecha_inicio', reason: 'must not be after fecha_fin' }],
      },
      422,
    )
    expect(view.message).toBe('La solicitud no se puede atender. Fecha inicio: must not be after fecha_fin')
    expect(view.fields).toEqual([
      { name: 'fecha_inicio', label: 'Fecha inicio', reason: 'must not be after fecha_fin' },
    ])
  })

  test('array items keep their index', () => {
    expect(fieldLabel('tienda_ids[1]')).toBe('Tiendas (tienda_ids[1])')
    expect(fieldLabel('unknown_field')).toBe('unknown_field')
  })

  test('409 leads in Spanish and keeps the detail', () => {
    const view = describeProblem(
      { type: 'about:blank', title: 'Conflict', status: 409, detail: 'Execution 125 already includes tienda_08.' },
      409,
    )
    expect(view.message).toBe(
      'Ya hay una ejecución en cola o en curso que incluye esas tiendas. Execution 125 already includes tienda_08.',
    )
  })

  test('403 and bodies that are not problems', () => {
    expect(describeProblem(undefined, 403).message).toBe('Se requiere rol super_admin.')
    expect(describeProblem('oops', 502).message).toBe('Error 502 de la API de historial.')
  })
})
