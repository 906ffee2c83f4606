import { describe, expect, test } from 'vitest'
import { describeProblem, fieldLabel } from './problem.ts'

const problem = (status: number, extra: Record<string, unknown> = {}) => ({
  type: 'about:blank',
  title: 'English title',
  status,
  detail: 'An English sentence the panel must never show.',
  ...extra,
})

describe('describeProblem', () => {
  test('a window upside down names both fields by their Spanish labels, no English', () => {
    const view = describeProblem(
      problem(422, {
        'invalid-params': [{ name: 'fecha_inicio', reason: 'must not be later than fecha_fin', code: 'after_end' }],
      }),
      422,
    )
    expect(view.message).toBe('La solicitud no se puede atender. Fecha inicio: no puede ser posterior a Fecha fin.')
    expect(view.fields).toEqual([
      { name: 'fecha_inicio', label: 'Fecha inicio', message: 'Fecha inicio: no puede ser posterior a Fecha fin.' },
    ])
    expect(view.message).not.toMatch(/must|English/)
  })

  test('history filters, window length and stores sent by index, named by nombre', () => {
    const desde = describeProblem(
      problem(422, { 'invalid-params': [{ name: 'fecha_desde', reason: 'x', code: 'after_end' }] }),
      422,
    )
    expect(desde.message).toContain('Desde: no puede ser posterior a Hasta.')
    const window = describeProblem(
      problem(422, { 'invalid-params': [{ name: 'fecha_fin', reason: 'x', code: 'window_too_long' }] }),
      422,
    )
    expect(window.message).toContain('Fecha fin: el período no puede superar 31 días desde Fecha inicio.')
    const stores = describeProblem(
      problem(422, {
        'invalid-params': [
          { name: 'tienda_ids[1]', reason: 'x', code: 'inactive_store' },
          { name: 'tienda_ids[2]', reason: 'x', code: 'no_inventario_feed' },
        ],
      }),
      422,
      {
        valores: { tienda_ids: ['tienda_01', 'tienda_08', 'tienda_17'] },
        nombres: { tienda_08: 'VALLE FRIO', tienda_17: 'CUMANA' },
      },
    )
    expect(stores.message).toBe(
      'La solicitud no se puede atender. Tiendas: la tienda VALLE FRIO (tienda_08) está inactiva. ' +
        'Tiendas: CUMANA (tienda_17) usa Stellar, que no tiene ETL de inventario.',
    )
  })

  test('a run overlap says which execution holds which store, from the extension members', () => {
    const view = describeProblem(
      problem(409, {
        type: 'tag:fluxion.etl,2026:run-overlap',
        execution_id: 6,
        execution_status: 'queued',
        etl_name: 'ventas',
        tienda_id: 'tienda_01',
      }),
      409,
      { nombres: { tienda_01: 'PERIFERICO' } },
    )
    expect(view.message).toBe(
      'Ya hay una ejecución en cola o en curso que incluye esas tiendas: la #6 de Ventas (en cola) ya incluye ' +
        'PERIFERICO. Espere a que termine o elija otras tiendas.',
    )
  })

  test('problem types of the detail and the recovery', () => {
    const notFound = problem(404, { type: 'tag:fluxion.etl,2026:execution-not-found' })
    expect(describeProblem(notFound, 404, { ejecucion: 99999 }).message).toBe('La ejecución #99999 no existe.')
    expect(
      describeProblem(problem(409, { type: 'tag:fluxion.etl,2026:gap-already-recovered' }), 409, { ejecucion: 4 })
        .message,
    ).toBe('Los datos de la ejecución #4 ya se recuperaron.')
  })

  test('the store calendar words its own fields, the 366-day limit and a closure already gone', () => {
    const cierre = { cierre: {}, valores: { tienda_id: 'tienda_99' }, nombres: {} }
    const alReves = describeProblem(
      problem(422, { 'invalid-params': [{ name: 'fecha_desde', reason: 'x', code: 'after_end' }] }),
      422,
      cierre,
    )
    expect(alReves.message).toBe(
      'La solicitud no se puede atender. La fecha hasta no puede ser anterior a la fecha desde.',
    )
    expect(alReves.fields).toEqual([
      {
        name: 'fecha_desde',
        label: 'Fecha desde',
        message: 'La fecha hasta no puede ser anterior a la fecha desde.',
      },
    ])
    const largo = describeProblem(
      problem(422, { 'invalid-params': [{ name: 'fecha_hasta', reason: 'x', code: 'window_too_long' }] }),
      422,
      cierre,
    )
    expect(largo.message).toContain('Un cierre abarca como máximo 366 días.')
    expect(largo.message).not.toContain('31')
    const campos = describeProblem(
      problem(422, {
        'invalid-params': [
          { name: 'tienda_id', reason: 'x', code: 'unknown_store' },
          { name: 'fecha_desde', reason: 'x', code: 'format' },
          { name: 'nota', reason: 'x', code: 'size' },
        ],
      }),
      422,
      cierre,
    )
    expect(campos.message).toBe(
      'La solicitud no se puede atender. Tienda: la tienda tienda_99 no existe. ' +
        'Fecha desde: no es una fecha válida. Nota: admite como máximo 500 caracteres.',
    )
    expect(describeProblem(problem(404), 404, { cierre: { id: 7 } }).message).toBe(
      'El cierre #7 ya no existe: quizás alguien más lo eliminó.',
    )
    expect(describeProblem(problem(404), 404, { cierre: {} }).message).toBe('No existe lo que se buscaba.')
    // Outside the calendar the history filters keep their wording.
    expect(
      describeProblem(
        problem(422, { 'invalid-params': [{ name: 'fecha_desde', reason: 'x', code: 'after_end' }] }),
        422,
      ).message,
    ).toContain('Desde: no puede ser posterior a Hasta.')
  })

  test('labels keep array items under their field', () => {
    expect(fieldLabel('tienda_ids[1]')).toBe('Tiendas')
    expect(fieldLabel('unknown_field')).toBe('unknown_field')
  })

  test('statuses without a body, and bodies that are not problems, still read in Spanish', () => {
    expect(describeProblem(undefined, 403).message).toBe('Se requiere rol super_admin.')
    expect(describeProblem('oops', 500).message).toContain('error interno')
    expect(describeProblem(problem(504), 504).message).toContain('error interno')
    expect(describeProblem(problem(409), 409).message).toBe('La solicitud choca con el estado actual.')
  })
})
