// ExecutionTracker: the plan's §2.1 API in TypeScript naming — startExecution, startTienda (whose
// handle times the phases and finishes the store: start_phase/finish_phase are its `time`),
// recordError, finishExecution; classify_error is tracker/classify-error.ts. The execution row and one
// detail row per store are written as the run progresses, so a running execution is visible with its
// stores so far. Closing is executions/close.sql.ts, the one statement every closing path shares.
import { isIP } from 'node:net'
import type { Logger } from 'pino'
import type { Db } from '../db.ts'
import { closeFinishedExecution, type ExecutionError } from '../executions/close.sql.ts'
import { type ExecutionRow, selectExecution } from '../executions/execution-row.ts'
import { runsClosed, trackerWriteErrors } from '../metrics.ts'
import { createRedactor, type Redactor } from './redact.ts'
import { DETAIL_MAX, MESSAGE_MAX, type TiendaInfo, TiendaTracker, truncate } from './tienda-tracker.ts'
import {
  claimQueuedExecution,
  insertExecution,
  insertTiendaRunning,
  type NewExecution,
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

/** A fresh execution (scheduled, CLI), or a queued one to claim: the row then holds everything else. */
export type StartExecutionInput =
  | ({ executionId?: undefined } & Pick<NewExecution, 'etlName' | 'etlType' | 'triggeredBy' | 'tiendaIds'> &
      Partial<Omit<NewExecution, 'etlName' | 'etlType' | 'triggeredBy' | 'tiendaIds'>>)
  | { executionId: number; workerId?: string | null; jobId?: string | null }

export class ExecutionTracker {
  readonly redact: Redactor
  readonly #db: Db
  readonly #logger: Logger
  readonly #heartbeatMs: number
  #execution: ExecutionRow | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #error: ExecutionError | null = null
  readonly #stop = new AbortController()

  constructor(options: TrackerOptions) {
    this.#db = options.db
    this.#logger = options.logger
    this.#heartbeatMs = options.heartbeatSeconds * 1000
    this.redact = createRedactor(options.secrets ?? [])
  }

  /**
   * Aborted once a stop of the execution was asked (cancel_requested_at, read by the heartbeat or with
   * the execution row): stores not started are skipped, stores extracting stop at the next page.
   */
  get stopSignal(): AbortSignal {
    return this.#stop.signal
  }

  get executionId(): number {
    if (!this.#execution) throw new Error('startExecution() has not been called')
    return this.#execution.id
  }

  async startExecution(input: StartExecutionInput): Promise<ExecutionRow> {
    if (this.#execution) throw new Error(`this tracker already runs execution ${this.#execution.id}`)
    if (input.executionId === undefined) {
      this.#execution = await insertExecution(this.#db, {
        fechaDesde: null,
        fechaHasta: null,
        recoveredGapId: null,
        workerId: null,
        jobId: null,
        ...input,
        isRecovery: input.isRecovery ?? input.etlType === 'recovery',
      })
    } else {
      const who = { workerId: input.workerId ?? null, jobId: input.jobId ?? null }
      const claimed = await claimQueuedExecution(this.#db, input.executionId, who)
      if (!claimed) {
        const current = await selectExecution(this.#db, input.executionId)
        throw new Error(
          current
            ? `execution ${input.executionId} is ${current.status}, not queued: it cannot be started again`
            : `execution ${input.executionId} does not exist`,
        )
      }
      this.#execution = claimed
    }
    this.#startHeartbeat()
    return this.#execution
  }

  /**
   * A part of a fanned-out execution that another runner started: this tracker follows that
   * execution (heartbeat, stores) without starting or claiming it.
   */
  attach(execution: ExecutionRow): void {
    if (this.#execution) throw new Error(`this tracker already runs execution ${this.#execution.id}`)
    this.#execution = execution
    if (execution.cancel_requested_at) this.#stop.abort(new StopRequested(execution.id))
    this.#startHeartbeat()
  }

  /**
   * Inserts the store's detail row as `running` (phase extract) and returns its handle; null when the
   * store is already finished (a retried part of a fanned-out run whose store had completed). A store
   * closed for the run's window (tienda_cierres) is recorded `closed` instead: its handle's `closed`
   * is set and there is nothing to run.
   */
  async startTienda(tienda: TiendaInfo): Promise<TiendaTracker | null> {
    const executionId = this.executionId
    const started = await insertTiendaRunning(this.#db, {
      executionId,
      tiendaId: tienda.id,
      nombre: tienda.nombre,
      sourceSystem: tienda.sourceSystem,
      serverIp: isIP(tienda.host) ? tienda.host : null,
      serverPort: tienda.port,
    }).catch((error: unknown) => {
      trackerWriteErrors.inc({ operation: 'start_tienda' })
      throw error
    })
    if (!started) return null
    return new TiendaTracker({
      db: this.#db,
      executionId,
      etlName: this.#execution?.etl_name,
      tienda,
      redact: this.redact,
      attempt: started.attempts,
      closed: started.closed ? { remaining: started.remaining } : null,
    })
  }

  /** An execution-level error (not tied to one store), kept when no store failed. Redacted and cut here. */
  recordError(error: Omit<ExecutionError, 'detail'> & { detail?: string | null }) {
    this.#error = {
      phase: error.phase,
      category: error.category,
      source: error.source,
      message: truncate(this.redact(error.message), MESSAGE_MAX),
      detail: error.detail ? truncate(this.redact(error.detail), DETAIL_MAX) : null,
    }
  }

  /** Closes the execution from its stores (executions/close.sql.ts) and stops the heartbeat. */
  async finishExecution(): Promise<ExecutionRow> {
    const id = this.executionId
    try {
      const row = await closeFinishedExecution(this.#db, id, this.#error).catch((error: unknown) => {
        trackerWriteErrors.inc({ operation: 'finish_execution' })
        throw error
      })
      if (row) {
        runsClosed.inc({ etl_name: row.etl_name, status: row.status })
        return row
      }
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
      touchHeartbeat(this.#db, id).then(
        ({ cancelRequested }) => {
          if (cancelRequested && !this.#stop.signal.aborted) {
            this.#logger.info({ execution_id: id }, 'stop requested: stopping at the next store or page boundary')
            this.#stop.abort(new StopRequested(id))
          }
        },
        (error: unknown) => {
          trackerWriteErrors.inc({ operation: 'heartbeat' })
          this.#logger.warn({ execution_id: id, err: this.redact(String(error)) }, 'heartbeat failed')
        },
      )
    }, this.#heartbeatMs)
    // A heartbeat alone must not keep a finished CLI process alive.
    this.#heartbeat.unref()
  }
}

/** Thrown between pages of a store once its execution was asked to stop: the store ends `skipped`. */
export class StopRequested extends Error {
  constructor(executionId: number) {
    super(`execution ${executionId} was asked to stop (cancel requested)`)
    this.name = 'StopRequested'
  }
}
