// Rows as the runner's tracker writes them, for history-api tests.
import type { Sql } from 'postgres'

export type ExecutionSeed = {
  etl_name?: 'ventas' | 'inventario'
  etl_type?: 'scheduled' | 'manual' | 'recovery'
  status?: 'queued' | 'running' | 'success' | 'partial' | 'failed'
  started_at?: Date | null
  duration_seconds?: number | null
  triggered_by?: string
  error_phase?: string | null
  error_category?: string | null
  records_loaded?: number
  duplicates_skipped?: number
  tienda_ids?: string[]
  fecha_desde?: Date | null
  fecha_hasta?: Date | null
}

export type DetailSeed = {
  tienda_id: string
  tienda_nombre?: string | null
  status?: 'running' | 'success' | 'failed' | 'skipped'
  error_phase?: string | null
  error_category?: string | null
  records_loaded?: number
  duplicates_skipped?: number
}

export async function addTiendas(db: Sql, ids: string[], opts: { inactive?: string[] } = {}) {
  for (const [i, id] of ids.entries()) {
    await db`
      insert into tiendas (id, nombre, source_system, host, port, active)
      values (${id}, ${`TIENDA ${id.toUpperCase()}`}, ${i % 4 === 3 ? 'stellar' : 'klk'}, '127.0.0.1', ${18100 + i},
        ${!opts.inactive?.includes(id)})
      on conflict (id) do nothing`
  }
}

const FINISHED = new Set(['success', 'partial', 'failed'])

export async function addExecution(db: Sql, e: ExecutionSeed, details: DetailSeed[] = []): Promise<number> {
  const status = e.status ?? 'success'
  const startedAt = status === 'queued' ? null : (e.started_at ?? new Date())
  const duration = e.duration_seconds === undefined ? (FINISHED.has(status) ? 10 : null) : e.duration_seconds
  const finishedAt = FINISHED.has(status) && startedAt ? new Date(startedAt.getTime() + (duration ?? 0) * 1000) : null
  const failed = details.filter((d) => d.status === 'failed').length
  const ok = details.filter((d) => d.status === 'success').length
  const [row] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
      error_phase, error_category, records_loaded, duplicates_skipped, tiendas_count, tiendas_exitosas,
      tiendas_fallidas, tienda_ids, fecha_desde, fecha_hasta)
    values (${e.etl_name ?? 'ventas'}, ${e.etl_type ?? 'scheduled'}, ${status}, ${startedAt}, ${finishedAt}, ${duration},
      ${e.triggered_by ?? 'scheduler'}, ${e.error_phase ?? null}, ${e.error_category ?? null}, ${e.records_loaded ?? 0},
      ${e.duplicates_skipped ?? 0}, ${details.length || (e.tienda_ids?.length ?? 0)}, ${ok}, ${failed},
      ${e.tienda_ids ?? details.map((d) => d.tienda_id)}::text[], ${e.fecha_desde ?? null}, ${e.fecha_hasta ?? null})
    returning id`
  for (const d of details) {
    await db`
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        finished_at, duration_seconds, records_loaded, duplicates_skipped, error_phase, error_category, attempts)
      values (${row!.id}, ${d.tienda_id}, ${d.tienda_nombre === undefined ? `TIENDA ${d.tienda_id.toUpperCase()}` : d.tienda_nombre},
        'klk', ${d.status ?? 'success'}, ${startedAt}, ${finishedAt}, ${duration}, ${d.records_loaded ?? 0},
        ${d.duplicates_skipped ?? 0}, ${d.error_phase ?? null}, ${d.error_category ?? null}, 1)`
  }
  return row!.id
}

/**
 * The ids of the history list as the plan's SQL orders it (newest first, not started ahead), under a
 * raw SQL condition on `e` (an etl_executions row): the reference a page of the API is compared to.
 */
export const listReference = async (db: Sql, where = '') =>
  (
    (await db.unsafe(`select id from etl_executions e where true ${where}
    order by started_at desc nulls first, id desc`)) as { id: number }[]
  ).map((r) => r.id)

/** The store filter's condition: runs with a row of the store, or queued for it. */
export const tiendaWhere = (tienda: string) =>
  `and (exists (select 1 from etl_execution_details d where d.execution_id = e.id and d.tienda_id = '${tienda}')
    or (status = 'queued' and '${tienda}' = any(tienda_ids)))`
