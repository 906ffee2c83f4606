// One store of a run: extract → transform (zod) → stage, page by page, then load (one transaction),
// retried on transient errors (etl/retry.ts) and recorded by its TiendaTracker handle, which times
// each phase. Never throws: the outcome, good or bad, is the store's detail row.
//
// Pages are staged as they arrive (etl/load.sql.ts), so memory is bounded by a page, not the window;
// the one transaction that writes ventas/inventario starts after the source is exhausted, so it
// lasts only as long as the database work, never as long as a slow VPN (long transactions hold
// locks and bloat).
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { RunnerConfig } from '../config.ts'
import type { ExtractOptions, Source } from '../sources/source.ts'
import { diagnosticsOf } from '../sources/source.ts'
import { classifyError, errorDetail } from '../tracker/classify-error.ts'
import { type ExecutionTracker, StopRequested } from '../tracker/execution-tracker.ts'
import type { StoreCounts, TiendaTracker } from '../tracker/tienda-tracker.ts'
import { parseInventario, type StockLine } from './inventario.schema.ts'
import { StoreLoad } from './load.sql.ts'
import { type RetryPolicy, withRetries } from './retry.ts'
import type { TiendaRow } from './tiendas.sql.ts'
import { parseVentas, type VentaLine } from './ventas.schema.ts'

export type EtlProgressEvent = {
  kind: 'tienda_started' | 'tienda_phase' | 'tienda_finished'
  tiendaId: string
  status?: 'success' | 'failed' | 'skipped' | 'closed'
  phase?: 'transform' | 'load'
  records?: number
}

/** What every store of one run shares. */
export type StoreJob = {
  etlName: 'ventas' | 'inventario'
  executionId: number
  window: { desde: Date; hasta: Date } | null
  tracker: ExecutionTracker
  loadDb: Sql
  config: RunnerConfig
  retry: RetryPolicy
  logger: Logger
  signal?: AbortSignal
  progress: (event: EtlProgressEvent) => void
  /** A part of a fanned-out run (a pg-boss job per store): failures to record are retried by pg-boss. */
  fannedOut?: boolean
  /** Aborted when the store is given up mid-way (pg-boss failed its part to retry it): stop, record nothing. */
  abandon?: AbortSignal
}

/**
 * `last`: this store was the last pending part of a fanned-out execution (its runner closes it).
 * `alreadyDone`: the store had finished in an earlier attempt of its part (pg-boss retried it).
 */
export async function runTienda(
  job: StoreJob,
  tienda: TiendaRow,
  source: Source,
): Promise<{ last: boolean; alreadyDone?: true }> {
  const log = job.logger.child({ tienda_id: tienda.id })
  let handle: TiendaTracker | null
  try {
    handle = await job.tracker.startTienda({
      id: tienda.id,
      nombre: tienda.nombre,
      sourceSystem: tienda.source_system,
      host: tienda.host,
      port: tienda.port,
    })
  } catch (error) {
    // No detail row was written: closing the execution records the store as skipped.
    log.error({ err_message: job.tracker.redact(String(error)) }, 'could not record the start of the store')
    // A part of a fanned-out run is retried by pg-boss; in a run of this process closing the execution
    // records the store as skipped and the other stores go on.
    if (job.fannedOut) throw error
    return { last: false }
  }
  if (!handle) {
    log.info('store already finished by an earlier attempt of its part')
    return { last: false, alreadyDone: true }
  }
  const h = handle
  if (h.closed) {
    log.info('store closed for this window (store calendar); not run')
    job.progress({ kind: 'tienda_finished', tiendaId: tienda.id, status: 'closed', records: 0 })
    return { last: h.closed.remaining === 0 }
  }
  job.progress({ kind: 'tienda_started', tiendaId: tienda.id })

  // A stop asked of the run (cancel) also ends retrying: no new attempt starts after it.
  const stop = job.tracker.stopSignal
  const outcome = await withRetries(job.retry, job.signal ? AbortSignal.any([job.signal, stop]) : stop, {
    attempt: () => extractTransformLoad(job, tienda, source, h),
    classify: (cause) => {
      const network = diagnosticsOf(cause)
      if (network) h.connected(network)
      return classifyError(cause, h.phase, tienda.source_system)
    },
    beforeRetry: async (error, waitMs) => {
      log.warn({ ...summary(job, error), attempt: h.attempts, retry_in_ms: waitMs }, 'store attempt failed; retrying')
      await h.retry(error, waitMs)
    },
  })
  if (job.abandon?.aborted) {
    // pg-boss gave the part up (shutdown grace over, or expired) and will hand it out again: the row
    // stays `running` for the runner that takes it over as its next attempt.
    log.warn('store abandoned mid-way; its part is retried by pg-boss')
    throw new Error(`store ${tienda.id} abandoned: ${String(job.abandon.reason)}`)
  }
  let finished: { remaining: number | null } = { remaining: null }
  const stopped = !outcome.ok && outcome.cause instanceof StopRequested
  try {
    if (stopped) {
      finished = await h.finishStopped()
      log.info({ attempt: h.attempts }, 'store stopped on request before loading; skipped')
    } else if (outcome.ok) {
      finished = await h.finishSuccess(outcome.value)
      log.info({ ...outcome.value, attempts: h.attempts }, 'store loaded')
    } else {
      finished = await h.finishError(outcome.error, { detail: errorDetail(outcome.cause) })
      log.warn({ ...summary(job, outcome.error), attempt: h.attempts }, 'store failed')
    }
  } catch (error) {
    // Recording the end can fail (database gone). In a run of this process, closing the execution then
    // marks the store; a part of a fanned-out run rethrows so pg-boss retries it.
    log.error({ err_message: job.tracker.redact(String(error)) }, 'could not record the end of the store')
    if (job.fannedOut) throw error
  }
  job.progress({
    kind: 'tienda_finished',
    tiendaId: tienda.id,
    status: outcome.ok ? 'success' : stopped ? 'skipped' : 'failed',
    records: outcome.ok ? outcome.value.loaded : 0,
  })
  return { last: finished.remaining === 0 }
}

const summary = (job: StoreJob, e: ReturnType<typeof classifyError>) => ({
  error_phase: e.phase,
  error_category: e.category,
  error_code: e.code,
  err_message: job.tracker.redact(e.message),
})

async function extractTransformLoad(
  job: StoreJob,
  tienda: TiendaRow,
  source: Source,
  handle: TiendaTracker,
): Promise<StoreCounts> {
  const system = tienda.source_system
  const parse =
    job.etlName === 'ventas'
      ? (rows: unknown[]) => parseVentas(rows, system, job.window!)
      : (rows: unknown[]) => parseInventario(rows, system)
  const load = new StoreLoad<VentaLine | StockLine>(job.loadDb, job.etlName, tienda.id, job.executionId, {
    chunkRows: job.config.LOAD_CHUNK_ROWS,
    statementTimeoutMs: job.config.LOAD_STATEMENT_TIMEOUT_MS,
  })
  // Not the run's stop signal: a store in flight when the run is asked to stop finishes (only new
  // stores stop). Only a store given up altogether (abandon) is cut short.
  const opts: ExtractOptions = {
    signal: job.abandon,
    onConnected: (network) => handle.connected(network),
    onRequest: (ok) => handle.request(ok),
  }
  if (job.etlName === 'inventario' && !source.inventario) {
    throw new Error(`${tienda.id} runs ${system}, which has no inventario feed`)
  }
  const pages = job.etlName === 'ventas' ? source.ventas(tienda, job.window!, opts) : source.inventario!(tienda, opts)
  let extracted = 0
  try {
    // Each page is validated and staged before the next is asked for: the store holds a page and at
    // most one staging chunk, never its window. Staging is a write to PostgreSQL, so it runs (and
    // its errors are classified) in the load phase; the live phase turns to load only for the merge.
    for await (const page of handle.timeEach('extract', pages, (p) => p.length)) {
      // The store/page boundary where a stop asked of the run takes effect (the heartbeat read it).
      if (job.tracker.stopSignal.aborted) throw new StopRequested(job.executionId)
      if (extracted === 0) job.progress({ kind: 'tienda_phase', tiendaId: tienda.id, phase: 'transform' })
      extracted += page.length
      const lines = await handle.time(
        'transform',
        () => parse(page),
        (l) => l.length,
      )
      await handle.time('load', () => load.append(lines))
    }
    if (job.tracker.stopSignal.aborted) throw new StopRequested(job.executionId)
    await handle.markLoad()
    job.progress({ kind: 'tienda_phase', tiendaId: tienda.id, phase: 'load' })
    const result = await handle.time(
      'load',
      () => load.merge(),
      (r) => r.loaded,
    )
    return { extracted, ...result }
  } finally {
    // Staged rows are scratch either way. A failed delete leaves rows keyed by this execution,
    // which no later run reads (the key includes the execution): wasted space, never wrong counts.
    await load.discard().catch((error) => {
      job.logger.warn({ tienda_id: tienda.id, err_message: job.tracker.redact(String(error)) }, 'staging not cleared')
    })
  }
}
