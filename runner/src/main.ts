// `npm run start:runner` — the long-running worker. Reads the environment (the only place that
// does), then runs pg-boss schedules and workers and the reaper until SIGTERM/SIGINT.
// Applies no migrations: `npm run migrate` owns the schema, pg-boss's included; on a database that is
// behind it stops at once with that instruction instead of retrying.
import type { Logger } from 'pino'
import { pendingMigrations, schemaBehindMessage } from '../../scripts/lib/migrations.ts'
import { parseRunnerConfig, type RunnerConfig } from './config.ts'
import { connect } from './db.ts'
import { ignorePostgresJsSocketBug } from './driver-guard.ts'
import { createLogger } from './logger.ts'
import { type Runner, startRunner } from './runner.ts'

/** A signal within this long of the first is the same request (npm and the terminal both send one). */
const DUPLICATE_SIGNAL_MS = 2000

function readConfig(): RunnerConfig {
  try {
    return parseRunnerConfig(process.env)
  } catch (error) {
    process.stderr.write(`runner: ${(error as Error).message}\n`)
    process.exit(1)
  }
}

async function main() {
  const config = readConfig()
  const logger = createLogger(config.LOG_LEVEL)
  ignorePostgresJsSocketBug(logger)
  // Each store in hand holds a connection for its store lock and uses another for its statements and
  // its load transaction: twice the stores at once, plus the reaper, heartbeats and the job handlers.
  const db = connect(config.DATABASE_URL, { applicationName: 'fluxion-runner', max: 2 * config.ETL_CONCURRENCY + 4 })

  const pending = await pendingMigrations(db).catch((error: Error) => {
    logger.fatal({ err: error }, `cannot reach PostgreSQL: ${error.message}`)
    return null
  })
  if (pending === null || pending.length > 0) {
    if (pending?.length) logger.fatal({ pending }, schemaBehindMessage(pending))
    await db.end({ timeout: 1 })
    process.exit(1)
  }

  const runner = await startRunner({ config, logger, db })
  logger.info(
    {
      worker_id: runner.workerId,
      ventas_cron: config.VENTAS_CRON,
      inventario_cron: config.INVENTARIO_CRON,
      tz: config.TZ_TIENDAS,
      etl_concurrency: config.ETL_CONCURRENCY,
      heartbeat_s: config.RUNNER_HEARTBEAT_S,
      stale_after_s: config.RUNNER_STALE_AFTER_S,
      metrics_url: runner.metrics?.url ?? null,
    },
    'runner started: working etl-ventas and etl-inventario',
  )
  handleSignals(runner, logger, async () => {
    await db.end({ timeout: 5 })
  })
}

function handleSignals(runner: Runner, logger: Logger, closeDb: () => Promise<void>) {
  let firstAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === 0) {
      firstAt = Date.now()
      logger.info({ signal }, 'stopping: no new jobs; runs in progress finish their current stores')
      void runner
        .stop(`received ${signal}`)
        .then(closeDb)
        .then(
          () => {
            logger.info('runner stopped')
            process.exit(0)
          },
          (err: unknown) => {
            logger.error({ err }, 'unclean stop')
            process.exit(1)
          },
        )
      return
    }
    if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return
    // Runs left behind are closed by another runner's reaper once their heartbeat goes stale.
    logger.warn({ signal }, 'second signal: exiting now without waiting for runs in progress')
    process.exit(130)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

main().catch((error: unknown) => {
  process.stderr.write(`runner: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
