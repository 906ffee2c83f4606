// Benchmark (i): the ventas load path against its two baselines, same lines, same indexed table
// (DESIGN §10: ≥ 0.5× plain COPY, ≥ 30× row-by-row INSERT).
import type { Sql } from 'postgres'
import { type SaleLine, salesFor } from '../../test/fakes/sales-data.ts'
import { createThrowawayDb } from './throwaway-db.ts'

export type Measure = { method: string; lines: number; seconds: number; rows_per_s: number; note?: string }

export type LoadFn = (
  sql: Sql,
  tiendaId: string,
  lines: SaleLine[],
  executionId: number,
) => Promise<{ loaded: number; duplicates: number }>

const STORES = Array.from({ length: 19 }, (_, i) => `tienda_${String(i + 1).padStart(2, '0')}`)
const COLUMNS =
  'tienda_id, numero_factura, linea, fecha, codigo_producto, descripcion, cantidad, precio_unitario, total'

/** `total` deterministic simulator lines spread over the 19 stores, grouped by store. */
export function benchLines(total: number): Map<string, SaleLine[]> {
  const perStore = Math.ceil(total / STORES.length)
  const byStore = new Map<string, SaleLine[]>()
  let left = total
  const desde = new Date('2026-01-01T00:00:00Z')
  for (const t of STORES) {
    // ~2 lines per invoice, 60 invoices an hour: widen the window until the store has its share.
    let hours = Math.ceil(perStore / 110)
    let lines = salesFor(t, desde, new Date(desde.getTime() + hours * 3_600_000))
    while (lines.length < Math.min(perStore, left)) {
      hours = Math.ceil(hours * 1.2)
      lines = salesFor(t, desde, new Date(desde.getTime() + hours * 3_600_000))
    }
    const take = Math.min(perStore, left)
    byStore.set(t, lines.slice(0, take))
    left -= take
  }
  return byStore
}

const rate = (method: string, lines: number, ms: number, note?: string): Measure => ({
  method,
  lines,
  seconds: Math.round(ms) / 1000,
  rows_per_s: Math.round(lines / (ms / 1000)),
  ...(note ? { note } : {}),
})

async function fresh(sql: Sql) {
  await sql`truncate ventas`
  // Flush the previous step's dirty pages so no method pays for another's writes (superuser only).
  await sql`checkpoint`.catch(() => {})
}

async function copyAll(sql: Sql, byStore: Map<string, SaleLine[]>) {
  const stream = await sql.unsafe(`copy ventas (${COLUMNS}) from stdin`).writable()
  // Awaiting each 1 MB chunk's callback is the backpressure.
  const write = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(chunk, (e) => (e ? reject(e) : resolve()))
    })
  for (const [t, lines] of byStore) {
    let chunk = ''
    for (const l of lines) {
      chunk += `${t}\t${l.numero_factura}\t${l.linea}\t${l.fecha.toISOString()}\t${l.codigo_producto}\t${l.descripcion}\t${l.cantidad}\t${l.precio_unitario}\t${l.total}\n`
      if (chunk.length > 1 << 20) {
        await write(chunk)
        chunk = ''
      }
    }
    if (chunk) await write(chunk)
  }
  await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())))
}

async function rowByRow(sql: Sql, tiendaId: string, lines: SaleLine[]) {
  await sql.begin(async (tx) => {
    for (const l of lines) {
      await tx`insert into ventas (tienda_id, numero_factura, linea, fecha, codigo_producto, descripcion, cantidad,
          precio_unitario, total)
        values (${tiendaId}, ${l.numero_factura}, ${l.linea}, ${l.fecha}, ${l.codigo_producto}, ${l.descripcion},
          ${l.cantidad}, ${l.precio_unitario}, ${l.total})`
    }
  })
}

export async function benchLoad(
  load: LoadFn | null,
  opts: { lines: number; rowByRowLines: number },
): Promise<{ measures: Measure[]; duplicatesCheck: string }> {
  const byStore = benchLines(opts.lines)
  const total = [...byStore.values()].reduce((a, l) => a + l.length, 0)
  const db = await createThrowawayDb('load')
  const { sql } = db
  try {
    for (const t of STORES) {
      await sql`insert into tiendas (id, nombre, source_system, host, port) values (${t}, ${t}, 'klk', '127.0.0.1', 1)`
    }
    const [exec] = await sql<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, triggered_by)
      values ('ventas', 'manual', 'running', now(), 'cli') returning id`
    const measures: Measure[] = []

    await fresh(sql)
    let t0 = performance.now()
    await copyAll(sql, byStore)
    measures.push(rate('COPY FROM STDIN (baseline)', total, performance.now() - t0))

    let duplicatesCheck = 'not run (no load function)'
    if (load) {
      await fresh(sql)
      t0 = performance.now()
      let loaded = 0
      for (const [t, lines] of byStore) loaded += (await load(sql, t, lines, exec!.id)).loaded
      measures.push(rate('runner load (load.sql.ts)', total, performance.now() - t0, `loaded ${loaded}`))
      // Exactness: re-loading a slice already present must count every line as a duplicate.
      const [t, lines] = [...byStore][0]!
      const slice = lines.slice(0, 5000)
      const again = await load(sql, t, slice, exec!.id)
      const [{ count }] = (await sql`select count(*)::int as count from ventas`) as unknown as [{ count: number }]
      duplicatesCheck =
        `first pass loaded ${loaded}/${total}; re-load of ${slice.length} → loaded ${again.loaded}, duplicates ${again.duplicates}; ` +
        `table has ${count} rows` +
        (loaded === total && again.loaded === 0 && again.duplicates === slice.length && count === total
          ? ' — exact'
          : ' — MISMATCH')
    }

    await fresh(sql)
    const sample = byStore.get(STORES[0]!)!.slice(0, opts.rowByRowLines)
    t0 = performance.now()
    await rowByRow(sql, STORES[0]!, sample)
    measures.push(rate('row-by-row INSERT (baseline)', sample.length, performance.now() - t0, 'one transaction'))
    return { measures, duplicatesCheck }
  } finally {
    await db.drop()
  }
}
