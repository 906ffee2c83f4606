// Dead workers: every runner sweeps for executions whose heartbeat went stale (reaper.sql.ts) every
// RUNNER_HEARTBEAT_S. With the default 10 s / 60 s an execution of a killed runner is closed at most
// ~70 s after its last heartbeat, usually ~60 s; pg-boss alone would wait out expireInSeconds.
//
// The pg-boss job of that dead worker is handed back by pg-boss (queue heartbeatSeconds, boss.ts)
// and retried; what the retry does with the reaped execution is decided in jobs/etl-job.ts.
import type { Logger } from 'pino'
import type { Db } from './db.ts'
import { deleteOrphanStaging, markStaleExecutionsFailed, type ReapedExecution } from './reaper.sql.ts'

export type ReaperOptions = {
  db: Db
  logger: Logger
  intervalS: number
  staleAfterS: number
}

export type Reaper = { stop: () => Promise<void>; sweep: () => Promise<ReapedExecution[]> }

export function startReaper({ db, logger, intervalS, staleAfterS }: ReaperOptions): Reaper {
  let running: Promise<ReapedExecution[]> | undefined
  let stopped = false

  const sweep = async (): Promise<ReapedExecution[]> => {
    // One pass at a time: a slow database must not pile passes on top of each other.
    running ??= markStaleExecutionsFailed(db, { staleAfterS })
      .then(async (reaped) => {
        await deleteOrphanStaging(db)
        for (const r of reaped) {
          logger.warn(
            { execution_id: r.id, etl_name: r.etl_name, worker_id: r.worker_id, tiendas: r.tiendas_lost },
            `execution ${r.id} closed as failed/worker_lost (phase ${r.error_phase}): no heartbeat for ${staleAfterS} s`,
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
