import { describe, expect, it } from 'vitest'
import { describeCron } from './cron.ts'

describe('describeCron', () => {
  it('words the shapes the schedules use', () => {
    expect(describeCron('*/30 * * * *')).toBe('Cada 30 minutos')
    expect(describeCron('0 * * * *')).toBe('Cada hora, en el minuto 0')
    expect(describeCron('5 6 * * *')).toBe('Todos los días a las 06:05')
    expect(describeCron('* * * * *')).toBe('Cada minuto')
  })
  it('leaves anything else to the raw expression', () => {
    expect(describeCron('0 6 * * 1-5')).toBeNull()
    expect(describeCron(null)).toBeNull()
    expect(describeCron('bad')).toBeNull()
  })
})
