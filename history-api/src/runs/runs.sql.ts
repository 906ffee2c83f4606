import type { Db } from '../db.ts'

export type TiendaRow = { id: string; active: boolean; source_system: string; has_feed: boolean }

// has_feed: whether the ETL can read the store (etl_tienda_feeds, migration 046: inventario is KLK's).
const tiendaColumns = (db: Db, etlName: string) => db`
  t.id, t.active, t.source_system,
  exists (select 1 from etl_tienda_feeds f where f.etl_name = ${etlName} and f.tienda_id = t.id) as has_feed`

export function findTiendas(db: Db, etlName: string, ids: string[]) {
  return db<TiendaRow[]>`select ${tiendaColumns(db, etlName)} from tiendas t where t.id = any(${ids}::text[])`
}

/** Every active store the ETL can read: a run without an explicit list. */
export function listRunnableTiendas(db: Db, etlName: string) {
  return db<TiendaRow[]>`
    select ${tiendaColumns(db, etlName)} from tiendas t
    where t.active and exists (select 1 from etl_tienda_feeds f where f.etl_name = ${etlName} and f.tienda_id = t.id)
    order by t.id`
}
