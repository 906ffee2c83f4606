// What a benchmark must undo when it is stopped early: SIGINT (Ctrl-C) or SIGTERM (a time limit,
// `timeout`, a CI job cancelled) run every registered cleanup — drop the throwaway databases, stop
// the child processes — newest first, then exit with 128 + the signal's number as shells expect.
// A SIGKILL cannot be caught: throwaway-db.ts reaps what such a run left at the next start.
import { constants } from 'node:os'

type Cleanup = () => Promise<unknown> | unknown

const cleanups = new Set<Cleanup>()
let stopping: Promise<void> | undefined

/** Registers `fn` to run if the process is interrupted; the returned function unregisters it. */
export function onInterrupt(fn: Cleanup): () => void {
  install()
  cleanups.add(fn)
  return () => void cleanups.delete(fn)
}

/** True once a signal arrived: long loops check it to stop starting new work. */
export const interrupted = () => stopping !== undefined

/**
 * The benchmark's top-level catch: after a signal, errors are the cleanup cutting the work short
 * (its database dropped under it) and the cleanup decides the exit; otherwise the error is fatal.
 */
export function exitOnError(prefix: string) {
  return (error: unknown) => {
    if (interrupted()) return
    process.stderr.write(`${prefix}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  }
}

let installed = false
function install() {
  if (installed) return
  installed = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // The terminal and npm may both deliver Ctrl-C: the second one joins the first.
      stopping ??= stop(signal)
    })
  }
}

async function stop(signal: 'SIGINT' | 'SIGTERM') {
  process.stderr.write(`\nbench: ${signal} — cleaning up before exit\n`)
  // Dropping a database under work in flight cuts its connections; postgres.js 3.4.9 may then throw
  // from a socket callback, out of reach of any promise (porsager/postgres#1154, see
  // runner/src/driver-guard.ts). We are exiting anyway: that throw must not skip the cleanup.
  process.on('uncaughtException', (error) => {
    if (error instanceof TypeError && error.stack?.includes('/postgres/src/connection.js')) return
    process.stderr.write(`bench: ${error.stack ?? error.message}\n`)
  })
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn()
    } catch (error) {
      process.stderr.write(`bench: cleanup failed: ${(error as Error)?.message ?? error}\n`)
    }
  }
  process.exit(128 + constants.signals[signal])
}
