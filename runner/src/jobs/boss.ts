// pg-boss 12 for the runner: its own schema (`pgboss`) in the application database, one queue per
// ETL. PostgreSQL is the only thing runners share, so every guarantee below is enforced there.
import { PgBoss, type Queue, type SchedulingOptions } from 'pg-boss'
import type { RunnerConfig } from '../config.ts'
import type { components } from '../generated/openapi.ts'

export const BOSS_SCHEMA = 'pgboss'

export type EtlName = components['schemas']['EtlName']

/** Queue per ETL (openapi EtlQueue, created by migrations/044); the history API sends runs to them. */
export const QUEUES = { ventas: 'etl-ventas', inventario: 'etl-inventario' } as const satisfies Record<
  EtlName,
  components['schemas']['EtlQueue']
>

/** The stores of fanned-out runs, one job each, any runner (migrations/047; jobs/tienda-job.ts). */
export const STORE_QUEUE = 'etl-tienda' satisfies components['schemas']['EtlQueue']

/** The automatic gap recovery passes, one at a time across all runners (migrations/075; gaps/recovery-job.ts). */
export const RECOVERY_QUEUE = 'etl-recovery' satisfies components['schemas']['EtlQueue']

/** Webhook deliveries of alerts, any runner, retried with backoff (migrations/076; jobs/alert-delivery-job.ts). */
export const ALERT_DELIVERY_QUEUE = 'alert-delivery' satisfies components['schemas']['EtlQueue']

/** The history's daily upkeep: months created ahead, RETENTION_MONTHS applied (migrations/085; jobs/maintenance-job.ts). */
export const MAINTENANCE_QUEUE = 'etl-maintenance' satisfies components['schemas']['EtlQueue']

/** One pass at a time; one that could not get its locks (lock_timeout) is retried later the same day. */
export const maintenanceQueueOptions = {
  policy: 'singleton',
  retryLimit: 3,
  retryDelay: 600,
  expireInSeconds: 900,
  deleteAfterSeconds: 7 * 24 * 3600,
} as const satisfies Omit<Queue, 'name'>

export function deliveryQueueOptions(config: RunnerConfig) {
  return {
    policy: 'standard',
    retryLimit: config.ALERT_DELIVERY_ATTEMPTS - 1,
    retryDelay: config.ALERT_DELIVERY_RETRY_DELAY_S,
    retryBackoff: true,
    retryDelayMax: 600,
    expireInSeconds: 120,
    deleteAfterSeconds: 7 * 24 * 3600,
  } as const satisfies Omit<Queue, 'name'>
}

/** A pass is a few statements and TCP probes; one that fails or hangs is simply the next occurrence's to redo. */
export const recoveryQueueOptions = {
  policy: 'singleton',
  retryLimit: 0,
  expireInSeconds: 600,
  deleteAfterSeconds: 24 * 3600,
} as const satisfies Omit<Queue, 'name'>

/**
 * Queue settings, inherited by every job sent to the queue (the API sends without options).
 *
 * - `singleton`: at most one *active* job per queue, enforced by a partial unique index in
 *   pg-boss's own table, so two runners can never work two ventas jobs at once; the others
 *   wait queued. Per-store advisory locks (store-locks.ts) cover what the queue cannot see:
 *   CLI runs and a worker that pg-boss wrongly believes dead.
 * - `heartbeatSeconds`: pg-boss touches an active job while its handler runs; a job whose
 *   worker was killed is handed back for retry after this long instead of after
 *   `expireInSeconds` (15 min by default). pg-boss wants ≥ 10 s; it follows the reaper's
 *   threshold so both sides declare the same worker dead at about the same time.
 * - `expireInSeconds`: a run that is still going after an hour is hung (19 stores, 4 at a time,
 *   each bounded by its timeouts and retries, take minutes at worst); pg-boss aborts the
 *   handler through job.signal and retries.
 * - retries: a job is retried when its worker died (heartbeat) or its run could not be recorded
 *   (PostgreSQL restarting, …): soon (5–10 s), then backing off. A run that finished failed is
 *   a recorded outcome, not retried.
 */
export function queueOptions(config: RunnerConfig): Omit<Queue, 'name'> {
  return {
    policy: 'singleton',
    retryLimit: 3,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 600,
    expireInSeconds: 3600,
    heartbeatSeconds: Math.max(10, config.RUNNER_STALE_AFTER_S),
    deleteAfterSeconds: 7 * 24 * 3600,
  }
}

export type BossTiming = SchedulingOptions & {
  superviseIntervalSeconds?: number
  monitorIntervalSeconds?: number
}

export type CreateBossOptions = {
  /** false for a process that only sends (pitfall 9) or only works: no cron, no supervision. */
  schedule?: boolean
  supervise?: boolean
  /** Tests shorten pg-boss's cron and supervision timers; production keeps the defaults. */
  timing?: BossTiming
  applicationName?: string
}

export function createBoss(url: string, options: CreateBossOptions = {}): PgBoss {
  return new PgBoss({
    connectionString: url,
    schema: BOSS_SCHEMA,
    application_name: options.applicationName ?? 'fluxion-runner-boss',
    max: 4,
    schedule: options.schedule ?? true,
    supervise: options.supervise ?? true,
    // `npm run migrate` owns pg-boss's schema (migrations/043…): start() only checks its version.
    migrate: false,
    ...options.timing,
  })
}

/**
 * The queues are created by `npm run migrate` (migrations/044); the runner only brings the settings it
 * derives from its configuration (heartbeat ← RUNNER_STALE_AFTER_S) up to date. A missing queue or one
 * with another policy means the schema is not the one this release expects.
 */
export async function syncQueueSettings(boss: PgBoss, config: RunnerConfig): Promise<void> {
  const queues = [
    ...Object.values(QUEUES).map((name) => ({ name, ...queueOptions(config) })),
    { name: STORE_QUEUE, ...queueOptions(config), policy: 'standard' as const },
    { name: RECOVERY_QUEUE, ...recoveryQueueOptions },
    { name: ALERT_DELIVERY_QUEUE, ...deliveryQueueOptions(config) },
    { name: MAINTENANCE_QUEUE, ...maintenanceQueueOptions },
  ]
  for (const { name, policy, ...settings } of queues) {
    const existing = await boss.getQueue(name)
    if (!existing) throw new Error(`pg-boss queue ${name} does not exist: run \`npm run migrate\``)
    if (existing.policy !== policy) {
      // A queue created by hand or by an older release: the overlap guarantee would silently be gone.
      throw new Error(`pg-boss queue ${name} has policy ${existing.policy}, expected ${policy}; delete it to recreate`)
    }
    await boss.updateQueue(name, settings)
  }
}
