// The transform's rules, checked through the category a bad row ends up in.
import { describe, expect, it } from 'vitest'
import { classifyError } from '../tracker/classify-error.ts'
import { parseInventario } from './inventario.schema.ts'
import { parseVentas } from './ventas.schema.ts'

const window = { desde: new Date('2026-11-02T10:00:00Z'), hasta: new Date('2026-11-02T10:30:00Z') }
const sale = {
  numero_factura: 'F1',
  linea: 1,
  fecha: '2026-11-02T10:15:00.000Z',
  codigo_producto: 'P0001',
  descripcion: 'HARINA PAN 1KG',
  cantidad: 2,
  precio_unitario: 12.5,
  total: 25,
}

const categoryOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return classifyError(error, 'transform', 'klk').category
  }
  return 'ok'
}

describe('ventas schema', () => {
  it('accepts a KLK line and a Stellar row, both to the same shape', () => {
    const [klk] = parseVentas([sale], 'klk', window)
    const [stellar] = parseVentas([{ ...sale, fecha: new Date(sale.fecha), descripcion: null }], 'stellar', window)
    expect(klk).toEqual({ ...sale, fecha: new Date(sale.fecha) })
    expect(stellar).toEqual({ ...sale, fecha: new Date(sale.fecha), descripcion: null })
  })

  it('keeps both window bounds and rejects a line outside as data_validation', () => {
    const at = (fecha: string) => categoryOf(() => parseVentas([{ ...sale, fecha }], 'klk', window))
    expect(at('2026-11-02T10:00:00Z')).toBe('ok')
    expect(at('2026-11-02T10:30:00Z')).toBe('ok')
    expect(at('2026-11-02T10:30:00.001Z')).toBe('data_validation')
    expect(at('2026-11-02T06:29:59-04:00')).toBe('ok')
  })

  it('maps each broken rule to its category', () => {
    const one = (patch: Record<string, unknown>) =>
      categoryOf(() => parseVentas([{ ...sale, ...patch }], 'klk', window))
    expect(one({ numero_factura: undefined })).toBe('missing_fields')
    expect(one({ cantidad: null })).toBe('missing_fields')
    expect(one({ cantidad: '2' })).toBe('data_format')
    expect(one({ fecha: '02/11/2026' })).toBe('data_format')
    expect(one({ precio_unitario: -1 })).toBe('data_validation')
    expect(one({ cantidad: 1e12 })).toBe('data_validation')
    expect(one({ linea: 1.5 })).toBe('data_format')
  })
})

describe('inventario schema', () => {
  const item = { codigo_producto: 'P0001', descripcion: 'ARROZ', existencia: -3, costo: 1.25 }

  it('allows negative stock but not a negative cost', () => {
    expect(parseInventario([item], 'klk')).toEqual([item])
    expect(categoryOf(() => parseInventario([{ ...item, costo: -1 }], 'klk'))).toBe('data_validation')
    expect(categoryOf(() => parseInventario([{ ...item, codigo_producto: null }], 'klk'))).toBe('missing_fields')
    expect(categoryOf(() => parseInventario([{ ...item, existencia: 'diez' }], 'klk'))).toBe('data_format')
  })
})
