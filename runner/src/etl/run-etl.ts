// One tracked ETL run: every requested store goes extract → transform → load, concurrently up to
// ETL_CONCURRENCY, and is recorded by the ExecutionTracker as it goes. A store's failure is
// classified and recorded, never thrown: the run always ends with a finished execution row. It
// throws only before writing anything (bad request) or when the execution itself cannot be
// recorded (then the reaper closes it once its heartbeat stops).
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { evaluateAlertsAfterRun } from '../alerts/evaluate-alerts.ts'
import type { RunnerConfig } from '../config.ts'
import type { components } from '../generated/openapi.ts'
import { createKlkSource } from '../sources/klk.ts'
import type { Source, Sources } from '../sources/source.ts'
import { createStellarSource } from '../sources/stellar.ts'
import { errorDetail, type Phase, type SourceSystem } from '../tracker/classify-error.ts'
import { ExecutionTracker } from '../tracker/execution-tracker.ts'
import { configuredSecrets } from '../tracker/redact.ts'
import { type DetailRow, type ExecutionRow, selectDetails } from '../tracker/tracker.sql.ts'
import { runTienda, type StoreJob } from './run-tienda.ts'
import { selectTiendas, type TiendaRow } from './tiendas.sql.ts'

type Schemas = components['schemas']

export type EtlProgressEvent = {
  kind: 'tienda_started' | 'tienda_phase' | 'tienda_finished'
  tiendaId: string
  status?: 'success' | 'failed'
  phase?: Phase
  records?: number
}

export type RunEtlDeps = {
  db: Sql
  /** Pool for the stores' load transactions; defaults to `db`. */
  loadDb?: Sql
  config: RunnerConfig
  logger: Logger
  workerId?: string
  /** A source per system. Missing ones are created from `config` for this run and closed after it. */
  sources?: Sources
}

export type RunEtlRequest = {
  etlName: Schemas['EtlName']
  /** Default: every active store. Unknown or inactive ids are rejected before anything is written. */
  tiendaIds?: readonly string[]
  /** Ventas window, both ends inclusive. Defaults: hasta = now, desde = hasta − VENTAS_WINDOW_MIN. */
  desde?: Date
  hasta?: Date
  triggeredBy: Schemas['TriggeredBy']
  etlType: Schemas['EtlType']
  /** A `queued` execution created by the history API: claimed instead of inserting a new row. */
  executionId?: number
  recoveredGapId?: number
  jobId?: string
  onProgress?: (event: EtlProgressEvent) => void
  /** Abort (SIGTERM): no new store starts; stores in flight finish; the execution is closed. */
  signal?: AbortSignal
}

/** The execution row as finished, with its stores (the plan's `tiendas_detail`). */
export type ExecutionSummary = ExecutionRow & { tiendas_detail: DetailRow[] }

const SOURCE_FACTORIES: Record<SourceSystem, (config: RunnerConfig) => Source> = {
  klk: createKlkSource,
  stellar: createStellarSource,
}

export async function runEtl(deps: RunEtlDeps, request: RunEtlRequest): Promise<ExecutionSummary> {
  const { config } = deps
  const window = request.etlName === 'ventas' ? ventasWindow(request, config) : null
  const owned: Source[] = []
  const sources: Sources = { ...deps.sources }
  const sourceFor = (system: SourceSystem): Source => {
    let source = sources[system]
    if (!source) {
      source = SOURCE_FACTORIES[system](config)
      sources[system] = source
      owned.push(source)
    }
    return source
  }
  let summary: ExecutionSummary
  try {
    summary = await track(deps, request, window, sourceFor, await resolveTiendas(deps, request, sourceFor))
  } finally {
    await Promise.all(owned.map((s) => s.close().catch(() => {})))
  }
  // Plan §8.3, after every finished execution; bounded and never throws (alerts/evaluate-alerts.ts).
  await evaluateAlertsAfterRun({ db: deps.db, config, logger: deps.logger.child({ execution_id: summary.id }) })
  return summary
}

async function track(
  deps: RunEtlDeps,
  request: RunEtlRequest,
  window: { desde: Date; hasta: Date } | null,
  sourceFor: (system: SourceSystem) => Source,
  tiendas: TiendaRow[],
): Promise<ExecutionSummary> {
  const { config } = deps
  const tracker = new ExecutionTracker({
    db: deps.db,
    logger: deps.logger,
    heartbeatSeconds: config.RUNNER_HEARTBEAT_S,
    secrets: configuredSecrets(config),
  })
  try {
    const started = await tracker.startExecution({
      etlName: request.etlName,
      etlType: request.etlType,
      triggeredBy: request.triggeredBy,
      fechaDesde: window?.desde ?? null,
      fechaHasta: window?.hasta ?? null,
      tiendaIds: tiendas.map((t) => t.id),
      executionId: request.executionId,
      isRecovery: request.etlType === 'recovery' || request.triggeredBy === 'recovery',
      recoveredGapId: request.recoveredGapId ?? null,
      workerId: deps.workerId ?? null,
      jobId: request.jobId ?? null,
    })
    const log = deps.logger.child({ execution_id: started.id })
    log.info(
      { etl_name: request.etlName, triggered_by: started.triggered_by, tiendas: tiendas.length },
      'execution started',
    )
    const job: StoreJob = {
      etlName: request.etlName,
      executionId: started.id,
      window,
      tracker,
      loadDb: deps.loadDb ?? deps.db,
      config,
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
      const notStarted = await forEachLimited(tiendas, config.ETL_CONCURRENCY, request.signal, (t) =>
        runTienda(job, t, sourceFor(t.source_system)),
      )
      if (notStarted.length > 0) {
        tracker.recordError(
          null,
          null,
          `stopped (shutdown) before ${notStarted.length} store(s) started: ${notStarted.map((t) => t.id).join(', ')}`,
          null,
        )
      }
    } catch (error) {
      // Not a store's failure (those are recorded inside runTienda): a bug or lost bookkeeping.
      log.error({ err_message: tracker.redact(String(error)) }, 'run failed outside any store')
      tracker.recordError(null, 'unknown', `run failed: ${String(error)}`, null, errorDetail(error))
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
  } finally {
    tracker.stopHeartbeat()
  }
}

function ventasWindow(request: RunEtlRequest, config: RunnerConfig): { desde: Date; hasta: Date } {
  const hasta = request.hasta ?? new Date()
  const desde = request.desde ?? new Date(hasta.getTime() - config.VENTAS_WINDOW_MIN * 60_000)
  if (Number.isNaN(desde.getTime()) || Number.isNaN(hasta.getTime())) throw new Error('desde/hasta is not a valid date')
  if (desde > hasta) throw new Error(`desde (${desde.toISOString()}) is after hasta (${hasta.toISOString()})`)
  return { desde, hasta }
}

async function resolveTiendas(
  deps: RunEtlDeps,
  request: RunEtlRequest,
  sourceFor: (system: SourceSystem) => Source,
): Promise<TiendaRow[]> {
  const requested = request.tiendaIds ? [...new Set(request.tiendaIds)] : null
  const rows = await selectTiendas(deps.db, requested)
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
  let tiendas: TiendaRow[] = rows
  let without: TiendaRow[] = []
  if (request.etlName === 'inventario') {
    // The plan's inventario ETL is KLK's: a system without an inventory feed is left out, not failed.
    without = tiendas.filter((t) => !sourceFor(t.source_system).inventario)
    if (without.length) {
      deps.logger.info({ tiendas: without.map((t) => t.id) }, 'stores without an inventario feed left out of the run')
      tiendas = tiendas.filter((t) => !without.includes(t))
    }
  }
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
