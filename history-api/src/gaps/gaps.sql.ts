import type { Db } from '../db.ts'
import type { GapEstado } from './gaps.schemas.ts'

export type GapRow = {
  id: number
  etl_name: 'ventas' | 'inventario'
  tienda_id: string
  tienda_nombre: string | null
  fecha_desde: Date | null
  fecha_hasta: Date | null
  error_category: string
  detected_at: Date
  recovered_at: Date | null
  recovered_by_execution_id: number | null
}

export type GapFilters = { etlName?: string; tienda?: string; estado?: GapEstado }

/** The `etl_gaps` view (migration 040), the one gap definition the runner's recovery mode reads too. */
export function listGaps(db: Db, f: GapFilters) {
  return db<GapRow[]>`
    select id, etl_name, tienda_id, tienda_nombre, fecha_desde, fecha_hasta,
      coalesce(error_category, 'unknown') as error_category, detected_at, recovered_at, recovered_by_execution_id
    from etl_gaps
    where true
      ${f.etlName ? db`and etl_name = ${f.etlName}` : db``}
      ${f.tienda ? db`and tienda_id = ${f.tienda}` : db``}
      ${f.estado === 'pendiente' ? db`and recovered_at is null` : db``}
      ${f.estado === 'recuperado' ? db`and recovered_at is not null` : db``}
    order by detected_at desc, id desc, tienda_id`
}

export function findExecutionEtl(db: Db, id: number) {
  return db<{ etl_name: 'ventas' | 'inventario' }[]>`select etl_name from etl_executions where id = ${id}`.then(
    (r) => r[0]?.etl_name,
  )
}

export type GapStore = {
  tienda_id: string
  pending: boolean
  /** null when the store row is gone. */
  active: boolean | null
  source_system: string | null
  fecha_desde: Date | null
  fecha_hasta: Date | null
}

/**
 * The stores of execution `id`'s gaps. The window leaves PostgreSQL widened to whole milliseconds
 * (desde down, hasta up): it travels through a JS Date to the runner, and a recovery window even a
 * microsecond short of the failed one would never be counted as covering it (etl_gaps).
 */
export function listGapStores(db: Db, id: number) {
  return db<GapStore[]>`
    select g.tienda_id, g.recovered_at is null as pending, t.active, t.source_system,
      date_trunc('milliseconds', g.fecha_desde) as fecha_desde,
      date_trunc('milliseconds', g.fecha_hasta)
        + (g.fecha_hasta > date_trunc('milliseconds', g.fecha_hasta))::int * interval '1 millisecond' as fecha_hasta
    from etl_gaps g left join tiendas t on t.id = g.tienda_id
    where g.id = ${id}
    order by g.tienda_id`
}
