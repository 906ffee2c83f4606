// A store's data that failed to load, recovered end to end: a KLK simulator fault leaves a pending
// gap; the history API shows it and queues its recovery (execution row + pg-boss job in one
// transaction); the runner's own job handler works that job once the store answers again; the gap
// then reads as recovered by that execution. Real PostgreSQL, real pg-boss, real HTTP to the store.
// Only this test joins the two services: the API never imports runner code.
import type { PgBoss } from 'pg-boss'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QUEUES } from '../../runner/src/jobs/boss.ts'
import { etlJobHandler } from '../../runner/src/jobs/etl-job.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { startTestBoss, type TestApi, testApi } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addStore, fastConfig, runVentas, WINDOW } from '../helpers/etl-kit.ts'

type Gap = { id: number; tienda_id: string; recovered_at: string | null; recovered_by_execution_id: number | null }

describe('gap recovery, end to end', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  let stores: KlkStore[] = []

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    api = await testApi({ db: database.sql, boss })
  })
  afterAll(async () => {
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

    // The runner's handler works the job the API sent, exactly as a runner's worker would.
    const [job] = await boss.fetch(QUEUES.ventas)
    expect(job?.data).toMatchObject({ execution_id: recoveryId, triggered_by: 'recovery', recovered_gap_id: failed.id })
    const handler = etlJobHandler(
      {
        db,
        config,
        logger: pino({ level: 'silent' }),
        workerId: 'test-worker',
        shutdown: new AbortController().signal,
      },
      'ventas',
    )
    expect(await handler([{ ...job!, signal: new AbortController().signal }])).toEqual({
      execution_id: recoveryId,
      status: 'success',
    })
    await boss.complete(QUEUES.ventas, job!.id)

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
})
