// The real runner process (`node runner/src/main.ts`) stopped with SIGTERM (DESIGN §9, §11).
import { afterEach, expect } from 'vitest'
import { pgTest } from '../helpers/db.ts'
import { expectStoresAccountedFor } from '../helpers/invariants.ts'
import { addKlkStores, queueManualRun, waitFor } from '../helpers/runner-kit.ts'
import { sender, startRunnerProcess } from '../helpers/runner-process.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

const window = { desde: new Date('2026-11-02T12:00:00Z'), hasta: new Date('2026-11-02T16:00:00Z') }

pgTest('SIGTERM: the runner lets the run close its execution and exits 0', async ({ db, database }) => {
  // Answers after 1.5 s: the store in hand finishes inside the shutdown grace.
  const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01', fault: 'stall_headers', faultDelayMs: 1500 }])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))
  const boss = await sender(database.url, cleanups)
  const child = await startRunnerProcess(database.url, cleanups, { RUNNER_SHUTDOWN_GRACE_S: '10' })
  const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ['tienda_01'], ...window })
  await waitFor(
    'the run to start',
    async () => (await db`select 1 from etl_executions where status = 'running'`).length > 0,
  )
  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
  expect(await db`select id from etl_executions where status in ('running', 'queued')`).toEqual([])
  const [row] = await db`select status from etl_executions where id = ${executionId}`
  expect(row?.status).not.toBe('running')
  expect(child.output()).toMatch(/runner stopped/)
})

pgTest(
  'SIGTERM while a store hangs past the grace: the run is closed, not left running, exit 0',
  async ({ db, database }) => {
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01', fault: 'stall_headers' }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const boss = await sender(database.url, cleanups)
    const child = await startRunnerProcess(database.url, cleanups, { RUNNER_SHUTDOWN_GRACE_S: '1' })
    const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ['tienda_01'], ...window })
    // The store must be in hand (its detail row running), not merely the execution claimed.
    await waitFor(
      'the store to start',
      async () => (await db`select 1 from etl_execution_details where status = 'running'`).length > 0,
    )
    child.process.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    const [row] = await db`select status, error_message from etl_executions where id = ${executionId}`
    expect(row).toMatchObject({ status: 'failed' })
    expect(row?.error_message).toMatch(/shut down/)
    await expectStoresAccountedFor(db, executionId)
  },
)
