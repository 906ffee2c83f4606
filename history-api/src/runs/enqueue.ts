// pg-boss 12 enlists a `send` in the caller's transaction through its `db` option: an object
// with `executeSql(text, values)` answering `{ rows }`. This adapts a postgres.js transaction,
// so the execution row and the job commit or roll back together.
import type { PgBoss } from 'pg-boss'
import type { TransactionSql } from 'postgres'

/** What the API needs of pg-boss: sending, in a transaction. */
export type JobSender = Pick<PgBoss, 'send'>

/** The runner's queues (runner/src/boss.ts); the API shares only the database with it. */
export const QUEUES = { ventas: 'etl-ventas', inventario: 'etl-inventario' } as const

export function bossDb(tx: TransactionSql) {
  return {
    executeSql: async (text: string, values: unknown[] = []) => ({
      rows: [...(await tx.unsafe(text, values as never[]))],
    }),
  }
}

/** The manual-run payload of runner/src/jobs/ventas.ts (ISO instants, no job options but the id). */
export type RunJob = {
  execution_id: number
  etl_name: keyof typeof QUEUES
  tienda_ids: string[]
  fecha_inicio: string
  fecha_fin: string
  triggered_by: 'fluxion_admin'
}

export function sendRunJob(boss: JobSender, tx: TransactionSql, jobId: string, job: RunJob) {
  return boss.send(QUEUES[job.etl_name], job, { id: jobId, db: bossDb(tx) })
}
