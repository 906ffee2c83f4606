import { describe, expect, it } from 'vitest'
import { detectTriggeredBy } from './triggered-by.ts'

describe('detectTriggeredBy (plan §2.2)', () => {
  it('is cli when no special variable is set', () => {
    expect(detectTriggeredBy({})).toBe('cli')
    expect(detectTriggeredBy({ FLUXION_ADMIN: 'false', AWS_EXECUTION_ENV: '' })).toBe('cli')
  })

  it('is eventbridge when AWS_EXECUTION_ENV is present, whatever FLUXION_ADMIN says', () => {
    expect(detectTriggeredBy({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' })).toBe('eventbridge')
    expect(detectTriggeredBy({ AWS_EXECUTION_ENV: 'AWS_Lambda_python3.12', FLUXION_ADMIN: 'true' })).toBe('eventbridge')
  })

  it('is fluxion_admin only for FLUXION_ADMIN=true exactly', () => {
    expect(detectTriggeredBy({ FLUXION_ADMIN: 'true' })).toBe('fluxion_admin')
    expect(detectTriggeredBy({ FLUXION_ADMIN: 'TRUE' })).toBe('cli')
    expect(detectTriggeredBy({ FLUXION_ADMIN: '1' })).toBe('cli')
  })

  it('is recovery with --recovery-mode, over any environment', () => {
    expect(detectTriggeredBy({}, { recoveryMode: true })).toBe('recovery')
    expect(detectTriggeredBy({ AWS_EXECUTION_ENV: 'x', FLUXION_ADMIN: 'true' }, { recoveryMode: true })).toBe(
      'recovery',
    )
    expect(detectTriggeredBy({ FLUXION_ADMIN: 'true' }, { recoveryMode: false })).toBe('fluxion_admin')
  })
})
