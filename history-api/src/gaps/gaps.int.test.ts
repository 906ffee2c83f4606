// GET /api/etl/gaps and POST /api/etl/gaps/{id}/recover with a real pg-boss in the test database:
// the gaps the etl_gaps view derives from seeded runs, and the recovery run queued with its job.
import type { PgBoss } from 'pg-boss'
import type { Sql } from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestBoss, type TestApi, testApi, tokenFor } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addExecution, addTiendas, type DetailSeed, type ExecutionSeed } from '../../../test/helpers/history-seed.ts'
import type { RunAccepted } from '../runs/runs.schemas.ts'
import type { Gap } from './gaps.schemas.ts'

type Job = { id: string; name: string; data: Record<string, unknown> }

/** A finished run with its window (fecha_desde/fecha_hasta; text, so microseconds survive), as the runner records it. */
async function addRun(db: Sql, e: ExecutionSeed & { desde?: string; hasta?: string }, details: DetailSeed[]) {
  const id = await addExecution(db, e, details)
  if (e.desde)
    await db`update etl_executions
      set fecha_desde = ${e.desde}::text::timestamptz, fecha_hasta = ${e.hasta!}::text::timestamptz where id = ${id}`
  return id
}

const DAY_26 = { desde: '2026-01-26T04:00:00Z', hasta: '2026-01-27T03:59:59Z' }
const DAY_27 = { desde: '2026-01-27T04:00:00Z', hasta: '2026-01-28T03:59:59Z' }

describe('gaps', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  const now = new Date('2026-01-28T15:00:00Z')
  const executions = () => database.sql`select * from etl_executions where status = 'queued' order by id`
  const jobs = () => database.sql<Job[]>`select id::text, name, data from pgboss.job order by created_on`
  const gaps = async (query = '') => {
    const r = await api.call('get', `/api/etl/gaps${query}`)
    expect(r.status, query).toBe(200)
    return r.body as Gap[]
  }
  const recover = (id: number | string) => api.call('post', `/api/etl/gaps/${id}/recover`)
  let partial: number
  let inventarioFailed: number
  let inventarioOk: number
  let twoStores: number

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    api = await testApi({ db: database.sql, boss, clock: () => now })
    const db = database.sql
    await addTiendas(db, ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_08', 'tienda_09'], { inactive: ['tienda_09'] })
    partial = await addRun(db, { status: 'partial', started_at: new Date('2026-01-27T10:00:00Z'), ...DAY_26 }, [
      { tienda_id: 'tienda_01', status: 'success' },
      { tienda_id: 'tienda_08', status: 'failed', error_phase: 'extract', error_category: 'vpn_timeout' },
    ])
    inventarioFailed = await addRun(
      db,
      { etl_name: 'inventario', status: 'failed', started_at: new Date('2026-01-25T06:00:00Z') },
      [{ tienda_id: 'tienda_03', status: 'failed', error_phase: 'extract', error_category: 'api_timeout' }],
    )
    inventarioOk = await addRun(
      db,
      { etl_name: 'inventario', status: 'success', started_at: new Date('2026-01-25T07:00:00Z') },
      [{ tienda_id: 'tienda_03', status: 'success' }],
    )
    twoStores = await addRun(db, { status: 'failed', started_at: new Date('2026-01-28T10:00:00Z'), ...DAY_27 }, [
      { tienda_id: 'tienda_01', status: 'failed', error_phase: 'extract', error_category: 'api_error' },
      { tienda_id: 'tienda_02', status: 'failed', error_phase: 'transform', error_category: 'data_format' },
    ])
  })
  afterAll(async () => {
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })
  beforeEach(async () => {
    await database.sql`delete from etl_executions where status in ('queued', 'running')`
    await database.sql`delete from pgboss.job`
  })

  it('lists one gap per failed store, newest first, with the run that recovered it', async () => {
    const all = await gaps()
    expect(all.map((g) => [g.id, g.tienda_id])).toEqual([
      [twoStores, 'tienda_01'],
      [twoStores, 'tienda_02'],
      [partial, 'tienda_08'],
      [inventarioFailed, 'tienda_03'],
    ])
    expect(all[2]).toEqual({
      id: partial,
      etl_name: 'ventas',
      tienda_id: 'tienda_08',
      tienda_nombre: 'TIENDA TIENDA_08',
      fecha_desde: '2026-01-26T04:00:00.000Z',
      fecha_hasta: '2026-01-27T03:59:59.000Z',
      error_category: 'vpn_timeout',
      detected_at: '2026-01-27T10:00:10.000Z',
      recovered_at: null,
      recovered_by_execution_id: null,
      recovery_attempts: 0,
      last_attempt_at: null,
      next_attempt_at: null,
      recovery_exhausted_at: null,
    })
    expect(all[3]).toMatchObject({
      etl_name: 'inventario',
      fecha_desde: null,
      recovered_at: '2026-01-25T07:00:10.000Z',
      recovered_by_execution_id: inventarioOk,
    })
  })

  it('filters by etl_name, tienda and estado, alone and together', async () => {
    const pairs = async (q: string) => (await gaps(q)).map((g) => `${g.id}/${g.tienda_id}`)
    expect(await pairs('?etl_name=inventario')).toEqual([`${inventarioFailed}/tienda_03`])
    expect(await pairs('?tienda=tienda_08')).toEqual([`${partial}/tienda_08`])
    expect(await pairs('?estado=recuperado')).toEqual([`${inventarioFailed}/tienda_03`])
    expect(await pairs('?estado=pendiente')).toEqual([
      `${twoStores}/tienda_01`,
      `${twoStores}/tienda_02`,
      `${partial}/tienda_08`,
    ])
    expect(await pairs('?etl_name=ventas&estado=pendiente&tienda=tienda_02')).toEqual([`${twoStores}/tienda_02`])
    expect(await pairs('?etl_name=inventario&estado=pendiente')).toEqual([])
  })

  it('dias keeps the gaps of executions started in that window and limit the newest, as the full list has them', async () => {
    const pairs = async (q: string) => (await gaps(q)).map((g) => `${g.id}/${g.tienda_id}`)
    const started = new Map(
      (await database.sql<{ id: number; started_at: Date }[]>`select id, started_at from etl_executions`).map((r) => [
        r.id,
        r.started_at.getTime(),
      ]),
    )
    const all = await gaps()
    const within = (dias: number) =>
      all.filter((g) => started.get(g.id)! >= now.getTime() - dias * 86_400_000).map((g) => `${g.id}/${g.tienda_id}`)
    // twoStores started 5 h before now, partial 29 h, inventarioFailed 3.4 days.
    expect(await pairs('?dias=1')).toEqual([`${twoStores}/tienda_01`, `${twoStores}/tienda_02`])
    expect(await pairs('?dias=2')).toEqual(within(2))
    expect(within(2)).toHaveLength(3)
    expect(await pairs('?dias=4')).toEqual(within(4))
    expect(await pairs('?dias=4')).toEqual(all.map((g) => `${g.id}/${g.tienda_id}`))
    expect(await pairs('?dias=4&estado=recuperado&etl_name=inventario')).toEqual([`${inventarioFailed}/tienda_03`])
    expect(await pairs('?dias=2&estado=pendiente&tienda=tienda_08')).toEqual([`${partial}/tienda_08`])
    expect(await gaps('?dias=4')).toEqual(all)
    // limit: the newest ones, in the list's order, with or without a window.
    expect(await pairs('?estado=pendiente&limit=2')).toEqual((await pairs('?estado=pendiente')).slice(0, 2))
    expect(await pairs('?dias=2&limit=1')).toEqual(within(2).slice(0, 1))
  })

  it('400 names a malformed filter or an unknown parameter; 422 an unknown store', async () => {
    for (const [query, status, name] of [
      ['?estado=pendientes', 400, 'estado'],
      ['?etl_name=compras', 400, 'etl_name'],
      ['?tienda=Tienda-01', 400, 'tienda'],
      ["?tienda=tienda_01'%20or%20'1'='1", 400, 'tienda'],
      ['?offset=10', 400, 'offset'],
      ['?limit=0', 400, 'limit'],
      ['?limit=1001', 400, 'limit'],
      ['?dias=0', 400, 'dias'],
      ['?dias=1e2', 400, 'dias'],
      ['?tienda=tienda_77', 422, 'tienda'],
    ] as const) {
      const r = await api.call('get', `/api/etl/gaps${query}`)
      expect(r.status, query).toBe(status)
      expect(r.body, query).toMatchObject({ 'invalid-params': [{ name }] })
    }
  })

  it('recover queues a recovery execution of the pending stores and its job, in one go', async () => {
    const r = await recover(twoStores)
    expect(r.status).toBe(202)
    const body = r.body as RunAccepted
    expect(body).toEqual({
      message: 'ETL recovery execution queued',
      execution_id: body.execution_id,
      etl_name: 'ventas',
      tienda_ids: ['tienda_01', 'tienda_02'],
      triggered_by: 'fluxion_admin',
      started_at: now.toISOString(),
    })
    const [row] = await executions()
    expect(row).toMatchObject({
      id: body.execution_id,
      etl_name: 'ventas',
      etl_type: 'recovery',
      status: 'queued',
      started_at: null,
      triggered_by: 'fluxion_admin',
      is_recovery: true,
      recovered_gap_id: twoStores,
      tienda_ids: ['tienda_01', 'tienda_02'],
      tiendas_count: 2,
      source_system: 'klk',
      fecha_desde: new Date(DAY_27.desde),
      fecha_hasta: new Date(DAY_27.hasta),
    })
    const [job] = await jobs()
    expect(job).toEqual({
      id: row!.job_id,
      name: 'etl-ventas',
      // The job names the execution; the row above is the truth (window, stores, recovery target).
      data: { execution_id: body.execution_id },
    })
    // Queued, not loaded: the gaps stay pending until the run succeeds.
    expect((await gaps('?estado=pendiente')).filter((g) => g.id === twoStores)).toHaveLength(2)

    // The same stores cannot be queued twice, by a recovery or by a manual run.
    const again = await recover(twoStores)
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({
      detail: `Execution ${body.execution_id} of ventas (queued) already includes tienda_01.`,
    })
    const manual = await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_02'] } })
    expect(manual.status).toBe(409)
    expect((await jobs()).length).toBe(1)
  })

  it('409 when a queued or running run of the ETL includes a pending store', async () => {
    expect(
      (await api.call('post', '/api/etl/run', { body: { etl_name: 'ventas', tienda_ids: ['tienda_08'] } })).status,
    ).toBe(202)
    const [queued] = await executions()
    const clash = await recover(partial)
    expect(clash.status).toBe(409)
    expect(clash.body).toMatchObject({
      detail: `Execution ${queued!.id} of ventas (queued) already includes tienda_08.`,
    })
    await database.sql`update etl_executions set status = 'running', started_at = now() where id = ${queued!.id}`
    expect((await recover(partial)).status).toBe(409)
    // Another ETL's run does not block.
    await database.sql`update etl_executions set etl_name = 'inventario' where id = ${queued!.id}`
    expect((await recover(partial)).status).toBe(202)
  })

  it('concurrent recover requests for one gap: exactly one is queued', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => recover(partial)))
    expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409])
    expect((await executions()).length).toBe(1)
    expect((await jobs()).length).toBe(1)
  })

  it('404 for an execution with no gap; 409 when every gap is recovered; 400 for a malformed id', async () => {
    const missing = await recover(999999)
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ detail: 'Execution 999999 does not exist, so it has no gap to recover.' })
    const noGap = await recover(inventarioOk)
    expect(noGap.status).toBe(404)
    expect(noGap.body).toMatchObject({ detail: `Execution ${inventarioOk} has no gap: none of its stores failed.` })
    const done = await recover(inventarioFailed)
    expect(done.status).toBe(409)
    expect(done.body).toMatchObject({ detail: `Every gap of execution ${inventarioFailed} is already recovered.` })
    for (const id of ['abc', '0', '2147483648']) {
      const r = await recover(id)
      expect(r.status, id).toBe(400)
      expect(r.body, id).toMatchObject({ 'invalid-params': [{ name: 'id' }] })
    }
    expect((await api.call('post', `/api/etl/gaps/${partial}/recover?force=1`)).status).toBe(400)
    expect(await executions()).toEqual([])
    expect(await jobs()).toEqual([])
  })

  it('leaves deactivated stores out, and 422 when no pending store can be run', async () => {
    const db = database.sql
    const onlyInactive = await addRun(db, { status: 'failed', ...DAY_26 }, [
      { tienda_id: 'tienda_09', status: 'failed', error_category: 'vpn_timeout' },
    ])
    const r = await recover(onlyInactive)
    expect(r.status).toBe(422)
    expect(r.body).toMatchObject({ 'invalid-params': [{ name: 'id' }] })
    const mixed = await addRun(db, { etl_name: 'inventario', status: 'failed' }, [
      { tienda_id: 'tienda_09', status: 'failed', error_category: 'vpn_timeout' },
      { tienda_id: 'tienda_03', status: 'failed', error_category: 'vpn_timeout' },
    ])
    const ok = await recover(mixed)
    expect(ok.status).toBe(202)
    expect(ok.body).toMatchObject({ etl_name: 'inventario', tienda_ids: ['tienda_03'] })
    const queuedId = (ok.body as { execution_id: number }).execution_id
    expect((await jobs())[0]).toMatchObject({ name: 'etl-inventario', data: { execution_id: queuedId } })
    expect(await db`select fecha_desde, fecha_hasta from etl_executions where id = ${queuedId}`).toEqual([
      { fecha_desde: null, fecha_hasta: null },
    ])
    await db`delete from etl_executions where id in (${onlyInactive}, ${mixed}) or recovered_gap_id = ${mixed}`
  })

  it('widens a window stored with microseconds to whole milliseconds, so the recovery covers it', async () => {
    const db = database.sql
    const precise = await addRun(
      db,
      { status: 'failed', desde: '2026-01-20T04:00:00.000250Z', hasta: '2026-01-21T03:59:59.999999Z' },
      [{ tienda_id: 'tienda_02', status: 'failed', error_category: 'api_error' }],
    )
    expect((await recover(precise)).status).toBe(202)
    const [covered] = await db`
      select r.fecha_desde <= f.fecha_desde and r.fecha_hasta >= f.fecha_hasta as covers
      from etl_executions r, etl_executions f where r.recovered_gap_id = f.id and f.id = ${precise}`
    expect(covered).toEqual({ covers: true })
    expect(await db`select fecha_desde, fecha_hasta from etl_executions where recovered_gap_id = ${precise}`).toEqual([
      { fecha_desde: new Date('2026-01-20T04:00:00.000Z'), fecha_hasta: new Date('2026-01-21T04:00:00.000Z') },
    ])
    await db`delete from etl_executions where recovered_gap_id = ${precise} or id = ${precise}`
  })

  it('writes neither the execution nor the job when the job insert fails inside the transaction', async () => {
    const db = database.sql
    await db`create function reject_job() returns trigger language plpgsql as $$
      begin raise exception 'job table refuses inserts (injected)'; end $$`
    await db`create trigger reject_job before insert on pgboss.job_common for each row execute function reject_job()`
    try {
      const r = await recover(partial)
      expect(r.status).toBe(500)
      expect(JSON.stringify(r.body)).not.toMatch(/injected|insert|pgboss|select/i)
    } finally {
      await db`drop trigger reject_job on pgboss.job_common`
      await db`drop function reject_job()`
    }
    expect(await executions()).toEqual([])
    expect(await jobs()).toEqual([])
  })

  it('shows what automatic recovery did: attempts, last and next try, given up', async () => {
    const db = database.sql
    await db`
      insert into etl_gap_recovery (gap_id, tienda_id, attempts, last_attempt_at, next_attempt_at, last_outcome)
      values (${partial}, 'tienda_08', 2, '2026-01-28T14:00:00Z', '2026-01-28T14:10:00Z', 'sin_respuesta')`
    const [pending] = (await gaps('?estado=pendiente&tienda=tienda_08')).filter((g) => g.id === partial)
    expect(pending).toMatchObject({
      recovery_attempts: 2,
      last_attempt_at: '2026-01-28T14:00:00.000Z',
      next_attempt_at: '2026-01-28T14:10:00.000Z',
      recovery_exhausted_at: null,
    })
    await db`update etl_gap_recovery set exhausted_at = '2026-01-28T14:20:00Z', next_attempt_at = null
      where gap_id = ${partial}`
    const [given] = (await gaps('?tienda=tienda_08')).filter((g) => g.id === partial)
    expect(given).toMatchObject({
      recovery_attempts: 2,
      next_attempt_at: null,
      recovery_exhausted_at: '2026-01-28T14:20:00.000Z',
    })
    // Never tried: zero attempts, no dates.
    const [untried] = await gaps('?etl_name=inventario')
    expect(untried).toMatchObject({ recovery_attempts: 0, last_attempt_at: null, next_attempt_at: null })
    await db`delete from etl_gap_recovery`
  })

  it('pauses and resumes automatic recovery, recording who and when; bad bodies name the field', async () => {
    const initial = await api.call('get', '/api/etl/gaps/auto-recovery')
    expect(initial).toMatchObject({ status: 200, body: { paused: false, updated_by: null } })

    const paused = await api.call('put', '/api/etl/gaps/auto-recovery', { body: { paused: true } })
    expect(paused.status).toBe(200)
    expect(paused.body).toMatchObject({ paused: true, updated_by: 'super_admin@fluxion.test' })
    expect(await database.sql`select paused, updated_by from etl_recovery_settings`).toEqual([
      { paused: true, updated_by: 'super_admin@fluxion.test' },
    ])
    expect((await api.call('get', '/api/etl/gaps/auto-recovery')).body).toMatchObject({ paused: true })

    for (const body of [{}, { paused: 'yes' }, { paused: true, extra: 1 }]) {
      const bad = await api.call('put', '/api/etl/gaps/auto-recovery', { body })
      expect(bad.status, JSON.stringify(body)).toBe(400)
      expect(JSON.stringify(bad.body)).toMatch(/paused|extra/)
    }
    const resumed = await api.call('put', '/api/etl/gaps/auto-recovery', { body: { paused: false } })
    expect(resumed.body).toMatchObject({ paused: false })
    const viewer = await api.call('put', '/api/etl/gaps/auto-recovery', {
      body: { paused: true },
      token: await tokenFor('viewer'),
    })
    expect(viewer.status).toBe(403)
    expect(await database.sql`select paused from etl_recovery_settings`).toEqual([{ paused: false }])
  })
})
