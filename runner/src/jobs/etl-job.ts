// What a job of either ETL queue does; jobs/ventas.ts and jobs/inventario.ts bind it to a queue.
//
// Payloads (openapi.yaml components, generated for the API that sends and this runner that receives):
//  - EtlScheduledJob `{ triggered_by: 'scheduler' }` from the cron schedule: a fresh execution of every
//    active store the ETL reads, window [now − VENTAS_WINDOW_MIN, now] for ventas — unless the schedule
//    is paused (etl_schedules_state): then the job is done without starting a run;
//  - EtlRunJob `{ execution_id }` from the history API, sent in the transaction that wrote the execution
//    as `queued` (manual run, gap recovery). The row is the truth: window, stores, trigger, recovery.
// Either way the job fans the execution out (jobs/fan-out.ts): the execution becomes `running` and
// each store becomes an `etl-tienda` job, in one transaction, and the job is done. The stores run on
// whichever runners take them (jobs/tienda-job.ts); the last one closes the execution.
//  - a queued execution that an earlier attempt already fanned out (or that finished) needs nothing;
//  - one that can never run (a ventas run without a window) is closed at once, saying why;
//  - a failure to write (PostgreSQL restarting) rolls the fan-out back: the row stays queued and the
//    job throws, so pg-boss retries it.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { z } from 'zod'
import type { RunnerConfig } from '../config.ts'
import { listActiveTiendaIds } from '../etl/tiendas.sql.ts'
import { closeCrashedExecutions } from '../executions/close.sql.ts'
import { selectExecution } from '../executions/execution-row.ts'
import type { components } from '../generated/openapi.ts'
import { isStartable } from '../tracker/tracker.sql.ts'
import type { EtlName } from './boss.ts'
import { fanOut } from './fan-out.ts'
import { isSchedulePaused } from './schedule-state.sql.ts'

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
  /** To fan executions out (insert their store jobs in the transaction that starts them) and queue alert deliveries. */
  boss: Pick<PgBoss, 'insert' | 'send'>
  config: RunnerConfig
  logger: Logger
  workerId: string
  /** Aborted on SIGTERM: runs finish their current stores and close their execution. */
  shutdown: AbortSignal
}

export type JobOutput = { execution_id: number | null; status: string }

export function etlJobHandler(deps: JobDeps, etlName: EtlName) {
  return async ([job]: Job<unknown>[]): Promise<JobOutput> => {
    if (!job) throw new Error('pg-boss handed an empty batch')
    const logger = deps.logger.child({ job_id: job.id, etl_name: etlName, attempt: job.retryCount })
    const parsed = payloadSchema.safeParse(job.data)
    if (!parsed.success) throw new Error(`invalid ${etlName} job payload: ${z.prettifyError(parsed.error)}`)
    const payload = parsed.data
    return 'execution_id' in payload
      ? runQueued(deps, etlName, job.id, payload.execution_id, logger)
      : runScheduled(deps, etlName, job.id, logger)
  }
}

async function runScheduled(deps: JobDeps, etlName: EtlName, jobId: string, logger: Logger): Promise<JobOutput> {
  // A schedule paused from the panel (etl_schedules_state, migration 066) still fires: whichever runner
  // takes the job drops it here, so the pause holds for every runner without re-registering the cron.
  if (await isSchedulePaused(deps.db, etlName)) {
    logger.info('scheduled run skipped: the schedule is paused')
    return { execution_id: null, status: 'paused' }
  }
  const tiendaIds = await listActiveTiendaIds(deps.db, etlName)
  if (tiendaIds.length === 0) {
    logger.warn('scheduled run skipped: no active store')
    return { execution_id: null, status: 'skipped' }
  }
  // Ventas reaches back VENTAS_WINDOW_MIN (more than the cron period, so a late or skipped slot
  // leaves no hole; the overlap is counted as duplicates). Inventario is a snapshot: no window.
  const hasta = new Date()
  const desde = etlName === 'ventas' ? new Date(hasta.getTime() - deps.config.VENTAS_WINDOW_MIN * 60_000) : null
  const row = await fanOut(deps.db, deps.boss, {
    kind: 'fresh',
    execution: {
      etlName,
      etlType: 'scheduled',
      triggeredBy: 'scheduler',
      fechaDesde: desde,
      fechaHasta: desde ? hasta : null,
      tiendaIds,
      isRecovery: false,
      recoveredGapId: null,
      workerId: deps.workerId,
      jobId,
    },
  })
  logger.info({ execution_id: row?.id, tiendas: tiendaIds.length }, 'scheduled run fanned out')
  return { execution_id: row?.id ?? null, status: 'running' }
}

async function runQueued(
  deps: JobDeps,
  etlName: EtlName,
  jobId: string,
  executionId: number,
  jobLogger: Logger,
): Promise<JobOutput> {
  const logger = jobLogger.child({ execution_id: executionId })
  const row = await selectExecution(deps.db, executionId)
  if (!row) {
    // The API writes the row and the job in one transaction: the row was deleted since. Nothing to run.
    logger.error('job refers to an execution that does not exist; dropped')
    return { execution_id: executionId, status: 'missing' }
  }
  if (row.status !== 'queued') {
    logger.info({ status: row.status }, 'execution already started by an earlier attempt of this job; nothing to do')
    return { execution_id: executionId, status: row.status }
  }
  const unrunnable =
    row.etl_name !== etlName
      ? `it is a ${row.etl_name} run sent to the ${etlName} queue`
      : etlName === 'ventas' && (!row.fecha_desde || !row.fecha_hasta)
        ? 'a ventas run needs a window (fecha_desde/fecha_hasta) and it has none'
        : !(await isStartable(deps.db, executionId))
          ? `it was queued at ${row.created_at.toISOString()}, too long ago (a run starts at the latest 14 days after the month it was queued in ends); queue it again`
          : null
  if (unrunnable) {
    await closeCrashedExecutions(
      deps.db,
      { jobId, queuedId: executionId },
      `execution ${executionId} cannot run: ${unrunnable}`,
    )
    logger.error(`queued execution cannot run: ${unrunnable}; closed as failed`)
    return { execution_id: executionId, status: 'failed' }
  }
  const started = await fanOut(deps.db, deps.boss, { kind: 'queued', executionId, workerId: deps.workerId, jobId })
  logger.info({ tiendas: started?.tienda_ids.length }, started ? 'queued run fanned out' : 'claimed by another runner')
  return { execution_id: executionId, status: started ? 'running' : 'claimed elsewhere' }
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
