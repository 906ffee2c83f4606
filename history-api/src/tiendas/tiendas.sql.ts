import type { Db } from '../db.ts'

export type TiendaListRow = {
  id: string
  nombre: string
  source_system: string
  host: string
  port: number
  active: boolean
}

export function listTiendas(db: Db) {
  return db<TiendaListRow[]>`select id, nombre, source_system, host, port, active from tiendas order by id`
}
