// One LISTEN etl_events per API process, fanned out to every open event stream. The runner's
// tracker (and the reaper, and POST /run) send `pg_notify('etl_events', {"execution_id", …})`
// on every change; the hub reads the changed execution (and store) once per notification and
// hands the same event to all subscribers. LISTEN starts with the first subscriber.
import type { Logger } from 'pino'
import type { Db } from '../db.ts'
import type { TiendaDetail } from '../executions/detail.schemas.ts'
import { findTiendaDetail } from '../executions/detail.sql.ts'
import type { ExecutionSummary } from '../executions/executions.schemas.ts'
import { listExecutionsByIds } from '../executions/executions.sql.ts'
import { toTiendaDetail } from '../executions/executions.view.ts'
import type { Listen } from '../listen.ts'

export type StreamEvent =
  | { event: 'execution'; data: ExecutionSummary }
  | { event: 'tienda'; data: TiendaDetail & { execution_id: number } }

export type EventHub = {
  /** Resolves once notifications are being received. */
  subscribe: (fn: (e: StreamEvent) => void) => Promise<() => void>
  close: () => Promise<void>
}

export const EVENTS_CHANNEL = 'etl_events'

function parse(payload: string): { executionId: number; tiendaId: string | null } | null {
  try {
    const p = JSON.parse(payload) as { execution_id?: unknown; tienda_id?: unknown }
    const executionId = Number(p.execution_id)
    if (!Number.isInteger(executionId) || executionId < 1) return null
    return { executionId, tiendaId: typeof p.tienda_id === 'string' ? p.tienda_id : null }
  } catch {
    return null
  }
}

export function createEventHub(listen: Listen, read: Db, logger: Logger): EventHub {
  const subscribers = new Set<(e: StreamEvent) => void>()
  // Dropped when it fails, so the next subscriber tries again (listen.ts: on a new pool in the API).
  let listening: Promise<() => Promise<void>> | undefined
  // A notification that arrives while the same execution/store is being read asks for one
  // more read after it (the later read carries the latest state); bursts collapse into two.
  const inflight = new Map<string, boolean>()

  const emit = (e: StreamEvent) => {
    for (const fn of subscribers) fn(e)
  }

  async function readAndEmit(executionId: number, tiendaId: string | null) {
    const [summary] = JSON.parse(await listExecutionsByIds(read, [executionId])) as ExecutionSummary[]
    const tienda = tiendaId ? await findTiendaDetail(read, executionId, tiendaId) : undefined
    if (tienda) emit({ event: 'tienda', data: { execution_id: executionId, ...toTiendaDetail(tienda) } })
    if (summary) emit({ event: 'execution', data: summary })
  }

  async function refresh(executionId: number, tiendaId: string | null) {
    const key = `${executionId}:${tiendaId ?? ''}`
    if (inflight.has(key)) {
      inflight.set(key, true)
      return
    }
    try {
      do {
        inflight.set(key, false)
        await readAndEmit(executionId, tiendaId)
      } while (inflight.get(key))
    } catch (error) {
      logger.warn({ err: error, execution_id: executionId }, 'could not read a changed execution for the event stream')
    } finally {
      inflight.delete(key)
    }
  }

  const onNotify = (payload: string) => {
    if (subscribers.size === 0) return
    const change = parse(payload)
    if (change) void refresh(change.executionId, change.tiendaId)
  }

  return {
    async subscribe(fn) {
      listening ??= listen(EVENTS_CHANNEL, onNotify)
      try {
        await listening
      } catch (error) {
        listening = undefined
        logger.warn({ err: error }, `could not LISTEN ${EVENTS_CHANNEL}: the event stream is unavailable until it can`)
        throw error
      }
      subscribers.add(fn)
      return () => {
        subscribers.delete(fn)
      }
    },
    async close() {
      subscribers.clear()
      const l = listening
      listening = undefined
      if (l) await l.then((stop) => stop()).catch(() => {})
    },
  }
}
