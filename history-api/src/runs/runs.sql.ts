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

/**
 * Serialises manual runs of one ETL until the transaction ends, so two requests cannot both
 * find no overlap and both queue. Its own key space: the runner's per-store locks are
 * (hashtext('fluxion_etl:<etl>'), hashtext(store)).
 */
export function lockRuns(db: Db, etlName: string) {
  return db`select pg_advisory_xact_lock(hashtext('fluxion_run'), hashtext(${etlName}))`
}

/**
 * The first queued or running execution of the ETL that includes one of the stores: by the
 * stores it was asked for, or by the stores it has started. A run that does not list its
 * stores (empty tienda_ids) covers every store.
 */
export function findOverlap(db: Db, etlName: string, tiendaIds: string[]) {
  return db<{ id: number; status: string; tienda_id: string }[]>`
    select e.id, e.status, t as tienda_id
    from etl_executions e cross join lateral unnest(${tiendaIds}::text[]) as t
    where e.etl_name = ${etlName} and e.status in ('queued', 'running')
      and (cardinality(e.tienda_ids) = 0 or t = any(e.tienda_ids)
        or exists (select 1 from etl_execution_details d where d.execution_id = e.id and d.tienda_id = t))
    order by e.id, t
    limit 1`.then((r) => r[0])
}

export type QueuedExecution = {
  etlName: string
  etlType: 'manual' | 'recovery'
  triggeredBy: 'fluxion_admin' | 'recovery'
  tiendaIds: string[]
  desde: Date | null
  hasta: Date | null
  sourceSystem: string | null
  recoveredGapId: number | null
  rerunOf: number | null
  rerunScope: 'failed' | 'all' | null
  jobId: string
}

export function insertQueuedExecution(db: Db, e: QueuedExecution) {
  return db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, fecha_desde, fecha_hasta, triggered_by,
      tiendas_count, tienda_ids, source_system, job_id, is_recovery, recovered_gap_id, rerun_of, rerun_scope)
    values (${e.etlName}, ${e.etlType}, 'queued', null, ${e.desde}, ${e.hasta}, ${e.triggeredBy},
      ${e.tiendaIds.length}, ${e.tiendaIds}::text[], ${e.sourceSystem}, ${e.jobId}, ${e.etlType === 'recovery'},
      ${e.recoveredGapId}, ${e.rerunOf}, ${e.rerunScope})
    returning id`.then((r) => r[0]!.id)
}

/** Live views learn about the queued run like about the runner's own changes. */
export function notifyQueued(db: Db, executionId: number) {
  return db`select pg_notify('etl_events', ${JSON.stringify({ execution_id: executionId, kind: 'queued' })})`
}
