/** p50, p95 and the largest of a set of durations in ms, each rounded to 0.01. */
export type Times = { p50_ms: number; p95_ms: number; max_ms: number }

export const round = (n: number) => Math.round(n * 100) / 100

export function times(samples: number[]): Times {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0)
  return { p50_ms: at(0.5), p95_ms: at(0.95), max_ms: at(1) }
}
