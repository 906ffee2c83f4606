import { randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import { pgTest } from '../../../test/helpers/db.ts'
import { deleteOrphanStaging } from '../etl/load.sql.ts'
import { BOSS_SCHEMA, QUEUES } from '../jobs/boss.ts'
import { closeAbandonedQueuedExecutions, closeStaleExecutions } from './close.sql.ts'

type Seed = {
  status: string
  startedAgoS: number | null
  heartbeatAgoS: number | null
  phase?: string
  source?: string
}

pgTest('the reaper closes stale running executions in the phase they were in, and nothing else', async ({ db }) => {
  const seed = async (s: Seed) => {
    const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, heartbeat_at, current_phase, source_system,
        worker_id, triggered_by, tiendas_count, tienda_ids)
      values ('ventas', 'scheduled', ${s.status},
        ${s.startedAgoS === null ? null : db`now() - make_interval(secs => ${s.startedAgoS})`},
        ${s.heartbeatAgoS === null ? null : db`now() - make_interval(secs => ${s.heartbeatAgoS})`},
        ${s.phase ?? null}, ${s.source ?? 'klk'}, 'host-a:4242', 'scheduler', 3, '{tienda_01,tienda_02,tienda_03}')
      returning id`
    return row!.id
  }
  // Died in load with a heartbeat 90 s old; one store done, one loading, one never started.
  const inLoad = await seed({ status: 'running', startedAgoS: 120, heartbeatAgoS: 90, phase: 'load' })
  await db`
    insert into etl_execution_details (execution_id, tienda_id, source_system, status, started_at, current_phase,
      records_extracted, records_loaded, duplicates_skipped)
    values (${inLoad}, 'tienda_01', 'klk', 'success', now() - interval '110 s', null, 100, 98, 2),
           (${inLoad}, 'tienda_02', 'klk', 'running', now() - interval '100 s', 'load', 50, 0, 0)`
  // Died before its first heartbeat: judged by started_at, not skipped because heartbeat_at is NULL.
  const noHeartbeat = await seed({ status: 'running', startedAgoS: 300, heartbeatAgoS: null })
  const alive = await seed({ status: 'running', startedAgoS: 300, heartbeatAgoS: 5, phase: 'extract' })
  const queued = await seed({ status: 'queued', startedAgoS: null, heartbeatAgoS: null })
  const finished = await seed({ status: 'success', startedAgoS: 900, heartbeatAgoS: 800 })

  const events: string[] = []
  const listener = await db.listen('etl_events', (payload) => events.push(payload))
  const reaped = await closeStaleExecutions(db, { staleAfterS: 60 })
  expect(reaped.map((r) => r.id).sort()).toEqual([inLoad, noHeartbeat].sort())
  expect(
    await db`select tienda_id from etl_execution_details where execution_id = ${inLoad} and error_category = 'worker_lost'`,
  ).toEqual([{ tienda_id: 'tienda_02' }])

  const rows = await db`select * from etl_executions order by id`
  const byId = new Map(rows.map((r) => [r.id as number, r]))
  expect(byId.get(inLoad)).toMatchObject({
    status: 'failed',
    error_phase: 'load',
    error_category: 'worker_lost',
    error_source: 'klk_api',
    tiendas_exitosas: 1,
    tiendas_fallidas: 1,
    records_loaded: 98,
    duplicates_skipped: 2,
    current_phase: null,
  })
  expect(byId.get(inLoad)?.error_message).toMatch(/worker host-a:4242 stopped heartbeating during load/)
  expect(byId.get(inLoad)?.finished_at).toBeInstanceOf(Date)
  expect(Number(byId.get(inLoad)?.duration_seconds)).toBeGreaterThanOrEqual(119)
  expect(byId.get(noHeartbeat)).toMatchObject({
    status: 'failed',
    error_phase: 'extract',
    error_category: 'worker_lost',
  })
  expect(byId.get(alive)?.status).toBe('running')
  expect(byId.get(queued)?.status).toBe('queued')
  expect(byId.get(finished)?.status).toBe('success')

  const details = await db`select tienda_id, status, error_phase, error_category, error_source, finished_at
    from etl_execution_details where execution_id = ${inLoad} order by tienda_id`
  expect(details).toMatchObject([
    { tienda_id: 'tienda_01', status: 'success', error_category: null },
    {
      tienda_id: 'tienda_02',
      status: 'failed',
      error_phase: 'load',
      error_category: 'worker_lost',
      error_source: 'klk_api',
    },
    // Never started: a skipped row, so tiendas_count = exitosas + fallidas + skipped.
    { tienda_id: 'tienda_03', status: 'skipped', error_category: null },
  ])

  // A second pass (another runner) finds nothing left to close.
  expect(await closeStaleExecutions(db, { staleAfterS: 60 })).toEqual([])
  await expect.poll(() => events.length).toBe(2)
  expect(events.map((e) => JSON.parse(e))).toContainEqual({
    execution_id: inLoad,
    kind: 'execution_finished',
    status: 'failed',
  })
  await listener.unlisten()
})

pgTest('staging rows of executions that no longer run are removed; those of a running one stay', async ({ db }) => {
  const [running, dead] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, heartbeat_at, triggered_by)
    values ('ventas', 'scheduled', 'running', now(), now(), 'scheduler'),
           ('ventas', 'scheduled', 'failed', now() - interval '5 min', null, 'scheduler')
    returning id`
  for (const execution of [running!.id, dead!.id]) {
    await db`
      insert into ventas_staging (tienda_id, execution_id, n, numero_factura, linea, fecha, codigo_producto, cantidad,
        precio_unitario, total)
      select 'tienda_01', ${execution}, g, 'F' || g, 1, now(), 'P0001', 1, 1, 1 from generate_series(1, 3) g`
    await db`
      insert into inventario_staging (tienda_id, execution_id, n, codigo_producto, existencia)
      values ('tienda_01', ${execution}, 1, 'P0001', 5)`
  }
  await deleteOrphanStaging(db)
  const left = await db<{ execution_id: number; n: number }[]>`
    select execution_id, count(*)::int as n from (
      select execution_id from ventas_staging union all select execution_id from inventario_staging) s
    group by execution_id`
  expect(left).toEqual([{ execution_id: running!.id, n: 4 }])
})

pgTest('queued executions whose pg-boss job ended or vanished are closed; live jobs keep theirs', async ({ db }) => {
  // pg-boss's schema and the ventas queue come with the migrations; jobs are written directly.
  const queued = async (jobState: string | null, opts: { jobId?: string | null; createdAgoS?: number } = {}) => {
    const jobId = opts.jobId === undefined ? randomUUID() : opts.jobId
    if (jobState !== null && jobId !== null) {
      await db`insert into ${db(BOSS_SCHEMA)}.job (id, name, state, data)
        values (${jobId}::uuid, ${QUEUES.ventas}, ${jobState}::${db(BOSS_SCHEMA)}.job_state, '{}'::jsonb)`
    }
    const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, triggered_by, tiendas_count, tienda_ids, job_id,
        created_at)
      values ('ventas', 'manual', 'queued', 'fluxion_admin', 1, '{tienda_01}', ${jobId}::uuid,
        now() - make_interval(secs => ${opts.createdAgoS ?? 0}))
      returning id`
    return row!.id
  }
  const completed = await queued('completed')
  const failed = await queued('failed')
  const cancelled = await queued('cancelled')
  const created = await queued('created')
  const retry = await queued('retry')
  const active = await queued('active')
  const noJobRow = await queued(null)
  const noJobIdOld = await queued(null, { jobId: null, createdAgoS: 3600 })
  const noJobIdNew = await queued(null, { jobId: null, createdAgoS: 5 })

  const events: string[] = []
  const listener = await db.listen('etl_events', (payload) => events.push(payload))
  const f = { graceS: 600, bossSchema: BOSS_SCHEMA, queues: QUEUES }
  const closed = await closeAbandonedQueuedExecutions(db, f)
  const closedIds = [completed, failed, cancelled, noJobRow, noJobIdOld].sort((a, b) => a - b)
  expect(closed.map((c) => c.id).sort((a, b) => a - b)).toEqual(closedIds)
  expect(closed.find((c) => c.id === completed)?.error_message).toMatch(/is completed\)/)
  expect(closed.find((c) => c.id === noJobRow)?.error_message).toMatch(/no longer exists\)/)

  const rows = await db`select id, status, started_at, finished_at, error_category, error_message
    from etl_executions order by id`
  const byId = new Map(rows.map((r) => [r.id as number, r]))
  for (const id of closedIds) {
    expect(byId.get(id)).toMatchObject({ status: 'failed', error_category: 'unknown' })
    expect(byId.get(id)?.started_at).toBeInstanceOf(Date)
    expect(byId.get(id)?.finished_at).toBeInstanceOf(Date)
    expect(byId.get(id)?.error_message).toMatch(/^the job of this queued execution ended without running it/)
  }
  expect(byId.get(failed)?.error_message).toMatch(/is failed/)
  expect(byId.get(noJobRow)?.error_message).toMatch(/no longer exists/)
  for (const id of [created, retry, active, noJobIdNew]) {
    expect(byId.get(id)).toMatchObject({ status: 'queued', started_at: null, error_category: null })
  }

  // Another runner's pass right after finds nothing left.
  expect(await closeAbandonedQueuedExecutions(db, f)).toEqual([])
  await expect.poll(() => events.length).toBe(closedIds.length)
  expect(events.map((e) => JSON.parse(e))).toContainEqual({
    execution_id: noJobRow,
    kind: 'execution_finished',
    status: 'failed',
  })
  await listener.unlisten()
})
