// GET /api/etl/schedules and pause/resume against the real PostgreSQL, with real runners (in this
// process) whose pg-boss cron fires at once: a paused schedule's fired job starts no run on any of them.

import type { PgBoss } from 'pg-boss'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../../runner/src/db.ts'
import { QUEUES } from '../../../runner/src/jobs/boss.ts'
import { type Runner, startRunner } from '../../../runner/src/runner.ts'
import { startTestBoss, type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addKlkStores, testConfig, waitFor } from '../../../test/helpers/runner-kit.ts'
import type { components } from '../generated/openapi.ts'
import { nextRun } from './schedules.routes.ts'

type Schedule = components['schemas']['EtlSchedule']

describe('schedules: list, pause and resume, honoured by every runner', () => {
  let database: TestDatabase
  let api: TestApi
  let boss: PgBoss
  const cleanups: (() => Promise<unknown>)[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    api = await testApi({ db: database.sql, boss })
  })
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
  })
  afterAll(async () => {
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })

  async function runner(workerId: string): Promise<Runner> {
    const url = database.url
    const config = testConfig(url, { VENTAS_CRON: '* * * * *', INVENTARIO_CRON: '0 6 * * *' })
    const db = connect(url, { max: 6 })
    // pg-boss's cron pass and send-it worker at their 1 s minimum: the current minute's occurrence is due at once.
    const r = await startRunner({
      config,
      logger: pino({ level: 'silent' }),
      db,
      workerId,
      bossTiming: { schedule: true, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
    })
    cleanups.push(async () => {
      await r.stop('test over')
      await db.end({ timeout: 2 })
    })
    return r
  }

  it('lists both ETLs, with no cron before any runner registered one', async () => {
    const r = await api.call('get', '/api/etl/schedules')
    expect(r.status).toBe(200)
    expect(r.body).toEqual([
      expect.objectContaining({ etl_name: 'ventas', cron: null, paused: false, last_run: null, next_run_at: null }),
      expect.objectContaining({ etl_name: 'inventario', cron: null, paused: false, last_run: null, next_run_at: null }),
    ])
  })

  it('a paused schedule fires on two runners and neither starts a run; resumed, the next fire runs', async () => {
    const db = database.sql
    const stores = await addKlkStores(db, [{ tiendaId: 'tienda_01' }])
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))

    const paused = await api.call('post', '/api/etl/schedules/ventas/pause')
    expect(paused.status).toBe(200)
    expect(paused.body).toMatchObject({ etl_name: 'ventas', paused: true, paused_by: 'super_admin@fluxion.test' })
    // Pausing again keeps the first pause (since when).
    await new Promise((r) => setTimeout(r, 20))
    const again = await api.call('post', '/api/etl/schedules/ventas/pause')
    expect((again.body as Schedule).paused_at).toBe((paused.body as Schedule).paused_at)

    await runner('runner-a')
    await runner('runner-b')
    // The cron fires (pg-boss creates the occurrence's job) and whichever runner takes it drops it.
    const job = await waitFor('the cron job to be worked', async () => {
      const [j] = await db<{ state: string; output: { status: string } | null }[]>`
        select state, output from pgboss.job where name = ${QUEUES.ventas} and state = 'completed'`
      return j
    })
    expect(job.output).toMatchObject({ status: 'paused', execution_id: null })
    expect(await db`select id from etl_executions`).toEqual([])

    const listed = (await api.call('get', '/api/etl/schedules')).body as Schedule[]
    expect(listed[0]).toMatchObject({
      etl_name: 'ventas',
      cron: '* * * * *',
      tz: 'America/Caracas',
      paused: true,
      last_run: null,
      next_run_at: null,
    })
    expect(listed[1]).toMatchObject({ etl_name: 'inventario', cron: '0 6 * * *', paused: false })
    expect(listed[1]!.next_run_at).toBe(nextRun('0 6 * * *', 'America/Caracas', new Date()))

    const resumed = await api.call('post', '/api/etl/schedules/ventas/resume')
    expect(resumed.body).toMatchObject({ paused: false, paused_by: null, paused_at: null })
    const next = new Date((resumed.body as Schedule).next_run_at!)
    expect(next.getTime()).toBeGreaterThan(Date.now())
    expect(next.getUTCSeconds()).toBe(0)
    // The next fire (a scheduled job, as the cron sends it) starts a run again.
    await boss.send(QUEUES.ventas, { triggered_by: 'scheduler' })
    const run = await waitFor('the scheduled run to finish', async () => {
      const [e] = await db`select * from etl_executions where status not in ('queued', 'running')`
      return e
    })
    expect(run).toMatchObject({ triggered_by: 'scheduler', status: 'success' })
    const after = (await api.call('get', '/api/etl/schedules')).body as Schedule[]
    expect(after[0]!.last_run).toMatchObject({ id: run.id, status: 'success' })
  })

  it('names what is wrong', async () => {
    const bad = await api.call('post', '/api/etl/schedules/compras/pause')
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ 'invalid-params': [{ name: 'etl' }] })
    const body = await api.call('post', '/api/etl/schedules/ventas/resume', { body: { x: 1 } })
    expect(body.status).toBe(400)
    expect((await api.call('post', '/api/etl/schedules/ventas/pause', { token: null })).status).toBe(401)
  })
})
