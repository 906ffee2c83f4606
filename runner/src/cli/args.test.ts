import { describe, expect, test } from 'vitest'
import { parseCliArgs, UsageError } from './args.ts'

const TZ = 'America/Caracas'
const parse = (...argv: string[]) => parseCliArgs(argv, TZ)
const rejects = (argv: string[], named: RegExp) => {
  expect(() => parseCliArgs(argv, TZ)).toThrow(UsageError)
  expect(() => parseCliArgs(argv, TZ)).toThrow(named)
}

describe('npm run etl arguments', () => {
  test('the full form', () => {
    expect(
      parse('ventas', '--tiendas', 'tienda_01,tienda_08', '--desde', '2026-01-25', '--hasta', '2026-01-25'),
    ).toEqual({
      etlName: 'ventas',
      tiendaIds: ['tienda_01', 'tienda_08'],
      // A plain date is the whole store day in TZ_TIENDAS (UTC−4).
      desde: new Date('2026-01-25T04:00:00.000Z'),
      hasta: new Date('2026-01-26T03:59:59.999Z'),
      recoveryMode: false,
      help: false,
    })
  })

  test('dates: offsets are honoured, zoneless times are store time, --opt=value works', () => {
    const a = parse('inventario', '--desde=2026-01-25T08:00:00-04:00', '--hasta', '2026-01-25 10:30', '--recovery-mode')
    expect(a.desde).toEqual(new Date('2026-01-25T12:00:00Z'))
    expect(a.hasta).toEqual(new Date('2026-01-25T14:30:00Z'))
    expect(a.recoveryMode).toBe(true)
    expect(parse('ventas', '--desde', '2026-01-25T08:00:00.5Z').desde).toEqual(new Date('2026-01-25T08:00:00.500Z'))
  })

  test('each bad argument is rejected with its name', () => {
    rejects([], /missing the ETL name/)
    rejects(['compras'], /unknown ETL 'compras'/)
    rejects(['ventas', 'inventario'], /unexpected argument 'inventario'/)
    rejects(['ventas', '--tienda', 'tienda_01'], /--tienda/)
    rejects(['ventas', '--tiendas'], /--tiendas/)
    rejects(['ventas', '--tiendas', 'tienda_01,Tienda 2'], /--tiendas: 'Tienda 2'/)
    rejects(['ventas', '--desde', 'ayer'], /--desde: 'ayer' is not a date/)
    rejects(['ventas', '--hasta', '2026-02-30'], /--hasta: '2026-02-30'/)
    rejects(['ventas', '--hasta', '2026-01-25T25:00'], /--hasta/)
    rejects(
      ['ventas', '--desde', '2026-01-26', '--hasta', '2026-01-25'],
      /--desde 2026-01-26 is after --hasta 2026-01-25/,
    )
    rejects(['ventas', '--recovery-mode=yes'], /--recovery-mode/)
  })

  test('--help', () => {
    expect(parse('--help').help).toBe(true)
  })
})
