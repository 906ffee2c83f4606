// The runner's configuration, read once from the environment by main.ts / cli.ts and passed
// down as a value. A bad variable stops the process with a message that names it.
import { IANAZone } from 'luxon'
import { z } from 'zod'

const isTimeZone = (tz: string) => IANAZone.isValidZone(tz)

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback)

export const runnerConfigSchema = z
  .object({
    // Unset → the embedded PostgreSQL that `npm start` runs on EMBEDDED_PG_PORT (DESIGN §9).
    DATABASE_URL: z.string().min(1).optional(),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    SOURCE_CONNECT_TIMEOUT_MS: positiveInt(10_000),
    SOURCE_REQUEST_TIMEOUT_MS: positiveInt(90_000),
    SOURCE_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    // 8: the best wall for 19 stores behind a 150 ms VPN and 0.59× the wall of 4 for 1,000 (npm run bench, vpn section).
    ETL_CONCURRENCY: positiveInt(8),
    /** First backoff before retrying a store after a transient error; doubles per attempt, with jitter. */
    SOURCE_RETRY_BASE_MS: positiveInt(500),
    /** statement_timeout of the load's statements: a write that hangs fails as load/pg_timeout. */
    LOAD_STATEMENT_TIMEOUT_MS: positiveInt(300_000),
    /** Rows per INSERT … SELECT FROM unnest(…) inside a store's load transaction. */
    LOAD_CHUNK_ROWS: positiveInt(10_000),
    KLK_API_TOKEN: z.string().default(''),
    STELLAR_USER: z.string().default(''),
    STELLAR_PASSWORD: z.string().default(''),
    STELLAR_DATABASE: z.string().default('stellar'),
    RUNNER_HEARTBEAT_S: positiveInt(10),
    RUNNER_STALE_AFTER_S: positiveInt(60),
    /** On SIGTERM, how long in-flight runs get to finish their current stores before they are closed. */
    RUNNER_SHUTDOWN_GRACE_S: positiveInt(10),
    /** Prometheus text on http://RUNNER_METRICS_HOST:RUNNER_METRICS_PORT/metrics; unset → no endpoint (0: any free port). */
    RUNNER_METRICS_PORT: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.coerce.number().int().min(0).max(65535).optional(),
    ),
    RUNNER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    VENTAS_CRON: z.string().default('*/30 * * * *'),
    INVENTARIO_CRON: z.string().default('0 * * * *'),
    /** How far back a scheduled ventas run reaches (minutes): the last slot plus a margin. */
    VENTAS_WINDOW_MIN: positiveInt(60),
    TZ_TIENDAS: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as America/Caracas')
      .default('America/Caracas'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    // Alerts of plan §8.3, evaluated after every execution (alerts/evaluate-alerts.ts). Unset or empty
    // ALERT_WEBHOOK_URL: alerts are stored and shown by the API, nothing is posted.
    ALERT_WEBHOOK_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    ),
    ALERT_MIN_SUCCESS_RATE: z.coerce.number().min(0).max(100).default(80),
    ALERT_MAX_CONSECUTIVE_FAILURES: positiveInt(5),
    /** Bound of one webhook post (connect, headers and body): a slow receiver never holds a run up longer. */
    ALERT_WEBHOOK_TIMEOUT_MS: positiveInt(3000),
    /** HMAC-SHA256 key of the X-Fluxion-Signature header on every webhook post; unset → posts go unsigned (warned). */
    ALERT_WEBHOOK_SECRET: z.string().default(''),
    /** Posts per delivery before it is given up on (the first one included), retried by pg-boss with backoff. */
    ALERT_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    /** Wait before the first retry of a failed post; doubles per retry, at most 10 min. */
    ALERT_DELIVERY_RETRY_DELAY_S: positiveInt(10),
    // Automatic gap recovery (gaps/auto-recovery.ts): a pass per RECOVERY_CRON (`off`: none from this
    // runner), at most RECOVERY_BATCH gaps per pass, oldest first; a store is probed with a TCP connect
    // of RECOVERY_PROBE_TIMEOUT_MS first; a gap waits RECOVERY_BACKOFF_BASE_S × 2^(attempts−1) (capped at
    // RECOVERY_BACKOFF_MAX_S) between attempts and is given up on after RECOVERY_MAX_ATTEMPTS.
    RECOVERY_CRON: z.string().default('* * * * *'),
    RECOVERY_BATCH: positiveInt(20),
    /** Failures older than this (hours) are left to operators: the pass reads only recent history. */
    RECOVERY_MAX_AGE_H: positiveInt(7 * 24),
    RECOVERY_MAX_ATTEMPTS: positiveInt(8),
    RECOVERY_BACKOFF_BASE_S: positiveInt(300),
    RECOVERY_BACKOFF_MAX_S: positiveInt(6 * 3600),
    RECOVERY_PROBE_TIMEOUT_MS: positiveInt(3000),
    // incidente_red: at least this many stores of one run failing with network categories, and at
    // least this share (%) of the stores it attempted.
    ALERT_NETWORK_MIN_STORES: positiveInt(3),
    ALERT_NETWORK_MIN_PCT: z.coerce.number().gt(0).max(100).default(30),
    // tienda_sin_datos: rows below this share (%) of the median of the same weekday-hour windows of
    // the previous ALERT_NO_DATA_WEEKS weeks; fewer than ALERT_NO_DATA_MIN_WEEKS weeks with such a
    // window → no baseline, nothing raised.
    ALERT_NO_DATA_MIN_PCT: z.coerce.number().gt(0).max(100).default(20),
    ALERT_NO_DATA_WEEKS: z.coerce.number().int().min(1).max(26).default(8),
    ALERT_NO_DATA_MIN_WEEKS: z.coerce.number().int().min(1).max(26).default(4),
    // tienda_intermitente: at least this many failures among the store's last ALERT_FLAPPING_RUNS runs.
    ALERT_FLAPPING_FAILURES: positiveInt(4),
    ALERT_FLAPPING_RUNS: z.coerce.number().int().min(2).max(100).default(10),
    // History retention (jobs/maintenance-job.ts): keep the newest N months of etl_executions and
    // etl_execution_details (the current month counts as one), dropped as whole monthly partitions by
    // the daily upkeep. Unset: keep everything. The statistics rollups keep the dropped months.
    RETENTION_MONTHS: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.coerce.number().int().min(1, 'must be at least 1 (the current month); unset keeps everything').optional(),
    ),
  })
  .superRefine((c, ctx) => {
    if (c.ALERT_NO_DATA_MIN_WEEKS > c.ALERT_NO_DATA_WEEKS)
      ctx.addIssue({
        code: 'custom',
        path: ['ALERT_NO_DATA_MIN_WEEKS'],
        message: 'must not exceed ALERT_NO_DATA_WEEKS',
      })
    if (c.ALERT_FLAPPING_FAILURES > c.ALERT_FLAPPING_RUNS)
      ctx.addIssue({
        code: 'custom',
        path: ['ALERT_FLAPPING_FAILURES'],
        message: 'must not exceed ALERT_FLAPPING_RUNS',
      })
  })
  .transform(({ EMBEDDED_PG_PORT, ...c }) => ({
    ...c,
    DATABASE_URL: c.DATABASE_URL ?? `postgres://fluxion:fluxion@127.0.0.1:${EMBEDDED_PG_PORT}/fluxion`,
  }))

export type RunnerConfig = z.infer<typeof runnerConfigSchema>

export function parseRunnerConfig(env: NodeJS.ProcessEnv): RunnerConfig {
  const result = runnerConfigSchema.safeParse(env)
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new Error(`invalid runner configuration:\n${lines.join('\n')}`)
  }
  return result.data
}
