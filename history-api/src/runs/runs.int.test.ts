// POST /api/etl/run with a real pg-boss in the test database: the queued execution and its job
// are written together or not at all.
import type { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestBoss, type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addTiendas } from '../../../test/helpers/history-seed.ts'
import type { RunAccepted } from './runs.schemas.ts'

type Job = { id: string; name: string; data: Record<string, unknown> }

describe('POST /api/etl/run', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  let failBetweenWrites = false
  const now = new Date('2026-01-28T14:30:00Z')

  const executions = () => database.sql`select * from etl_executions order by id`
  const jobs = () => database.sql<Job[]>`select id::text, name, data from pgboss.job order by created_on`

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    await addTiendas(database.sql, ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_08', 'tienda_09'], {
      inactive: ['tienda_09'],
    })
    api = await testApi({
      db: database.sql,
      boss,
      clock: () => now,
      betweenWrites: async () => {
        if (failBetweenWrites) throw new Error('injected failure between the execution row and the job')
      },
    })
  })
  afterAll(async () => {
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })
  beforeEach(async () => {
    failBetweenWrites = false
    await database.sql`delete from etl_executions`
    await database.sql`delete from pgboss.job`
  })

  const plan = {
    etl_name: 'ventas',
    tienda_ids: ['tienda_01', 'tienda_08'],
    fecha_inicio: '2026-01-25 00:00:00',
    fecha_fin: '2026-01-25 23:59:59',
  }

  it('queues the execution and its job in one go, answering the plan’s body', async () => {
    const r = await api.call('post', '/api/etl/run', { body: plan })
    expect(r.status).toBe(202)
    const body = r.body as RunAccepted
    expect(body).toEqual({
      message: 'ETL execution started',
      execution_id: body.execution_id,
      etl_name: 'ventas',
      tienda_ids: ['tienda_01', 'tienda_08'],
      triggered_by: 'fluxion_admin',
      started_at: '2026-01-28T14:30:00.000Z',
    })
    const [row] = await executions()
    expect(row).toMatchObject({
      id: body.execution_id,
      etl_name: 'ventas',
      etl_type: 'manual',
      status: 'queued',
      started_at: null,
      triggered_by: 'fluxion_admin',
      tienda_ids: ['tienda_01', 'tienda_08'],
      tiendas_count: 2,
      source_system: 'mixed', // tienda_01 is KLK, tienda_08 Stellar (addTiendas)
      // read in America/Caracas (UTC−4)
      fecha_desde: new Date('2026-01-25T04:00:00Z'),
      fecha_hasta: new Date('2026-01-26T03:59:59Z'),
    })
    const [job] = await jobs()
    expect(job).toMatchObject({
      id: row!.job_id,
      name: 'etl-ventas',
      // The job names the execution (openapi EtlRunJob); the row above holds the run.
      data: { execution_id: body.execution_id },
    })
    const listed = await api.call('get', '/api/etl/history?status=queued')
    expect(listed.body).toMatchObject([{ id: body.execution_id, status: 'queued', started_at: null }])
  })

  it('accepts RFC 3339 with offsets, and defaults to every active store and today so far', async () => {
    const rfc = await api.call('post', '/api/etl/run', {
      body: {
        etl_name: 'inventario',
        tienda_ids: ['tienda_03'],
        fecha_inicio: '2026-01-25T00:00:00-04:00',
        fecha_fin: '2026-01-26T03:59:59Z',
      },
    })
    expect(rfc.status).toBe(202)
    await database.sql`delete from etl_executions`
    const all = await api.call('post', '/api/etl/run', { body: { etl_name: 'inventario' } })
    expect(all.status).toBe(202)
    // Every active KLK store: tienda_08 runs Stellar, which has no inventario feed.
    expect((all.body as RunAccepted).tienda_ids).toEqual(['tienda_01', 'tienda_02', 'tienda_03'])
    const [row] = await executions()
    expect(row).toMatchObject({
      fecha_desde: new Date('2026-01-28T04:00:00Z'),
      fecha_hasta: now,
      tienda_ids: ['tienda_01', 'tienda_02', 'tienda_03'],
    })
  })

  it('writes neither the row nor the job when the job insert really fails inside the transaction', async () => {
    await database.sql`create function reject_job() returns trigger language plpgsql as $$
      begin raise exception 'job table refuses inserts (injected)'; end $$`
    await database.sql`create trigger reject_job before insert on pgboss.job_common for each row execute function reject_job()`
    try {
      const r = await api.call('post', '/api/etl/run', { body: plan })
      expect(r.status).toBe(500)
      expect(JSON.stringify(r.body)).not.toMatch(/injected|insert|pgboss|select/i)
    } finally {
      await database.sql`drop trigger reject_job on pgboss.job_common`
      await database.sql`drop function reject_job()`
    }
    expect(await executions()).toEqual([])
    expect(await jobs()).toEqual([])
  })

  it('writes neither when the request fails between the two writes', async () => {
    failBetweenWrites = true
    const r = await api.call('post', '/api/etl/run', { body: plan })
    expect(r.status).toBe(500)
    expect(await executions()).toEqual([])
    expect(await jobs()).toEqual([])
  })

  it('409 when a queued or running execution of the same ETL includes one of the stores', async () => {
    expect((await api.call('post', '/api/etl/run', { body: plan })).status).toBe(202)
    const [queued] = await executions()
    const clash = await api.call('post', '/api/etl/run', {
      body: { etl_name: 'ventas', tienda_ids: ['tienda_03', 'tienda_08'] },
    })
    expect(clash.status).toBe(409)
    expect(clash.body).toMatchObject({
      type: 'tag:fluxion.etl,2026:run-overlap',
      detail: `Execution ${queued!.id} of ventas (queued) already includes tienda_08.`,
      execution_id: queued!.id,
      execution_status: 'queued',
      etl_name: 'ventas',
      tienda_id: 'tienda_08',
    })
    // Running (picked up by a runner, with its stores started) still blocks; other ETLs and stores do not.
    await database.sql`update etl_executions set status = 'running', started_at = now() where id = ${queued!.id}`
    expect(
      (await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_01'] } })).status,
    ).toBe(409)
    expect(
      (await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_03'] } })).status,
    ).toBe(202)
    expect(
      (await api.call('post', '/api/etl/run', { body: { etl_name: 'inventario', tienda_ids: ['tienda_03'] } })).status,
    ).toBe(202)
    // tienda_08 runs Stellar: no inventario feed, so the run could never succeed.
    const stellarInventario = await api.call('post', '/api/etl/run', {
      body: { etl_name: 'inventario', tienda_ids: ['tienda_01', 'tienda_08'] },
    })
    expect(stellarInventario.status).toBe(422)
    expect(stellarInventario.body).toMatchObject({
      'invalid-params': [{ name: 'tienda_ids[1]', reason: 'tienda_08 runs Stellar, which has no inventario feed' }],
    })
    // Finished executions do not block.
    await database.sql`update etl_executions set status = 'success', finished_at = now() where id = ${queued!.id}`
    expect(
      (await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_08'] } })).status,
    ).toBe(202)
    expect((await jobs()).length).toBe((await executions()).length)
  })

  it('concurrent requests for the same store: exactly one is queued', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_02'] } }),
      ),
    )
    expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409])
    expect((await executions()).length).toBe(1)
    expect((await jobs()).length).toBe(1)
  })

  it('422 naming the field for an impossible window or an unknown/inactive store, writing nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...plan, fecha_inicio: '2026-01-26 00:00:00', fecha_fin: '2026-01-25 00:00:00' }, 'fecha_inicio'],
      [{ ...plan, fecha_inicio: '2026-01-01 00:00:00', fecha_fin: '2026-02-01 00:00:01' }, 'fecha_fin'],
      [{ ...plan, tienda_ids: ['tienda_01', 'tienda_99'] }, 'tienda_ids[1]'],
      [{ ...plan, tienda_ids: ['tienda_09'] }, 'tienda_ids[0]'],
    ]
    for (const [body, name] of cases) {
      const r = await api.call('post', '/api/etl/run', { body })
      expect(r.status, name).toBe(422)
      expect(r.body, name).toMatchObject({ 'invalid-params': [{ name }] })
    }
    const exactly31 = await api.call('post', '/api/etl/run', {
      body: { ...plan, fecha_inicio: '2026-01-01 00:00:00', fecha_fin: '2026-02-01 00:00:00' },
    })
    expect(exactly31.status).toBe(202)
    expect((await executions()).length).toBe(1)
  })
})
