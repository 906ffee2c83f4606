// A store's VPN link as the stand-ins model it: a round-trip time added to every answer and a
// bandwidth limit on what the store sends. Loopback answers in microseconds and at memory speed,
// so without this a benchmark measures CPU, not the network that makes a real run slow.
//
// - rtt(socket): resolves after one RTT (a request's way there and its answer's way back). The
//   first answer on a connection waits one RTT more: the TCP handshake, which loopback completes
//   at once and which cannot be delayed from user space without root (tc netem).
// - transmit(bytes): a token bucket of `bytesPerSecond` with `burstBytes` of credit, kept as a
//   virtual clock (GCRA): each chunk is scheduled after the ones before it, on any connection of
//   the store, so connections share the store's link in arrival order and a late timer is caught
//   up by the next chunk instead of adding up.
// Writers send in chunks of at most `LINK_CHUNK` bytes so the pacing stays smooth.
import { setTimeout as sleep } from 'node:timers/promises'

export type LinkOptions = {
  /** Round-trip time added to every answer, in ms. 0 or unset: none. */
  rttMs?: number
  /** The store's upstream bandwidth in bytes per second. 0 or unset: unlimited. */
  bytesPerSecond?: number
  /** Bytes that may leave at once after the link was idle (default: one chunk). */
  burstBytes?: number
}

export type Link = {
  readonly active: boolean
  readonly rttMs: number
  readonly bytesPerSecond: number
  /** Waits one RTT, two on the first answer of `connection` (any object that identifies it). */
  rtt(connection: object): Promise<void>
  /** Waits until `bytes` more may leave the store. */
  transmit(bytes: number): Promise<void>
}

export const LINK_CHUNK = 16 * 1024

export function createLink(options: LinkOptions = {}): Link {
  const rttMs = Math.max(0, options.rttMs ?? 0)
  const bytesPerSecond = Math.max(0, options.bytesPerSecond ?? 0)
  if (!Number.isFinite(rttMs) || !Number.isFinite(bytesPerSecond)) {
    throw new Error(`link: rttMs and bytesPerSecond must be finite numbers (got ${rttMs}, ${bytesPerSecond})`)
  }
  const burstMs = bytesPerSecond ? ((options.burstBytes ?? LINK_CHUNK) / bytesPerSecond) * 1000 : 0
  const handshaken = new WeakSet<object>()
  // When everything scheduled so far has left (performance.now()'s clock); up to burstMs of it may
  // still be ahead of now without waiting.
  let freeAt = 0
  return {
    active: rttMs > 0 || bytesPerSecond > 0,
    rttMs,
    bytesPerSecond,
    async rtt(connection) {
      if (rttMs === 0) return
      const trips = handshaken.has(connection) ? 1 : 2
      handshaken.add(connection)
      await sleep(rttMs * trips)
    },
    async transmit(bytes) {
      if (bytesPerSecond === 0 || bytes <= 0) return
      const now = performance.now()
      freeAt = Math.max(freeAt, now) + (bytes / bytesPerSecond) * 1000
      const wait = freeAt - now - burstMs
      if (wait > 1) await sleep(wait)
    },
  }
}
