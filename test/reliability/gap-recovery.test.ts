// A store's data that failed to load, recovered end to end: a KLK simulator fault leaves a pending
// gap; the history API shows it and queues its recovery (execution row + pg-boss job in one
// transaction); the runner's own job handler works that job once the store answers again; the gap
// then reads as recovered by that execution. Real PostgreSQL, real pg-boss, real HTTP to the store.
// Only this test joins the two services: the API never imports runner code.
import type { PgBoss } from 'pg-boss'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunnerConfig } from '../../runner/src/config.ts'
import { QUEUES } from '../../runner/src/jobs/boss.ts'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { startTestBoss, type TestApi, testApi } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addStore, fastConfig, runVentas, WINDOW } from '../helpers/etl-kit.ts'
import { waitFor } from '../helpers/runner-kit.ts'

type Gap = { id: number; tienda_id: string; recovered_at: string | null; recovered_by_execution_id: number | null }

describe('gap recovery, end to end', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  let stores: KlkStore[] = []
  const runners: Runner[] = []

  /** A runner in this process (no cron), working the queues the API sends to. */
  async function startTestRunner(config: RunnerConfig) {
    if (runners.length) return
    runners.push(
      await startRunner({
        config,
        logger: pino({ level: 'silent' }),
        db: database.sql,
        bossTiming: { schedule: false },
        workerId: 'test-runner',
      }),
    )
  }

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    api = await testApi({ db: database.sql, boss })
  })
  afterAll(async () => {
    for (const r of runners) await r.stop('test done')
    await Promise.all(stores.map((s) => s.close()))
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })

  it('a failed store → a pending gap → recover → the runner loads it → recovered by that execution', async () => {
    const db = database.sql
    const config = fastConfig(database.url)
    const healthy = await addStore(db, { tiendaId: 'tienda_g1' })
    const broken = await addStore(db, { tiendaId: 'tienda_g2', fault: 'http_500' })
    stores = [healthy, broken]

    const failed = await runVentas(db, config, ['tienda_g1', 'tienda_g2'])
    expect(failed).toMatchObject({ status: 'partial', tiendas_fallidas: 1 })

    const pending = await api.call('get', '/api/etl/gaps?estado=pendiente&etl_name=ventas')
    expect(pending.status).toBe(200)
    expect(pending.body).toEqual([
      expect.objectContaining({
        id: failed.id,
        tienda_id: 'tienda_g2',
        error_category: 'api_error',
        fecha_desde: WINDOW.desde.toISOString(),
        fecha_hasta: WINDOW.hasta.toISOString(),
        recovered_at: null,
        recovered_by_execution_id: null,
      }),
    ])

    await broken.setFault(null)
    const accepted = await api.call('post', `/api/etl/gaps/${failed.id}/recover`)
    expect(accepted.status).toBe(202)
    expect(accepted.body).toMatchObject({ etl_name: 'ventas', tienda_ids: ['tienda_g2'] })
    const recoveryId = (accepted.body as { execution_id: number }).execution_id

    // The job the API sent names the execution; a runner works it like any other.
    const [job] = await db`select data from pgboss.job where name = ${QUEUES.ventas}`
    expect(job?.data).toEqual({ execution_id: recoveryId })
    expect(
      await db`select etl_type, is_recovery, recovered_gap_id from etl_executions where id = ${recoveryId}`,
    ).toEqual([{ etl_type: 'recovery', is_recovery: true, recovered_gap_id: failed.id }])
    await startTestRunner(config)
    await waitFor('the recovery to finish', async () => {
      const [r] = await db`select status from etl_executions where id = ${recoveryId} and status = 'success'`
      return r
    })

    const [recovery] = await db`
      select status, etl_type, triggered_by, is_recovery, recovered_gap_id, gaps_recovered, tienda_ids, finished_at,
        fecha_desde, fecha_hasta
      from etl_executions where id = ${recoveryId}`
    expect(recovery).toMatchObject({
      status: 'success',
      etl_type: 'recovery',
      triggered_by: 'fluxion_admin',
      is_recovery: true,
      recovered_gap_id: failed.id,
      gaps_recovered: 1,
      tienda_ids: ['tienda_g2'],
      fecha_desde: WINDOW.desde,
      fecha_hasta: WINDOW.hasta,
    })
    const [loaded] = await db<{ n: number }[]>`select count(*)::int as n from ventas where tienda_id = 'tienda_g2'`
    expect(loaded!.n).toBe(salesFor('tienda_g2', WINDOW.desde, WINDOW.hasta).length)

    const recovered = await api.call('get', '/api/etl/gaps?estado=recuperado')
    expect(recovered.body).toEqual([
      expect.objectContaining({
        id: failed.id,
        tienda_id: 'tienda_g2',
        recovered_by_execution_id: recoveryId,
        recovered_at: (recovery!.finished_at as Date).toISOString(),
      }),
    ])
    expect((await api.call('get', '/api/etl/gaps?estado=pendiente')).body as Gap[]).toEqual([])
    const detail = await api.call('get', `/api/etl/history/${recoveryId}`)
    expect(detail.body).toMatchObject({ is_recovery: true, recovered_gap_id: failed.id, gaps_recovered: 1 })

    const again = await api.call('post', `/api/etl/gaps/${failed.id}/recover`)
    expect(again.status).toBe(409)
  })

  it('a job queued by an older release, with the execution’s fields in its payload, still runs: the row wins', async () => {
    const db = database.sql
    const store = await addStore(db, { tiendaId: 'tienda_old' })
    stores.push(store)
    const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, fecha_desde, fecha_hasta, triggered_by, tienda_ids,
        tiendas_count, source_system)
      values ('ventas', 'manual', 'queued', ${WINDOW.desde}, ${WINDOW.hasta}, 'fluxion_admin', '{tienda_old}', 1, 'klk')
      returning id`
    // The payload the API sent before jobs named only the execution (its window deliberately wrong:
    // the row, not the payload, is what runs).
    const oldPayload = {
      execution_id: row!.id,
      etl_name: 'ventas',
      tienda_ids: ['tienda_old'],
      fecha_inicio: '2020-01-01T00:00:00.000Z',
      fecha_fin: '2020-01-02T00:00:00.000Z',
      triggered_by: 'fluxion_admin',
    }
    const jobId = await boss.send(QUEUES.ventas, oldPayload)
    await db`update etl_executions set job_id = ${jobId}::uuid where id = ${row!.id}`
    await startTestRunner(fastConfig(database.url))
    const job = await waitFor('the old-shaped job to complete', async () => {
      const [j] = await db`select state, output from pgboss.job where id = ${jobId}::uuid and state = 'completed'`
      return j
    })
    expect(job.output).toEqual({ execution_id: row!.id, status: 'running' })
    await waitFor('the execution to finish', async () => {
      const [r] = await db`select status from etl_executions where id = ${row!.id} and status = 'success'`
      return r
    })
    const [loaded] = await db<{ n: number }[]>`select count(*)::int as n from ventas where tienda_id = 'tienda_old'`
    expect(loaded!.n).toBe(salesFor('tienda_old', WINDOW.desde, WINDOW.hasta).length)
  })
})
