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
import type { ExecutionTracker } from '../tracker/execution-tracker.ts'
import type { StoreCounts, TiendaTracker } from '../tracker/tienda-tracker.ts'
import { parseInventario, type StockLine } from './inventario.schema.ts'
import { StoreLoad } from './load.sql.ts'
import { type RetryPolicy, withRetries } from './retry.ts'
import type { TiendaRow } from './tiendas.sql.ts'
import { parseVentas, type VentaLine } from './ventas.schema.ts'

export type EtlProgressEvent = {
  kind: 'tienda_started' | 'tienda_phase' | 'tienda_finished'
  tiendaId: string
  status?: 'success' | 'failed'
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
}

export async function runTienda(job: StoreJob, tienda: TiendaRow, source: Source): Promise<void> {
  const log = job.logger.child({ tienda_id: tienda.id })
  let handle: TiendaTracker
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
    return
  }
  job.progress({ kind: 'tienda_started', tiendaId: tienda.id })

  const outcome = await withRetries(job.retry, job.signal, {
    attempt: () => extractTransformLoad(job, tienda, source, handle),
    classify: (cause) => {
      const network = diagnosticsOf(cause)
      if (network) handle.connected(network)
      return classifyError(cause, handle.phase, tienda.source_system)
    },
    beforeRetry: async (error, waitMs) => {
      log.warn(
        { ...summary(job, error), attempt: handle.attempts, retry_in_ms: waitMs },
        'store attempt failed; retrying',
      )
      await handle.retry(error, waitMs)
    },
  })
  try {
    if (outcome.ok) {
      await handle.finishSuccess(outcome.value)
      log.info({ ...outcome.value, attempts: handle.attempts }, 'store loaded')
    } else {
      await handle.finishError(outcome.error, { detail: errorDetail(outcome.cause) })
      log.warn({ ...summary(job, outcome.error), attempt: handle.attempts }, 'store failed')
    }
  } catch (error) {
    // Recording the end can fail (database gone); closing the execution then marks the store.
    log.error({ err_message: job.tracker.redact(String(error)) }, 'could not record the end of the store')
  }
  job.progress({
    kind: 'tienda_finished',
    tiendaId: tienda.id,
    status: outcome.ok ? 'success' : 'failed',
    records: outcome.ok ? outcome.value.loaded : 0,
  })
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
  // No abort signal: a store in flight when the run is asked to stop finishes (only new stores stop).
  const opts: ExtractOptions = {
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
      if (extracted === 0) job.progress({ kind: 'tienda_phase', tiendaId: tienda.id, phase: 'transform' })
      extracted += page.length
      const lines = await handle.time(
        'transform',
        () => parse(page),
        (l) => l.length,
      )
      await handle.time('load', () => load.append(lines))
    }
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
