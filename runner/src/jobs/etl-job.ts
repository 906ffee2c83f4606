// What a job of either ETL queue does; jobs/ventas.ts and jobs/inventario.ts bind it to a queue.
//
// A job either comes from the cron schedule (`{ triggered_by: 'scheduler' }`: a fresh execution)
// or carries an execution the history API wrote as `queued` in the same transaction. For those the
// handler waits for the run's stores (store-locks.ts: a CLI run, or a still-alive earlier attempt
// of this very job, may hold them), then re-reads the execution under the locks:
//  - queued → run it: runEtl claims it (queued → running) and closes it;
//  - success / partial → an earlier attempt finished but died before pg-boss heard: nothing to do;
//  - running → nobody holds its stores, so its worker is gone: it is closed as worker_lost now
//    (not ≤ 60 s later by the reaper), then treated as failed;
//  - failed → an earlier attempt was reaped (worker_lost) or crashed, and pg-boss retried the job:
//    a *fresh* execution is recorded for the same stores and window. The dead attempt's row is not
//    resurrected: it is the record of what happened (when, in which phase), which operators may
//    already have seen and been alerted on; rewriting it would erase that.
// A run that finished (success, partial or failed) is a recorded outcome and completes the job.
// The handler throws only when a run could not be recorded: it first closes whatever execution
// of this job is left open, then rethrows so pg-boss's retry policy applies.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { z } from 'zod'
import type { RunnerConfig } from '../config.ts'
import { runEtl } from '../etl/run-etl.ts'
import { markStaleExecutionsFailed } from '../executions/reaper.sql.ts'
import { listActiveTiendaIds, withStoreLocks } from '../executions/store-locks.ts'
import { configuredSecrets, createRedactor } from '../tracker/redact.ts'
import type { EtlName } from './boss.ts'
import { findExecutionForJob, markJobExecutionsCrashed } from './jobs.sql.ts'

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s))

export function etlJobSchema<N extends EtlName>(etlName: N) {
  const scheduled = z.object({ triggered_by: z.literal('scheduler') })
  const requested = z.object({
    execution_id: z.number().int().positive(),
    etl_name: z.literal(etlName),
    tienda_ids: z.array(z.string().regex(/^[a-z0-9_]{1,50}$/)).nullish(),
    fecha_inicio: instant.nullish(),
    fecha_fin: instant.nullish(),
    triggered_by: z.enum(['fluxion_admin', 'recovery']),
    recovered_gap_id: z.number().int().positive().nullish(),
  })
  return z.discriminatedUnion('triggered_by', [scheduled, requested])
}

type Payload = z.output<ReturnType<typeof etlJobSchema>>
type Requested = Exclude<Payload, { triggered_by: 'scheduler' }>

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
  const schema = etlJobSchema(etlName)
  const redact = createRedactor(configuredSecrets(deps.config))
  return async ([job]: Job<unknown>[]): Promise<JobOutput> => {
    if (!job) throw new Error('pg-boss handed an empty batch')
    const logger = deps.logger.child({ job_id: job.id, etl_name: etlName, attempt: job.retryCount })
    const parsed = schema.safeParse(job.data)
    if (!parsed.success) throw new Error(`invalid ${etlName} job payload: ${z.prettifyError(parsed.error)}`)
    const payload = parsed.data
    const ctx: Ctx = { deps, etlName, job, logger, signal: AbortSignal.any([job.signal, deps.shutdown]) }
    try {
      return payload.triggered_by === 'scheduler' ? await runScheduled(ctx) : await runRequested(ctx, payload)
    } catch (error) {
      const message = redact(`the run failed before it could record its outcome: ${(error as Error)?.message ?? error}`)
      // Interrupted while still waiting (shutdown): a queued execution stays queued for the retry.
      const queuedId = payload.triggered_by === 'scheduler' || ctx.signal.aborted ? null : payload.execution_id
      const closed = await markJobExecutionsCrashed(deps.db, { jobId: job.id, queuedId }, message).catch(
        (e: unknown) => {
          logger.error({ err_message: redact(String(e)) }, 'could not close the execution of the failed job')
          return []
        },
      )
      logger.error({ err_message: message, closed: closed.map((c) => c.id) }, 'job failed; pg-boss will retry it')
      throw error
    }
  }
}

async function runScheduled({ deps, etlName, job, logger, signal }: Ctx): Promise<JobOutput> {
  const tiendaIds = await listActiveTiendaIds(deps.db)
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

async function runRequested({ deps, etlName, job, logger: jobLogger, signal }: Ctx, payload: Requested) {
  const executionId = payload.execution_id
  const logger = jobLogger.child({ execution_id: executionId })
  const before = await findExecutionForJob(deps.db, executionId)
  if (!before) {
    // The API writes the row and the job in one transaction: the row was deleted since. Nothing to run.
    logger.error('job refers to an execution that does not exist; dropped')
    return { execution_id: executionId, status: 'missing' }
  }
  if (before.status === 'success' || before.status === 'partial') return alreadyDone(logger, before)
  const tiendaIds = payload.tienda_ids?.length
    ? payload.tienda_ids
    : before.tienda_ids.length
      ? before.tienda_ids
      : await listActiveTiendaIds(deps.db)
  const request = {
    etlName,
    tiendaIds,
    desde: payload.fecha_inicio ?? before.fecha_desde ?? undefined,
    hasta: payload.fecha_fin ?? before.fecha_hasta ?? undefined,
    triggeredBy: payload.triggered_by,
    etlType: payload.triggered_by === 'recovery' ? 'recovery' : 'manual',
    recoveredGapId: payload.recovered_gap_id ?? undefined,
    jobId: job.id,
    signal,
  } as const

  return withStoreLocks(deps.db, etlName, tiendaIds, { signal, onWait: waiting(logger) }, async () => {
    const current = await findExecutionForJob(deps.db, executionId)
    if (current?.status === 'success' || current?.status === 'partial') return alreadyDone(logger, current)
    if (current?.status === 'queued') {
      const row = await runEtl(runDeps(deps, logger), { ...request, executionId })
      return { execution_id: row.id, status: row.status }
    }
    if (current?.status === 'running') {
      await markStaleExecutionsFailed(deps.db, {
        staleAfterS: 0,
        executionId,
        reason: 'its runner was lost: pg-boss handed the job back and no process held its stores any more',
      })
    }
    logger.warn(
      { previous_status: current?.status, previous_error: current?.error_category },
      'retried job: the earlier attempt was closed; recording the rerun as a new execution',
    )
    const row = await runEtl(runDeps(deps, logger), request)
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

function alreadyDone(logger: Logger, row: { id: number; status: string }): JobOutput {
  logger.info({ status: row.status }, 'execution already finished by an earlier attempt; nothing to do')
  return { execution_id: row.id, status: row.status }
}

/** The cron job's payload: the handler starts a fresh `scheduled` execution for it. */
export const SCHEDULED_PAYLOAD = { triggered_by: 'scheduler' } as const

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
