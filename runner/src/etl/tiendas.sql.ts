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
