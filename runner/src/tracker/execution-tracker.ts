// ExecutionTracker: the plan's §2.1 API in TypeScript naming. The execution row and one detail row
// per store are written as the run progresses, so a running execution is visible with its stores so
// far. Stores run concurrently, so per-store state lives in the TiendaTracker handle that
// startTienda returns; the execution-level tracker only holds what all stores share.
import { isIP } from 'node:net'
import type { Logger } from 'pino'
import type { Db } from '../db.ts'
import {
  type ClassifiedError,
  type ClassifyHints,
  classifyError,
  type ErrorCategory,
  type ErrorSource,
  type Phase,
  type SourceSystem,
} from './classify-error.ts'
import { createRedactor, type Redactor } from './redact.ts'
import { DETAIL_MAX, MESSAGE_MAX, type TiendaInfo, TiendaTracker, truncate } from './tienda-tracker.ts'
import {
  claimQueuedExecution,
  type ExecutionError,
  type ExecutionRow,
  finishExecutionRollup,
  insertExecution,
  insertTiendaRunning,
  type NewExecution,
  selectExecution,
  touchHeartbeat,
} from './tracker.sql.ts'

export type TrackerOptions = {
  db: Db
  logger: Logger
  /** RUNNER_HEARTBEAT_S: how often heartbeat_at is refreshed while the execution runs (DESIGN §12). */
  heartbeatSeconds: number
  /** Values to mask wherever they appear (tokens, passwords); patterns catch the rest. */
  secrets?: string[]
}

export type StartExecutionInput = {
  etlName: NewExecution['etlName']
  etlType: NewExecution['etlType']
  triggeredBy: NewExecution['triggeredBy']
  fechaDesde?: Date | null
  fechaHasta?: Date | null
  tiendaIds: string[]
  /** A `queued` row created by the history API: it is claimed (→ running) instead of inserting one. */
  executionId?: number
  isRecovery?: boolean
  recoveredGapId?: number | null
  workerId?: string | null
  jobId?: string | null
}

export class ExecutionTracker {
  static classifyError(
    error: unknown,
    phase: Phase,
    sourceSystem: SourceSystem,
    hints?: ClassifyHints,
  ): ClassifiedError {
    return classifyError(error, phase, sourceSystem, hints)
  }

  readonly redact: Redactor
  readonly #db: Db
  readonly #logger: Logger
  readonly #heartbeatMs: number
  #execution: ExecutionRow | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #error: ExecutionError | null = null

  constructor(options: TrackerOptions) {
    this.#db = options.db
    this.#logger = options.logger
    this.#heartbeatMs = options.heartbeatSeconds * 1000
    this.redact = createRedactor(options.secrets ?? [])
  }

  get executionId(): number {
    if (!this.#execution) throw new Error('startExecution() has not been called')
    return this.#execution.id
  }

  async startExecution(input: StartExecutionInput): Promise<ExecutionRow> {
    if (this.#execution) throw new Error(`this tracker already runs execution ${this.#execution.id}`)
    const values = {
      etlName: input.etlName,
      etlType: input.etlType,
      triggeredBy: input.triggeredBy,
      fechaDesde: input.fechaDesde ?? null,
      fechaHasta: input.fechaHasta ?? null,
      tiendaIds: input.tiendaIds,
      isRecovery: input.isRecovery ?? input.etlType === 'recovery',
      recoveredGapId: input.recoveredGapId ?? null,
      workerId: input.workerId ?? null,
      jobId: input.jobId ?? null,
    }
    if (input.executionId !== undefined) {
      const claimed = await claimQueuedExecution(this.#db, input.executionId, values)
      if (!claimed) {
        const current = await selectExecution(this.#db, input.executionId)
        throw new Error(
          current
            ? `execution ${input.executionId} is ${current.status}, not queued: it cannot be started again`
            : `execution ${input.executionId} does not exist`,
        )
      }
      this.#execution = claimed
    } else {
      this.#execution = await insertExecution(this.#db, values)
    }
    this.#startHeartbeat()
    return this.#execution
  }

  /** Inserts the store's detail row as `running` (phase extract) and returns its handle. */
  async startTienda(tienda: TiendaInfo): Promise<TiendaTracker> {
    const executionId = this.executionId
    const ip = isIP(tienda.host) ? tienda.host : null
    await insertTiendaRunning(this.#db, {
      executionId,
      tiendaId: tienda.id,
      nombre: tienda.nombre,
      sourceSystem: tienda.sourceSystem,
      serverIp: ip,
      serverPort: tienda.port,
    })
    return new TiendaTracker({ db: this.#db, executionId, tienda, redact: this.redact })
  }

  /** An execution-level error (not tied to one store), kept when no store failed. */
  recordError(
    phase: Phase | null,
    category: ErrorCategory | null,
    message: string,
    source: ErrorSource | null,
    detail?: string,
  ) {
    this.#error = {
      phase,
      category,
      source,
      message: truncate(this.redact(message), MESSAGE_MAX),
      detail: detail ? truncate(this.redact(detail), DETAIL_MAX) : null,
    }
  }

  /** Rolls the stores up into the execution row (in SQL) and stops the heartbeat. */
  async finishExecution(): Promise<ExecutionRow> {
    const id = this.executionId
    try {
      const row = await finishExecutionRollup(this.#db, id, this.#error)
      if (row) return row
      // Someone else closed it (the reaper, after a heartbeat gap): report what is stored.
      const current = await selectExecution(this.#db, id)
      this.#logger.warn({ execution_id: id, status: current?.status }, 'execution was already closed elsewhere')
      if (!current) throw new Error(`execution ${id} disappeared`)
      return current
    } finally {
      this.stopHeartbeat()
    }
  }

  stopHeartbeat() {
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
  }

  #startHeartbeat() {
    const id = this.executionId
    this.#heartbeat = setInterval(() => {
      touchHeartbeat(this.#db, id).catch((error: unknown) =>
        this.#logger.warn({ execution_id: id, err: this.redact(String(error)) }, 'heartbeat failed'),
      )
    }, this.#heartbeatMs)
    // A heartbeat alone must not keep a finished CLI process alive.
    this.#heartbeat.unref()
  }
}
