// The retry policy of one store inside a run (SOURCE_RETRIES, SOURCE_RETRY_BASE_MS): which failures are
// worth another attempt, how long to wait, and the loop that applies it. It knows nothing of tracking:
// the caller says how a failure is classified and what happens before each retry.
import type { ClassifiedError } from '../tracker/classify-error.ts'

export type RetryPolicy = { retries: number; baseMs: number }

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

/** A network or database hiccup, or an API that is unwell (5xx, 429) rather than a request that is wrong. */
export const isTransient = (e: ClassifiedError) =>
  TRANSIENT.has(e.category) || (e.category === 'api_error' && /^HTTP_(5\d\d|429)$/.test(e.code ?? ''))

/** Exponential backoff with jitter: base·2^(n−1), drawn from its upper half, capped at 30 s. */
export function backoffMs(baseMs: number, attempt: number): number {
  const ceiling = Math.min(30_000, baseMs * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

export type Attempted<T> = { ok: true; value: T } | { ok: false; error: ClassifiedError; cause: unknown }

/**
 * Runs `attempt` until it succeeds, fails with an error that is not transient, runs out of retries,
 * or `signal` aborts (then the last failure stands). `beforeRetry` runs with the failure and the
 * wait before the next attempt, and does the waiting.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  hooks: {
    attempt: () => Promise<T>
    classify: (cause: unknown) => ClassifiedError
    beforeRetry: (error: ClassifiedError, waitMs: number) => Promise<void>
  },
): Promise<Attempted<T>> {
  for (let n = 1; ; n++) {
    try {
      return { ok: true, value: await hooks.attempt() }
    } catch (cause) {
      const error = hooks.classify(cause)
      if (!isTransient(error) || n > policy.retries || signal?.aborted) return { ok: false, error, cause }
      await hooks.beforeRetry(error, backoffMs(policy.baseMs, n))
    }
  }
}
