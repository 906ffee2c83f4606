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

/** The requested stores whatever their state (the caller rejects unknown/inactive), or every active one. */
export function selectTiendas(db: Db, ids: string[] | null) {
  return db<TiendaRow[]>`
    select id, nombre, source_system, host, port, active, database_name, settings
    from tiendas
    where ${ids ? db`id = any(${ids}::text[])` : db`active`}
    order by id`
}
