// Arguments of `npm run etl -- <ventas|inventario> [--tiendas a,b] [--desde ISO] [--hasta ISO]
// [--recovery-mode]`. Every rejection names the argument at fault; the CLI prints it with the usage
// and exits 2 (the shell convention for a usage error, apart from 1 = the run failed).
import { parseArgs } from 'node:util'
import { DateTime } from 'luxon'
import type { EtlName } from '../jobs/boss.ts'

export const USAGE =
  'usage: npm run etl -- <ventas|inventario> [--tiendas tienda_01,tienda_02] [--desde ISO] [--hasta ISO] [--recovery-mode]'

export class UsageError extends Error {}

export type CliArgs = {
  etlName: EtlName
  tiendaIds?: string[]
  desde?: Date
  hasta?: Date
  recoveryMode: boolean
  help: boolean
}

const STORE_ID = /^[a-z0-9_]{1,50}$/
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

export function parseCliArgs(argv: string[], tz: string): CliArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    // node:util already names the option ("Unknown option '--tienda'"); keep its words.
    throw new UsageError((error as Error).message.split('. ')[0] ?? String(error))
  }
  const { values, positionals } = parsed
  if (values.help) return { etlName: 'ventas', recoveryMode: false, help: true }
  const [etl, ...extra] = positionals
  if (etl === undefined) throw new UsageError('missing the ETL name (ventas or inventario)')
  if (etl !== 'ventas' && etl !== 'inventario') {
    throw new UsageError(`unknown ETL '${etl}' (expected ventas or inventario)`)
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`)

  const args: CliArgs = { etlName: etl, recoveryMode: values['recovery-mode'] ?? false, help: false }
  if (values.tiendas !== undefined) {
    const ids = values.tiendas.split(',').map((s) => s.trim())
    const bad = ids.find((id) => !STORE_ID.test(id))
    if (bad !== undefined) throw new UsageError(`--tiendas: '${bad}' is not a store id (like tienda_01)`)
    args.tiendaIds = [...new Set(ids)]
  }
  if (values.desde !== undefined) args.desde = parseInstant('--desde', values.desde, tz, false)
  if (values.hasta !== undefined) args.hasta = parseInstant('--hasta', values.hasta, tz, true)
  if (args.desde && args.hasta && args.desde > args.hasta) {
    throw new UsageError(`--desde ${values.desde} is after --hasta ${values.hasta}`)
  }
  return args
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tiendas: { type: 'string' },
      desde: { type: 'string' },
      hasta: { type: 'string' },
      'recovery-mode': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/**
 * ISO 8601 date or date-time. Without an offset it is wall time at the stores (TZ_TIENDAS), as the
 * API reads the plan's "2026-01-25 00:00:00"; a plain date is that whole day (--hasta: its end).
 */
export function parseInstant(name: string, text: string, tz: string, endOfDay: boolean): Date {
  const m = ISO.exec(text.trim())
  const fail = () =>
    new UsageError(`${name}: '${text}' is not a date (ISO 8601, e.g. 2026-01-25 or 2026-01-25T08:00:00-04:00)`)
  if (!m) throw fail()
  const [, y, mo, d, h, mi, s, ms, offset] = m
  const dateOnly = h === undefined
  const wall = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    dateOnly ? (endOfDay ? 23 : 0) : Number(h),
    dateOnly ? (endOfDay ? 59 : 0) : Number(mi),
    dateOnly ? (endOfDay ? 59 : 0) : Number(s ?? 0),
    dateOnly ? (endOfDay ? 999 : 0) : Number((ms ?? '0').padEnd(3, '0')),
  )
  const check = new Date(wall)
  // Date.UTC rolls 2026-02-30 over to March; a real date reads back the same.
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h ?? 0) > 23) throw fail()
  if (Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) throw fail()
  if (offset === undefined) {
    const c = check
    return DateTime.fromObject(
      {
        year: c.getUTCFullYear(),
        month: c.getUTCMonth() + 1,
        day: c.getUTCDate(),
        hour: c.getUTCHours(),
        minute: c.getUTCMinutes(),
        second: c.getUTCSeconds(),
        millisecond: c.getUTCMilliseconds(),
      },
      { zone: tz },
    ).toJSDate()
  }
  if (/^z$/i.test(offset)) return check
  const sign = offset.startsWith('-') ? -1 : 1
  const digits = offset.slice(1).replace(':', '')
  return new Date(wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000)
}
