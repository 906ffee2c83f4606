// DESIGN §11: restart PostgreSQL under load — the runner and the history API (real processes)
// stay up, reconnect, and lose no job. The restart is of a private embedded PostgreSQL (its own
// temp data dir and port), never of the shared server the other test files run against.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type EmbeddedPg, startEmbeddedPostgres } from '../../scripts/lib/embedded-pg.ts'
import { migrateUp } from '../../scripts/lib/migrations.ts'
import { reservePort } from '../../scripts/lib/reserved-port.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { TEST_SECRET, tokenFor } from '../helpers/api.ts'
import { addKlkStores, type Child, spawnTs, testEnv, waitFor } from '../helpers/runner-kit.ts'

const HEARTBEAT_S = 1
const STALE_S = 5
/**
 * tienda_02 holds its answer this long: the second run is extracting while PostgreSQL restarts.
 * The restart (fast shutdown, 2 s down, start) must end before it: 4 s was too close under a
 * full suite's load (the answer came while PostgreSQL was still down, twice in CI runs).
 */
const STALL_MS = 8000

const cleanups: (() => Promise<unknown>)[] = []
let tmp: string
let pg: EmbeddedPg
let db: Sql
let url: string
let runner: Child
let api: Child
let apiBase: string
let token: string
let stall: KlkStore

/** A port held by this process (reserved-port.ts): PostgreSQL restarts on it and nothing else may take it. */
async function heldPort(): Promise<number> {
  const reserved = await reservePort()
  cleanups.push(async () => reserved.release())
  return reserved.port
}

/** A child that must stay up: the cleanup kills it, any early exit fails the wait it is in. */
function own(child: Child, name: string) {
  cleanups.push(async () => {
    if (child.process.exitCode === null) child.process.kill('SIGKILL')
    await child.exited
  })
  const alive = () => {
    if (child.process.exitCode !== null) {
      throw new Error(`${name} exited ${child.process.exitCode}:\n${child.output().slice(-4000)}`)
    }
  }
  return alive
}

const quiet = async <T>(fn: () => Promise<T>) => fn().catch(() => undefined)

async function runViaApi(body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${apiBase}/api/etl/run`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = (await res.json()) as { execution_id: number }
  if (res.status !== 202) throw new Error(`POST /api/etl/run → ${res.status}: ${JSON.stringify(json)}`)
  return json.execution_id
}

const execution = async (id: number) => (await db`select * from etl_executions where id = ${id}`)[0]

const finished = (id: number, timeoutMs = 20_000) =>
  waitFor(
    `execution ${id} to close`,
    async () => {
      const row = await quiet(() => execution(id))
      return row && !['queued', 'running'].includes(row.status as string) ? row : undefined
    },
    timeoutMs,
  )

const readyz = async () =>
  (await quiet(() => fetch(`${apiBase}/readyz`, { signal: AbortSignal.timeout(1000) })))?.status

const window = { fecha_inicio: '2026-11-02 08:00:00', fecha_fin: '2026-11-02 11:59:59' }

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fluxion-pg-restart-'))
  // As root, PostgreSQL runs as the `postgres` user (TOOLCHAIN pitfall 10): it must reach the dir.
  await chmod(tmp, 0o755)
  cleanups.push(() => rm(tmp, { recursive: true, force: true }))
  const port = await heldPort()
  // The same start-up as `npm start` (scripts/lib/embedded-pg.ts), on a private dir and port.
  pg = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port })
  cleanups.push(() => pg.stop())
  url = pg.url
  db = postgres(url, { max: 4, onnotice: () => {} })
  cleanups.push(() => db.end({ timeout: 1 }))
  await migrateUp(db)

  const stores = await addKlkStores(db, [
    { tiendaId: 'tienda_01' },
    { tiendaId: 'tienda_02', faultDelayMs: STALL_MS },
    { tiendaId: 'tienda_03' },
  ])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))
  stall = stores[1]!

  // Short timeouts so nothing waits long; the request timeout is longer than the stall on purpose,
  // so that tienda_02's answer arrives (after the restart) instead of timing out.
  runner = spawnTs(
    'runner/src/main.ts',
    [],
    testEnv(url, {
      RUNNER_HEARTBEAT_S: String(HEARTBEAT_S),
      RUNNER_STALE_AFTER_S: String(STALE_S),
      SOURCE_CONNECT_TIMEOUT_MS: '500',
      SOURCE_REQUEST_TIMEOUT_MS: String(STALL_MS + 4000),
      LOG_LEVEL: 'info',
    }),
  )
  const runnerAlive = own(runner, 'runner')
  await waitFor('the runner to start', async () => {
    runnerAlive()
    return /runner started/.test(runner.output())
  })

  const apiPort = await heldPort()
  apiBase = `http://127.0.0.1:${apiPort}`
  api = spawnTs('history-api/src/main.ts', [], {
    DATABASE_URL: url,
    AUTH_JWT_SECRET: TEST_SECRET,
    HISTORY_API_PORT: String(apiPort),
    HISTORY_API_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  })
  const apiAlive = own(api, 'history-api')
  await waitFor('the history API to be ready', async () => {
    apiAlive()
    return (await readyz()) === 200
  })
  token = await tokenFor('super_admin')
}, 60_000)

afterAll(async () => {
  // PG_RESTART_DEBUG=1 prints both services' logs (what they did through the restart).
  if (process.env.PG_RESTART_DEBUG) console.log(`--- runner\n${runner?.output()}\n--- api\n${api?.output()}`)
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

it('restart PostgreSQL under load: runner and history-api stay up, reconnect, lose no job', async () => {
  // (1) A manual run through the API before anything happens.
  const first = await runViaApi({ etl_name: 'ventas', tienda_ids: ['tienda_01', 'tienda_03'], ...window })
  expect(await finished(first)).toMatchObject({ status: 'success', tiendas_exitosas: 2 })

  // (2) A second run sits in extract on tienda_02 (its answer comes after STALL_MS) …
  await stall.setFault('stall_headers')
  const inFlight = await runViaApi({ etl_name: 'ventas', tienda_ids: ['tienda_02'], ...window })
  await waitFor('the second run to be extracting tienda_02', async () => {
    const [d] = await db`select status from etl_execution_details where execution_id = ${inFlight}`
    return d?.status === 'running'
  })
  // … when PostgreSQL goes down (fast shutdown: every backend terminated) for two heartbeats, then
  // comes back on the same data dir and port.
  await pg.stop()
  const downSince = Date.now()
  // The API keeps answering while the database is gone: readiness says so.
  expect(await readyz()).toBe(503)
  await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_S * 1000 - (Date.now() - downSince)))
  await pg.start()
  const restartedAt = Date.now()

  // (3) Both services survived the restart and reconnect.
  expect(runner.process.exitCode, runner.output().slice(-4000)).toBeNull()
  expect(api.process.exitCode, api.output().slice(-4000)).toBeNull()
  await waitFor('GET /readyz to be 200 again', async () => (await readyz()) === 200, 15_000)
  expect(Date.now() - restartedAt).toBeLessThan(15_000)

  // The run in flight is not left `running`: tienda_02's answer arrives after the restart and the
  // runner, whose pool reconnected, loads it and closes the execution itself; its pg-boss job is
  // completed (not lost, not stuck active). Before the fix in runner/src/store-locks.ts the job
  // stayed `active` for good: releasing the store locks on the terminated connection hung forever.
  const closed = await finished(inFlight, 30_000)
  expect(closed).toMatchObject({ status: 'success', tiendas_exitosas: 1 })
  // pg-boss marks the job completed right after the handler returns (its own pool reconnected).
  const job = await waitFor('the in-flight run’s job to complete', async () => {
    const [row] = await db`select state, retry_count from pgboss.job where (data->>'execution_id')::int = ${inFlight}`
    return row?.state === 'completed' ? row : undefined
  })
  expect(job.retry_count).toBe(0)

  // A run queued after the restart goes through the API and the runner as usual.
  await stall.setFault(null)
  const after = await runViaApi({
    etl_name: 'ventas',
    tienda_ids: ['tienda_01', 'tienda_02', 'tienda_03'],
    fecha_inicio: '2026-11-03 08:00:00',
    fecha_fin: '2026-11-03 11:59:59',
  })
  expect(await finished(after)).toMatchObject({ status: 'success', tiendas_exitosas: 3 })

  expect(runner.process.exitCode).toBeNull()
  expect(api.process.exitCode).toBeNull()
  expect(await db`select id, status from etl_executions where status in ('queued', 'running')`).toEqual([])
  // Every ETL job completed (pg-boss marks the last one a moment after its execution closes).
  await waitFor('every ETL job to be completed', async () => {
    const open = await db`select id from pgboss.job where name like 'etl-%' and state <> 'completed'`
    return open.length === 0
  })
}, 60_000)
