// What a job of either ETL queue does; jobs/ventas.ts and jobs/inventario.ts bind it to a queue.
//
// Payloads (openapi.yaml components, generated for the API that sends and this runner that receives):
//  - EtlScheduledJob `{ triggered_by: 'scheduler' }` from the cron schedule: a fresh execution;
//  - EtlRunJob `{ execution_id }` from the history API, sent in the transaction that wrote the execution
//    as `queued` (manual run, gap recovery). The row is the truth: window, stores, trigger, recovery.
// For a queued execution the handler waits for its stores (store-locks.ts: a CLI run, or a still-alive
// earlier attempt of this very job, may hold them), then re-reads the row under the locks:
//  - queued → run it: runEtl claims it (queued → running) and closes it;
//  - success / partial → an earlier attempt finished but died before pg-boss heard: nothing to do;
//  - running → nobody holds its stores, so its worker is gone: it is closed as worker_lost now
//    (not ≤ 60 s later by the reaper), then treated as failed;
//  - failed → an earlier attempt was reaped or crashed, and pg-boss retried the job: a *fresh*
//    execution is recorded for the same stores and window. The dead attempt's row is not resurrected:
//    it is the record of what happened, which operators may already have seen and been alerted on.
// A run that finished (success, partial or failed) is a recorded outcome and completes the job. The
// handler throws only when a run could not be recorded: it first closes whatever execution of this
// job is left open, then rethrows so pg-boss's retry policy applies.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { z } from 'zod'
import type { RunnerConfig } from '../config.ts'
import { runEtl } from '../etl/run-etl.ts'
import { listActiveTiendaIds } from '../etl/tiendas.sql.ts'
import { closeCrashedExecutions, closeStaleExecutions } from '../executions/close.sql.ts'
import { type ExecutionRow, selectExecution } from '../executions/execution-row.ts'
import { withStoreLocks } from '../executions/store-locks.ts'
import type { components } from '../generated/openapi.ts'
import { configuredSecrets, createRedactor } from '../tracker/redact.ts'
import type { EtlName } from './boss.ts'

type Schemas = components['schemas']

export const scheduledJob = z.strictObject({
  triggered_by: z.literal('scheduler'),
}) satisfies z.ZodType<Schemas['EtlScheduledJob']>
// Loose on purpose: jobs queued by older releases carry the execution's fields too; the row wins.
export const runJob = z.looseObject({
  execution_id: z.number().int().positive(),
}) satisfies z.ZodType<Schemas['EtlRunJob']>
const payloadSchema = z.union([scheduledJob, runJob])

export type JobDeps = {
  db: Sql
  config: RunnerConfig
  logger: Logger
  workerId: string
  /** Aborted on SIGTERM: runs finish their current stores and close their execution. */
  shutdown: AbortSignal
}

export type JobOutput = { execution_id: number | null; status: string }

type Ctx = { deps: JobDeps; etlName: EtlName; job: Job<unknown>; logger: Logger; signal: AbortSignal }

export function etlJobHandler(deps: JobDeps, etlName: EtlName) {
  const redact = createRedactor(configuredSecrets(deps.config))
  return async ([job]: Job<unknown>[]): Promise<JobOutput> => {
    if (!job) throw new Error('pg-boss handed an empty batch')
    const logger = deps.logger.child({ job_id: job.id, etl_name: etlName, attempt: job.retryCount })
    const parsed = payloadSchema.safeParse(job.data)
    if (!parsed.success) throw new Error(`invalid ${etlName} job payload: ${z.prettifyError(parsed.error)}`)
    const payload = parsed.data
    const executionId = 'execution_id' in payload ? payload.execution_id : null
    const ctx: Ctx = { deps, etlName, job, logger, signal: AbortSignal.any([job.signal, deps.shutdown]) }
    try {
      return executionId === null ? await runScheduled(ctx) : await runQueued(ctx, executionId)
    } catch (error) {
      const message = redact(`the run failed before it could record its outcome: ${(error as Error)?.message ?? error}`)
      // Interrupted while still waiting (shutdown): a queued execution stays queued for the retry.
      const queuedId = ctx.signal.aborted ? null : executionId
      const closed = await closeCrashedExecutions(deps.db, { jobId: job.id, queuedId }, message).catch((e: unknown) => {
        logger.error({ err_message: redact(String(e)) }, 'could not close the execution of the failed job')
        return []
      })
      logger.error({ err_message: message, closed: closed.map((c) => c.id) }, 'job failed; pg-boss will retry it')
      throw error
    }
  }
}

async function runScheduled({ deps, etlName, job, logger, signal }: Ctx): Promise<JobOutput> {
  const tiendaIds = await listActiveTiendaIds(deps.db, etlName)
  if (tiendaIds.length === 0) {
    logger.warn('scheduled run skipped: no active store')
    return { execution_id: null, status: 'skipped' }
  }
  // Ventas reaches back VENTAS_WINDOW_MIN (more than the cron period, so a late or skipped slot
  // leaves no hole; the overlap is counted as duplicates). Inventario is a snapshot: no window.
  const hasta = new Date()
  const window =
    etlName === 'ventas' ? { desde: new Date(hasta.getTime() - deps.config.VENTAS_WINDOW_MIN * 60_000), hasta } : {}
  const request = { etlName, tiendaIds, ...window, triggeredBy: 'scheduler', etlType: 'scheduled' } as const
  const row = await withStoreLocks(deps.db, etlName, tiendaIds, { signal, onWait: waiting(logger) }, () =>
    runEtl(runDeps(deps, logger), { ...request, jobId: job.id, signal }),
  )
  return { execution_id: row.id, status: row.status }
}

async function runQueued({ deps, etlName, job, logger: jobLogger, signal }: Ctx, executionId: number) {
  const logger = jobLogger.child({ execution_id: executionId })
  const before = await selectExecution(deps.db, executionId)
  if (!before) {
    // The API writes the row and the job in one transaction: the row was deleted since. Nothing to run.
    logger.error('job refers to an execution that does not exist; dropped')
    return { execution_id: executionId, status: 'missing' }
  }
  if (before.etl_name !== etlName)
    throw new Error(`execution ${executionId} is a ${before.etl_name} run, not ${etlName}`)
  if (before.status === 'success' || before.status === 'partial') return alreadyDone(logger, before)

  return withStoreLocks(deps.db, etlName, before.tienda_ids, { signal, onWait: waiting(logger) }, async () => {
    const current = await selectExecution(deps.db, executionId)
    if (current?.status === 'success' || current?.status === 'partial') return alreadyDone(logger, current)
    if (current?.status === 'queued') {
      const row = await runEtl(runDeps(deps, logger), { executionId, jobId: job.id, signal })
      return { execution_id: row.id, status: row.status }
    }
    if (current?.status === 'running') {
      await closeStaleExecutions(deps.db, {
        staleAfterS: 0,
        executionId,
        reason: 'its runner was lost: pg-boss handed the job back and no process held its stores any more',
      })
    }
    logger.warn(
      { previous_status: current?.status, previous_error: current?.error_category },
      'retried job: the earlier attempt was closed; recording the rerun as a new execution',
    )
    const row = await runEtl(runDeps(deps, logger), {
      etlName,
      tiendaIds: before.tienda_ids,
      desde: before.fecha_desde ?? undefined,
      hasta: before.fecha_hasta ?? undefined,
      triggeredBy: before.triggered_by ?? 'fluxion_admin',
      etlType: before.etl_type,
      recoveredGapId: before.recovered_gap_id ?? undefined,
      jobId: job.id,
      signal,
    })
    logger.info({ new_execution_id: row.id, status: row.status }, 'rerun finished')
    return { execution_id: row.id, status: row.status }
  })
}

const runDeps = (deps: JobDeps, logger: Logger) => ({
  db: deps.db,
  config: deps.config,
  logger,
  workerId: deps.workerId,
})

const waiting = (logger: Logger) => (busy: string[]) =>
  logger.info({ tiendas: busy }, 'waiting for another run to release its stores')

function alreadyDone(logger: Logger, row: ExecutionRow): JobOutput {
  logger.info({ status: row.status }, 'execution already finished by an earlier attempt; nothing to do')
  return { execution_id: row.id, status: row.status }
}

/** The cron job's payload: the handler starts a fresh `scheduled` execution for it. */
export const SCHEDULED_PAYLOAD = { triggered_by: 'scheduler' } as const satisfies Schemas['EtlScheduledJob']

/**
 * Every runner registers the schedules on start (an upsert keyed by queue, so N runners keep
 * one schedule); pg-boss's cron pass then creates one job per occurrence across all of them.
 * The expression is read in TZ_TIENDAS, so "0 6 * * *" means 06:00 at the stores.
 * `off` removes the schedule (e.g. a runner pool that only works manual runs).
 */
export async function registerSchedule(boss: PgBoss, queue: string, cron: string, tz: string) {
  if (cron.trim().toLowerCase() === 'off') {
    await boss.unschedule(queue)
    return
  }
  await boss.schedule(queue, cron, SCHEDULED_PAYLOAD, { tz })
}
