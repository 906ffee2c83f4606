import type { EtlName } from './boss.ts'
import type { Db } from './db.ts'

/**
 * A gap (DESIGN §5, openapi `Gap`): one store of a failed or partial execution whose detail row
 * failed, and whose data for that window has not been loaded since — no later execution of the
 * same ETL has a *successful* detail for that store covering the whole window. Inventario is a
 * snapshot (no window), so any later success of the store closes its gap.
 * The gap's id is the failed execution's id, the value a recovery run stores in recovered_gap_id.
 */
export type Gap = {
  gap_id: number
  tienda_id: string
  fecha_desde: Date | null
  fecha_hasta: Date | null
  error_category: string | null
}

export type GapFilter = {
  etlName: EtlName
  tiendaIds?: string[]
  /** Gaps whose window overlaps [desde, hasta]; an open bound does not filter. */
  desde?: Date
  hasta?: Date
}

export function findPendingGaps(db: Db, f: GapFilter) {
  return db<Gap[]>`
    select e.id as gap_id, d.tienda_id, e.fecha_desde, e.fecha_hasta, d.error_category
    from etl_execution_details d
    join etl_executions e on e.id = d.execution_id
    where e.etl_name = ${f.etlName}
      and e.status in ('failed', 'partial')
      and d.status = 'failed'
      ${f.tiendaIds?.length ? db`and d.tienda_id = any(${f.tiendaIds}::text[])` : db``}
      ${f.desde ? db`and (e.fecha_hasta is null or e.fecha_hasta >= ${f.desde})` : db``}
      ${f.hasta ? db`and (e.fecha_desde is null or e.fecha_desde <= ${f.hasta})` : db``}
      and not exists (
        select 1
        from etl_execution_details d2
        join etl_executions e2 on e2.id = d2.execution_id
        where d2.tienda_id = d.tienda_id
          and d2.status = 'success'
          and e2.etl_name = e.etl_name
          and e2.started_at > e.started_at
          and (e.etl_name = 'inventario' or e.fecha_desde is null or e.fecha_hasta is null
               or (e2.fecha_desde <= e.fecha_desde and e2.fecha_hasta >= e.fecha_hasta))
      )
    order by e.id, d.tienda_id`
}

/** Gaps grouped by failed execution: one recovery run per group, over that execution's window. */
export function groupGaps(gaps: Gap[]) {
  const groups = new Map<number, { gapId: number; tiendaIds: string[]; desde?: Date; hasta?: Date }>()
  for (const g of gaps) {
    let group = groups.get(g.gap_id)
    if (!group) {
      group = { gapId: g.gap_id, tiendaIds: [], desde: g.fecha_desde ?? undefined, hasta: g.fecha_hasta ?? undefined }
      groups.set(g.gap_id, group)
    }
    group.tiendaIds.push(g.tienda_id)
  }
  return [...groups.values()]
}

