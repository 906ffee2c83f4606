import type { Db } from '../db.ts'

export type FreshnessRow = {
  tienda_id: string
  tienda_nombre: string
  source_system: string
  active: boolean
  etl_name: 'ventas' | 'inventario'
  ok_execution_id: number | null
  ok_fecha_desde: Date | null
  ok_fecha_hasta: Date | null
  ok_finished_at: Date | null
  datos_hasta: Date | null
  last_execution_id: number | null
  last_status: string | null
  last_started_at: Date | null
  racha_fallos: number
}

/** Failures counted back from the newest run; a longer streak reads as this many. */
export const MAX_STREAK = 100

/**
 * Each store × ETL: its newest run, its newest successful one (whose window end — or, for the
 * inventario snapshot, its finish — is how far its data reaches) and the failed runs since.
 * Every lateral is a short range of migration 056's index; the stalest come first (never
 * loaded, then the oldest data; failing stores before quiet ones).
 */
export function listFreshness(db: Db, f: { etlName?: string }) {
  // The store × ETL rows of migration 056's index, newest first.
  const mine = () => db`d.tienda_id = t.id and d.execution_etl_name = x.etl_name and d.execution_started_at is not null`
  return db<FreshnessRow[]>`
    select t.id as tienda_id, t.nombre as tienda_nombre, t.source_system, t.active, x.etl_name,
      ok.execution_id as ok_execution_id, ok.fecha_desde as ok_fecha_desde, ok.fecha_hasta as ok_fecha_hasta,
      ok.finished_at as ok_finished_at, coalesce(ok.fecha_hasta, ok.finished_at) as datos_hasta,
      last.execution_id as last_execution_id, last.status as last_status, last.started_at as last_started_at,
      (select count(*)::int from (
        select 1 from etl_execution_details d
        where ${mine()} and d.status = 'failed'
          -- A plain bound on the index column stops the scan at the last success (a row
          -- comparison or an OR would not be an index condition and would read the whole history).
          and d.execution_started_at >= coalesce(ok.execution_started_at, '-infinity')
          and (d.execution_started_at, d.execution_id)
            > (coalesce(ok.execution_started_at, '-infinity'), coalesce(ok.execution_id, 0))
        order by d.execution_started_at desc, d.execution_id desc
        limit ${MAX_STREAK}) f) as racha_fallos
    from tiendas t
    cross join (values ('ventas'), ('inventario')) as x(etl_name)
    left join lateral (
      select d.execution_id, d.execution_started_at, d.finished_at, e.fecha_desde, e.fecha_hasta
      from etl_execution_details d join etl_executions e on e.id = d.execution_id
      where ${mine()} and d.status = 'success'
      order by d.execution_started_at desc, d.execution_id desc limit 1) ok on true
    left join lateral (
      select d.execution_id, d.status, d.execution_started_at as started_at
      from etl_execution_details d
      where ${mine()}
      order by d.execution_started_at desc, d.execution_id desc limit 1) last on true
    where ${f.etlName ? db`x.etl_name = ${f.etlName}` : db`true`}
      and (t.active or last.execution_id is not null)
      -- Inventario is read from KLK only: a Stellar store has no inventario to be fresh about.
      and not (x.etl_name = 'inventario' and t.source_system <> 'klk')
    order by coalesce(ok.fecha_hasta, ok.finished_at) asc nulls first, racha_fallos desc, t.id, x.etl_name`
}
