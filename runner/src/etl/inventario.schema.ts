// Stock items as each source delivers them (only KLK has an inventory feed today), validated
// before the upsert. Same issue → category rules as ventas.schema.ts.
import { z } from 'zod'
import type { SourceSystem } from '../tracker/classify-error.ts'

// Limits of the `inventario` columns (migration 035). Stock may be negative (POS systems sell
// ahead of receiving goods); cost may not.
export const klkStockSchema = z.object({
  codigo_producto: z.string().min(1).max(30),
  descripcion: z
    .string()
    .max(120)
    .nullish()
    .transform((v) => v ?? null),
  existencia: z.number().min(-999_999_999.999).max(999_999_999.999),
  costo: z
    .number()
    .min(0)
    .max(9_999_999_999.99)
    .nullish()
    .transform((v) => v ?? null),
})

export type StockLine = z.output<typeof klkStockSchema>

const schemas: Partial<Record<SourceSystem, z.ZodType<StockLine, unknown>>> = { klk: klkStockSchema }

export function parseInventario(rows: unknown[], system: SourceSystem): StockLine[] {
  const schema = schemas[system]
  if (!schema) throw new Error(`no inventario schema for ${system} stores`)
  return z.array(schema).parse(rows, { reportInput: true })
}
