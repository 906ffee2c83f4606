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
  // The store must be in hand (its detail row running), not merely the execution fanned out.
  await waitFor(
    'the store to start',
    async () => (await db`select 1 from etl_execution_details where status = 'running'`).length > 0,
  )
  child.process.kill('SIGTERM')
  expect(await child.exited).toBe(0)
  expect(await db`select id from etl_executions where status in ('running', 'queued')`).toEqual([])
  const [row] = await db`select status from etl_executions where id = ${executionId}`
  expect(row?.status).not.toBe('running')
  expect(child.output()).toMatch(/runner stopped/)
})

pgTest(
  'SIGTERM while a store hangs past the grace: exit 0, the part goes back to the queue, the next runner finishes the run',
  async ({ db, database }) => {
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_02', fault: 'stall_headers' }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    const boss = await sender(database.url, cleanups)
    const child = await startRunnerProcess(database.url, cleanups, { RUNNER_SHUTDOWN_GRACE_S: '1' })
    const { executionId } = await queueManualRun(db, boss, { etlName: 'ventas', tiendaIds: ['tienda_02'], ...window })
    await waitFor(
      'the store to start',
      async () => (await db`select 1 from etl_execution_details where status = 'running'`).length > 0,
    )
    child.process.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    // Not lost and not closed early: the run waits, its part back in pg-boss for the next runner.
    expect(await db`select status from etl_executions where id = ${executionId}`).toEqual([{ status: 'running' }])
    const [part] = await db`select state from pgboss.job
      where name = 'etl-tienda' and data @> ${db.json({ execution_id: executionId })}`
    expect(['retry', 'created']).toContain(part?.state)

    await stores[0]!.setFault(null)
    const next = await startRunnerProcess(database.url, cleanups)
    const row = await waitFor(
      'the next runner to finish the run',
      async () => {
        const [r] =
          await db`select status, tiendas_exitosas from etl_executions where id = ${executionId} and status <> 'running'`
        return r
      },
      60_000,
    )
    const why =
      await db`select status, error_category, error_message, attempts from etl_execution_details where execution_id = ${executionId}`
    expect(row, `${JSON.stringify(why)}\n--- first\n${child.output()}\n--- next\n${next.output()}`).toEqual({
      status: 'success',
      tiendas_exitosas: 1,
    })
    await expectStoresAccountedFor(db, executionId)
    const [detail] = await db`select attempts from etl_execution_details where execution_id = ${executionId}`
    expect(detail?.attempts).toBe(2)
  },
)
