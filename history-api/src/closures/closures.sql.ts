// The store calendar's statements. Creating or removing a closure and reclassifying the history it
// covers (migration 080, etl_reclasificar_cierres) happen in one transaction: the history never
// shows a closure without its effect, or the other way round.
import type { Sql } from 'postgres'
import type { Db } from '../db.ts'

export type CierreRow = {
  id: number
  tienda_id: string
  tienda_nombre: string | null
  fecha_desde: string
  fecha_hasta: string
  motivo: string
  nota: string | null
  creado_por: string | null
  created_at: Date
}

const columns = (db: Db) => db`
  c.id, c.tienda_id, t.nombre as tienda_nombre, to_char(c.fecha_desde, 'YYYY-MM-DD') as fecha_desde,
  to_char(c.fecha_hasta, 'YYYY-MM-DD') as fecha_hasta, c.motivo, c.nota, c.creado_por, c.created_at`

export function listCierres(db: Db, f: { tienda?: string; desde?: string; hasta?: string }) {
  return db<CierreRow[]>`
    select ${columns(db)} from tienda_cierres c left join tiendas t on t.id = c.tienda_id
    where true
      ${f.tienda ? db`and c.tienda_id = ${f.tienda}` : db``}
      ${f.desde ? db`and c.fecha_hasta >= ${f.desde}::date` : db``}
      ${f.hasta ? db`and c.fecha_desde <= ${f.hasta}::date` : db``}
    order by c.fecha_desde desc, c.id desc`
}

export type NewCierre = {
  tiendaId: string
  fechaDesde: string
  fechaHasta: string
  motivo: string
  nota: string | null
  creadoPor: string | null
}

/** The closure's days become instants in the chain's zone (etl_stats_config.tz = TZ_TIENDAS). */
export function createCierre(sql: Sql, v: NewCierre) {
  return sql.begin(async (tx) => {
    const [row] = await tx<(CierreRow & { periodo: string })[]>`
      with c as (
        insert into tienda_cierres (tienda_id, fecha_desde, fecha_hasta, periodo, motivo, nota, creado_por)
        select ${v.tiendaId}, ${v.fechaDesde}::date, ${v.fechaHasta}::date,
          tstzrange(${v.fechaDesde}::date::timestamp at time zone cfg.tz,
                    (${v.fechaHasta}::date + 1)::timestamp at time zone cfg.tz),
          ${v.motivo}, ${v.nota}, ${v.creadoPor}
        from etl_stats_config cfg
        returning *)
      select ${columns(tx)}, c.periodo::text as periodo from c left join tiendas t on t.id = c.tienda_id`
    if (!row) throw new Error('etl_stats_config has no row: run `npm run migrate`')
    const [r] = await tx<
      { n: number }[]
    >`select etl_reclasificar_cierres(${v.tiendaId}, ${row.periodo}::tstzrange) as n`
    const { periodo: _, ...cierre } = row
    return { cierre: cierre as CierreRow, reclasificadas: r!.n }
  })
}

/** null: no such closure. */
export function deleteCierre(sql: Sql, id: number) {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ tienda_id: string; periodo: string }[]>`
      delete from tienda_cierres where id = ${id} returning tienda_id, periodo::text as periodo`
    if (!row) return null
    const [r] = await tx<{ n: number }[]>`
      select etl_reclasificar_cierres(${row.tienda_id}, ${row.periodo}::tstzrange) as n`
    return { reclasificadas: r!.n }
  })
}
