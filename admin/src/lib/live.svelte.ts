// Live status in the browser. One EventSource to the panel's own /eventos relay (the server side
// holds the token and subscribes to the API's stream), shared by every page. When the stream is
// down, pages fall back to reloading their data every 30 s while something is running or queued
// (the plan's polling); on reconnection they reload once, as the API does not replay events.

import { untrack } from 'svelte'
import { refreshAll } from '$app/navigation'
import type { Schemas } from './api/schemas.ts'
import { terminal } from './labels.ts'

export type StreamEvent = Schemas['StreamEvent']
type Summary = Schemas['ExecutionSummary']

export const POLL_MS = 30_000
const RETRY_MS = 30_000
/** A busy run sends an event per store; reloads for rows not on screen are spaced this much. */
const RELOAD_GAP_MS = 5_000

class LiveFeed {
  estado = $state<'apagado' | 'conectando' | 'conectado' | 'caido'>('apagado')
  #source: EventSource | null = null
  #retry: ReturnType<typeof setTimeout> | undefined
  #listeners = new Set<(event: StreamEvent) => void>()
  #reconnected = new Set<() => void>()
  #everOpen = false

  start(url = '/eventos') {
    if (this.#source) return
    this.estado = 'conectando'
    const source = new EventSource(url)
    this.#source = source
    source.onopen = () => {
      const again = this.#everOpen
      this.#everOpen = true
      this.estado = 'conectado'
      if (again) for (const fn of this.#reconnected) fn()
    }
    source.onerror = () => {
      // CONNECTING: the browser retries by itself. CLOSED: the relay refused (e.g. 401, 502);
      // try again later while pages poll.
      if (source.readyState === EventSource.CLOSED) {
        this.stop()
        this.estado = 'caido'
        this.#retry = setTimeout(() => this.start(url), RETRY_MS)
      } else {
        this.estado = 'conectando'
      }
    }
    for (const name of ['execution', 'tienda'] as const) {
      source.addEventListener(name, (message) => {
        const data = JSON.parse(message.data)
        const event = { event: name, data } as StreamEvent
        for (const fn of this.#listeners) fn(event)
      })
    }
  }

  stop() {
    clearTimeout(this.#retry)
    this.#source?.close()
    this.#source = null
    this.estado = 'apagado'
  }

  subscribe(listener: (event: StreamEvent) => void, onReconnect?: () => void): () => void {
    this.#listeners.add(listener)
    if (onReconnect) this.#reconnected.add(onReconnect)
    return () => {
      this.#listeners.delete(listener)
      if (onReconnect) this.#reconnected.delete(onReconnect)
    }
  }
}

export const liveFeed = new LiveFeed()

// One page reload for many events: every live helper on a page asks here, so an event two of
// them care about reloads once, and a busy run (an event per store) at most every few seconds.
let pendingReload: ReturnType<typeof setTimeout> | undefined
let lastReload = 0
let reloadsInFlight = 0

export function scheduleReload() {
  if (pendingReload !== undefined) return
  const wait = Math.max(500, lastReload + RELOAD_GAP_MS - Date.now())
  pendingReload = setTimeout(() => {
    pendingReload = undefined
    lastReload = Date.now()
    reloadsInFlight += 1
    void refreshAll().finally(() => {
      reloadsInFlight -= 1
    })
  }, wait)
}

/** A navigation (the detail modal opening) drops a reload in flight: it is scheduled again. */
export function resumeDroppedReload() {
  if (reloadsInFlight > 0) scheduleReload()
}

/**
 * Keeps counts of running and queued executions current (the "Ejecutando / en cola" tile): any
 * execution of `etl` (null: any ETL) that is queued, starts or ends reloads the page data.
 * Progress events of a run (a status it already had) do not.
 */
export class LiveCounts {
  #status = new Map<number, string>()

  constructor(etl: () => string | null) {
    $effect(() =>
      liveFeed.subscribe(
        (event) => {
          if (event.event !== 'execution') return
          const wanted = etl()
          if (wanted && event.data.etl_name !== wanted) return
          if (this.#status.get(event.data.id) === event.data.status) return
          this.#status.set(event.data.id, event.data.status)
          scheduleReload()
        },
        () => scheduleReload(),
      ),
    )
  }
}

/**
 * Keeps a list of executions current: `execution` events patch the rows in place; an execution
 * that has just finished, or is new and `accepts` says may belong on the page, reloads the page
 * data (totals, stats, order).
 * Call from a component's script; `rows` is reactive.
 */
export class LiveExecutions {
  #source: () => Summary[]
  #patches = $state<Record<number, Summary>>({})

  rows = $derived.by(() => this.#source().map((row) => this.#patches[row.id] ?? row))
  active = $derived(this.rows.some((row) => !terminal(row.status)))

  constructor(source: () => Summary[], accepts: (row: Summary) => boolean = () => true) {
    this.#source = source
    $effect.pre(() => {
      this.#source()
      untrack(() => {
        this.#patches = {}
      })
    })
    $effect(() =>
      liveFeed.subscribe(
        (event) => {
          if (event.event !== 'execution') return
          const known = this.#source().some((row) => row.id === event.data.id)
          // A row on screen always follows its execution (and a finished one reloads the totals);
          // an execution not on screen reloads the page only if it may belong on it.
          if (known) this.#patches[event.data.id] = event.data
          if (known ? terminal(event.data.status) : accepts(event.data)) scheduleReload()
        },
        () => scheduleReload(),
      ),
    )
    $effect(() => {
      if (liveFeed.estado === 'conectado' || !this.active) return
      const timer = setInterval(() => void refreshAll(), POLL_MS)
      return () => clearInterval(timer)
    })
  }
}
