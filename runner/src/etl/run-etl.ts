// One tracked ETL run: every requested store goes extract → transform → load, concurrently up to
// ETL_CONCURRENCY, and is recorded by the ExecutionTracker as it goes. A store's failure is
// classified and recorded, never thrown: the run always ends with a finished execution row. It
// throws only before writing anything (bad request) or when the execution itself cannot be
// recorded (then the reaper closes it once its heartbeat stops).
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { evaluateAlertsAfterRun } from '../alerts/evaluate-alerts.ts'
import type { RunnerConfig } from '../config.ts'
import { type DetailRow, type ExecutionRow, selectDetails } from '../executions/execution-row.ts'
import type { components } from '../generated/openapi.ts'
import { sourceCache } from '../sources/create-source.ts'
import type { Sources } from '../sources/source.ts'
import { errorDetail } from '../tracker/classify-error.ts'
import { ExecutionTracker } from '../tracker/execution-tracker.ts'
import { configuredSecrets } from '../tracker/redact.ts'
import { type EtlProgressEvent, runTienda, type StoreJob } from './run-tienda.ts'
import { selectTiendas, slowestFirst, type TiendaRow } from './tiendas.sql.ts'

type Schemas = components['schemas']

export type { EtlProgressEvent }

export type RunEtlDeps = {
  db: Sql
  /** Pool for the stores' load transactions; defaults to `db`. */
  loadDb?: Sql
  config: RunnerConfig
  logger: Logger
  workerId?: string
  /** The alert-delivery queue; absent → alerts of this run are posted once, right away. */
  boss?: Pick<PgBoss, 'send'>
  /** A source per system. Missing ones are created from `config` for this run and closed after it. */
  sources?: Sources
}

type Common = {
  onProgress?: (event: EtlProgressEvent) => void
  /** Abort (SIGTERM): no new store starts; stores in flight finish; the execution is closed. */
  signal?: AbortSignal
  jobId?: string
}

/**
 * A fresh run (scheduled, CLI), or a `queued` execution the history API wrote: that row is the truth
 * (its window, stores, trigger and recovery target), and it is claimed instead of inserting one.
 */
export type RunEtlRequest =
  | (Common & {
      etlName: Schemas['EtlName']
      /** Default: every active store the ETL can read. Unknown or inactive ids are rejected before anything is written. */
      tiendaIds?: readonly string[]
      /** Ventas window, both ends inclusive. Defaults: hasta = now, desde = hasta − VENTAS_WINDOW_MIN. */
      desde?: Date
      hasta?: Date
      triggeredBy: Schemas['TriggeredBy']
      etlType: Schemas['EtlType']
      recoveredGapId?: number
      executionId?: undefined
    })
  | (Common & { executionId: number })

/** The execution row as finished, with its stores (the plan's `tiendas_detail`). */
export type ExecutionSummary = ExecutionRow & { tiendas_detail: DetailRow[] }

export async function runEtl(deps: RunEtlDeps, request: RunEtlRequest): Promise<ExecutionSummary> {
  const { config } = deps
  const tracker = new ExecutionTracker({
    db: deps.db,
    logger: deps.logger,
    heartbeatSeconds: config.RUNNER_HEARTBEAT_S,
    secrets: configuredSecrets(config),
  })
  let summary: ExecutionSummary
  try {
    const { started, tiendas } = await start(deps, tracker, request)
    summary = await track(deps, tracker, request, started, tiendas)
  } finally {
    tracker.stopHeartbeat()
  }
  // Plan §8.3, after every finished execution; bounded and never throws (alerts/evaluate-alerts.ts).
  await evaluateAlertsAfterRun({
    db: deps.db,
    config,
    logger: deps.logger.child({ execution_id: summary.id }),
    boss: deps.boss,
  })
  return summary
}

/** Inserts a fresh execution, or claims the queued one and runs what its row says. */
async function start(deps: RunEtlDeps, tracker: ExecutionTracker, request: RunEtlRequest) {
  const workerId = deps.workerId ?? null
  const jobId = request.jobId ?? null
  if (request.executionId !== undefined) {
    const started = await tracker.startExecution({ executionId: request.executionId, workerId, jobId })
    const rows = await selectTiendas(deps.db, started.etl_name, started.tienda_ids)
    const runnable = rows.filter((t) => t.active && t.has_feed)
    const left = started.tienda_ids.filter((id) => !runnable.some((t) => t.id === id))
    // Queued earlier; a store deactivated since is not run (closing records it as skipped).
    if (left.length)
      tracker.recordError({
        phase: null,
        category: null,
        source: null,
        message: `not run: ${left.join(', ')} is no longer an active store this ETL can read`,
      })
    return { started, tiendas: runnable as TiendaRow[] }
  }
  const window = request.etlName === 'ventas' ? ventasWindow(request, deps.config) : null
  const tiendas = await resolveTiendas(deps, request)
  const started = await tracker.startExecution({
    etlName: request.etlName,
    etlType: request.etlType,
    triggeredBy: request.triggeredBy,
    fechaDesde: window?.desde ?? null,
    fechaHasta: window?.hasta ?? null,
    tiendaIds: tiendas.map((t) => t.id),
    isRecovery: request.etlType === 'recovery' || request.triggeredBy === 'recovery',
    recoveredGapId: request.recoveredGapId ?? null,
    workerId,
    jobId,
  })
  return { started, tiendas }
}

async function track(
  deps: RunEtlDeps,
  tracker: ExecutionTracker,
  request: RunEtlRequest,
  started: ExecutionRow,
  tiendas: TiendaRow[],
): Promise<ExecutionSummary> {
  const { config } = deps
  const log = deps.logger.child({ execution_id: started.id })
  log.info(
    { etl_name: started.etl_name, triggered_by: started.triggered_by, tiendas: tiendas.length },
    'execution started',
  )
  let window: { desde: Date; hasta: Date } | null = null
  if (started.etl_name === 'ventas') {
    if (!started.fecha_desde || !started.fecha_hasta) {
      throw new Error(`execution ${started.id} has no window (fecha_desde/fecha_hasta): a ventas run needs one`)
    }
    window = { desde: started.fecha_desde, hasta: started.fecha_hasta }
  }
  const job: StoreJob = {
    etlName: started.etl_name,
    executionId: started.id,
    window,
    tracker,
    loadDb: deps.loadDb ?? deps.db,
    config,
    retry: { retries: config.SOURCE_RETRIES, baseMs: config.SOURCE_RETRY_BASE_MS },
    logger: log,
    signal: request.signal,
    progress: (event) => {
      try {
        request.onProgress?.(event)
      } catch (error) {
        log.warn({ err_message: tracker.redact(String(error)) }, 'progress callback failed')
      }
    },
  }
  try {
    // A stop asked of the run (cancel, read by the heartbeat) starts no further store, like a shutdown.
    const stop = request.signal ? AbortSignal.any([request.signal, tracker.stopSignal]) : tracker.stopSignal
    // The slowest stores start first (their recent durations), so a slow one never starts last.
    const order = await slowestFirst(
      deps.db,
      started.etl_name,
      tiendas.map((t) => t.id),
    ).catch((error: unknown) => {
      log.warn(
        { err_message: tracker.redact(String(error)) },
        'could not read the stores’ durations; running in id order',
      )
      return tiendas.map((t) => t.id)
    })
    const byId = new Map(tiendas.map((t) => [t.id, t]))
    const ordered = order.map((id) => byId.get(id)!)
    const notStarted = await forEachLimited(ordered, config.ETL_CONCURRENCY, stop, async (t) => {
      // A source per store, as a fanned-out part has (jobs/tienda-job.ts): a fresh connect whose
      // latency is the store's diagnostics, and nothing of a store kept once it is done (memory
      // stays flat however many stores the run has).
      const sources = sourceCache(config, deps.sources)
      try {
        await runTienda(job, t, sources.get(t.source_system))
      } finally {
        await sources.close()
      }
    })
    if (notStarted.length > 0) {
      const ids = notStarted.map((t) => t.id).join(', ')
      tracker.recordError({
        phase: null,
        category: null,
        source: null,
        message: `stopped (${tracker.stopSignal.aborted ? 'cancel requested' : 'shutdown'}) before ${notStarted.length} store(s) started: ${ids}`,
      })
    }
  } catch (error) {
    // Not a store's failure (those are recorded inside runTienda): a bug or lost bookkeeping.
    log.error({ err_message: tracker.redact(String(error)) }, 'run failed outside any store')
    tracker.recordError({
      phase: null,
      category: 'unknown',
      source: null,
      message: `run failed: ${String(error)}`,
      detail: errorDetail(error),
    })
  }
  const finished = await tracker.finishExecution()
  log.info(
    {
      status: finished.status,
      tiendas_exitosas: finished.tiendas_exitosas,
      tiendas_fallidas: finished.tiendas_fallidas,
      records_loaded: finished.records_loaded,
      duplicates_skipped: finished.duplicates_skipped,
      error_category: finished.error_category,
      duration_seconds: finished.duration_seconds,
    },
    'execution finished',
  )
  return { ...finished, tiendas_detail: await selectDetails(deps.db, finished.id) }
}

export type FreshRunRequest = Extract<RunEtlRequest, { executionId?: undefined }>

function ventasWindow(request: FreshRunRequest, config: RunnerConfig): { desde: Date; hasta: Date } {
  const hasta = request.hasta ?? new Date()
  const desde = request.desde ?? new Date(hasta.getTime() - config.VENTAS_WINDOW_MIN * 60_000)
  if (Number.isNaN(desde.getTime()) || Number.isNaN(hasta.getTime())) throw new Error('desde/hasta is not a valid date')
  if (desde > hasta) throw new Error(`desde (${desde.toISOString()}) is after hasta (${hasta.toISOString()})`)
  return { desde, hasta }
}

/** The stores of a fresh run: unknown or inactive ones are refused; those the ETL cannot read are left out. */
async function resolveTiendas(deps: RunEtlDeps, request: FreshRunRequest): Promise<TiendaRow[]> {
  const requested = request.tiendaIds ? [...new Set(request.tiendaIds)] : null
  const rows = await selectTiendas(deps.db, request.etlName, requested)
  if (requested) {
    const known = new Set(rows.map((r) => r.id))
    const unknown = requested.filter((id) => !known.has(id))
    const inactive = rows.filter((r) => !r.active).map((r) => r.id)
    const problems = [
      unknown.length ? `unknown store(s): ${unknown.join(', ')}` : '',
      inactive.length ? `inactive store(s): ${inactive.join(', ')}` : '',
    ].filter(Boolean)
    if (problems.length) throw new Error(`cannot run ${request.etlName}: ${problems.join('; ')}`)
  }
  const without = rows.filter((t) => !t.has_feed)
  if (without.length) {
    deps.logger.info(
      { tiendas: without.map((t) => t.id) },
      `stores without a ${request.etlName} feed left out of the run`,
    )
  }
  const tiendas = rows.filter((t) => t.has_feed)
  if (tiendas.length === 0) {
    // Say why when every requested store was left out (an inventario run of Stellar stores only).
    const why = without.length
      ? ` (${without.map((t) => `${t.id} is ${t.source_system}`).join(', ')}; only KLK stores have an inventario feed)`
      : ''
    throw new Error(`cannot run ${request.etlName}: no active store to run${why}`)
  }
  return tiendas
}

/**
 * Runs `work` over the items with at most `limit` at once, in order; once `signal` aborts no new
 * item starts (those in flight finish). Returns the items never started.
 */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  signal: AbortSignal | undefined,
  work: (item: T) => Promise<void>,
): Promise<T[]> {
  let next = 0
  const lane = async () => {
    while (next < items.length && !signal?.aborted) await work(items[next++]!)
  }
  // allSettled: even if a lane fails, the others are awaited before the execution is finished.
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane))
  const failed = lanes.find((l) => l.status === 'rejected')
  if (failed) throw failed.reason
  return items.slice(next)
}
