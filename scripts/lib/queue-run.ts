// The one way a run is queued — POST /api/etl/run, gap recovery from the panel (history-api
// gaps.routes.ts), the runner's automatic gap recovery (runner/src/gaps/auto-recovery.ts) and the
// tests all call queueRun. It lives here, beside migrations.ts, because both services import it and
// the runner never imports from history-api (DESIGN §2). queueRun: under the per-ETL lock, refuse an overlapping run, write the execution as `queued`
// (the row is the truth: window, stores, trigger, recovery target), send its pg-boss job
// `{ execution_id }` (openapi EtlRunJob) in the SAME transaction — both or neither — and tell live views.
// pg-boss 12 enlists a `send` in the caller's transaction through its `db` option: an object with
// `executeSql(text, values)` answering `{ rows }`; bossDb adapts a postgres.js transaction to it.
import { randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type { Sql, TransactionSql } from 'postgres'

/** The pool or a transaction. */
type Db = Sql | TransactionSql

/** openapi EtlName / EtlQueue; each service checks these against its generated contract types. */
export type EtlName = 'ventas' | 'inventario'

/** What the API needs of pg-boss: sending a run's job, and deleting it when the queued run is cancelled. */
export type JobSender = Pick<PgBoss, 'send'> & Partial<Pick<PgBoss, 'deleteJob'>>

/** The runner's queues (openapi EtlQueue, created by `npm run migrate`); the API shares only the database with it. */
export const QUEUES = { ventas: 'etl-ventas', inventario: 'etl-inventario' } as const satisfies Record<EtlName, string>

/** The run in the way (problem+json `members` of a 409). */
export type OverlapMembers = { execution_id: number; execution_status: string; etl_name: string; tienda_id: string }

export type RunToQueue = {
  etlName: EtlName
  etlType: 'manual' | 'recovery'
  triggeredBy: 'fluxion_admin' | 'recovery'
  /** The stores, already validated (active, with a feed for this ETL). */
  tiendas: { id: string; source_system: string | null }[]
  desde: Date | null
  hasta: Date | null
  /** Recovery runs: the failed execution whose gaps they recover. */
  recoveredGapId?: number
  /** Re-runs: the execution this run repeats, and whether every store or only the failed ones. */
  rerun?: { of: number; scope: 'failed' | 'all' }
}

/** Another queued or running execution of the ETL already includes one of the stores (409). */
export class RunConflict extends Error {
  readonly members: OverlapMembers
  constructor(message: string, members: OverlapMembers) {
    super(message)
    this.members = members
  }
}

export function bossDb(tx: TransactionSql) {
  return {
    executeSql: async (text: string, values: unknown[] = []) => ({
      rows: [...(await tx.unsafe(text, values as never[]))],
    }),
  }
}

export function sourceSystemOf(tiendas: { source_system: string | null }[]) {
  const systems = new Set(tiendas.flatMap((t) => (t.source_system ? [t.source_system] : [])))
  return systems.size === 1 ? [...systems][0]! : systems.size > 1 ? 'mixed' : null
}

/**
 * Queues the run inside `tx` and returns its execution id. `betweenWrites` is a test seam that runs
 * between the row and the job (proves they commit together).
 */
export async function queueRun(
  tx: TransactionSql,
  boss: JobSender,
  run: RunToQueue,
  betweenWrites?: (tx: TransactionSql) => Promise<void>,
): Promise<number> {
  await lockRuns(tx, run.etlName)
  const overlap = await findOverlap(
    tx,
    run.etlName,
    run.tiendas.map((t) => t.id),
  )
  if (overlap) {
    throw new RunConflict(
      `Execution ${overlap.id} of ${run.etlName} (${overlap.status}) already includes ${overlap.tienda_id}.`,
      {
        execution_id: overlap.id,
        execution_status: overlap.status,
        etl_name: run.etlName,
        tienda_id: overlap.tienda_id,
      },
    )
  }
  return writeQueuedRun(tx, boss, run, betweenWrites)
}

/**
 * The writes of queueRun without its overlap rule: the row and its job. Only tests that need runs which
 * overlap on purpose (to prove the runner keeps them apart) call it directly.
 */
export async function writeQueuedRun(
  tx: TransactionSql,
  boss: JobSender,
  run: RunToQueue,
  betweenWrites?: (tx: TransactionSql) => Promise<void>,
): Promise<number> {
  const tiendaIds = run.tiendas.map((t) => t.id)
  const jobId = randomUUID()
  const executionId = await insertQueuedExecution(tx, {
    ...run,
    tiendaIds,
    sourceSystem: sourceSystemOf(run.tiendas),
    recoveredGapId: run.recoveredGapId ?? null,
    rerunOf: run.rerun?.of ?? null,
    rerunScope: run.rerun?.scope ?? null,
    jobId,
  })
  await betweenWrites?.(tx)
  const job: { execution_id: number } = { execution_id: executionId }
  await boss.send(QUEUES[run.etlName], job, { id: jobId, db: bossDb(tx) })
  await notifyQueued(tx, executionId)
  return executionId
}

// The statements of queueRun.

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
