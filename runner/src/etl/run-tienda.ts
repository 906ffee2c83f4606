// One store of a run: extract → transform (zod) → stage, page by page, then load (one
// transaction), retried on transient errors with exponential backoff and jitter, recorded by its
// TiendaTracker. Never throws: the outcome, good or bad, is the store's detail row.
//
// Pages are staged as they arrive (etl/load.sql.ts), so memory is bounded by a page, not the window;
// the one transaction that writes ventas/inventario starts after the source is exhausted, so it
// lasts only as long as the database work, never as long as a slow VPN (long transactions hold
// locks and bloat).
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import type { RunnerConfig } from '../config.ts'
import type { ExtractOptions, Source, SourceDiagnostics } from '../sources/source.ts'
import { diagnosticsOf } from '../sources/source.ts'
import { type ClassifiedError, classifyError, errorDetail } from '../tracker/classify-error.ts'
import type { ExecutionTracker } from '../tracker/execution-tracker.ts'
import type { StoreDiagnostics, TiendaTracker } from '../tracker/tienda-tracker.ts'
import { parseInventario, type StockLine } from './inventario.schema.ts'
import { StoreLoad } from './load.sql.ts'
import type { EtlProgressEvent } from './run-etl.ts'
import type { TiendaRow } from './tiendas.sql.ts'
import { parseVentas, type VentaLine } from './ventas.schema.ts'

/** What every store of one run shares. */
export type StoreJob = {
  etlName: 'ventas' | 'inventario'
  executionId: number
  window: { desde: Date; hasta: Date } | null
  tracker: ExecutionTracker
  loadDb: Sql
  config: RunnerConfig
  logger: Logger
  signal?: AbortSignal
  progress: (event: EtlProgressEvent) => void
}

type Counts = { extracted: number; loaded: number; duplicates: number }

const TRANSIENT = new Set<ClassifiedError['category']>([
  'vpn_timeout',
  'vpn_unreachable',
  'api_timeout',
  'network_error',
  'db_connection',
  'db_timeout',
  'pg_connection',
  'pg_timeout',
  'deadlock',
])

// A 5xx or 429 is the API being unwell, not the request being wrong: worth another try.
const isTransient = (e: ClassifiedError) =>
  TRANSIENT.has(e.category) || (e.category === 'api_error' && /^HTTP_(5\d\d|429)$/.test(e.code ?? ''))

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
    // No detail row was written: the roll-up records the store as skipped.
    log.error({ err_message: job.tracker.redact(String(error)) }, 'could not record the start of the store')
    return
  }
  job.progress({ kind: 'tienda_started', tiendaId: tienda.id })
  const stats = { requests: 0, errors: 0 }

  for (;;) {
    let extracted = 0
    let calls = 0
    const opts: ExtractOptions = {
      onConnected: (d) => handle.setDiagnostics(storeDiagnostics(d)),
      onRequest: (ok) => {
        calls++
        stats.requests++
        if (!ok) stats.errors++
      },
    }
    try {
      const counts = await extractTransformLoad(job, tienda, source, handle, opts, (n) => {
        extracted = n
      })
      if (calls === 0) stats.requests++
      handle.setDiagnostics(stats)
      await finish(job, log, () => handle.finishTiendaSuccess(counts))
      log.info({ ...counts, attempts: handle.attempts }, 'store loaded')
      job.progress({ kind: 'tienda_finished', tiendaId: tienda.id, status: 'success', records: counts.loaded })
      return
    } catch (error) {
      const classified = classifyError(error, handle.phase, tienda.source_system)
      const d = diagnosticsOf(error)
      if (d) handle.setDiagnostics(storeDiagnostics(d))
      // Sources that do not report requests (one query per attempt) count as one.
      if (calls === 0) {
        stats.requests++
        if (classified.phase === 'extract') stats.errors++
      }
      handle.setDiagnostics(stats)
      const summary = {
        error_phase: classified.phase,
        error_category: classified.category,
        error_code: classified.code,
        err_message: job.tracker.redact(classified.message),
        attempt: handle.attempts,
      }
      if (isTransient(classified) && handle.attempts <= job.config.SOURCE_RETRIES && !job.signal?.aborted) {
        const delay = backoffMs(job.config.SOURCE_RETRY_BASE_MS, handle.attempts)
        log.warn({ ...summary, retry_in_ms: delay }, 'store attempt failed; retrying')
        handle.recordError(classified)
        await new Promise((r) => setTimeout(r, delay))
        await handle.startPhase('extract').catch(() => {})
        continue
      }
      await finish(job, log, () => handle.finishTiendaError(classified, { detail: errorDetail(error), extracted }))
      log.warn(summary, 'store failed')
      job.progress({ kind: 'tienda_finished', tiendaId: tienda.id, status: 'failed', records: 0 })
      return
    }
  }
}

async function extractTransformLoad(
  job: StoreJob,
  tienda: TiendaRow,
  source: Source,
  handle: TiendaTracker,
  opts: ExtractOptions,
  onExtracted: (n: number) => void,
): Promise<Counts> {
  const system = tienda.source_system
  const parse =
    job.etlName === 'ventas'
      ? (rows: unknown[]) => parseVentas(rows, system, job.window!)
      : (rows: unknown[]) => parseInventario(rows, system)
  const load = new StoreLoad<VentaLine | StockLine>(job.loadDb, job.etlName, tienda.id, job.executionId, {
    chunkRows: job.config.LOAD_CHUNK_ROWS,
    statementTimeoutMs: job.config.LOAD_STATEMENT_TIMEOUT_MS,
  })
  const pages = job.etlName === 'ventas' ? source.ventas(tienda, job.window!, opts) : source.inventario!(tienda, opts)
  let extracted = 0
  try {
    // Each page is validated and staged before the next is asked for: the store holds a page and
    // at most one staging chunk, never its window. The phase follows each step in memory (an error
    // is classified by it); only the merge is written, to keep the tracker's round trips per store.
    for await (const page of pages) {
      extracted += page.length
      onExtracted(extracted)
      if (extracted === page.length) job.progress({ kind: 'tienda_phase', tiendaId: tienda.id, phase: 'transform' })
      await handle.startPhase('transform', { record: false })
      const lines = parse(page)
      await handle.startPhase('load', { record: false })
      await load.append(lines)
      await handle.startPhase('extract', { record: false })
    }
    handle.finishPhase('extract', extracted)

    await handle.startPhase('load')
    job.progress({ kind: 'tienda_phase', tiendaId: tienda.id, phase: 'load' })
    const result = await load.merge()
    handle.finishPhase('load', result.loaded)
    return { extracted, ...result }
  } finally {
    // Staged rows are scratch either way. A failed delete leaves rows keyed by this execution,
    // which no later run reads (the key includes the execution): wasted space, never wrong counts.
    await load.discard().catch((error) => {
      job.logger.warn({ tienda_id: tienda.id, err_message: job.tracker.redact(String(error)) }, 'staging not cleared')
    })
  }
}

/** Exponential backoff with jitter: base·2^(n−1), drawn from its upper half, capped at 30 s. */
function backoffMs(base: number, attempt: number): number {
  const ceiling = Math.min(30_000, base * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

function storeDiagnostics(d: SourceDiagnostics): StoreDiagnostics {
  return {
    ip: d.ip,
    port: d.port,
    latency_ms: d.connect_latency_ms,
    code: d.error_code,
    ...(d.tcp_connected === undefined ? {} : { tcp_connected: d.tcp_connected }),
  }
}

/** Recording the end can fail (database gone); the roll-up then marks the store, and the run goes on. */
async function finish(job: StoreJob, log: Logger, write: () => Promise<void>) {
  try {
    await write()
  } catch (error) {
    log.error({ err_message: job.tracker.redact(String(error)) }, 'could not record the end of the store')
  }
}
