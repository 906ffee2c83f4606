// One runner: pg-boss (queues, cron schedules, workers) plus the reaper, over one PostgreSQL pool.
// main.ts wraps it in a process (environment, logging, signals); tests start several in one process.
import { hostname } from 'node:os'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { reportAlertChanges } from './alerts/evaluate-alerts.ts'
import type { RunnerConfig } from './config.ts'
import { type Reaper, startReaper } from './executions/reaper.ts'
import { createMonthsAhead } from './history/partitions.sql.ts'
import { workAlertDeliveries } from './jobs/alert-delivery-job.ts'
import { type BossTiming, createBoss, syncQueueSettings } from './jobs/boss.ts'
import { scheduleInventario, workInventario } from './jobs/inventario.ts'
import { scheduleMaintenance, workMaintenance } from './jobs/maintenance-job.ts'
import { scheduleRecovery, workRecovery } from './jobs/recovery-job.ts'
import { workTiendas } from './jobs/tienda-job.ts'
import { scheduleVentas, workVentas } from './jobs/ventas.ts'
import { watchQueues } from './metrics.ts'
import { type MetricsServer, startMetricsServer } from './metrics-server.ts'

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
  /** The Prometheus endpoint, when RUNNER_METRICS_PORT is set. */
  metrics?: MetricsServer
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
  // This month's partitions (and the next ones) exist before any run is written. Not fatal: the
  // months are usually there already (migration, earlier passes) and the daily pass retries.
  await createMonthsAhead(db).then(
    (months) => months.length && logger.info({ months }, 'history partitions created ahead'),
    (err) => logger.error({ err }, 'could not create the history partitions ahead; the daily upkeep retries'),
  )
  if (schedule) {
    await scheduleVentas(boss, config)
    await scheduleInventario(boss, config)
    await scheduleRecovery(boss, { config })
    await scheduleMaintenance(boss, config)
  }
  const deps = { db, boss, config, logger, workerId, shutdown: shutdown.signal }
  await workVentas(boss, deps)
  await workInventario(boss, deps)
  await workTiendas(boss, deps)
  await workRecovery(boss, {
    db,
    boss,
    config,
    logger,
    onAlertChanges: (changes) => reportAlertChanges({ db, config, logger, boss }, changes),
  })
  await workAlertDeliveries(boss, { db, config, logger })
  await workMaintenance(boss, { db, config, logger })
  if (config.ALERT_WEBHOOK_URL && !config.ALERT_WEBHOOK_SECRET) {
    logger.warn('ALERT_WEBHOOK_URL is set without ALERT_WEBHOOK_SECRET: webhook posts go unsigned')
  }
  const reaper = startReaper({
    db,
    logger,
    intervalS: config.RUNNER_HEARTBEAT_S,
    staleAfterS: config.RUNNER_STALE_AFTER_S,
  })

  watchQueues(db)
  const metrics =
    config.RUNNER_METRICS_PORT === undefined
      ? undefined
      : await startMetricsServer(config.RUNNER_METRICS_PORT, config.RUNNER_METRICS_HOST, logger)

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
      await metrics?.close()
    })()
    return stopping
  }
  return { boss, reaper, workerId, metrics, stop }
}
