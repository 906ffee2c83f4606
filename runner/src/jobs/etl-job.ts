// What a job of either ETL queue does; jobs/ventas.ts and jobs/inventario.ts bind it to a queue.
//
// A job either comes from the cron schedule (`{ triggered_by: 'scheduler' }`) or carries an
// execution the history API wrote as `queued` in the same transaction. The handler
//  1. waits for the run's stores to be free (store-locks.ts; a live earlier attempt of this very
//     job, or a CLI run, may still hold them),
//  2. re-reads the execution under those locks and decides:
//     - queued  → run it: runEtl turns it running, then closes it;
//     - success / partial → an earlier attempt finished but died before pg-boss heard: nothing to do;
//     - running → its worker is gone (we hold its stores), so it is closed as worker_lost now
//       instead of waiting for the reaper, then as failed:
//     - failed  → an earlier attempt was reaped (worker_lost) or crashed: a *fresh* execution is
//       started for the same stores and window. The reaped row is not resurrected: it is the
//       record of the attempt that died (when, in which phase), and reopening it would rewrite
//       history operators may already have seen and alerted on.
//  3. returns normally when the run finished, whatever its status: failed and partial are recorded
//     outcomes, not job failures. It throws only when the run could not be recorded, after trying
//     to close the execution, so pg-boss's retry policy applies.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { z } from 'zod'
import type { EtlName } from '../boss.ts'
import type { RunnerConfig } from '../config.ts'
import { runEtl } from '../etl/run-etl.ts'
import { markStaleExecutionsFailed } from '../reaper.sql.ts'
import { listActiveTiendaIds, withStoreLocks } from '../store-locks.ts'
import { createRedactor } from '../tracker/redact.ts'
import { findExecutionForJob, markExecutionCrashed } from './jobs.sql.ts'

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

export type JobDeps = {
  db: Sql
  config: RunnerConfig
  logger: Logger
  workerId: string
  /** Aborted on SIGTERM: runs finish their current stores and close their execution. */
  shutdown: AbortSignal
}

export type JobOutput = { execution_id: number | null; status: string }

export function etlJobHandler(deps: JobDeps, etlName: EtlName) {
  const schema = etlJobSchema(etlName)
  return async ([job]: Job<unknown>[]): Promise<JobOutput> => {
    if (!job) throw new Error('pg-boss handed an empty batch')
    const logger = deps.logger.child({ job_id: job.id, etl_name: etlName, attempt: job.retryCount })
    const parsed = schema.safeParse(job.data)
    if (!parsed.success) {
      throw new Error(`invalid ${etlName} job payload: ${z.prettifyError(parsed.error)}`)
    }
    const payload = parsed.data
    const signal = AbortSignal.any([job.signal, deps.shutdown])
    const runDeps = { db: deps.db, config: deps.config, logger, workerId: deps.workerId }
    const onWait = (busy: string[]) => logger.info({ tiendas: busy }, 'waiting for another run to release its stores')

    if (payload.triggered_by === 'scheduler') {
      const tiendaIds = await listActiveTiendaIds(deps.db)
      if (tiendaIds.length === 0) {
        logger.warn('scheduled run skipped: no active store')
        return { execution_id: null, status: 'skipped' }
      }
      // Ventas reaches back VENTAS_WINDOW_MIN (more than the cron period, so a late or skipped slot
      // leaves no hole; overlaps are counted as duplicates). Inventario is a snapshot: no window.
      const hasta = new Date()
      const window =
        etlName === 'ventas' ? { desde: new Date(hasta.getTime() - deps.config.VENTAS_WINDOW_MIN * 60_000), hasta } : {}
      const row = await withStoreLocks(deps.db, etlName, tiendaIds, { signal, onWait }, () =>
        runEtl(runDeps, {
          etlName,
          tiendaIds,
          ...window,
          triggeredBy: 'scheduler',
          etlType: 'scheduled',
          jobId: job.id,
          signal,
        }),
      )
      return { execution_id: row.id, status: row.status }
    }

    const executionId = payload.execution_id
    const elog = logger.child({ execution_id: executionId })
    const before = await findExecutionForJob(deps.db, executionId)
    if (!before) {
      // The API writes the row and the job in one transaction, so this is a deleted row: nothing to run.
      elog.error('job refers to an execution that does not exist; dropped')
      return { execution_id: executionId, status: 'missing' }
    }
    if (before.status === 'success' || before.status === 'partial') return done(elog, before)
    const tiendaIds = payload.tienda_ids?.length
      ? payload.tienda_ids
      : before.tienda_ids.length
        ? before.tienda_ids
        : await listActiveTiendaIds(deps.db)
    const etlType = payload.triggered_by === 'recovery' ? 'recovery' : 'manual'
    const request = {
      etlName,
      tiendaIds,
      desde: payload.fecha_inicio ?? before.fecha_desde ?? undefined,
      hasta: payload.fecha_fin ?? before.fecha_hasta ?? undefined,
      triggeredBy: payload.triggered_by,
      etlType,
      recoveredGapId: payload.recovered_gap_id ?? undefined,
      jobId: job.id,
      signal,
    } as const

    return withStoreLocks(deps.db, etlName, tiendaIds, { signal, onWait }, async () => {
      const current = await findExecutionForJob(deps.db, executionId)
      if (current?.status === 'success' || current?.status === 'partial') return done(elog, current)
      if (current?.status === 'queued') {
        try {
          const row = await runEtl({ ...runDeps, logger: elog }, { ...request, executionId })
          return { execution_id: row.id, status: row.status }
        } catch (error) {
          // Recorded before pg-boss retries: the retry then sees `failed` and starts afresh.
          const redact = createRedactor([deps.config.KLK_API_TOKEN, deps.config.STELLAR_PASSWORD])
          const message = redact(
            `the run crashed before it could record its outcome: ${(error as Error)?.message ?? error}`,
          )
          await markExecutionCrashed(deps.db, executionId, message).catch((e: unknown) =>
            elog.error({ err: e }, 'could not record the crash of the execution'),
          )
          elog.error({ err: error }, 'run crashed; pg-boss will retry the job')
          throw error
        }
      }
      if (current?.status === 'running') {
        // We hold its stores, so no live process is running it: close it now rather than in ≤ 60 s.
        await markStaleExecutionsFailed(deps.db, { staleAfterS: 0, executionId })
      }
      elog.warn(
        { previous_status: current?.status, previous_error: current?.error_category },
        'retried job: the earlier attempt was closed, recording the rerun as a new execution',
      )
      const row = await runEtl(runDeps, request)
      elog.info({ new_execution_id: row.id, status: row.status }, 'rerun finished')
      return { execution_id: row.id, status: row.status }
    })
  }
}

function done(logger: Logger, row: { id: number; status: string }): JobOutput {
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
