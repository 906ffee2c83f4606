import { describe, expect, it } from 'vitest'
import { configuredSecrets, createRedactor, redact, redactJson } from './redact.ts'

describe('redact', () => {
  it('masks configured secret values, also URL-encoded', () => {
    const r = createRedactor(['klk-t0ken/with+chars', 'p@ss word'])
    expect(r('GET /x?t=klk-t0ken/with+chars failed')).toBe('GET /x?t=*** failed')
    expect(r('token in url: klk-t0ken%2Fwith%2Bchars')).not.toContain('t0ken')
    expect(r('pw p%40ss%20word here')).toBe('pw *** here')
  })

  it('ignores secrets too short to be real', () => {
    expect(redact('a cat sat', ['a'])).toBe('a cat sat')
  })

  it('masks Authorization headers and bearer/basic credentials', () => {
    expect(redact('Authorization: Bearer abc.def-123')).toBe('Authorization: ***')
    expect(redact('{"authorization":"Basic dXNlcjpwYXNz"}')).toBe('{"authorization":"***"}')
    expect(redact('sent bearer sk_live_123 to host')).toBe('sent bearer *** to host')
  })

  it('masks connection-string credentials', () => {
    expect(redact('connect to postgres://fluxion:s3cr3t@db:5432/fluxion failed')).toBe(
      'connect to postgres://fluxion:***@db:5432/fluxion failed',
    )
    expect(redact('Server=tcp:10.0.0.5,1433;User Id=sa;Password=my secret;Database=x')).toBe(
      'Server=tcp:10.0.0.5,1433;User Id=sa;Password=***;Database=x',
    )
    expect(redact('pwd=hunter22&user=bob')).toBe('pwd=***&user=bob')
  })

  it('masks key=value and JSON secrets, env style included', () => {
    expect(redact('KLK_API_TOKEN=abcdef STELLAR_PASSWORD=zzz')).toBe('KLK_API_TOKEN=*** STELLAR_PASSWORD=***')
    expect(redact('{"password": "x1", "api_key":"k2", "user":"bob"}')).toBe(
      '{"password": "***", "api_key":"***", "user":"bob"}',
    )
    expect(redact('?access_token=abc123&page=2')).toBe('?access_token=***&page=2')
  })

  it('masks JWT-looking strings', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU'
    expect(redact(`cookie ${jwt} end`)).toBe('cookie *** end')
  })

  it('leaves ordinary messages alone', () => {
    const msg =
      'Connect Timeout Error (attempted address: 127.0.0.1:18101, timeout: 300ms): missing or invalid bearer token'
    expect(redact(msg)).toBe(msg)
    expect(redact('token expired')).toBe('token expired')
  })

  it('redacts strings inside JSON values', () => {
    const r = createRedactor(['supersecret'])
    expect(redactJson({ ip: '10.0.0.1', note: ['x supersecret y'], n: 3, ok: true }, r)).toEqual({
      ip: '10.0.0.1',
      note: ['x *** y'],
      n: 3,
      ok: true,
    })
  })

  it('collects the configured secrets, the database password included', () => {
    expect(
      configuredSecrets({ KLK_API_TOKEN: 'tok', STELLAR_PASSWORD: '', DATABASE_URL: 'postgres://u:p%40ss@h/db' }),
    ).toEqual(['tok', 'p%40ss', 'p@ss'])
  })
})
