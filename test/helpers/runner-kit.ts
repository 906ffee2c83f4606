// What the runner's reliability and CLI tests share: KLK stand-in stores registered in `tiendas`,
// a runner configuration for a test database, the real runner/CLI as child processes, and queueing a
// run through the history API's own queueRun (execution row + pg-boss job in one transaction).
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import type { PgBoss } from 'pg-boss'
import type { Sql } from 'postgres'
import { parseRunnerConfig, type RunnerConfig } from '../../runner/src/config.ts'
import { queueRun, writeQueuedRun } from '../../scripts/lib/queue-run.ts'
import { type KlkStore, type KlkStoreOptions, startKlkStores } from '../fakes/klk-simulator.ts'

export const ROOT = path.join(import.meta.dirname, '..', '..')
export const KLK_TOKEN = 'klk-test-token-0b1f'

/** Quiet, fast-failing settings: no cron (a test turns it on), no retries inside a run. */
export function testEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: url,
    KLK_API_TOKEN: KLK_TOKEN,
    SOURCE_CONNECT_TIMEOUT_MS: '2000',
    SOURCE_REQUEST_TIMEOUT_MS: '30000',
    SOURCE_RETRIES: '0',
    VENTAS_CRON: 'off',
    INVENTARIO_CRON: 'off',
    LOG_LEVEL: 'warn',
    ...extra,
  }
}

export const testConfig = (url: string, extra: Record<string, string> = {}): RunnerConfig =>
  parseRunnerConfig(testEnv(url, extra))

/** Starts KLK stand-ins and registers them as active stores (upserting host/port). */
export async function addKlkStores(db: Sql, stores: Omit<KlkStoreOptions, 'token'>[]): Promise<KlkStore[]> {
  const started = await startKlkStores(stores.map((s) => ({ ...s, token: KLK_TOKEN })))
  for (const s of started) {
    await db`
      insert into tiendas (id, nombre, source_system, host, port)
      values (${s.tiendaId}, ${s.tiendaId.toUpperCase()}, 'klk', ${s.host}, ${s.port})
      on conflict (id) do update set host = excluded.host, port = excluded.port, active = true`
  }
  return started
}

export type ManualRun = {
  etlName: 'ventas' | 'inventario'
  tiendaIds: string[]
  desde?: Date
  hasta?: Date
  triggeredBy?: 'fluxion_admin' | 'recovery'
  recoveredGapId?: number
}

/** Queues a run the way POST /api/etl/run and gap recovery do: the API's own queueRun, one transaction. */
export async function queueManualRun(
  db: Sql,
  boss: PgBoss,
  run: ManualRun,
  opts: { overlapping?: boolean } = {},
): Promise<{ executionId: number; jobId: string }> {
  const tiendas = await db<{ id: string; source_system: string }[]>`
    select id, source_system from tiendas where id = any(${run.tiendaIds}::text[]) order by array_position(${run.tiendaIds}::text[], id)`
  const triggeredBy = run.triggeredBy ?? 'fluxion_admin'
  const queue = opts.overlapping ? writeQueuedRun : queueRun
  const executionId = await db.begin((tx) =>
    queue(tx, boss, {
      etlName: run.etlName,
      etlType: triggeredBy === 'recovery' || run.recoveredGapId ? 'recovery' : 'manual',
      triggeredBy,
      tiendas,
      desde: run.desde ?? null,
      hasta: run.hasta ?? null,
      recoveredGapId: run.recoveredGapId,
    }),
  )
  const [row] = await db<{ job_id: string }[]>`select job_id::text from etl_executions where id = ${executionId}`
  return { executionId, jobId: row!.job_id }
}

export type Child = {
  process: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** A TypeScript entry point of the repository run by the same (pinned) Node as the tests. */
export function spawnTs(script: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (b: Buffer) => {
    output += b.toString()
  })
  child.stderr!.on('data', (b: Buffer) => {
    output += b.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
