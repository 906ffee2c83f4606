// One store inside a tracked execution: its attempts, the time and records of each phase, its network
// facts. Stores run concurrently, so each has its own handle (ExecutionTracker.startTienda returns it).
// The handle keeps everything in memory and writes twice more after the start (DESIGN §10: three
// round trips per store): when the store's live phase becomes `load`, and when the store finishes —
// that last write carries the counts, durations, diagnostics and the timeline of spans.
import type { JSONValue } from 'postgres'
import type { Db } from '../db.ts'
import { storeOutcomes, trackerWriteErrors } from '../metrics.ts'
import type { NetworkDiagnostics } from '../sources/source.ts'
import type { ClassifiedError, Phase, SourceSystem } from './classify-error.ts'
import { type Redactor, redactJson } from './redact.ts'
import { finishTienda, updateTiendaPhase } from './tracker.sql.ts'

export type TiendaInfo = { id: string; nombre: string; sourceSystem: SourceSystem; host: string; port: number }
export type StoreCounts = { extracted: number; loaded: number; duplicates: number }

type SpanPhase = Phase | 'retry_wait'
/** One phase of one attempt (openapi TimelineSpan): first start, last end, time actually spent in it. */
type Span = {
  attempt: number
  phase: SpanPhase
  started_at: Date
  finished_at: Date
  seconds: number
  records: number
  errors: number
  error_category: string | null
  error_code: string | null
}

/** How many parts of a fanned-out run remain after a store finished (null: not fanned out, or closed elsewhere). */
export type Finished = { remaining: number | null }

export const MESSAGE_MAX = 2000
export const DETAIL_MAX = 8000

export class TiendaTracker {
  readonly tienda: TiendaInfo
  readonly #db: Db
  readonly #executionId: number
  readonly #redact: Redactor
  #attempt = 1
  #phase: Phase = 'extract'
  #loadMarked = false
  #finished = false
  readonly #spans: Span[] = []
  #network: NetworkDiagnostics = { ip: null, port: null, latency_ms: null, error_code: null }
  #requests = 0
  #requestErrors = 0
  readonly #failedAttempts: string[] = []

  /**
   * Set when the run's window lies inside a closure of the store (the store calendar): its row was
   * recorded `closed` at start and there is nothing to run or finish; `remaining` as finishTienda's.
   */
  readonly closed: { remaining: number | null } | null

  /** `attempt` > 1: a store taken over from a worker that died (a retried part job of a fanned-out run). */
  readonly #etlName: string

  constructor(init: {
    db: Db
    executionId: number
    /** For the runner's metrics (store outcomes by ETL). */
    etlName?: string
    tienda: TiendaInfo
    redact: Redactor
    attempt?: number
    closed?: { remaining: number | null } | null
  }) {
    this.#etlName = init.etlName ?? 'unknown'
    this.tienda = init.tienda
    this.#db = init.db
    this.#executionId = init.executionId
    this.#redact = init.redact
    this.#attempt = init.attempt ?? 1
    this.closed = init.closed ?? null
    if (this.closed) this.#finished = true
    if (this.#attempt > 1) this.#failedAttempts.push('worker_lost')
  }

  /** The phase the store is in: an error is classified by it. */
  get phase(): Phase {
    return this.#phase
  }

  get attempts(): number {
    return this.#attempt
  }

  /** Records extracted by the current attempt (what a failed store reports). */
  get extracted(): number {
    return this.#spans
      .filter((s) => s.attempt === this.#attempt && s.phase === 'extract')
      .reduce((n, s) => n + s.records, 0)
  }

  /**
   * Runs `work` in `phase` (the plan's start_phase … finish_phase): an error it throws is classified
   * in that phase, and its time and records (`count` of the result) go to the attempt's span.
   */
  async time<T>(phase: Phase, work: () => Promise<T> | T, count?: (result: T) => number): Promise<T> {
    this.#phase = phase
    const started = new Date()
    const t0 = performance.now()
    try {
      const result = await work()
      this.#span(phase, started, t0).records += count?.(result) ?? 0
      return result
    } catch (error) {
      this.#span(phase, started, t0)
      throw error
    }
  }

  /** `time` for each step of a source's pages: the wait for the next page is that phase's time. */
  async *timeEach<T>(phase: Phase, source: AsyncIterable<T>, count: (item: T) => number): AsyncGenerator<T> {
    const it = source[Symbol.asyncIterator]()
    try {
      for (;;) {
        const next = await this.time(
          phase,
          () => it.next(),
          (r) => (r.done ? 0 : count(r.value)),
        )
        if (next.done) return
        yield next.value
      }
    } finally {
      await it.return?.()
    }
  }

  /** The store's live phase becomes `load` in the database (the second of its three writes). */
  async markLoad(): Promise<void> {
    if (this.#loadMarked) return
    this.#loadMarked = true
    await updateTiendaPhase(this.#db, this.#executionId, this.tienda.id, 'load')
  }

  /** What a source learned about the connection (address, connect latency, driver error code). */
  connected(network: Partial<NetworkDiagnostics>): void {
    this.#network = { ...this.#network, ...network }
  }

  /** One request to the store's API or database; `ok` false when it failed. */
  request(ok: boolean): void {
    this.#requests++
    if (!ok) this.#requestErrors++
  }

  /** The attempt failed with a transient error: record it, wait `waitMs` (a retry_wait span), start the next. */
  async retry(error: ClassifiedError, waitMs: number): Promise<void> {
    this.#fail(error)
    this.#failedAttempts.push(error.code ? `${error.category}:${error.code}` : error.category)
    const started = new Date()
    const t0 = performance.now()
    await new Promise((r) => setTimeout(r, waitMs))
    this.#span('retry_wait', started, t0)
    this.#attempt++
    this.#phase = 'extract'
    if (this.#loadMarked) {
      // The next attempt extracts again: the live phase follows (only on this rare path: a 4th write).
      this.#loadMarked = false
      // Observability only: a database that is down (the reason for many retries) must not end the store.
      await updateTiendaPhase(this.#db, this.#executionId, this.tienda.id, 'extract').catch(() => {})
    }
  }

  /** `remaining`: parts of a fanned-out run still pending after this one (0: this was the last). */
  async finishSuccess(counts: StoreCounts): Promise<Finished> {
    return this.#finish('success', counts, null)
  }

  async finishError(error: ClassifiedError, options: { detail?: string } = {}): Promise<Finished> {
    this.#fail(error)
    this.#network.error_code ??= error.code
    return this.#finish(
      'failed',
      { extracted: this.extracted, loaded: 0, duplicates: 0 },
      {
        phase: error.phase,
        category: error.category,
        source: error.source,
        message: truncate(this.#redact(error.message), MESSAGE_MAX),
        detail: truncate(this.#redact(options.detail ?? error.message), DETAIL_MAX),
      },
    )
  }

  /**
   * The execution was asked to stop while this store was extracting: it ends `skipped` between pages,
   * with nothing of it loaded (its staged pages are discarded), its timeline kept.
   */
  async finishStopped(): Promise<Finished> {
    return this.#finish('skipped', { extracted: this.extracted, loaded: 0, duplicates: 0 }, null)
  }

  #span(phase: SpanPhase, started: Date, t0: number): Span {
    let span = this.#spans.find((s) => s.attempt === this.#attempt && s.phase === phase)
    if (!span) {
      span = {
        attempt: this.#attempt,
        phase,
        started_at: started,
        finished_at: started,
        seconds: 0,
        records: 0,
        errors: 0,
        error_category: null,
        error_code: null,
      }
      this.#spans.push(span)
    }
    span.finished_at = new Date()
    span.seconds += (performance.now() - t0) / 1000
    return span
  }

  /** The failure goes on the span of the phase it was classified in (created if the phase never ran). */
  #fail(error: ClassifiedError) {
    const now = new Date()
    const span =
      this.#spans.find((s) => s.attempt === this.#attempt && s.phase === error.phase) ??
      this.#span(error.phase, now, performance.now())
    span.errors = 1
    span.error_category = error.category
    span.error_code = error.code
  }

  #seconds(phase: Phase): number | null {
    const spans = this.#spans.filter((s) => s.phase === phase)
    return spans.length ? round2(spans.reduce((t, s) => t + s.seconds, 0)) : null
  }

  async #finish(
    status: 'success' | 'failed' | 'skipped',
    counts: StoreCounts,
    error: Parameters<typeof finishTienda>[1]['error'],
  ) {
    if (this.#finished) throw new Error(`store ${this.tienda.id} was already finished`)
    this.#finished = true
    // Sources that report no requests (one query per attempt) count one per attempt.
    const requests = this.#requests || this.#attempt
    const errors = this.#requests ? this.#requestErrors : this.#failedAttempts.length + (status === 'failed' ? 1 : 0)
    const written = await finishTienda(this.#db, {
      executionId: this.#executionId,
      tiendaId: this.tienda.id,
      status,
      recordsExtracted: counts.extracted,
      recordsLoaded: counts.loaded,
      duplicatesSkipped: counts.duplicates,
      attempts: this.#attempt,
      durations: {
        extract: this.#seconds('extract'),
        transform: this.#seconds('transform'),
        load: this.#seconds('load'),
      },
      error,
      note:
        status === 'skipped'
          ? 'stopped on request (run cancelled) between pages, before anything of this store was loaded'
          : undefined,
      serverIp: this.#network.ip,
      serverPort: this.#network.port,
      latencyMs: this.#network.latency_ms,
      diagnostics: compactDiagnostics(
        {
          ...this.#network,
          requests,
          errors,
          failed_attempts: this.#failedAttempts.length ? this.#failedAttempts.slice(0, 5) : undefined,
        },
        this.#redact,
      ),
      timeline: this.#spans.map(({ seconds, started_at, finished_at, ...s }) => ({
        ...s,
        started_at: started_at.toISOString(),
        finished_at: finished_at.toISOString(),
        duration_seconds: round2(seconds),
      })),
    }).catch((e: unknown) => {
      trackerWriteErrors.inc({ operation: 'finish_tienda' })
      throw e
    })
    if (written) storeOutcomes.inc({ etl_name: this.#etlName, status, error_category: error?.category ?? 'none' })
    // Nothing written: the store or its execution was closed elsewhere (the reaper) meanwhile.
    return { remaining: written ? written.remaining : null }
  }
}

const round2 = (s: number) => Math.round(s * 100) / 100

export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** Store diagnostics are kept under 1 KB (plan §8.1): oversized extras are dropped, the network facts kept. */
export function compactDiagnostics(diagnostics: Record<string, JSONValue | undefined>, redact: Redactor): JSONValue {
  const present = Object.entries(diagnostics).filter(([, v]) => v !== undefined) as [string, JSONValue][]
  const clean = redactJson(Object.fromEntries(present), redact)
  if (JSON.stringify(clean).length < 1000) return clean
  const core = ['ip', 'port', 'latency_ms', 'error_code', 'requests', 'errors', 'tcp_connected']
  return Object.fromEntries(
    Object.entries(clean)
      .filter(([k]) => core.includes(k))
      .map(([k, v]) => [k, typeof v === 'string' ? v.slice(0, 100) : v]),
  )
}
