// Dead workers: every runner sweeps every RUNNER_HEARTBEAT_S for executions whose heartbeat went stale
// and closes them as worker_lost (executions/close.sql.ts). With the default 10 s / 60 s an execution
// of a killed runner is closed at most ~70 s after its last heartbeat, usually ~60 s; pg-boss alone
// would wait out expireInSeconds. The dead worker's pg-boss job is handed back by pg-boss (queue
// heartbeatSeconds, jobs/boss.ts) and retried; what the retry does is decided in jobs/etl-job.ts.
//
// The same pass closes queued executions whose pg-boss job ended without running them (cancelled,
// expired, out of retries, deleted) — left queued they would block every later run of their stores
// (409) — and clears staging rows of runs that no longer run.
import type { Logger } from 'pino'
import type { Db } from '../db.ts'
import { deleteOrphanStaging } from '../etl/load.sql.ts'
import { BOSS_SCHEMA, QUEUES } from '../jobs/boss.ts'
import { reaperClosures } from '../metrics.ts'
import { closeAbandonedQueuedExecutions, closeStaleExecutions } from './close.sql.ts'
import type { ExecutionRow } from './execution-row.ts'

/** A queued execution without a job_id is given this long before it is deemed abandoned. */
export const QUEUED_WITHOUT_JOB_GRACE_S = 600

export type ReaperOptions = {
  db: Db
  logger: Logger
  intervalS: number
  staleAfterS: number
}

export type Reaper = { stop: () => Promise<void>; sweep: () => Promise<ExecutionRow[]> }

export function startReaper({ db, logger, intervalS, staleAfterS }: ReaperOptions): Reaper {
  let running: Promise<ExecutionRow[]> | undefined
  let stopped = false

  const closeQueued = async () => {
    // Its own catch: trouble here (pg-boss's schema missing…) must not hide the stale-run pass's result.
    const closed = await closeAbandonedQueuedExecutions(db, {
      graceS: QUEUED_WITHOUT_JOB_GRACE_S,
      bossSchema: BOSS_SCHEMA,
      queues: QUEUES,
    }).catch((error: unknown) => {
      logger.error({ err: error }, 'reaper could not close abandoned queued executions')
      return []
    })
    if (closed.length) reaperClosures.inc({ reason: 'queued_without_job' }, closed.length)
    for (const c of closed) {
      logger.warn(
        { execution_id: c.id, etl_name: c.etl_name, job_id: c.job_id },
        `queued execution ${c.id} closed as failed: ${c.error_message}`,
      )
    }
  }

  const sweep = async (): Promise<ExecutionRow[]> => {
    // One pass at a time: a slow database must not pile passes on top of each other.
    running ??= closeStaleExecutions(db, { staleAfterS })
      .then(async (reaped) => {
        await deleteOrphanStaging(db)
        await closeQueued()
        if (reaped.length) reaperClosures.inc({ reason: 'worker_lost' }, reaped.length)
        for (const r of reaped) {
          logger.warn(
            { execution_id: r.id, etl_name: r.etl_name, worker_id: r.worker_id, status: r.status },
            `execution ${r.id} closed as worker_lost (phase ${r.error_phase}): no heartbeat for ${staleAfterS} s`,
          )
        }
        return reaped
      })
      .catch((error: unknown) => {
        // The database may be restarting; the next pass tries again.
        logger.error({ err: error }, 'reaper pass failed')
        return []
      })
      .finally(() => {
        running = undefined
      })
    return running
  }

  void sweep()
  const timer = setInterval(() => {
    if (!stopped) void sweep()
  }, intervalS * 1000)
  timer.unref()

  return {
    sweep,
    stop: async () => {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
