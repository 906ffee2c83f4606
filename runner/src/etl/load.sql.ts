// The load: bulk and set-based, streamed through a staging table, merged in one transaction per
// store (a store's rows land whole or not at all).
//
// A store's window can be far larger than what the runner should hold in memory, so its lines are
// appended to ventas_staging / inventario_staging (migration 042, UNLOGGED) a chunk at a time
// while the source is still being read; only the final merge touches ventas / inventario, in one
// short transaction that never waits on the store's network. Staging is a shared table keyed by
// execution + store rather than a TEMP table: a temp table would pin one pooled connection per
// store for the whole extraction, and a pool full of pinned connections waiting on tracker writes
// would deadlock.
//
// Each statement carries a parameter per column, each an array, expanded by unnest() — so the
// 65535 bind-parameter cap never applies and the rows per statement are only a memory choice
// (LOAD_CHUNK_ROWS). postgres.js 3.4.9 leaves a COPY IN hanging forever when the server rejects a
// row, which would turn every load error into a stuck run: hence unnest, not COPY.
//
// Counts are exact because the database does the counting: `INSERT … ON CONFLICT DO NOTHING`
// reports the rows it inserted; every other staged line was already there or repeated within the
// window (DO NOTHING also skips the second copy of a key inside the merge), and is a duplicate.
import type { Sql } from 'postgres'
import type { Db } from '../db.ts'
import type { StockLine } from './inventario.schema.ts'
import type { VentaLine } from './ventas.schema.ts'

export type LoadOptions = {
  /** Rows per statement: the most a store holds in memory between pages, and the merge's step. */
  chunkRows: number
  /** statement_timeout for the load's statements (0 = none): a hung write fails as pg_timeout. */
  statementTimeoutMs: number
  /** Times a transaction that lost a deadlock (40P01) is replayed before the error stands. */
  deadlockRetries?: number
}

export type LoadResult = { loaded: number; duplicates: number }

/**
 * One store's load in one attempt: `append` pages as they are parsed, `merge` once the source is
 * exhausted, `discard` always (in a finally) — it removes the staged copy whatever happened.
 */
export class StoreLoad<L extends VentaLine | StockLine> {
  readonly #db: Sql
  readonly #etl: 'ventas' | 'inventario'
  readonly #tiendaId: string
  readonly #executionId: number
  readonly #opts: LoadOptions
  #pending: L[] = []
  #staged = 0
  #touched = false

  constructor(
    db: Sql,
    etl: L extends VentaLine ? 'ventas' : 'inventario',
    tiendaId: string,
    executionId: number,
    opts: LoadOptions,
  ) {
    this.#db = db
    this.#etl = etl
    this.#tiendaId = tiendaId
    this.#executionId = executionId
    this.#opts = opts
  }

  /** Buffers the lines and stages every full chunk (memory stays under one chunk plus a page). */
  async append(lines: L[]): Promise<void> {
    for (const line of lines) this.#pending.push(line)
    while (this.#pending.length >= this.#opts.chunkRows)
      await this.#stage(this.#pending.splice(0, this.#opts.chunkRows))
  }

  /** Staging → target in one transaction, chunk by chunk; a deadlock replays it from staging. */
  async merge(): Promise<LoadResult> {
    if (this.#pending.length > 0) await this.#stage(this.#pending.splice(0))
    if (this.#staged === 0) return { loaded: 0, duplicates: 0 }
    const loaded = await inTransaction(this.#db, this.#opts, async (tx) => {
      if (this.#etl === 'inventario') return mergeInventario(tx, this.#tiendaId, this.#executionId)
      let inserted = 0
      for (let from = 0; from < this.#staged; from += this.#opts.chunkRows) {
        inserted += await mergeVentas(tx, this.#tiendaId, this.#executionId, from, from + this.#opts.chunkRows)
      }
      return inserted
    })
    return { loaded, duplicates: this.#staged - loaded }
  }

  async discard(): Promise<void> {
    this.#pending = []
    // Also after a failed chunk: its commit may have landed before the connection was lost.
    if (!this.#touched) return
    this.#staged = 0
    this.#touched = false
    await this.#db`delete from ${this.#db(`${this.#etl}_staging`)}
      where tienda_id = ${this.#tiendaId} and execution_id = ${this.#executionId}`
  }

  async #stage(lines: L[]): Promise<void> {
    // The first chunk of an attempt replaces whatever this store has staged for the execution: an
    // attempt whose runner was killed mid-extraction (kill -9: no `discard`) leaves its chunks, and the
    // runner that takes the part over stages the same keys (seen: 23505 on ventas_staging_pkey).
    const fresh = !this.#touched
    this.#touched = true
    const first = this.#staged + 1
    // Autocommitted on its own: staging is scratch, and no transaction stays open across pages.
    await inTransaction(this.#db, this.#opts, async (tx) => {
      if (fresh) {
        await tx`delete from ${tx(`${this.#etl}_staging`)}
          where tienda_id = ${this.#tiendaId} and execution_id = ${this.#executionId}`
      }
      return this.#etl === 'ventas'
        ? stageVentas(tx, this.#tiendaId, this.#executionId, first, lines as VentaLine[])
        : stageInventario(tx, this.#tiendaId, this.#executionId, first, lines as StockLine[])
    })
    this.#staged += lines.length
  }
}

async function stageVentas(tx: Db, tiendaId: string, executionId: number, first: number, rows: VentaLine[]) {
  const text = (f: (r: VentaLine) => string | null) => rows.map(f)
  const raw = (f: (r: VentaLine) => number | string) => rawArray(rows.map(f))
  await tx`
    insert into ventas_staging (tienda_id, execution_id, n, numero_factura, linea, fecha, codigo_producto,
      descripcion, cantidad, precio_unitario, total)
    select ${tiendaId}, ${executionId}::int, ${first}::int - 1 + u.ord::int, u.f, u.l, u.d, u.c, u.x, u.q, u.p, u.t
    from unnest(${text((r) => r.numero_factura)}::text[], ${raw((r) => r.linea)}::int[],
      ${raw((r) => r.fecha.toISOString())}::timestamptz[], ${text((r) => r.codigo_producto)}::text[],
      ${text((r) => r.descripcion)}::text[], ${raw((r) => r.cantidad)}::numeric[],
      ${raw((r) => r.precio_unitario)}::numeric[], ${raw((r) => r.total)}::numeric[])
      with ordinality as u(f, l, d, c, x, q, p, t, ord)`
}

async function stageInventario(tx: Db, tiendaId: string, executionId: number, first: number, rows: StockLine[]) {
  const col = <V>(f: (r: StockLine) => V) => rows.map(f)
  await tx`
    insert into inventario_staging (tienda_id, execution_id, n, codigo_producto, descripcion, existencia, costo)
    select ${tiendaId}, ${executionId}::int, ${first}::int - 1 + u.ord::int, u.c, u.x, u.e, u.k
    from unnest(${col((r) => r.codigo_producto)}::text[], ${col((r) => r.descripcion)}::text[],
      ${rawArray(col((r) => r.existencia))}::numeric[], ${rawArray(col((r) => r.costo ?? 'NULL'))}::numeric[])
      with ordinality as u(c, x, e, k, ord)`
}

/** Staged rows n ∈ (from, to], in source order (the first copy of a repeated line wins). */
async function mergeVentas(tx: Db, tiendaId: string, executionId: number, from: number, to: number) {
  const result = await tx`
    insert into ventas (tienda_id, numero_factura, linea, fecha, codigo_producto, descripcion, cantidad,
      precio_unitario, total, execution_id)
    select tienda_id, numero_factura, linea, fecha, codigo_producto, descripcion, cantidad, precio_unitario,
      total, execution_id
    from ventas_staging
    where tienda_id = ${tiendaId} and execution_id = ${executionId} and n > ${from} and n <= ${to}
    order by n
    on conflict (tienda_id, numero_factura, linea) do nothing`
  return result.count
}

/**
 * Upserts current stock in one statement (a store's catalogue, not a window). ON CONFLICT DO UPDATE
 * cannot touch one row twice in a statement: the last copy of a code wins. loaded = rows inserted
 * or changed; an identical row, or an earlier copy of a code, is a duplicate.
 */
async function mergeInventario(tx: Db, tiendaId: string, executionId: number) {
  const result = await tx`
    insert into inventario (tienda_id, codigo_producto, descripcion, existencia, costo, execution_id, actualizado_en)
    select * from (
      select distinct on (codigo_producto) tienda_id, codigo_producto, descripcion, existencia, costo,
        execution_id, now()
      from inventario_staging where tienda_id = ${tiendaId} and execution_id = ${executionId}
      order by codigo_producto, n desc) as last
    on conflict (tienda_id, codigo_producto) do update set descripcion = excluded.descripcion,
      existencia = excluded.existencia, costo = excluded.costo, execution_id = excluded.execution_id,
      actualizado_en = excluded.actualizado_en
    where (inventario.descripcion, inventario.existencia, inventario.costo)
      is distinct from (excluded.descripcion, excluded.existencia, excluded.costo)`
  return result.count
}

/**
 * An array literal built by joining: only for finite numbers and ISO timestamps, whose text has no
 * character an array literal must quote (the schemas reject NaN/Infinity). ~10 % faster on 500k
 * lines than per-element quoting; strings still go through postgres.js's own array encoding.
 */
const rawArray = (values: (number | string)[]) => `{${values.join(',')}}`

/**
 * A transaction with the load's statement_timeout. A deadlock victim's transaction is rolled back
 * whole, so replaying it is safe; a short random pause lets the other side finish first.
 */
async function inTransaction<R>(db: Sql, opts: LoadOptions, work: (tx: Db) => Promise<R>): Promise<R> {
  const retries = opts.deadlockRetries ?? 3
  for (let attempt = 0; ; attempt++) {
    try {
      return (await db.begin(async (tx) => {
        await tx`select set_config('statement_timeout', ${String(opts.statementTimeoutMs)}, true)`
        return work(tx)
      })) as R
    } catch (error) {
      if ((error as { code?: unknown }).code !== '40P01' || attempt >= retries) throw error
      await new Promise((r) => setTimeout(r, 20 * 2 ** attempt + Math.random() * 40))
    }
  }
}

/**
 * Staging rows (migration 042) left by a runner that died between staging and merging: their
 * execution is no longer running, so nobody will merge them. Staging holds only in-flight rows,
 * so this scan stays small.
 */
export function deleteOrphanStaging(db: Db) {
  return db`
    with orphan as (
      select distinct execution_id from ventas_staging
      union
      select distinct execution_id from inventario_staging
    ), done as (
      select o.execution_id from orphan o
      where not exists (select 1 from etl_executions e where e.id = o.execution_id and e.status = 'running')
    ), v as (
      delete from ventas_staging s using done where s.execution_id = done.execution_id
    )
    delete from inventario_staging s using done where s.execution_id = done.execution_id`
}
