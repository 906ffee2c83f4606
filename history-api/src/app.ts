// The history API as a value: built from its dependencies (pools, clock, auth settings, the
// job sender), so tests drive it with app.request() and main.ts serves it.
import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import pino, { type Logger } from 'pino'
import type { Sql, TransactionSql } from 'postgres'
import { pendingMigrations } from '../../scripts/lib/migrations.ts'
import type { JobSender } from '../../scripts/lib/queue-run.ts'
import { alertsRoutes } from './alerts/alerts.routes.ts'
import { type AuthSettings, requireSuperAdmin } from './auth.ts'
import { closuresRoutes } from './closures/closures.routes.ts'
import { etlConfigRoutes } from './etl-config/etl-config.routes.ts'
import { createEventHub, type EventHub } from './events/event-hub.ts'
import { eventsRoutes } from './events/events.routes.ts'
import { executionsRoutes } from './executions/executions.routes.ts'
import { exportRoutes } from './executions/export.routes.ts'
import { freshnessRoutes } from './freshness/freshness.routes.ts'
import { gapsRoutes } from './gaps/gaps.routes.ts'
import { type Listen, listenOnPool } from './listen.ts'
import { loginRoutes } from './login/login.routes.ts'
import type { RateLimiter } from './login/rate-limit.ts'
import { documentHeader, registerSharedComponents } from './openapi.ts'
import { createMetrics, type Metrics } from './operations/metrics.ts'
import { operationsRoutes } from './operations/operations.routes.ts'
import { errorHandler, notFound, problem, refuseBody, validationHook } from './problem.ts'
import { noResponseCache, type ResponseCache } from './response-cache.ts'
import { runControlRoutes } from './runs/run-control.routes.ts'
import { runsRoutes } from './runs/runs.routes.ts'
import { schedulesRoutes } from './schedules/schedules.routes.ts'
import { statsRoutes } from './stats/stats.routes.ts'
import { tiendasRoutes } from './tiendas/tiendas.routes.ts'

export type AppDeps = {
  /** The primary: writes, LISTEN, and reads when there is no replica. */
  db: Sql
  /** A replica for history, stats and stores (DATABASE_READ_URL). */
  readDb?: Sql
  auth: AuthSettings
  boss: JobSender
  clock?: () => Date
  /** TZ_TIENDAS. */
  tz?: string
  logger?: Logger
  hub?: EventHub
  /** How the event streams LISTEN (main.ts: a new pool per attempt); the `db` pool by default. */
  listen?: Listen
  /** History list pages, details and statistics kept until the history changes (main.ts); none by default. */
  cache?: ResponseCache
  metrics?: Metrics
  loginLimiters?: { email: RateLimiter; client: RateLimiter }
  /** Test seam of POST /run: runs between the execution row and the job, inside their transaction. */
  betweenWrites?: (tx: TransactionSql) => Promise<void>
  pingMs?: number
}

/**
 * `document()` is the OpenAPI document generated from the routes' own schemas: a test compares it
 * with openapi.yaml (what GET /openapi.json serves), so the routes implement exactly the contract.
 */
export type App = OpenAPIHono & { close: () => Promise<void>; document: () => Record<string, unknown> }

export const MAX_BODY_BYTES = 64 * 1024

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => problem(c, 413, `The request body exceeds ${MAX_BODY_BYTES} bytes.`),
})

export function buildApp(deps: AppDeps): App {
  const clock = deps.clock ?? (() => new Date())
  const tz = deps.tz ?? 'America/Caracas'
  const logger = deps.logger ?? pino({ level: 'silent' })
  const read = deps.readDb ?? deps.db
  // Events are read on the primary: a replica may not have replayed the change it was notified of yet.
  const hub = deps.hub ?? createEventHub(deps.listen ?? listenOnPool(deps.db), deps.db, logger)
  const metrics = deps.metrics ?? createMetrics()
  const cache = deps.cache ?? noResponseCache

  const app = new OpenAPIHono({ defaultHook: validationHook })
  let document: Record<string, unknown> | undefined
  const served = () => {
    document ??= app.getOpenAPI31Document(documentHeader) as unknown as Record<string, unknown>
    return document
  }

  app.use('*', metrics.middleware)
  app.use('/api/etl/*', requireSuperAdmin(deps.auth, clock))
  // A write through this process (a run queued, a rerun, a closure…) drops the kept history
  // responses before it is answered: its client reads its own write at once, not after the NOTIFY.
  app.use('/api/etl/*', async (c, next) => {
    await next()
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') cache.invalidate()
  })
  app.use('/api/etl/run', limitBody)
  app.use('/api/etl/gaps/auto-recovery', limitBody)
  app.use('/api/auth/login', limitBody)
  app.post('/api/etl/gaps/:id/recover', limitBody, refuseBody)
  app.use('/api/etl/executions/:id/rerun', limitBody)
  app.post('/api/etl/executions/:id/cancel', limitBody, refuseBody)
  app.post('/api/etl/schedules/:etl/pause', limitBody, refuseBody)
  app.post('/api/etl/schedules/:etl/resume', limitBody, refuseBody)

  app.route('/', executionsRoutes({ read, tz, cache }))
  app.route('/', exportRoutes({ read, tz }))
  app.route('/', statsRoutes({ read, tz, clock, cache }))
  app.route('/', runsRoutes({ write: deps.db, boss: deps.boss, tz, clock, betweenWrites: deps.betweenWrites }))
  app.route('/', runControlRoutes({ write: deps.db, boss: deps.boss, clock }))
  app.route('/', schedulesRoutes({ read, write: deps.db, clock }))
  app.route('/', tiendasRoutes({ read }))
  app.route('/', closuresRoutes({ read, write: deps.db }))
  app.route('/', etlConfigRoutes({ tz }))
  app.route('/', freshnessRoutes({ read, clock }))
  app.route('/', alertsRoutes({ read }))
  app.route('/', gapsRoutes({ read, write: deps.db, boss: deps.boss, clock }))
  app.route('/', eventsRoutes({ hub, pingMs: deps.pingMs }))
  app.route('/', loginRoutes({ write: deps.db, auth: deps.auth, clock, limiters: deps.loginLimiters }))
  app.route(
    '/',
    operationsRoutes({
      pools: deps.readDb ? [deps.db, deps.readDb] : [deps.db],
      pendingMigrations: () => pendingMigrations(deps.db),
      metrics,
    }),
  )
  registerSharedComponents(app)

  app.notFound(notFound)
  app.onError(errorHandler(logger))
  return Object.assign(app, {
    close: async () => {
      await Promise.all([hub.close(), cache.close()])
    },
    document: served,
  })
}
