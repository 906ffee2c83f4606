// The stores a run covers, read from `tiendas` (connection settings only; credentials come from
// the configuration).
import type { Db } from '../db.ts'
import type { SourceSystem } from '../tracker/classify-error.ts'

export type TiendaRow = {
  id: string
  nombre: string
  source_system: SourceSystem
  host: string
  port: number
  active: boolean
  database_name: string | null
  settings: Record<string, unknown>
}

/**
 * The requested stores whatever their state (the caller rejects unknown/inactive ones), or every active
 * one; `has_feed` says whether the ETL can read the store (the etl_tienda_feeds view, migration 046).
 */
export function selectTiendas(db: Db, etlName: string, ids: readonly string[] | null) {
  return db<(TiendaRow & { has_feed: boolean })[]>`
    select t.id, t.nombre, t.source_system, t.host, t.port, t.active, t.database_name, t.settings,
      exists (select 1 from etl_tienda_feeds f where f.etl_name = ${etlName} and f.tienda_id = t.id) as has_feed
    from tiendas t
    where ${ids ? db`t.id = any(${ids as string[]}::text[])` : db`t.active`}
    order by t.id`
}

/** The stores a run without an explicit list covers: every active one the ETL can read. */
export async function listActiveTiendaIds(db: Db, etlName: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select t.id from tiendas t join etl_tienda_feeds f on f.tienda_id = t.id and f.etl_name = ${etlName}
    where t.active order by t.id`
  return rows.map((r) => r.id)
}

/**
 * The stores in the order a run should start them: the slowest first, by the mean duration of each
 * store's last three finished runs of this ETL (success or failure: a store that times out is slow
 * too); stores without history first (they may be slow), ties in the order given. Longest first is
 * what keeps a run's wall time near its slowest store's when there are more stores than lanes: the
 * slow one no longer starts last, behind a queue of quick ones. Three index probes a store
 * (idx_etl_details_tienda_etl_list).
 */
export async function slowestFirst(db: Db, etlName: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length < 2) return [...ids]
  const rows = await db<{ id: string; seconds: number | null }[]>`
    select t.id, (
      select avg(x.duration_seconds)::float8 from (
        select d.duration_seconds from etl_execution_details d
        where d.tienda_id = t.id and d.execution_etl_name = ${etlName} and d.execution_started_at is not null
          and d.status in ('success', 'failed') and d.duration_seconds is not null
        order by d.execution_started_at desc nulls first, d.execution_id desc
        limit 3) x) as seconds
    from unnest(${ids as string[]}::text[]) with ordinality as t(id, n)
    order by seconds desc nulls first, t.n`
  return rows.map((r) => r.id)
}
