import type { Db } from '../db.ts'
import type { EtlName } from '../jobs/boss.ts'

/**
 * A gap (DESIGN §5, openapi `Gap`): one store of a failed or partial execution whose detail row
 * failed, and whose data for that window has not been loaded since. The definition lives in the
 * `etl_gaps` view (migration 040), shared with the history API so both always agree.
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

/** Pending gaps: not recovered by any later run (the recovering run may still be going). */
export function findPendingGaps(db: Db, f: GapFilter) {
  return db<Gap[]>`
    select id as gap_id, tienda_id, fecha_desde, fecha_hasta, error_category
    from etl_gaps
    where etl_name = ${f.etlName}
      and recovered_by_execution_id is null
      ${f.tiendaIds?.length ? db`and tienda_id = any(${f.tiendaIds}::text[])` : db``}
      ${f.desde ? db`and (fecha_hasta is null or fecha_hasta >= ${f.desde})` : db``}
      ${f.hasta ? db`and (fecha_desde is null or fecha_desde <= ${f.hasta})` : db``}
    order by id, tienda_id`
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
