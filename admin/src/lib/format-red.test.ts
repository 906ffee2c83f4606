import { describe, expect, test } from 'vitest'
import { direccion, formatLatencia } from './format-red.ts'

describe('network side of a store', () => {
  test('ip:port, brackets for IPv6, a dash when unknown', () => {
    expect(direccion('10.8.0.15', 80)).toBe('10.8.0.15:80')
    expect(direccion('10.8.0.15', null)).toBe('10.8.0.15')
    expect(direccion('::1', 1433)).toBe('[::1]:1433')
    expect(direccion(null, 80)).toBe('—')
  })

  test('connect latency in es-VE, or that no connection was made', () => {
    expect(formatLatencia(1.62)).toBe('1,6 ms')
    expect(formatLatencia(12.4)).toBe('12 ms')
    expect(formatLatencia(null)).toBe('sin conexión')
  })
})
