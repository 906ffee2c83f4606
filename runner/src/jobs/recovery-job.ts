// Queue `etl-recovery`: the automatic gap recovery pass (gaps/auto-recovery.ts) — schedule and handler.
// Every runner registers the RECOVERY_CRON schedule (one upsert, so N runners keep one schedule) and
// works the queue; the queue's singleton policy keeps passes from overlapping across all of them.
// The payload is the cron's and carries nothing the pass needs.
import type { Job, PgBoss } from 'pg-boss'
import { recoveryPass } from '../gaps/auto-recovery.ts'
import { RECOVERY_QUEUE } from './boss.ts'
import { type JobDeps, registerSchedule } from './etl-job.ts'

export type RecoveryJobDeps = Pick<JobDeps, 'db' | 'config' | 'logger'> & {
  boss: Pick<PgBoss, 'send'>
  onAlertChanges?: Parameters<typeof recoveryPass>[0]['onAlertChanges']
}

export function scheduleRecovery(boss: PgBoss, deps: Pick<JobDeps, 'config'>) {
  return registerSchedule(boss, RECOVERY_QUEUE, deps.config.RECOVERY_CRON, deps.config.TZ_TIENDAS)
}

export function workRecovery(boss: PgBoss, deps: RecoveryJobDeps) {
  return boss.work(RECOVERY_QUEUE, { batchSize: 1, localConcurrency: 1 }, async ([job]: Job<unknown>[]) => {
    const logger = deps.logger.child({ job_id: job?.id, queue: RECOVERY_QUEUE })
    const pass = await recoveryPass({ ...deps, logger })
    const summary = {
      paused: pass.paused,
      queued: pass.queued.length,
      unanswered: pass.unanswered.length,
      exhausted: pass.exhausted.length,
      alerts: pass.alerts.length,
    }
    if (summary.queued || summary.exhausted || summary.alerts) logger.info(summary, 'gap recovery pass done')
    return summary
  })
}
