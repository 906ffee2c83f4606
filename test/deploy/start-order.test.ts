// The services share only the database (DESIGN §2), so neither may need the other to have started:
// each is a real process here, on a database that `npm run migrate` alone has prepared (the test
// template, which also holds pg-boss's schema and queues). The history API listens on port 0 and
// names the port it got, so no port is released and taken again.
import { afterEach, expect, test } from 'vitest'
import { TEST_SECRET, tokenFor } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addKlkStores, type Child, spawnTs, testEnv, waitFor } from '../helpers/runner-kit.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase()
  cleanups.push(() => database.drop())
  return database
}

function stopOnCleanup(child: Child) {
  cleanups.push(async () => {
    if (child.process.exitCode === null) child.process.kill('SIGTERM')
    await child.exited
  })
  return child
}

async function startApi(url: string): Promise<{ child: Child; base: string }> {
  const child = stopOnCleanup(
    spawnTs(
      'history-api/src/main.ts',
      [],
      testEnv(url, {
        HISTORY_API_PORT: '0',
        HISTORY_API_HOST: '127.0.0.1',
        AUTH_JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: 'info',
      }),
    ),
  )
  const port = await waitFor('the history API to listen', async () => {
    if (child.process.exitCode !== null)
      throw new Error(`history-api exited ${child.process.exitCode}: ${child.output()}`)
    return /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(child.output())?.[1]
  })
  return { child, base: `http://127.0.0.1:${port}` }
}

async function startRunner(url: string, extra: Record<string, string> = {}): Promise<Child> {
  const child = stopOnCleanup(spawnTs('runner/src/main.ts', [], testEnv(url, { LOG_LEVEL: 'info', ...extra })))
  await waitFor('the runner to start', async () => {
    if (child.process.exitCode !== null) throw new Error(`runner exited ${child.process.exitCode}: ${child.output()}`)
    return /runner started/.test(child.output())
  })
  return child
}

const window = { fecha_inicio: '2026-11-02 08:00:00', fecha_fin: '2026-11-02 12:00:00' }

test('API alone on a freshly migrated database: reads and queues; a runner started 30 s later runs the queued run', async () => {
  const { sql: db, url } = await freshDatabase()
  const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01' }, { tiendaId: 'tienda_02' }])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))
  const api = await startApi(url)
  const headers = { Authorization: `Bearer ${await tokenFor('super_admin')}`, 'Content-Type': 'application/json' }

  expect((await fetch(`${api.base}/api/etl/history`, { headers })).status).toBe(200)
  expect(await (await fetch(`${api.base}/readyz`)).json()).toEqual({ status: 'ok', database: 'ok', schema: 'ok' })
  const run = await fetch(`${api.base}/api/etl/run`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ etl_name: 'ventas', ...window }),
  })
  expect(run.status).toBe(202)
  const { execution_id: id } = (await run.json()) as { execution_id: number }
  const [queued] = await db`select status from etl_executions where id = ${id}`
  expect(queued).toEqual({ status: 'queued' })

  // Nobody works the queue for 30 s; the job waits in pg-boss, the row stays queued.
  await new Promise((r) => setTimeout(r, 30_000))
  expect(await db`select status from etl_executions where id = ${id}`).toEqual([{ status: 'queued' }])

  await startRunner(url)
  const finished = await waitFor(
    'the queued run to finish',
    async () => {
      const [row] = await db`select status, tiendas_count, tiendas_exitosas, triggered_by from etl_executions
        where id = ${id} and status not in ('queued', 'running')`
      return row
    },
    30_000,
  )
  expect(finished).toEqual({ status: 'success', tiendas_count: 2, tiendas_exitosas: 2, triggered_by: 'fluxion_admin' })
  const detail = await fetch(`${api.base}/api/etl/history/${id}`, { headers })
  expect(await detail.json()).toMatchObject({ id, status: 'success' })
}, 120_000)

test('runner alone: scheduled and CLI runs work; an API started later lists them', async () => {
  const { sql: db, url } = await freshDatabase()
  const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01' }])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))
  // Every minute: pg-boss's cron pass sends the current minute's occurrence within its monitor interval.
  await startRunner(url, { VENTAS_CRON: '* * * * *' })

  const cli = spawnTs('runner/src/cli/main.ts', ['inventario'], testEnv(url))
  expect(await cli.exited, cli.output()).toBe(0)
  const scheduled = await waitFor(
    'a scheduled run to finish',
    async () => {
      const [row] = await db`select id, status from etl_executions
        where triggered_by = 'scheduler' and status not in ('queued', 'running') order by id limit 1`
      return row
    },
    100_000,
  )
  expect(scheduled).toMatchObject({ status: 'success' })

  const api = await startApi(url)
  const list = await fetch(`${api.base}/api/etl/history`, {
    headers: { Authorization: `Bearer ${await tokenFor('super_admin')}` },
  })
  const rows = (await list.json()) as { triggered_by: string; etl_name: string; status: string }[]
  expect(rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ etl_name: 'inventario', triggered_by: 'cli', status: 'success' }),
      expect.objectContaining({ etl_name: 'ventas', triggered_by: 'scheduler', status: 'success' }),
    ]),
  )
}, 180_000)

test('a service on a database that is behind stops at once, naming `npm run migrate`', async () => {
  const { sql: db, url } = await freshDatabase()
  await db`delete from schema_migrations where version = '044'`
  for (const script of ['history-api/src/main.ts', 'runner/src/main.ts']) {
    const child = spawnTs(script, [], testEnv(url, { AUTH_JWT_SECRET: TEST_SECRET, HISTORY_API_PORT: '0' }))
    const code = await child.exited
    expect(code, script).toBe(1)
    expect(child.output(), script).toMatch(/migration 044 not applied\): run `npm run migrate`/)
  }
})
