// One runner: pg-boss (queues, cron schedules, workers) plus the reaper, over one PostgreSQL pool.
// main.ts wraps it in a process (environment, logging, signals); tests start several in one process.
import { hostname } from 'node:os'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { RunnerConfig } from './config.ts'
import { type Reaper, startReaper } from './executions/reaper.ts'
import { type BossTiming, createBoss, syncQueueSettings } from './jobs/boss.ts'
import { scheduleInventario, workInventario } from './jobs/inventario.ts'
import { workTiendas } from './jobs/tienda-job.ts'
import { scheduleVentas, workVentas } from './jobs/ventas.ts'

export type RunnerOptions = {
  config: RunnerConfig
  logger: Logger
  db: Sql
  /** Tests: faster pg-boss cron/supervision; also lets a test start a runner without cron. */
  bossTiming?: BossTiming & { schedule?: boolean }
  workerId?: string
}

export type Runner = {
  boss: PgBoss
  reaper: Reaper
  workerId: string
  /** Graceful stop; resolves once every in-flight run has closed its execution (or was closed). */
  stop: (reason: string) => Promise<void>
}

export async function startRunner({ config, logger, db, bossTiming, workerId: wid }: RunnerOptions): Promise<Runner> {
  const workerId = wid ?? `${hostname()}:${process.pid}`
  const { schedule = true, ...timing } = bossTiming ?? {}
  // pg-boss fails a job whose heartbeat stopped only in a supervision pass's monitor step (both
  // every 60 s by default): run them at the tracker's heartbeat so a killed runner's parts go back
  // to the queue within one heartbeat of being declared dead, not a minute or two later.
  timing.superviseIntervalSeconds ??= config.RUNNER_HEARTBEAT_S
  timing.monitorIntervalSeconds ??= config.RUNNER_HEARTBEAT_S
  const boss = createBoss(config.DATABASE_URL, { schedule, timing, applicationName: `fluxion-runner-boss ${workerId}` })
  // pg-boss reports background trouble (a maintenance pass during a PostgreSQL restart…) as
  // events; unhandled they would crash the process, logged they are retried on the next pass.
  boss.on('error', (err) => logger.error({ err }, 'pg-boss error'))
  boss.on('warning', (w) => logger.warn({ data: w.data }, w.message))

  const shutdown = new AbortController()
  await boss.start()
  await syncQueueSettings(boss, config)
  if (schedule) {
    await scheduleVentas(boss, config)
    await scheduleInventario(boss, config)
  }
  const deps = { db, boss, config, logger, workerId, shutdown: shutdown.signal }
  await workVentas(boss, deps)
  await workInventario(boss, deps)
  await workTiendas(boss, deps)
  const reaper = startReaper({
    db,
    logger,
    intervalS: config.RUNNER_HEARTBEAT_S,
    staleAfterS: config.RUNNER_STALE_AFTER_S,
  })

  let stopping: Promise<void> | undefined
  const stop = (reason: string) => {
    stopping ??= (async () => {
      // No new jobs; the stores in hand finish. Stores not started stay queued for any runner.
      shutdown.abort(new Error(reason))
      await reaper.stop()
      // graceful: no new fetches, wait for the handlers; past the grace pg-boss fails their jobs and
      // aborts their signals: a store part is retried by whichever runner takes it next (it takes the
      // store's row over as its next attempt), so its execution is neither lost nor closed early.
      await boss.stop({ graceful: true, timeout: config.RUNNER_SHUTDOWN_GRACE_S * 1000 })
    })()
    return stopping
  }
  return { boss, reaper, workerId, stop }
}
