import { expect, it } from 'vitest'
import { failureLimiter } from './rate-limit.ts'

it('refuses a key after max failures in the window, until the oldest leaves it', () => {
  const limiter = failureLimiter({ max: 3, windowMs: 60_000 })
  limiter.fail('k', 0)
  limiter.fail('k', 10_000)
  expect(limiter.retryAfter('k', 10_000)).toBe(0)
  limiter.fail('k', 20_000)
  expect(limiter.retryAfter('k', 20_000)).toBe(40)
  expect(limiter.retryAfter('k', 59_999)).toBe(1)
  expect(limiter.retryAfter('k', 60_001)).toBe(0)
  expect(limiter.retryAfter('other', 20_000)).toBe(0)
  limiter.reset('k')
  expect(limiter.retryAfter('k', 20_000)).toBe(0)
})

it('keeps a bounded number of keys', () => {
  const limiter = failureLimiter({ max: 1, windowMs: 60_000, maxKeys: 2 })
  for (const k of ['a', 'b', 'c']) limiter.fail(k, 0)
  expect(limiter.retryAfter('a', 1)).toBe(0)
  expect(limiter.retryAfter('c', 1)).toBe(60)
})
