// One store inside a tracked execution: its phases, timings, attempts and diagnostics. Stores run
// concurrently, so each has its own handle (ExecutionTracker.startTienda returns it).
import type { JSONValue } from 'postgres'
import type { Db } from '../db.ts'
import type { ClassifiedError, Phase, SourceSystem } from './classify-error.ts'
import { type Redactor, redactJson } from './redact.ts'
import { finishTienda, updateTiendaPhase } from './tracker.sql.ts'

export type TiendaInfo = { id: string; nombre: string; sourceSystem: SourceSystem; host: string; port: number }

/** What a source learned about the store's network path; stored in the detail row, under 1 KB. */
export type StoreDiagnostics = {
  ip?: string | null
  port?: number | null
  latency_ms?: number | null
  code?: string | null
  requests?: number
  errors?: number
  tcp_connected?: boolean
}

export const MESSAGE_MAX = 2000
export const DETAIL_MAX = 8000

export class TiendaTracker {
  readonly tienda: TiendaInfo
  readonly #db: Db
  readonly #executionId: number
  readonly #redact: Redactor
  #attempts = 1
  #phase: Phase = 'extract'
  // The detail row was inserted in phase extract (startTienda), so extract's clock starts now.
  #phaseStartedAt: number | null = performance.now()
  #writtenPhase: Phase = 'extract'
  readonly #seconds: Partial<Record<Phase, number>> = { extract: 0 }
  #diagnostics: StoreDiagnostics = {}
  readonly #failedAttempts: string[] = []
  #finished = false

  constructor(init: { db: Db; executionId: number; tienda: TiendaInfo; redact: Redactor }) {
    this.tienda = init.tienda
    this.#db = init.db
    this.#executionId = init.executionId
    this.#redact = init.redact
  }

  get phase(): Phase {
    return this.#phase
  }

  get attempts(): number {
    return this.#attempts
  }

  /**
   * Only phases that wait on I/O are written (extract, load): transform is CPU work between them
   * that cannot hang, and skipping its write keeps a store at three round trips (DESIGN §10).
   * `record: false` switches the clock and the phase errors are classified by, without a write:
   * a store streaming its window goes extract → transform → load once per page.
   */
  async startPhase(phase: Phase, options: { record?: boolean } = {}): Promise<void> {
    this.#closePhase()
    this.#phase = phase
    this.#phaseStartedAt = performance.now()
    this.#seconds[phase] ??= 0
    if (options.record !== false && phase !== 'transform' && phase !== this.#writtenPhase) {
      this.#writtenPhase = phase
      await updateTiendaPhase(this.#db, this.#executionId, this.tienda.id, phase)
    }
  }

  /** Stops the phase's clock. Per-phase record counts have no column: the store's totals go to finishTienda*. */
  finishPhase(phase: Phase, _records?: number): void {
    if (phase === this.#phase) this.#closePhase()
  }

  setDiagnostics(diagnostics: StoreDiagnostics): void {
    this.#diagnostics = { ...this.#diagnostics, ...diagnostics }
  }

  /** The current attempt failed with a transient error and the store will be tried again. */
  recordError(error: ClassifiedError): void {
    this.#closePhase()
    this.#failedAttempts.push(error.code ? `${error.category}:${error.code}` : error.category)
    this.#attempts++
  }

  async finishTiendaSuccess(counts: { extracted: number; loaded: number; duplicates: number }): Promise<void> {
    await this.#finish('success', counts, null)
  }

  async finishTiendaError(
    error: ClassifiedError,
    options: { detail?: string; extracted?: number } = {},
  ): Promise<void> {
    this.setDiagnostics({ code: this.#diagnostics.code ?? error.code })
    await this.#finish(
      'failed',
      { extracted: options.extracted ?? 0, loaded: 0, duplicates: 0 },
      {
        phase: error.phase,
        category: error.category,
        source: error.source,
        message: truncate(this.#redact(error.message), MESSAGE_MAX),
        detail: truncate(this.#redact(options.detail ?? error.message), DETAIL_MAX),
      },
    )
  }

  #closePhase() {
    if (this.#phaseStartedAt === null) return
    this.#seconds[this.#phase] = (this.#seconds[this.#phase] ?? 0) + (performance.now() - this.#phaseStartedAt) / 1000
    this.#phaseStartedAt = null
  }

  async #finish(
    status: 'success' | 'failed',
    counts: { extracted: number; loaded: number; duplicates: number },
    error: Parameters<typeof finishTienda>[1]['error'],
  ) {
    if (this.#finished) throw new Error(`store ${this.tienda.id} was already finished`)
    this.#closePhase()
    this.#finished = true
    const d = this.#diagnostics
    const round = (s: number | undefined) => (s === undefined ? null : Math.round(s * 100) / 100)
    await finishTienda(this.#db, {
      executionId: this.#executionId,
      tiendaId: this.tienda.id,
      status,
      recordsExtracted: counts.extracted,
      recordsLoaded: counts.loaded,
      duplicatesSkipped: counts.duplicates,
      attempts: this.#attempts,
      durations: {
        extract: round(this.#seconds.extract),
        transform: round(this.#seconds.transform),
        load: round(this.#seconds.load),
      },
      error,
      serverIp: d.ip ?? null,
      serverPort: d.port ?? null,
      latencyMs: d.latency_ms ?? null,
      diagnostics: compactDiagnostics(
        { ...d, failed_attempts: this.#failedAttempts.length ? this.#failedAttempts.slice(0, 5) : undefined },
        this.#redact,
      ),
    })
  }
}

export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** Diagnostics JSON is kept under 1 KB (plan §8.1): oversized extras are dropped, core fields kept. */
export function compactDiagnostics(diagnostics: Record<string, JSONValue | undefined>, redact: Redactor): JSONValue {
  const present = Object.entries(diagnostics).filter(([, v]) => v !== undefined && v !== null) as [string, JSONValue][]
  const clean = redactJson(Object.fromEntries(present), redact)
  if (JSON.stringify(clean).length < 1000) return clean
  const core = ['ip', 'port', 'latency_ms', 'code', 'requests', 'errors', 'tcp_connected']
  return Object.fromEntries(
    Object.entries(clean)
      .filter(([k]) => core.includes(k))
      .map(([k, v]) => [k, typeof v === 'string' ? v.slice(0, 100) : v]),
  )
}
