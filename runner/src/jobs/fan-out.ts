// One run, many runners: an execution job (scheduled or queued) starts its execution and sends one
// `etl-tienda` job per store (openapi EtlStoreJob) in the SAME transaction — the row is `running` with
// parts_pending = its stores exactly when their jobs exist. Any runner may take a part (tienda-job.ts);
// the part that finishes last closes the execution (tracker.sql.ts finishTienda counts them down).
import type { PgBoss } from 'pg-boss'
import type { Sql, TransactionSql } from 'postgres'
import { slowestFirst } from '../etl/tiendas.sql.ts'
import type { ExecutionRow } from '../executions/execution-row.ts'
import type { components } from '../generated/openapi.ts'
import { claimQueuedExecution, insertExecution, type NewExecution } from '../tracker/tracker.sql.ts'
import { STORE_QUEUE } from './boss.ts'

type StoreJob = components['schemas']['EtlStoreJob']

export type FanOutStart =
  | { kind: 'fresh'; execution: NewExecution }
  | { kind: 'queued'; executionId: number; workerId: string; jobId: string }

/** pg-boss enlists its insert in a postgres.js transaction through this `db` option adapter. */
function bossDb(tx: TransactionSql) {
  return {
    executeSql: async (text: string, values: unknown[] = []) => ({
      rows: [...(await tx.unsafe(text, values as never[]))],
    }),
  }
}

/** Starts the execution and queues its stores; undefined when a queued execution was no longer queued. */
export function fanOut(db: Sql, boss: Pick<PgBoss, 'insert'>, start: FanOutStart): Promise<ExecutionRow | undefined> {
  return db.begin(async (tx) => {
    const row =
      start.kind === 'fresh'
        ? await insertExecution(tx, start.execution)
        : await claimQueuedExecution(tx, start.executionId, start)
    if (!row) return undefined
    await tx`update etl_executions set parts_pending = ${row.tienda_ids.length} where id = ${row.id}`
    if (row.tienda_ids.length > 0) {
      // Runners take parts by priority: the slowest stores first (etl/tiendas.sql.ts), so with more
      // stores than lanes a slow one never waits behind the quick ones.
      const order = await slowestFirst(tx, row.etl_name, row.tienda_ids)
      await boss.insert(
        STORE_QUEUE,
        order.map((tienda_id, i) => ({
          data: { execution_id: row.id, tienda_id } satisfies StoreJob,
          priority: order.length - i,
          // pg-boss hands out one part of a given (ETL, store) at a time across all runners, so two
          // runs of one store never hold two workers (the store locks still exclude CLI runs).
          group: { id: `${row.etl_name}:${tienda_id}` },
        })),
        { db: bossDb(tx) },
      )
    }
    return row
  })
}
