// A month of history made by the real runner: on the first start of the demo, the last 30 days of
// scheduled runs are replayed through runEtl against the demo stores, each store's stand-in
// playing its story (story.ts) at the moment of each run. Every row is the runner's own — extract
// over real sockets, transform, load, tracker; only the timestamps are moved afterwards (shift.sql).
//
// Why the replay has its own stand-ins: connect-level faults (a VPN that drops the SYN, a refused
// port) are a listener's state, not a request's, so a store can only be "down on the 12th at 20:00"
// by switching it before that run. Doing that on the live stand-ins would break the runs that
// `npm start`, the cron or the panel make meanwhile. So the replay starts private copies of the
// stores (same ids, same data, free loopback ports) and reaches them through the runner's own
// sources, redirected; the live stand-ins stay at real time, when every story is over — which is
// why recovering a replayed gap from the panel succeeds.
//
// Progress: a log line every ~10 % and executions appearing in the panel as they finish. Resumable:
// demo_replay (migration 060) records the anchor; an interrupted replay continues at the next start
// with the runs it has not made, and a finished one is never made again.
import pino from 'pino'
import postgres from 'postgres'
import { evaluateAlertsAfterRun } from '../../runner/src/alerts/evaluate-alerts.ts'
import { parseRunnerConfig, type RunnerConfig } from '../../runner/src/config.ts'
import { runEtl } from '../../runner/src/etl/run-etl.ts'
import { createKlkSource } from '../../runner/src/sources/klk.ts'
import type { Source, SourceTienda } from '../../runner/src/sources/source.ts'
import { createStellarSource } from '../../runner/src/sources/stellar.ts'
import { markReplayed, prepareReplay, REPLAY_WORKER, shiftExecution } from './replay.sql.ts'
import { DEMO_STORES, type RunningStandIns, startStandIns } from './stores.ts'
import { localDate, momentOf, type StoryFault, storyFault, zonedInstant } from './story.ts'

export type ReplayOptions = {
  databaseUrl: string
  /** The services' environment: KLK_API_TOKEN, STELLAR_*, TZ_TIENDAS, ALERT_* as the runner reads them. */
  env: NodeJS.ProcessEnv
  log?: (line: string) => void
  days?: number
  /** Stops after the run in progress; the next call resumes. */
  signal?: AbortSignal
  /** The instant the month leads up to (default: now). Only a fresh replay reads it. */
  anchor?: Date
}

export type ReplayResult = {
  outcome: 'replayed' | 'already-replayed' | 'has-history' | 'busy' | 'aborted'
  runs: number
  seconds: number
}

type Slot = { etlName: 'ventas' | 'inventario'; at: Date }

// Two runs of each ETL a day (the cron makes 48 + 24): enough for the trend, the heatmap and the
// stores' streaks, few enough to replay a month within a minute on 2 cores (measured: README).
const SCHEDULE = [
  { etlName: 'inventario', hour: 7 },
  { etlName: 'ventas', hour: 8 },
  { etlName: 'inventario', hour: 19 },
  { etlName: 'ventas', hour: 20 },
] as const

export async function replayDemoHistory(o: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now()
  const log = o.log ?? (() => {})
  const seconds = () => Math.round((performance.now() - t0) / 100) / 10
  const config = replayConfig(o)
  // Two lanes, one per ETL, each with its own stand-ins: their runs share no statistics rows (those
  // are per ETL), so they never wait on each other; two lanes of one ETL would deadlock on them.
  const sql = postgres(o.databaseUrl, {
    max: 2 * (config.ETL_CONCURRENCY + 2) + 2,
    onnotice: () => {},
    // A month written in a minute: no WAL flush per store load. A crash loses the last runs, which
    // the resumed replay makes again.
    connection: { synchronous_commit: 'off', application_name: 'fluxion-demo-replay' },
  })
  try {
    const plan = await prepareReplay(sql, { anchor: o.anchor ?? new Date(), demoStores: DEMO_STORES.map((s) => s.id) })
    if (plan.outcome !== 'replay') return { outcome: plan.outcome, runs: 0, seconds: seconds() }
    try {
      const days = o.days ?? 30
      const slots = slotsOf(plan.anchor, days, config.TZ_TIENDAS).filter(
        (s) => !plan.done.has(`${s.etlName}|${s.at.toISOString()}`),
      )
      log(`replaying ${days} days of history: ${slots.length} runs through the runner (the panel is usable meanwhile)`)
      let made = 0
      let reported = 0
      const progress = (slot: Slot) => {
        made++
        if (made === slots.length || made - reported >= Math.ceil(slots.length / 10)) {
          reported = made
          log(`history: ${made}/${slots.length} runs (${localDate(slot.at, config.TZ_TIENDAS)})`)
        }
      }
      // A lane that fails stops the other at its next run; the error is then thrown.
      const stop = new AbortController()
      o.signal?.addEventListener('abort', () => stop.abort(), { once: true })
      const lanes = await Promise.allSettled(
        (['ventas', 'inventario'] as const).map((etl) =>
          replayLane(
            sql,
            config,
            plan.anchor,
            slots.filter((s) => s.etlName === etl),
            progress,
            stop.signal,
          ).catch((error: unknown) => {
            stop.abort()
            throw error
          }),
        ),
      )
      const failed = lanes.find((l) => l.status === 'rejected')
      if (failed) {
        const why = (failed.reason as Error)?.message ?? String(failed.reason)
        throw new Error(`the history replay failed after ${made} runs (the next start resumes it): ${why}`, {
          cause: failed.reason,
        })
      }
      if (o.signal?.aborted) {
        log(`history replay stopped after ${made} runs; the next start resumes it`)
        return { outcome: 'aborted', runs: made, seconds: seconds() }
      }
      await markReplayed(sql, made + plan.done.size)
      // Alerts were held back while the month was written (replayConfig); now judge today's state.
      await evaluateAlertsAfterRun({ db: sql, config: parseRunnerConfig(o.env), logger: pino({ level: 'silent' }) })
      log(`history replayed: ${made} runs in ${seconds()} s`)
      return { outcome: 'replayed', runs: made, seconds: seconds() }
    } finally {
      await plan.release()
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/**
 * The runner's settings for the replay, to fit a month into a minute: the stand-ins answer on
 * loopback, so a dropped SYN is known in a second (undici's connect timer ticks at ~0.5 s) and no failed
 * store is retried (a replayed failure shows one attempt; the run as a whole is the runner's
 * own). Alert evaluation after each run is off — it reads now(), and a run is moved into the past
 * only after it — and done once at the end instead.
 */
function replayConfig(o: ReplayOptions): RunnerConfig {
  return parseRunnerConfig({
    ...o.env,
    DATABASE_URL: o.databaseUrl,
    SOURCE_CONNECT_TIMEOUT_MS: '1000',
    SOURCE_REQUEST_TIMEOUT_MS: '5000',
    SOURCE_RETRIES: '0',
    ETL_CONCURRENCY: '8',
    ALERT_MIN_SUCCESS_RATE: '0',
    ALERT_MAX_CONSECUTIVE_FAILURES: '1000000',
    // issue 11's kinds held back too: no incident size, no flapping window, no baseline can be met.
    ALERT_NETWORK_MIN_STORES: '1000000',
    ALERT_FLAPPING_FAILURES: '10',
    ALERT_FLAPPING_RUNS: '10',
    ALERT_NO_DATA_WEEKS: '26',
    ALERT_NO_DATA_MIN_WEEKS: '26',
    ALERT_WEBHOOK_URL: '',
    LOG_LEVEL: 'silent',
  })
}

/** Every scheduled run of the `days` calendar days before the anchor's, oldest first. */
function slotsOf(anchor: Date, days: number, tz: string): Slot[] {
  const today = Date.parse(localDate(anchor, tz))
  const slots: Slot[] = []
  for (let ago = days; ago >= 1; ago--) {
    const date = new Date(today - ago * 86_400_000).toISOString().slice(0, 10)
    for (const { etlName, hour } of SCHEDULE) slots.push({ etlName, at: zonedInstant(date, hour, tz) })
  }
  return slots
}

async function replayLane(
  sql: postgres.Sql,
  config: RunnerConfig,
  anchor: Date,
  slots: Slot[],
  progress: (slot: Slot) => void,
  signal: AbortSignal | undefined,
) {
  if (slots.length === 0) return
  const standIns = await startStandIns({ klkToken: config.KLK_API_TOKEN })
  const current = new Map<string, StoryFault | null>()
  try {
    for (const slot of slots) {
      if (signal?.aborted) return
      // Each store as its story has it at this run's moment; switching only what changed (a
      // blackhole takes a moment to set up).
      const moment = momentOf(slot.at, anchor, config.TZ_TIENDAS)
      for (const store of DEMO_STORES) {
        const fault = storyFault(store.id, moment)
        if ((current.get(store.id) ?? null) === fault) continue
        await standIns.setFault(store.id, fault)
        current.set(store.id, fault)
      }
      const id = await runAt(sql, config, standIns, slot)
      await shiftExecution(sql, id, slot.at)
      progress(slot)
    }
  } finally {
    await standIns.close()
  }
}

/** One scheduled run, as the runner's job makes it, against the replay's stand-ins. */
async function runAt(sql: postgres.Sql, config: RunnerConfig, standIns: RunningStandIns, slot: Slot) {
  const sources = {
    klk: redirect(createKlkSource(config), standIns),
    stellar: redirect(createStellarSource(config), standIns),
  }
  try {
    const window =
      slot.etlName === 'ventas'
        ? { desde: new Date(slot.at.getTime() - config.VENTAS_WINDOW_MIN * 60_000), hasta: slot.at }
        : {}
    const summary = await runEtl(
      { db: sql, config, logger: pino({ level: 'silent' }), workerId: REPLAY_WORKER, sources },
      {
        etlName: slot.etlName,
        tiendaIds: DEMO_STORES.map((s) => s.id),
        ...window,
        triggeredBy: 'scheduler',
        etlType: 'scheduled',
      },
    )
    return summary.id
  } finally {
    await Promise.all([sources.klk.close(), sources.stellar.close()])
  }
}

/** The runner's own source, pointed at the replay's stand-in of each store instead of the live one. */
function redirect(source: Source, standIns: RunningStandIns): Source {
  const at = (t: SourceTienda): SourceTienda => ({
    ...t,
    host: standIns.host,
    port: standIns.ports.get(t.id) ?? t.port,
  })
  return {
    sourceSystem: source.sourceSystem,
    ventas: (t, w, opts) => source.ventas(at(t), w, opts),
    ...(source.inventario
      ? {
          inventario: (t: SourceTienda, opts: Parameters<NonNullable<Source['inventario']>>[1]) =>
            source.inventario!(at(t), opts),
        }
      : {}),
    close: () => source.close(),
  }
}
