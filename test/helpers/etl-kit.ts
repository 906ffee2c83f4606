// What the runner's ETL integration suites share: KLK simulator stores registered in `tiendas`,
// a fast-failing runner configuration, runEtl with a log capture, and the rows a person would check.
import pino from 'pino'
import type { Sql } from 'postgres'
import { expect } from 'vitest'
import { parseRunnerConfig, type RunnerConfig } from '../../runner/src/config.ts'
import { type FreshRunRequest, type RunEtlDeps, runEtl } from '../../runner/src/etl/run-etl.ts'
import { refusingPort } from '../../scripts/lib/reserved-port.ts'
import { type KlkStore, type KlkStoreOptions, startKlkStore } from '../fakes/klk-simulator.ts'

export const TOKEN = 'klk-etl-token-5e0c9a71'
/** Half an hour of sales: ~30 invoices, ~60 lines per store. */
export const WINDOW = { desde: new Date('2026-11-02T10:00:00Z'), hasta: new Date('2026-11-02T10:30:00Z') }

/** Short timeouts and no retries, so every fault resolves in about a second. */
export function fastConfig(url: string, extra: Record<string, string> = {}): RunnerConfig {
  return parseRunnerConfig({
    DATABASE_URL: url,
    KLK_API_TOKEN: TOKEN,
    SOURCE_CONNECT_TIMEOUT_MS: '300',
    SOURCE_REQUEST_TIMEOUT_MS: '500',
    SOURCE_RETRIES: '0',
    SOURCE_RETRY_BASE_MS: '50',
    ETL_CONCURRENCY: '4',
    LOG_LEVEL: 'debug',
    ...extra,
  })
}

/** Starts a simulator store and registers it (upsert) as an active KLK store. */
export async function addStore(
  db: Sql,
  options: Omit<KlkStoreOptions, 'token'> & { token?: string },
): Promise<KlkStore> {
  const store = await startKlkStore({ token: TOKEN, ...options })
  await registerStore(db, { id: store.tiendaId, host: store.host, port: store.port })
  return store
}

export async function registerStore(
  db: Sql,
  s: { id: string; host: string; port: number; sourceSystem?: 'klk' | 'stellar'; active?: boolean },
) {
  await db`
    insert into tiendas (id, nombre, source_system, host, port, active)
    values (${s.id}, ${s.id.toUpperCase()}, ${s.sourceSystem ?? 'klk'}, ${s.host}, ${s.port}, ${s.active ?? true})
    on conflict (id) do update set host = excluded.host, port = excluded.port, active = excluded.active`
}

/** A loopback port nothing listens on, held so no other process takes it: connect() gets a real ECONNREFUSED. */
export const closedPort = (): Promise<number> => refusingPort()

export type Captured = { deps: RunEtlDeps; logs: string[] }

/** runEtl deps on a test database, with every log line kept for inspection. */
export function etlDeps(db: Sql, config: RunnerConfig, extra: Partial<RunEtlDeps> = {}): Captured {
  const logs: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) })
  return { deps: { db, config, logger, ...extra }, logs }
}

export function runVentas(
  db: Sql,
  config: RunnerConfig,
  tiendaIds: string[],
  extra: Partial<FreshRunRequest> | { executionId: number } = {},
  deps: Partial<RunEtlDeps> = {},
) {
  const request =
    'executionId' in extra && extra.executionId !== undefined
      ? { executionId: extra.executionId }
      : {
          etlName: 'ventas' as const,
          tiendaIds,
          ...WINDOW,
          triggeredBy: 'cli' as const,
          etlType: 'manual' as const,
          ...extra,
        }
  return runEtl(etlDeps(db, config, deps).deps, request)
}

/** The stored execution and detail rows carry the same classified error. */
export async function expectStoredError(
  db: Sql,
  executionId: number,
  tiendaId: string,
  expected: { phase: string; category: string; source: string },
) {
  const [execution] = await db`
    select status, error_phase, error_category, error_source, error_message from etl_executions where id = ${executionId}`
  const [detail] = await db`
    select status, error_phase, error_category, error_source, error_message from etl_execution_details
    where execution_id = ${executionId} and tienda_id = ${tiendaId}`
  const want = { error_phase: expected.phase, error_category: expected.category, error_source: expected.source }
  expect(execution).toMatchObject({ status: 'failed', ...want })
  expect(detail).toMatchObject({ status: 'failed', ...want })
  expect(detail!.error_message).toBeTruthy()
  return { execution: execution!, detail: detail! }
}
