// Sale lines as each source delivers them, validated before anything is loaded. One schema per
// source; both produce the same VentaLine (inferred, never written twice). Which zod issue a bad
// row raises decides its category (tracker/classify-error.ts): an absent/null required field →
// missing_fields, a wrong type → data_format, a value out of range or outside the window →
// data_validation.
import { z } from 'zod'
import type { VentasWindow } from '../sources/source.ts'
import type { SourceSystem } from '../tracker/classify-error.ts'

// Limits of the `ventas` columns (migration 035): a value they cannot hold is out of range here,
// rather than a numeric-overflow error half-way through the load.
const code = z.string().min(1).max(30)
const descripcion = z
  .string()
  .max(120)
  .nullish()
  .transform((v) => v ?? null)
const line = {
  numero_factura: code,
  linea: z.number().int().min(1).max(2_147_483_647),
  codigo_producto: code,
  descripcion,
  cantidad: z.number().min(0).max(999_999_999.999),
  precio_unitario: z.number().min(0).max(9_999_999_999.99),
  total: z.number().min(0).max(999_999_999_999.99),
}

/** KLK JSON: fecha is an RFC 3339 string. */
export const klkVentaSchema = z.object({
  ...line,
  fecha: z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
})

/** Stellar rows from mssql: fecha arrives as a Date (DATETIME2), numbers as numbers. */
export const stellarVentaSchema = z.object({ ...line, fecha: z.date() })

export type VentaLine = z.output<typeof klkVentaSchema>

const schemas = { klk: klkVentaSchema, stellar: stellarVentaSchema } satisfies Record<
  SourceSystem,
  z.ZodType<VentaLine, unknown>
>

/** The rows of one store, validated; throws the ZodError (every issue, with row index and field). */
export function parseVentas(rows: unknown[], system: SourceSystem, window: VentasWindow): VentaLine[] {
  const desde = window.desde.getTime()
  const hasta = window.hasta.getTime()
  // zod still runs refinements after a field's own (non-fatal) issue, when fecha may not be a Date.
  const inWindow = (schemas[system] as z.ZodType<VentaLine, unknown>).refine(
    (v) => !(v.fecha instanceof Date) || (v.fecha.getTime() >= desde && v.fecha.getTime() <= hasta),
    {
      message: `fecha outside the requested window ${window.desde.toISOString()} – ${window.hasta.toISOString()}`,
      path: ['fecha'],
    },
  )
  return z.array(inWindow).parse(rows, { reportInput: true })
}
