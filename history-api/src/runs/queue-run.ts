// The one way a run is queued — POST /api/etl/run, gap recovery (gaps.routes.ts) and the tests all
// call queueRun: under the per-ETL lock, refuse an overlapping run, write the execution as `queued`
// (the row is the truth: window, stores, trigger, recovery target), send its pg-boss job
// `{ execution_id }` (openapi EtlRunJob) in the SAME transaction — both or neither — and tell live views.
// pg-boss 12 enlists a `send` in the caller's transaction through its `db` option: an object with
// `executeSql(text, values)` answering `{ rows }`; bossDb adapts a postgres.js transaction to it.
import { randomUUID } from 'node:crypto'
import type { PgBoss } from 'pg-boss'
import type { TransactionSql } from 'postgres'
import type { components } from '../generated/openapi.ts'
import type { OverlapMembers } from '../problem.ts'
import { findOverlap, insertQueuedExecution, lockRuns, notifyQueued } from './runs.sql.ts'

type Schemas = components['schemas']

/** What the API needs of pg-boss: sending a run's job, and deleting it when the queued run is cancelled. */
export type JobSender = Pick<PgBoss, 'send'> & Partial<Pick<PgBoss, 'deleteJob'>>

/** The runner's queues (openapi EtlQueue, created by `npm run migrate`); the API shares only the database with it. */
export const QUEUES = { ventas: 'etl-ventas', inventario: 'etl-inventario' } as const satisfies Record<
  Schemas['EtlName'],
  Schemas['EtlQueue']
>

export type RunToQueue = {
  etlName: Schemas['EtlName']
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
  const job: Schemas['EtlRunJob'] = { execution_id: executionId }
  await boss.send(QUEUES[run.etlName], job, { id: jobId, db: bossDb(tx) })
  await notifyQueued(tx, executionId)
  return executionId
}
