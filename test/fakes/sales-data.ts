// Deterministic store data shared by the KLK simulator and the SQL Server stand-in.
// A sale is a pure function of (store, time slot), so two overlapping windows return the
// very same lines for their common slots: re-extracting a window yields exact duplicates.

export type SaleLine = {
  numero_factura: string
  linea: number
  fecha: Date
  codigo_producto: string
  descripcion: string
  cantidad: number
  precio_unitario: number
  total: number
}

export type StockItem = {
  codigo_producto: string
  descripcion: string
  existencia: number
  costo: number
}

const PRODUCTS = [
  'HARINA PAN 1KG',
  'ARROZ MARY 1KG',
  'ACEITE VATEL 1L',
  'AZUCAR MONTALBAN 1KG',
  'CAFE FAMA DE AMERICA 500G',
  'PASTA PRIMOR 1KG',
  'LECHE LA PASTORA 1L',
  'MARGARINA MAVESA 500G',
  'CARAOTAS NEGRAS 1KG',
  'SARDINAS MARGARITA 170G',
  'JABON LAS LLAVES',
  'PAPEL HIGIENICO ROSAL 4U',
]

// FNV-1a over the string, then xorshift: cheap, stable across runs and platforms.
export function hash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h << 13
  h ^= h >>> 17
  h ^= h << 5
  return h >>> 0
}

/** Invoices are issued on fixed slots of 3600 / invoicesPerHour seconds; each has 1–3 lines. */
export function salesFor(tiendaId: string, desde: Date, hasta: Date, invoicesPerHour = 60): SaleLine[] {
  const slotMs = Math.floor(3_600_000 / invoicesPerHour)
  const lines: SaleLine[] = []
  for (let slot = Math.ceil(desde.getTime() / slotMs); slot * slotMs <= hasta.getTime(); slot++) {
    const seed = hash(`${tiendaId}:${slot}`)
    const count = 1 + (seed % 3)
    for (let linea = 1; linea <= count; linea++) {
      const h = hash(`${tiendaId}:${slot}:${linea}`)
      const product = h % PRODUCTS.length
      const cantidad = 1 + (h % 5)
      const precio = (100 + (h % 4900)) / 100
      lines.push({
        numero_factura: `F${slot}`,
        linea,
        fecha: new Date(slot * slotMs),
        codigo_producto: `P${String(product + 1).padStart(4, '0')}`,
        descripcion: PRODUCTS[product]!,
        cantidad,
        precio_unitario: precio,
        total: Math.round(cantidad * precio * 100) / 100,
      })
    }
  }
  return lines
}

export function inventoryFor(tiendaId: string): StockItem[] {
  return PRODUCTS.map((descripcion, i) => {
    const h = hash(`${tiendaId}:stock:${i}`)
    return {
      codigo_producto: `P${String(i + 1).padStart(4, '0')}`,
      descripcion,
      existencia: h % 500,
      costo: (50 + (h % 3000)) / 100,
    }
  })
}
