// The load: bulk and set-based, one transaction per store (a store's rows land whole or not at all).
//
// Each chunk is ONE statement: a parameter per column, each an array, expanded by unnest() — so the
// 65535 bind-parameter cap never applies and the row count per statement is only a memory choice
// (LOAD_CHUNK_ROWS). Chosen after measuring on 500k lines (2 cores, same indexed table): unnest
// ≈ 0.55–0.65× a plain COPY; COPY into a temp staging table + INSERT … SELECT ≈ the same within
// noise, and postgres.js 3.4.9 leaves a COPY IN hanging forever when the server rejects a row
// (constraint, trigger error), which would turn every load error into a stuck run.
//
// Counts are exact because the database does the counting: `INSERT … ON CONFLICT DO NOTHING`
// reports the rows it inserted; every other line of the batch was already there or repeated
// within the batch (DO NOTHING also skips the second copy of a key inside one statement), and is
// a duplicate.
import type { Sql } from 'postgres'
import type { Db } from '../db.ts'
import type { StockLine } from './inventario.schema.ts'
import type { VentaLine } from './ventas.schema.ts'

export type LoadOptions = {
  /** Rows per statement inside the store's transaction. */
  chunkRows: number
  /** statement_timeout for the load's statements (0 = none): a hung write fails as pg_timeout. */
  statementTimeoutMs: number
  /** Times a transaction that lost a deadlock (40P01) is replayed before the error stands. */
  deadlockRetries?: number
}

export type LoadResult = { loaded: number; duplicates: number }

export async function loadVentas(
  db: Sql,
  tiendaId: string,
  executionId: number,
  lines: VentaLine[],
  opts: LoadOptions,
): Promise<LoadResult> {
  if (lines.length === 0) return { loaded: 0, duplicates: 0 }
  return inStoreTransaction(db, opts, async (tx) => {
    let loaded = 0
    for (let i = 0; i < lines.length; i += opts.chunkRows) {
      loaded += await insertVentas(tx, tiendaId, executionId, lines.slice(i, i + opts.chunkRows))
    }
    return { loaded, duplicates: lines.length - loaded }
  })
}

/** Upserts current stock. loaded = rows inserted or changed; an identical row is a duplicate. */
export async function loadInventario(
  db: Sql,
  tiendaId: string,
  executionId: number,
  items: StockLine[],
  opts: LoadOptions,
): Promise<LoadResult> {
  if (items.length === 0) return { loaded: 0, duplicates: 0 }
  // ON CONFLICT DO UPDATE cannot touch one row twice in a statement: keep the last copy of a code.
  const unique = [...new Map(items.map((i) => [i.codigo_producto, i])).values()]
  return inStoreTransaction(db, opts, async (tx) => {
    let loaded = 0
    for (let i = 0; i < unique.length; i += opts.chunkRows) {
      loaded += await upsertInventario(tx, tiendaId, executionId, unique.slice(i, i + opts.chunkRows))
    }
    return { loaded, duplicates: items.length - loaded }
  })
}

export async function insertVentas(tx: Db, tiendaId: string, executionId: number, rows: VentaLine[]): Promise<number> {
  const text = (f: (r: VentaLine) => string | null) => rows.map(f)
  const raw = (f: (r: VentaLine) => number | string) => rawArray(rows.map(f))
  const result = await tx`
    insert into ventas (tienda_id, numero_factura, linea, fecha, codigo_producto, descripcion, cantidad,
      precio_unitario, total, execution_id)
    select ${tiendaId}, u.*, ${executionId}::int
    from unnest(${text((r) => r.numero_factura)}::text[], ${raw((r) => r.linea)}::int[],
      ${raw((r) => r.fecha.toISOString())}::timestamptz[], ${text((r) => r.codigo_producto)}::text[],
      ${text((r) => r.descripcion)}::text[], ${raw((r) => r.cantidad)}::numeric[],
      ${raw((r) => r.precio_unitario)}::numeric[], ${raw((r) => r.total)}::numeric[]) as u
    on conflict (tienda_id, numero_factura, linea) do nothing`
  return result.count
}

/**
 * An array literal built by joining: only for finite numbers and ISO timestamps, whose text has no
 * character an array literal must quote (the schemas reject NaN/Infinity). ~10 % faster on 500k
 * lines than per-element quoting; strings still go through postgres.js's own array encoding.
 */
const rawArray = (values: (number | string)[]) => `{${values.join(',')}}`

export async function upsertInventario(
  tx: Db,
  tiendaId: string,
  executionId: number,
  rows: StockLine[],
): Promise<number> {
  const col = <T>(f: (r: StockLine) => T) => rows.map(f)
  const result = await tx`
    insert into inventario (tienda_id, codigo_producto, descripcion, existencia, costo, execution_id, actualizado_en)
    select ${tiendaId}, u.*, ${executionId}::int, now()
    from unnest(${col((r) => r.codigo_producto)}::text[], ${col((r) => r.descripcion)}::text[],
      ${rawArray(col((r) => r.existencia))}::numeric[], ${rawArray(col((r) => r.costo ?? 'NULL'))}::numeric[]) as u
    on conflict (tienda_id, codigo_producto) do update set descripcion = excluded.descripcion,
      existencia = excluded.existencia, costo = excluded.costo, execution_id = excluded.execution_id,
      actualizado_en = excluded.actualizado_en
    where (inventario.descripcion, inventario.existencia, inventario.costo)
      is distinct from (excluded.descripcion, excluded.existencia, excluded.costo)`
  return result.count
}

/**
 * One transaction per store. A deadlock victim's transaction is rolled back whole, so replaying it
 * is safe; a short random pause lets the other side finish first.
 */
async function inStoreTransaction<T>(db: Sql, opts: LoadOptions, work: (tx: Db) => Promise<T>): Promise<T> {
  const retries = opts.deadlockRetries ?? 3
  for (let attempt = 0; ; attempt++) {
    try {
      return (await db.begin(async (tx) => {
        await tx`select set_config('statement_timeout', ${String(opts.statementTimeoutMs)}, true)`
        return work(tx)
      })) as T
    } catch (error) {
      if ((error as { code?: unknown }).code !== '40P01' || attempt >= retries) throw error
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt + Math.random() * 40))
    }
  }
}
