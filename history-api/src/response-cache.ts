// Responses of the history (list pages, execution details, statistics) kept in memory until the
// history changes.
// Migration 093's triggers announce every committed change to etl_executions, etl_execution_details
// and tiendas on `etl_history_changed`; each notification drops every kept response. A response whose
// statement started before a change is not kept (the generation it was read under is gone), nor joined
// by a request that arrives after the change. Writes through this process's own routes drop them at
// once (the response to a POST is sent after that), so a client reads its own writes; other writers'
// changes arrive within the notification's delivery (milliseconds). A lost LISTEN connection may miss
// notifications until it is back: every response is re-read at least every `maxAgeMs` (which also
// bounds how far a kept statistics window lags the clock), and a reconnection drops everything.
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import { Counter, type Registry } from 'prom-client'
import type { Listen } from './listen.ts'

export const HISTORY_CHANGED_CHANNEL = 'etl_history_changed'

/**
 * How the cache hears of changes: `onChange` for each notification, `onListen` each time listening
 * (re)starts. Resolves once listening; the function it resolves to stops.
 */
export type ChangeFeed = (onChange: () => void, onListen: () => void) => Promise<() => Promise<void>>

/** The changes of the history as migration 093 announces them, through `listen`. */
export const historyChanges =
  (listen: Listen): ChangeFeed =>
  (onChange, onListen) =>
    listen(HISTORY_CHANGED_CHANNEL, onChange, onListen)

/** A 200 response as sent: its JSON body and headers. */
export type CachedResponse = { body: string; headers: Record<string, string> }

/** A JSON body (already serialised) and any headers of its own, as kept and sent. */
export const jsonResponse = (body: string, headers: Record<string, string> = {}): CachedResponse => ({
  body,
  headers: { 'Content-Type': 'application/json', ...headers },
})

export type ResponseCache = {
  /**
   * The response for `key`: kept, being read by another request, or read now by `read` — and kept
   * when no change arrived meanwhile. Anything else `read` answers (undefined for a 404) is not kept
   * but is shared with the requests that joined the read: plain data, never a Response (its body
   * can be read once).
   */
  get<R>(key: string, read: () => Promise<CachedResponse | R>): Promise<CachedResponse | R>
  /** Drops every kept response (a change was written). */
  invalidate(): void
  /** Resolves once listening (until then every request reads). */
  ready: Promise<void>
  close(): Promise<void>
}

type Options = { maxBytes: number; maxAgeMs?: number; retryMs?: number; registry?: Registry; logger?: Logger }

/** A cache that keeps nothing: every request reads (HISTORY_API_CACHE_MB=0, or reads from a replica). */
export const noResponseCache: ResponseCache = {
  get: (_key, read) => read(),
  invalidate: () => {},
  ready: Promise.resolve(),
  close: async () => {},
}

const isCached = (v: unknown): v is CachedResponse =>
  typeof v === 'object' && v !== null && 'body' in v && typeof v.body === 'string' && 'headers' in v

export function createResponseCache(feed: ChangeFeed, opts: Options): ResponseCache {
  const kept = new LRUCache<string, CachedResponse>({
    maxSize: opts.maxBytes,
    // UTF-16 code units, near enough to bytes for JSON that is mostly ASCII.
    sizeCalculation: (v) => v.body.length + 256,
    ttl: opts.maxAgeMs ?? 5000,
  })
  const reading = new Map<string, { generation: number; value: Promise<unknown> }>()
  const lookups = new Counter({
    name: 'history_api_response_cache_total',
    help: 'History responses by where they came from: hit (kept), joined (another request was reading it), read, bypass (not listening yet)',
    labelNames: ['result'] as const,
    registers: opts.registry ? [opts.registry] : [],
  })
  let generation = 0
  let listening = false
  let closed = false
  let stop: (() => Promise<void>) | undefined
  let retry: NodeJS.Timeout | undefined
  const invalidate = () => {
    generation++
    kept.clear()
  }
  const ready = Promise.withResolvers<void>()
  const onListen = () => {
    // postgres.js re-listens with new listener objects after a reconnection, which the unlisten it
    // returned first no longer removes: a closed cache ignores them.
    if (closed) return
    invalidate()
    listening = true
    ready.resolve()
  }
  // Until LISTEN succeeds nothing is kept; a failed first LISTEN is tried again.
  const start = () => {
    feed(invalidate, onListen).then(
      (unlisten) => {
        stop = unlisten
        if (closed) void unlisten().catch(() => {})
      },
      (error: Error) => {
        opts.logger?.warn({ err: error }, 'cannot LISTEN for history changes: responses are not kept; retrying')
        if (!closed) retry = setTimeout(start, opts.retryMs ?? 5000).unref()
      },
    )
  }
  start()

  return {
    async get<R>(key: string, read: () => Promise<CachedResponse | R>) {
      if (!listening) {
        lookups.inc({ result: 'bypass' })
        return read()
      }
      const hit = kept.get(key)
      if (hit !== undefined) {
        lookups.inc({ result: 'hit' })
        return hit
      }
      const pending = reading.get(key)
      if (pending?.generation === generation) {
        lookups.inc({ result: 'joined' })
        return pending.value as Promise<CachedResponse | R>
      }
      lookups.inc({ result: 'read' })
      const at = generation
      const value = read().then((v) => {
        if (at === generation && isCached(v)) kept.set(key, v)
        return v
      })
      reading.set(key, { generation: at, value })
      const forget = () => {
        if (reading.get(key)?.value === value) reading.delete(key)
      }
      value.then(forget, forget)
      return value
    },
    invalidate,
    ready: ready.promise,
    async close() {
      closed = true
      listening = false
      clearTimeout(retry)
      invalidate()
      await stop?.().catch(() => {})
    },
  }
}
