// Queue `etl-tienda`: one store of a fanned-out execution (jobs/fan-out.ts), taken by any runner,
// ETL_CONCURRENCY at a time per runner. The part waits for its store (store-locks: a CLI run may hold
// it), runs it like an in-process run does (etl/run-tienda.ts), and — when it was the last part of its
// execution — closes the execution and evaluates the alerts.
//
// A part whose worker died is retried by pg-boss (queue heartbeat): it finds its store's row still
// `running` and takes it over as the next attempt (a store's load is one transaction, so nothing of
// the dead attempt was loaded). A part of an execution already closed (the reaper, when no runner
// was left to finish it) does nothing; its store stays a gap for recovery.
import type { Job, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import { z } from 'zod'
import { evaluateAlertsAfterRun } from '../alerts/evaluate-alerts.ts'
import { runTienda, type StoreJob } from '../etl/run-tienda.ts'
import { selectTiendas } from '../etl/tiendas.sql.ts'
import { closeFinishedExecution } from '../executions/close.sql.ts'
import { type ExecutionRow, selectExecution } from '../executions/execution-row.ts'
import { withStoreLocks } from '../executions/store-locks.ts'
import type { components } from '../generated/openapi.ts'
import { sourceCache } from '../sources/create-source.ts'
import { ExecutionTracker } from '../tracker/execution-tracker.ts'
import { configuredSecrets } from '../tracker/redact.ts'
import { selectPartsPending, skipPart } from '../tracker/tracker.sql.ts'
import { STORE_QUEUE } from './boss.ts'
import type { JobDeps } from './etl-job.ts'

export const storeJob = z.strictObject({
  execution_id: z.number().int().positive(),
  tienda_id: z.string().regex(/^[a-z0-9_]{1,50}$/),
}) satisfies z.ZodType<components['schemas']['EtlStoreJob']>

export type PartDeps = JobDeps
/** The part job's pg-boss output: which runner ran the store, and whether it closed the run. */
export type PartOutput = {
  execution_id: number
  tienda_id: string
  status: 'done' | 'last' | 'skipped'
  worker_id: string
}

export function workTiendas(boss: PgBoss, deps: PartDeps) {
  const trackers = attachedTrackers(deps)
  return boss.work(
    STORE_QUEUE,
    // groupConcurrency: one part of a given (ETL, store) at a time across all runners (fan-out.ts).
    // pollingIntervalSeconds 0.5 (pg-boss's minimum, default 2): a worker fetches again only after
    // the interval minus its job's time, so at 2 s a store of 0.7 s sat 1.3 s idle before the next
    // (measured: 100 stores at 150 ms RTT took 2.3 s a store instead of ~0.7 s).
    {
      batchSize: 1,
      localConcurrency: deps.config.ETL_CONCURRENCY,
      groupConcurrency: 1,
      pollingIntervalSeconds: 0.5,
    },
    async ([job]: Job<unknown>[]): Promise<PartOutput> => {
      if (!job) throw new Error('pg-boss handed an empty batch')
      const parsed = storeJob.safeParse(job.data)
      if (!parsed.success) throw new Error(`invalid ${STORE_QUEUE} job payload: ${z.prettifyError(parsed.error)}`)
      const part = parsed.data
      const logger = deps.logger.child({ job_id: job.id, execution_id: part.execution_id, tienda_id: part.tienda_id })
      const execution = await selectExecution(deps.db, part.execution_id)
      if (execution?.status !== 'running') {
        logger.info(
          { status: execution?.status ?? 'missing' },
          'part of an execution that is no longer running; nothing to do',
        )
        return { ...part, status: 'skipped', worker_id: deps.workerId }
      }
      if (execution.cancel_requested_at) {
        // The store boundary of a stop asked of the run: the part is counted done without running its
        // store (closing records it `skipped`); the last part closes the run `cancelled`.
        const remaining = await skipPart(deps.db, execution.id)
        logger.info({ remaining }, 'execution asked to stop: store skipped')
        if (remaining !== 0) return { ...part, status: 'skipped', worker_id: deps.workerId }
        const closed = await closeFinishedExecution(deps.db, execution.id, null)
        logger.info({ status: closed?.status }, 'last part skipped on a stop request: execution closed')
        await evaluateAlertsAfterRun({ db: deps.db, config: deps.config, logger })
        return { ...part, status: 'last', worker_id: deps.workerId }
      }
      const tracker = trackers.acquire(execution)
      try {
        const last = await runPart(deps, tracker, execution, part.tienda_id, logger, job.signal)
        if (!last) return { ...part, status: 'done', worker_id: deps.workerId }
        const closed = await tracker.finishExecution()
        logger.info(
          {
            status: closed.status,
            tiendas_exitosas: closed.tiendas_exitosas,
            tiendas_fallidas: closed.tiendas_fallidas,
          },
          'last part finished: execution closed',
        )
        await evaluateAlertsAfterRun({ db: deps.db, config: deps.config, logger, boss: deps.boss })
        return { ...part, status: 'last', worker_id: deps.workerId }
      } finally {
        trackers.release(execution.id)
      }
    },
  )
}

/**
 * `abandon` is pg-boss's signal for the part: aborted when pg-boss gave it up (past the shutdown grace,
 * or expired) and will hand it to a runner again — the store stops where it is and records nothing.
 */
async function runPart(
  deps: PartDeps,
  tracker: ExecutionTracker,
  execution: ExecutionRow,
  tiendaId: string,
  logger: Logger,
  abandon: AbortSignal,
): Promise<boolean> {
  // Shutdown: no new retry starts, and a wait for the store's lock ends (the part is retried elsewhere).
  const signal = AbortSignal.any([abandon, deps.shutdown])
  const [tienda] = await selectTiendas(deps.db, execution.etl_name, [tiendaId])
  if (!tienda?.active || !tienda.has_feed) {
    // Deactivated (or no longer readable by this ETL) since the run was queued: closing records it skipped.
    logger.warn('store no longer active for this ETL; its part is skipped')
    return (await skipPart(deps.db, execution.id)) === 0
  }
  const window =
    execution.fecha_desde && execution.fecha_hasta
      ? { desde: execution.fecha_desde, hasta: execution.fecha_hasta }
      : null
  if (execution.etl_name === 'ventas' && !window) throw new Error(`execution ${execution.id} has no window`)
  const job: StoreJob = {
    etlName: execution.etl_name,
    executionId: execution.id,
    window,
    tracker,
    loadDb: deps.db,
    config: deps.config,
    retry: { retries: deps.config.SOURCE_RETRIES, baseMs: deps.config.SOURCE_RETRY_BASE_MS },
    logger,
    signal,
    abandon,
    progress: () => {},
    fannedOut: true,
  }
  const onWait = (busy: string[]) => logger.info({ tiendas: busy }, 'waiting for another run to release the store')
  // A source per part, like a run of its own: a fresh connect (its latency is the store's diagnostics).
  const sources = sourceCache(deps.config)
  try {
    const { last, alreadyDone } = await withStoreLocks(
      deps.db,
      execution.etl_name,
      [tiendaId],
      { signal, onWait },
      () => runTienda(job, tienda, sources.get(tienda.source_system)),
    )
    if (!alreadyDone) return last
    // The store finished in an earlier attempt of this part, which then failed before closing the run
    // (a deadlock on the statistics rollups, a lost connection): if no part is pending, close it now.
    const now = await selectPartsPending(deps.db, execution.id)
    return now?.status === 'running' && now.parts_pending === 0
  } finally {
    await sources.close()
  }
}

/**
 * One tracker per execution in this process, shared by its parts running here: one heartbeat per
 * execution (not per part) while any of its parts runs in this process.
 */
function attachedTrackers(deps: PartDeps) {
  const held = new Map<number, { tracker: ExecutionTracker; parts: number }>()
  return {
    acquire(execution: ExecutionRow): ExecutionTracker {
      let entry = held.get(execution.id)
      if (!entry) {
        const tracker = new ExecutionTracker({
          db: deps.db,
          logger: deps.logger,
          heartbeatSeconds: deps.config.RUNNER_HEARTBEAT_S,
          secrets: configuredSecrets(deps.config),
        })
        tracker.attach(execution)
        entry = { tracker, parts: 0 }
        held.set(execution.id, entry)
      }
      entry.parts++
      return entry.tracker
    },
    release(executionId: number) {
      const entry = held.get(executionId)
      if (!entry || --entry.parts > 0) return
      entry.tracker.stopHeartbeat()
      held.delete(executionId)
    },
  }
}
