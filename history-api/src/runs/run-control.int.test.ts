// POST /api/etl/executions/{id}/rerun and /cancel against the real PostgreSQL and pg-boss; the stop of a
// running run and the re-run of its stores are worked by a real runner process against KLK stand-ins.
import type { PgBoss } from 'pg-boss'
import type { Sql } from 'postgres'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestBoss, type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { addTiendas } from '../../../test/helpers/history-seed.ts'
import { expectStoresAccountedFor } from '../../../test/helpers/invariants.ts'
import { addKlkStores, waitFor } from '../../../test/helpers/runner-kit.ts'
import { type Cleanups, startRunnerProcess } from '../../../test/helpers/runner-process.ts'
import type { ExecutionDetail } from '../executions/detail.schemas.ts'
import type { RunAccepted } from './runs.schemas.ts'

type Job = { id: string; name: string; data: Record<string, unknown> }

/** A finished ventas execution with one detail row per store in the given status. */
async function finishedExecution(db: Sql, stores: Record<string, 'success' | 'failed' | 'skipped'>, as?: 'cancelled') {
  const ids = Object.keys(stores)
  const ok = ids.filter((id) => stores[id] === 'success').length
  const failed = ids.filter((id) => stores[id] === 'failed').length
  const status = as ?? (ok === ids.length ? 'success' : ok > 0 ? 'partial' : 'failed')
  const [e] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, triggered_by, started_at, finished_at, fecha_desde,
      fecha_hasta, tienda_ids, tiendas_count, tiendas_exitosas, tiendas_fallidas)
    values ('ventas', 'scheduled', ${status}, 'scheduler', '2026-01-26T10:00:00Z', '2026-01-26T10:00:45Z',
      '2026-01-26T04:00:00Z', '2026-01-27T03:59:59Z', ${ids}::text[], ${ids.length}, ${ok}, ${failed})
    returning id`
  for (const id of ids) {
    await db`insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status)
      values (${e!.id}, ${id}, ${id.toUpperCase()}, 'klk', ${stores[id]!})`
  }
  return e!.id
}

describe('re-run and cancel (API, real pg-boss)', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  const jobs = () => database.sql<Job[]>`select id::text, name, data from pgboss.job order by created_on`

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    await addTiendas(database.sql, ['tienda_01', 'tienda_02', 'tienda_08', 'tienda_09'], { inactive: ['tienda_09'] })
    api = await testApi({ db: database.sql, boss })
  })
  afterAll(async () => {
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })
  beforeEach(async () => {
    await database.sql`delete from etl_executions`
    await database.sql`delete from pgboss.job`
  })

  it('re-runs the stores that did not load, linked both ways, and cancels the queued re-run', async () => {
    const origin = await finishedExecution(database.sql, {
      tienda_01: 'success',
      tienda_02: 'skipped',
      tienda_08: 'failed',
    })
    const r = await api.call('post', `/api/etl/executions/${origin}/rerun`, { body: { scope: 'failed' } })
    expect(r.status).toBe(202)
    const accepted = r.body as RunAccepted
    expect(accepted).toMatchObject({ etl_name: 'ventas', tienda_ids: ['tienda_02', 'tienda_08'] })
    const [row] = await database.sql`select * from etl_executions where id = ${accepted.execution_id}`
    expect(row).toMatchObject({
      status: 'queued',
      etl_type: 'manual',
      triggered_by: 'fluxion_admin',
      rerun_of: origin,
      rerun_scope: 'failed',
      tienda_ids: ['tienda_02', 'tienda_08'],
      fecha_desde: new Date('2026-01-26T04:00:00Z'),
      fecha_hasta: new Date('2026-01-27T03:59:59Z'),
    })
    expect((await jobs()).map((j) => [j.name, j.data])).toEqual([
      ['etl-ventas', { execution_id: accepted.execution_id }],
    ])

    const originDetail = (await api.call('get', `/api/etl/history/${origin}`)).body as ExecutionDetail
    expect(originDetail.reruns).toEqual([
      { id: accepted.execution_id, status: 'queued', rerun_scope: 'failed', tiendas_count: 2 },
    ])
    expect(originDetail.rerun_of).toBeNull()
    const rerunDetail = (await api.call('get', `/api/etl/history/${accepted.execution_id}`)).body as ExecutionDetail
    expect(rerunDetail).toMatchObject({ rerun_of: origin, rerun_scope: 'failed', cancel_requested_at: null })

    // The re-run is queued: asking again overlaps it, and it cannot itself be re-run until it finishes.
    const again = await api.call('post', `/api/etl/executions/${origin}/rerun`, { body: { scope: 'all' } })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ type: 'tag:fluxion.etl,2026:run-overlap', execution_id: accepted.execution_id })
    const notFinished = await api.call('post', `/api/etl/executions/${accepted.execution_id}/rerun`, {
      body: { scope: 'all' },
    })
    expect(notFinished.status).toBe(409)
    expect(notFinished.body).toMatchObject({ type: 'tag:fluxion.etl,2026:execution-not-finished' })

    // Cancel the queued re-run: closed `cancelled` at once, every store skipped, its pg-boss job gone.
    const cancelled = await api.call('post', `/api/etl/executions/${accepted.execution_id}/cancel`)
    expect(cancelled.status).toBe(202)
    expect(cancelled.body).toMatchObject({ execution_id: accepted.execution_id, status: 'cancelled' })
    expect(await jobs()).toEqual([])
    const [closed] = await database.sql`
      select status, tiendas_count, tiendas_exitosas, tiendas_fallidas, error_category, cancel_requested_by
      from etl_executions where id = ${accepted.execution_id}`
    expect(closed).toEqual({
      status: 'cancelled',
      tiendas_count: 2,
      tiendas_exitosas: 0,
      tiendas_fallidas: 0,
      error_category: null,
      cancel_requested_by: 'super_admin@fluxion.test',
    })
    await expectStoresAccountedFor(database.sql, accepted.execution_id)
    const stores = await database.sql`
      select tienda_id, status from etl_execution_details where execution_id = ${accepted.execution_id} order by 1`
    expect(stores).toEqual([
      { tienda_id: 'tienda_02', status: 'skipped' },
      { tienda_id: 'tienda_08', status: 'skipped' },
    ])
    // Nothing left to cancel; a cancelled run can itself be repeated.
    const twice = await api.call('post', `/api/etl/executions/${accepted.execution_id}/cancel`)
    expect(twice.status).toBe(409)
    expect(twice.body).toMatchObject({ type: 'tag:fluxion.etl,2026:execution-finished' })
    const repeat = await api.call('post', `/api/etl/executions/${accepted.execution_id}/rerun`, {
      body: { scope: 'all' },
    })
    expect(repeat.status).toBe(202)
    expect((repeat.body as RunAccepted).tienda_ids).toEqual(['tienda_02', 'tienda_08'])
  })

  it('"Repetir" takes every store; inactive stores are left out; nothing to run is a 422 naming scope', async () => {
    const allOk = await finishedExecution(database.sql, { tienda_01: 'success', tienda_09: 'success' })
    const failedOnly = await api.call('post', `/api/etl/executions/${allOk}/rerun`, { body: { scope: 'failed' } })
    expect(failedOnly.status).toBe(422)
    expect(failedOnly.body).toMatchObject({ 'invalid-params': [{ name: 'scope', code: 'no_failed_store' }] })
    const all = await api.call('post', `/api/etl/executions/${allOk}/rerun`, { body: { scope: 'all' } })
    expect(all.status).toBe(202)
    expect((all.body as RunAccepted).tienda_ids).toEqual(['tienda_01'])

    const inactive = await finishedExecution(database.sql, { tienda_09: 'failed' })
    const none = await api.call('post', `/api/etl/executions/${inactive}/rerun`, { body: { scope: 'failed' } })
    expect(none.status).toBe(422)
    expect(none.body).toMatchObject({ 'invalid-params': [{ name: 'scope', code: 'stores_unrunnable' }] })
  })

  it('a store that failed before its run was cancelled is a gap, recoverable like any other', async () => {
    const id = await finishedExecution(database.sql, { tienda_08: 'failed', tienda_02: 'skipped' }, 'cancelled')
    const gaps = await api.call('get', '/api/etl/gaps?etl_name=ventas&estado=pendiente')
    expect(gaps.body).toEqual([expect.objectContaining({ id, tienda_id: 'tienda_08', recovered_at: null })])
  })

  it('refuses what it cannot do, naming it', async () => {
    expect((await api.call('post', '/api/etl/executions/99999/rerun', { body: { scope: 'all' } })).status).toBe(404)
    expect((await api.call('post', '/api/etl/executions/99999/cancel')).status).toBe(404)
    const bad = await api.call('post', '/api/etl/executions/1/rerun', { body: { scope: 'some' } })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ 'invalid-params': [{ name: 'scope' }] })
    const body = await api.call('post', '/api/etl/executions/1/cancel', { body: { now: true } })
    expect(body.status).toBe(400)
    expect(body.body).toMatchObject({ 'invalid-params': [{ name: 'body' }] })
  })
})

describe('stop a running run, then re-run its stores (real runner)', () => {
  let database: TestDatabase
  let api: TestApi
  let boss: PgBoss
  const cleanups: Cleanups = []

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

  it('stops at the next store/page boundary across runners, closes cancelled, and the re-run loads the rest', async () => {
    const db = database.sql
    // ~15 pages of 1,000 lines a store, each page 300 ms away: a store takes seconds, so the stop lands mid-run.
    const stores = await addKlkStores(
      db,
      ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04'].map((tiendaId) => ({
        tiendaId,
        invoicesPerHour: 200,
        link: { rttMs: 300 },
      })),
    )
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    // Two runner processes, one store at a time each: the stop must reach both through the database.
    await startRunnerProcess(database.url, cleanups, { ETL_CONCURRENCY: '1' })
    await startRunnerProcess(database.url, cleanups, { ETL_CONCURRENCY: '1' })
    const run = await api.call('post', '/api/etl/run', {
      body: {
        etl_name: 'ventas',
        tienda_ids: stores.map((s) => s.tiendaId),
        fecha_inicio: '2026-11-02 00:00:00',
        fecha_fin: '2026-11-02 23:59:59',
      },
    })
    expect(run.status).toBe(202)
    const id = (run.body as RunAccepted).execution_id
    await waitFor('a store to be extracting', async () => {
      const [r] = await db`select 1 from etl_execution_details where execution_id = ${id} and status = 'running'`
      return r
    })
    const t0 = Date.now()
    const stop = await api.call('post', `/api/etl/executions/${id}/cancel`)
    expect(stop.status).toBe(202)
    expect(stop.body).toMatchObject({ execution_id: id, status: 'running' })

    const closed = await waitFor(
      'the run to stop',
      async () => {
        const [r] = await db`select * from etl_executions where id = ${id} and status not in ('queued', 'running')`
        return r
      },
      30_000,
    )
    const stopSeconds = (Date.now() - t0) / 1000
    expect(closed.status).toBe('cancelled')
    await expectStoresAccountedFor(db, id)
    const details = await db<{ tienda_id: string; status: string; error_message: string | null; loaded: number }[]>`
      select d.tienda_id, d.status, d.error_message,
        (select count(*)::int from ventas v where v.tienda_id = d.tienda_id) as loaded
      from etl_execution_details d where d.execution_id = ${id} order by 1`
    const skipped = details.filter((d) => d.status === 'skipped')
    expect(skipped.length, JSON.stringify(details)).toBeGreaterThanOrEqual(2)
    // A skipped store loaded nothing (a store stopped between pages discards what it had staged).
    for (const d of skipped) expect(d.loaded, d.tienda_id).toBe(0)
    // Stopped within a heartbeat and a page or so, not after the ~30 s the whole run takes.
    expect(stopSeconds).toBeLessThan(15)
    console.info(
      `stop requested → run closed cancelled in ${stopSeconds.toFixed(1)} s; stores: ${JSON.stringify(details)}`,
    )

    // "Reintentar tiendas fallidas": a new run of the stores that did not load, worked to success.
    const rerun = await api.call('post', `/api/etl/executions/${id}/rerun`, { body: { scope: 'failed' } })
    expect(rerun.status).toBe(202)
    const rerunId = (rerun.body as RunAccepted).execution_id
    expect((rerun.body as RunAccepted).tienda_ids).toEqual(
      details.filter((d) => d.status !== 'success').map((d) => d.tienda_id),
    )
    const done = await waitFor(
      'the re-run to finish',
      async () => {
        const [r] = await db`select * from etl_executions where id = ${rerunId} and status not in ('queued', 'running')`
        return r
      },
      90_000,
    )
    expect(done).toMatchObject({ status: 'success', rerun_of: id, rerun_scope: 'failed' })
    const origin = (await api.call('get', `/api/etl/history/${id}`)).body as ExecutionDetail
    expect(origin.reruns).toEqual([
      {
        id: rerunId,
        status: 'success',
        rerun_scope: 'failed',
        tiendas_count: skipped.length + details.filter((d) => d.status === 'failed').length,
      },
    ])
    expect(origin.cancel_requested_at).not.toBeNull()
  }, 150_000)
})
