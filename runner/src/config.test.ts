import { expect, it } from 'vitest'
import { parseRunnerConfig } from './config.ts'

it('defaults as DESIGN §9 says, the embedded database on the EMBEDDED_PG_PORT it is given', () => {
  expect(parseRunnerConfig({})).toMatchObject({
    DATABASE_URL: 'postgres://fluxion:fluxion@127.0.0.1:54329/fluxion',
    SOURCE_CONNECT_TIMEOUT_MS: 10_000,
    SOURCE_REQUEST_TIMEOUT_MS: 90_000,
    SOURCE_RETRIES: 2,
    ETL_CONCURRENCY: 4,
    RUNNER_HEARTBEAT_S: 10,
    RUNNER_STALE_AFTER_S: 60,
    TZ_TIENDAS: 'America/Caracas',
  })
  expect(parseRunnerConfig({ EMBEDDED_PG_PORT: '55000' }).DATABASE_URL).toBe(
    'postgres://fluxion:fluxion@127.0.0.1:55000/fluxion',
  )
  expect(parseRunnerConfig({ DATABASE_URL: 'postgres://a@b/c' }).DATABASE_URL).toBe('postgres://a@b/c')
})

it('names every bad variable, the time zone included', () => {
  expect(() => parseRunnerConfig({ ETL_CONCURRENCY: '0', TZ_TIENDAS: 'Mars/Olympus' })).toThrow(
    /ETL_CONCURRENCY[\s\S]*TZ_TIENDAS: must be an IANA time zone/,
  )
})
