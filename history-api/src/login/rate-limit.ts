// Failed logins per key (an email, a client address) in a sliding window. After `max` failures
// within `windowMs` the key is refused until the oldest failure leaves the window: 429 with
// Retry-After. In memory, per API instance — behind a load balancer each instance limits on
// its own, which still bounds guessing to max × instances per window.
export type RateLimiter = {
  /** Seconds until the key may try again; 0 when it may now. */
  retryAfter: (key: string, now: number) => number
  fail: (key: string, now: number) => void
  /** Takes back one failure recorded at `at` (an attempt counted up front that succeeded). */
  forgive: (key: string, at: number) => void
  reset: (key: string) => void
}

export function failureLimiter(opts: { max: number; windowMs: number; maxKeys?: number }): RateLimiter {
  const failures = new Map<string, number[]>()
  const recent = (key: string, now: number) => {
    const list = (failures.get(key) ?? []).filter((t) => t > now - opts.windowMs)
    if (list.length) failures.set(key, list)
    else failures.delete(key)
    return list
  }
  return {
    retryAfter(key, now) {
      const list = recent(key, now)
      if (list.length < opts.max) return 0
      return Math.max(1, Math.ceil((list[list.length - opts.max]! + opts.windowMs - now) / 1000))
    },
    fail(key, now) {
      const list = recent(key, now)
      list.push(now)
      failures.set(key, list)
      // A flood of distinct keys must not grow memory without bound: forget the oldest.
      if (failures.size > (opts.maxKeys ?? 10_000)) failures.delete(failures.keys().next().value!)
    },
    forgive(key, at) {
      const list = failures.get(key)
      const i = list?.lastIndexOf(at) ?? -1
      if (list && i >= 0) list.splice(i, 1)
    },
    reset(key) {
      failures.delete(key)
    },
  }
}
