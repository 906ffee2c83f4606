// One way to queue a run: POST /api/etl/run, POST /api/etl/gaps/{id}/recover and the tests' helper
// (test/helpers/runner-kit.ts queueManualRun) write the same queued row and the same pg-boss job.
import type { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTestBoss, type TestApi, testApi } from '../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { addExecution, addTiendas } from '../../test/helpers/history-seed.ts'
import { queueManualRun } from '../../test/helpers/runner-kit.ts'

let database: TestDatabase
let boss: PgBoss
let api: TestApi

beforeAll(async () => {
  database = await createTestDatabase()
  boss = await startTestBoss(database.url)
  await addTiendas(database.sql, ['tienda_01', 'tienda_02'])
  api = await testApi({ db: database.sql, boss })
})
afterAll(async () => {
  await api?.close()
  await boss?.stop({ graceful: false })
  await database?.drop()
})

const desde = new Date('2026-01-25T04:00:00.000Z')
const hasta = new Date('2026-01-26T03:59:59.000Z')

/** The queued row and its job, minus what differs by construction (ids, creation time). */
async function queued(executionId: number) {
  const db = database.sql
  const [row] = await db`
    select etl_name, etl_type, status, started_at, fecha_desde, fecha_hasta, triggered_by, tiendas_count, tienda_ids,
      source_system, is_recovery, recovered_gap_id, worker_id, heartbeat_at, current_phase, job_id
    from etl_executions where id = ${executionId}`
  const [job] = await db`
    select name, data, state, retry_limit, retry_delay, retry_backoff, expire_seconds, heartbeat_seconds, priority,
      singleton_key
    from pgboss.job where id = ${row!.job_id}::uuid`
  // Free the stores for the next way of queueing the same run (no overlap 409).
  await db`update etl_executions set status = 'failed', started_at = now(), finished_at = now() where id = ${executionId}`
  const { job_id: _, ...rest } = row!
  return { row: rest, job: { ...job, data: { ...job!.data, execution_id: 'the execution' } } }
}

it('POST /api/etl/run and the tests’ helper queue the same row and the same job', async () => {
  const r = await api.call('post', '/api/etl/run', {
    body: {
      etl_name: 'ventas',
      tienda_ids: ['tienda_01', 'tienda_02'],
      fecha_inicio: desde.toISOString(),
      fecha_fin: hasta.toISOString(),
    },
  })
  expect(r.status).toBe(202)
  const viaApi = await queued((r.body as { execution_id: number }).execution_id)
  const viaHelper = await queued(
    (
      await queueManualRun(database.sql, boss, {
        etlName: 'ventas',
        tiendaIds: ['tienda_01', 'tienda_02'],
        desde,
        hasta,
      })
    ).executionId,
  )
  expect(viaHelper).toEqual(viaApi)
  expect(viaApi.job).toMatchObject({ name: 'etl-ventas', data: { execution_id: 'the execution' }, state: 'created' })
  expect(Object.keys(viaApi.job.data as object)).toEqual(['execution_id'])
})

it('gap recovery and the tests’ helper queue the same recovery row and job', async () => {
  const failed = await addExecution(database.sql, { status: 'failed', started_at: new Date('2026-01-27T10:00:00Z') }, [
    { tienda_id: 'tienda_01', status: 'failed', error_category: 'vpn_timeout' },
    { tienda_id: 'tienda_02', status: 'failed', error_category: 'vpn_timeout' },
  ])
  await database.sql`update etl_executions set fecha_desde = ${desde}, fecha_hasta = ${hasta} where id = ${failed}`
  const r = await api.call('post', `/api/etl/gaps/${failed}/recover`)
  expect(r.status).toBe(202)
  const viaApi = await queued((r.body as { execution_id: number }).execution_id)
  const viaHelper = await queued(
    (
      await queueManualRun(database.sql, boss, {
        etlName: 'ventas',
        tiendaIds: ['tienda_01', 'tienda_02'],
        desde,
        hasta,
        recoveredGapId: failed,
      })
    ).executionId,
  )
  expect(viaHelper).toEqual(viaApi)
  expect(viaApi.row).toMatchObject({ etl_type: 'recovery', is_recovery: true, recovered_gap_id: failed })
})
