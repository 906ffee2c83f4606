import { randomUUID } from 'node:crypto'
import type { Sql } from 'postgres'
import { expect } from 'vitest'
import { pgTest } from '../../../test/helpers/db.ts'
import { expectStoresAccountedFor } from '../../../test/helpers/invariants.ts'
import { closeCrashedExecutions } from './close.sql.ts'

const seedTiendas = (db: Sql) => db`
  insert into tiendas (id, nombre, source_system, host, port)
  values ('tienda_01', 'Uno', 'klk', 'h1', 1), ('tienda_02', 'Dos', 'klk', 'h2', 2),
         ('tienda_03', 'Tres', 'klk', 'h3', 3), ('tienda_04', 'Cuatro', 'klk', 'h4', 4)
  on conflict (id) do nothing`

pgTest(
  'a job that crashed while finishing keeps what its stores loaded: partial, counts from the stores',
  async ({ db }) => {
    await seedTiendas(db)
    const seed = async (jobId: string, tiendas: string[]) => {
      const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, heartbeat_at, current_phase, source_system,
        worker_id, triggered_by, tiendas_count, tienda_ids, job_id)
      values ('ventas', 'scheduled', 'running', now() - interval '60 s', now(), 'load', 'klk', 'host-a:1',
        'scheduler', ${tiendas.length}, ${tiendas}::text[], ${jobId}::uuid)
      returning id`
      return row!.id
    }
    const jobId = randomUUID()
    const partial = await seed(jobId, ['tienda_01', 'tienda_02', 'tienda_03'])
    await db`
    insert into etl_execution_details (execution_id, tienda_id, source_system, status, started_at, finished_at,
      current_phase, records_extracted, records_loaded, duplicates_skipped)
    values (${partial}, 'tienda_01', 'klk', 'success', now() - interval '50 s', now() - interval '40 s', null, 100, 98, 2),
           (${partial}, 'tienda_02', 'klk', 'success', now() - interval '50 s', now() - interval '30 s', null, 40, 40, 0),
           (${partial}, 'tienda_03', 'klk', 'running', now() - interval '50 s', null, 'load', 10, 0, 0)`
    // Another job's run: untouched.
    const other = await seed(randomUUID(), ['tienda_04'])

    const closed = await closeCrashedExecutions(db, { jobId, queuedId: null }, 'the run failed: connection ended')
    expect(closed.map((c) => c.id)).toEqual([partial])

    const [row] = await db`select * from etl_executions where id = ${partial}`
    expect(row).toMatchObject({
      status: 'partial',
      tiendas_exitosas: 2,
      tiendas_fallidas: 1,
      records_extracted: 150,
      records_loaded: 138,
      duplicates_skipped: 2,
      error_category: 'unknown',
      error_phase: 'load',
      error_message: 'the run failed: connection ended',
      current_phase: null,
    })
    expect(row?.finished_at).toBeInstanceOf(Date)
    const details = await db`select tienda_id, status, error_category, error_phase, finished_at
    from etl_execution_details where execution_id = ${partial} order by tienda_id`
    expect(details).toMatchObject([
      { tienda_id: 'tienda_01', status: 'success', error_category: null },
      { tienda_id: 'tienda_02', status: 'success', error_category: null },
      { tienda_id: 'tienda_03', status: 'failed', error_category: 'unknown', error_phase: 'load' },
    ])
    expect(details[2]?.finished_at).toBeInstanceOf(Date)
    expect((await db`select status from etl_executions where id = ${other}`)[0]?.status).toBe('running')
    await expectStoresAccountedFor(db, partial)
  },
)

pgTest(
  'all stores loaded → success; a store never attempted → skipped, as the roll-up does; none → failed',
  async ({ db }) => {
    await seedTiendas(db)
    const seed = async (jobId: string, tiendas: string[], done: string[]) => {
      const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, source_system, triggered_by, tiendas_count,
        tienda_ids, job_id)
      values ('ventas', 'scheduled', 'running', now() - interval '60 s', 'klk', 'scheduler', ${tiendas.length},
        ${tiendas}::text[], ${jobId}::uuid)
      returning id`
      for (const t of done) {
        await db`
        insert into etl_execution_details (execution_id, tienda_id, source_system, status, started_at, finished_at,
          records_extracted, records_loaded)
        values (${row!.id}, ${t}, 'klk', 'success', now() - interval '50 s', now(), 5, 5)`
      }
      return row!.id
    }
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    const allOk = await seed(a, ['tienda_01', 'tienda_02'], ['tienda_01', 'tienda_02'])
    const oneMissing = await seed(b, ['tienda_01', 'tienda_04'], ['tienda_01'])
    const [queued] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, triggered_by, tiendas_count, tienda_ids, job_id)
    values ('ventas', 'manual', 'queued', 'fluxion_admin', 1, '{tienda_01}', ${c}::uuid) returning id`
    await closeCrashedExecutions(db, { jobId: a, queuedId: null }, 'boom')
    await closeCrashedExecutions(db, { jobId: b, queuedId: null }, 'boom')
    await closeCrashedExecutions(db, { jobId: c, queuedId: queued!.id }, 'boom')

    const rows = await db`select id, status, tiendas_exitosas, tiendas_fallidas, records_loaded, started_at
    from etl_executions where id in ${db([allOk, oneMissing, queued!.id])} order by id`
    expect(rows).toMatchObject([
      { id: allOk, status: 'success', tiendas_exitosas: 2, tiendas_fallidas: 0, records_loaded: 10 },
      // tienda_04 never started: skipped, not failed (tiendas_count = exitosas + fallidas + skipped).
      { id: oneMissing, status: 'partial', tiendas_exitosas: 1, tiendas_fallidas: 0, records_loaded: 5 },
      { id: queued!.id, status: 'failed', tiendas_exitosas: 0, tiendas_fallidas: 0, records_loaded: 0 },
    ])
    expect(rows[2]?.started_at).toBeInstanceOf(Date)
    const skipped = await db`select tienda_id, status from etl_execution_details where execution_id = ${oneMissing}
    order by tienda_id`
    expect(skipped).toEqual([
      { tienda_id: 'tienda_01', status: 'success' },
      { tienda_id: 'tienda_04', status: 'skipped' },
    ])
    // A job crash, whatever it left: every store accounted for (the queued one never ran: skipped).
    for (const id of [allOk, oneMissing, queued!.id]) await expectStoresAccountedFor(db, id)
  },
)
