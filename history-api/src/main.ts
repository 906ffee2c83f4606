// `npm run start:api`: the only place that reads the environment. Serves the app on
// HISTORY_API_PORT, sends manual runs through pg-boss (send-only: no supervision, no cron, no
// migration — `npm run migrate` owns every schema, pg-boss's and its queues included, so the API
// starts and queues runs on a freshly migrated database before any runner) and stops cleanly on
// SIGINT/SIGTERM.
import { serve } from '@hono/node-server'
import { PgBoss } from 'pg-boss'
import pino from 'pino'
import type { Sql } from 'postgres'
import { pendingMigrations, schemaBehindMessage } from '../../scripts/lib/migrations.ts'
import { buildApp } from './app.ts'
import { authSettings } from './auth.ts'
import { realignCierres } from './closures/closures.sql.ts'
import { type ApiConfig, parseApiConfig } from './config.ts'
import { connect } from './db.ts'
import { ignorePostgresJsSocketBug } from './driver-guard.ts'
import { listenOnNewPools } from './listen.ts'
import { createMetrics } from './operations/metrics.ts'
import { createResponseCache, historyChanges } from './response-cache.ts'

let config: ApiConfig
try {
  config = parseApiConfig(process.env)
} catch (error) {
  process.stderr.write(`history-api: ${(error as Error).message}\n`)
  process.exit(1)
}
const logger = pino({
  level: config.LOG_LEVEL,
  base: { service: 'history-api' },
  // pg's errors (raised inside pg-boss) carry the whole client object: keep the error, drop that.
  serializers: { err: (err: Error) => ({ ...pino.stdSerializers.err(err), client: undefined }) },
})
ignorePostgresJsSocketBug(logger)
const db = connect(config.DATABASE_URL, { max: 10 })
const readDb = config.DATABASE_READ_URL ? connect(config.DATABASE_READ_URL, { max: 10 }) : undefined

/** Daily statistics buckets and store closures follow TZ_TIENDAS (migrations 036, 080). */
async function syncStatsTimeZone(sql: Sql, tz: string) {
  const [row] = await sql<{ tz: string }[]>`select tz from etl_stats_config`
  if (row?.tz === tz) return
  logger.info({ from: row?.tz, to: tz }, 're-bucketing daily statistics for TZ_TIENDAS')
  await sql`select etl_stats_set_timezone(${tz})`
  await realignCierres(sql, tz)
}

/** Stops at once, with the instruction, when the schema is behind (it is `npm run migrate`'s, pg-boss's included). */
async function checkSchema(sql: Sql) {
  const pending = await pendingMigrations(sql).catch((error: Error) => {
    logger.fatal({ err: error }, `cannot reach PostgreSQL: ${error.message}`)
    process.exit(1)
  })
  if (pending.length > 0) {
    logger.fatal({ pending }, schemaBehindMessage(pending))
    process.exit(1)
  }
}

await checkSchema(db)
await syncStatsTimeZone(db, config.TZ_TIENDAS)
// Send-only (TOOLCHAIN pitfall 9): no supervision, no cron, no schema changes — its version is checked.
const boss = new PgBoss({
  connectionString: config.DATABASE_URL,
  schema: 'pgboss',
  application_name: 'fluxion-history-api-boss',
  max: 2,
  supervise: false,
  schedule: false,
  migrate: false,
})
boss.on('error', (err) => logger.error({ err }, 'pg-boss error'))
await boss.start()
const metrics = createMetrics({ defaultMetrics: true })
// Each LISTEN (event streams, kept responses) on a connection of its own, made anew when it fails.
const listen = listenOnNewPools(() =>
  connect(config.DATABASE_URL, { max: 1, applicationName: 'fluxion-history-api-listen' }),
)
const cache =
  config.HISTORY_API_CACHE_MB > 0 && !readDb
    ? createResponseCache(historyChanges(listen), {
        maxBytes: config.HISTORY_API_CACHE_MB * 1024 * 1024,
        registry: metrics.registry,
        logger,
      })
    : undefined
const app = buildApp({
  db,
  readDb,
  boss,
  auth: authSettings(config),
  tz: config.TZ_TIENDAS,
  logger,
  metrics,
  cache,
  listen,
})
const server = serve({ fetch: app.fetch, port: config.HISTORY_API_PORT, hostname: config.HISTORY_API_HOST }, (info) =>
  logger.info({ port: info.port }, `history-api listening on http://127.0.0.1:${info.port} (docs at /docs)`),
)

server.on('error', (error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? ` (port ${config.HISTORY_API_PORT} is taken: set HISTORY_API_PORT)` : ''
  logger.fatal({ err: error }, `history-api cannot listen${hint}`)
  process.exit(1)
})

let stopping = false
function shutdown(signal: string) {
  if (stopping) return // npm forwards the signal and the terminal sends it too
  stopping = true
  void (async () => {
    logger.info({ signal }, 'stopping')
    // Event streams never end by themselves: close them rather than wait for clients.
    await app.close().catch(() => {})
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
    })
    await boss.stop({ graceful: false }).catch(() => {})
    await Promise.all([db.end({ timeout: 5 }), readDb?.end({ timeout: 5 })])
    process.exit(0)
  })()
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))
