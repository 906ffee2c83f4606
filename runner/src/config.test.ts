import { expect, it } from 'vitest'
import { parseRunnerConfig } from './config.ts'

it('defaults as DESIGN §9 says, the embedded database on the EMBEDDED_PG_PORT it is given', () => {
  expect(parseRunnerConfig({})).toMatchObject({
    DATABASE_URL: 'postgres://fluxion:fluxion@127.0.0.1:54329/fluxion',
    SOURCE_CONNECT_TIMEOUT_MS: 10_000,
    SOURCE_REQUEST_TIMEOUT_MS: 90_000,
    SOURCE_RETRIES: 2,
    ETL_CONCURRENCY: 8,
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

it('alert thresholds of issue 11: defaults, and a flapping or baseline window that cannot be met is named', () => {
  expect(parseRunnerConfig({})).toMatchObject({
    ALERT_NETWORK_MIN_STORES: 3,
    ALERT_NETWORK_MIN_PCT: 30,
    ALERT_NO_DATA_MIN_PCT: 20,
    ALERT_NO_DATA_WEEKS: 8,
    ALERT_NO_DATA_MIN_WEEKS: 4,
    ALERT_FLAPPING_FAILURES: 4,
    ALERT_FLAPPING_RUNS: 10,
  })
  expect(() => parseRunnerConfig({ ALERT_FLAPPING_FAILURES: '11' })).toThrow(
    /ALERT_FLAPPING_FAILURES: must not exceed ALERT_FLAPPING_RUNS/,
  )
  expect(() => parseRunnerConfig({ ALERT_NO_DATA_MIN_WEEKS: '9' })).toThrow(
    /ALERT_NO_DATA_MIN_WEEKS: must not exceed ALERT_NO_DATA_WEEKS/,
  )
  expect(() => parseRunnerConfig({ ALERT_NETWORK_MIN_PCT: '0', ALERT_NO_DATA_WEEKS: '27' })).toThrow(
    /ALERT_NETWORK_MIN_PCT[\s\S]*ALERT_NO_DATA_WEEKS/,
  )
})

it('RETENTION_MONTHS: unset (or empty) keeps everything; a whole number ≥ 1 is kept; 0 is named', () => {
  expect(parseRunnerConfig({}).RETENTION_MONTHS).toBeUndefined()
  expect(parseRunnerConfig({ RETENTION_MONTHS: '' }).RETENTION_MONTHS).toBeUndefined()
  expect(parseRunnerConfig({ RETENTION_MONTHS: '24' }).RETENTION_MONTHS).toBe(24)
  expect(() => parseRunnerConfig({ RETENTION_MONTHS: '0' })).toThrow(/RETENTION_MONTHS: must be at least 1/)
  expect(() => parseRunnerConfig({ RETENTION_MONTHS: '1.5' })).toThrow(/RETENTION_MONTHS/)
})
