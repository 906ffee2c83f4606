import { expect, it } from 'vitest'
import { parseTtl } from './token.ts'

it('reads --ttl as seconds or a duration', () => {
  expect(parseTtl('90')).toBe(90)
  expect(parseTtl('30m')).toBe(1800)
  expect(parseTtl('1h')).toBe(3600)
  expect(parseTtl('2d')).toBe(172_800)
  expect(() => parseTtl('1w')).toThrow(/--ttl 1w/)
  expect(() => parseTtl('0')).toThrow(/between 1 second and 365 days/)
})
