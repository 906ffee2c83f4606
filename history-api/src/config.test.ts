import { expect, it } from 'vitest'
import { parseApiConfig } from './config.ts'

const secret = 'x'.repeat(32)

it('defaults as DESIGN §9 says', () => {
  const c = parseApiConfig({ AUTH_JWT_SECRET: secret })
  expect(c).toMatchObject({
    HISTORY_API_PORT: 8787,
    AUTH_ISSUER: 'fluxion',
    AUTH_AUDIENCE: 'etl-history',
    TZ_TIENDAS: 'America/Caracas',
  })
  expect(c.DATABASE_READ_URL).toBeUndefined()
  expect(c.DATABASE_URL).toBe('postgres://fluxion:fluxion@127.0.0.1:54329/fluxion')
  // The embedded port comes from the environment given, not from the process's at import time.
  expect(parseApiConfig({ AUTH_JWT_SECRET: secret, EMBEDDED_PG_PORT: '55000' }).DATABASE_URL).toBe(
    'postgres://fluxion:fluxion@127.0.0.1:55000/fluxion',
  )
})

it('names every bad variable', () => {
  expect(() => parseApiConfig({})).toThrow(/AUTH_JWT_SECRET: is required/)
  expect(() => parseApiConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET: must be at least 32 characters/)
  expect(() =>
    parseApiConfig({ AUTH_JWT_SECRET: secret, HISTORY_API_PORT: '99999', TZ_TIENDAS: 'Mars/Olympus' }),
  ).toThrow(/HISTORY_API_PORT[\s\S]*TZ_TIENDAS: must be an IANA time zone/)
})
