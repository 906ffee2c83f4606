// Stores start slowest first: the order comes from each store's recent durations in the history,
// and a real run (one lane) starts them in that order.
import { afterAll, describe, expect } from 'vitest'
import type { KlkStore } from '../../../test/fakes/klk-simulator.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addStore, fastConfig, runVentas } from '../../../test/helpers/etl-kit.ts'
import { slowestFirst } from './tiendas.sql.ts'

describe('slowestFirst', () => {
  const stores: KlkStore[] = []
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  pgTest('orders by the mean of the last three finished runs, unknown stores first, ties as given', async ({ db }) => {
    const ids = ['tienda_61', 'tienda_62', 'tienda_63', 'tienda_64', 'tienda_65']
    for (const id of ids) {
      await db`insert into tiendas (id, nombre, source_system, host, port) values (${id}, ${id}, 'klk', '127.0.0.1', 1)`
    }
    // Durations oldest → newest; only the last three finished runs count, a running row does not.
    const history: Record<string, (number | 'running')[]> = {
      tienda_61: [9, 1, 1, 1],
      tienda_62: [2, 2, 2],
      tienda_63: [1, 1, 8, 'running'],
      tienda_64: [2, 2, 2],
    }
    for (let run = 0; run < 4; run++) {
      const [e] = await db<{ id: number }[]>`
        insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, triggered_by)
        values ('ventas', 'scheduled', 'success', now() - make_interval(hours => ${10 - run}),
          now() - make_interval(hours => ${10 - run}), 'scheduler') returning id`
      for (const [id, durations] of Object.entries(history)) {
        const d = durations[run]
        if (d === undefined) continue
        await db`insert into etl_execution_details (execution_id, tienda_id, status, duration_seconds)
          values (${e!.id}, ${id}, ${d === 'running' ? 'running' : 'success'}, ${d === 'running' ? null : d})`
      }
    }
    // 63: (1+1+8)/3 = 3.3; 62 and 64: 2 (tie: as given); 61: 1 (the 9 is older than three runs); 65: none.
    expect(await slowestFirst(db, 'ventas', ids)).toEqual([
      'tienda_65',
      'tienda_63',
      'tienda_62',
      'tienda_64',
      'tienda_61',
    ])
    expect(await slowestFirst(db, 'inventario', ids)).toEqual(ids)
  })

  pgTest('a run with one lane starts its slowest store first', async ({ db, database }) => {
    await db`delete from etl_executions`
    // tienda_72 answers 400 ms late: after a first run, the second starts it first.
    stores.push(
      await addStore(db, { tiendaId: 'tienda_71' }),
      await addStore(db, { tiendaId: 'tienda_72', fault: 'stall_headers', faultDelayMs: 400 }),
      await addStore(db, { tiendaId: 'tienda_73' }),
    )
    const config = fastConfig(database.url, { ETL_CONCURRENCY: '1', SOURCE_REQUEST_TIMEOUT_MS: '5000' })
    const ids = ['tienda_71', 'tienda_72', 'tienda_73']
    const startOrder = async (executionId: number) =>
      (
        await db<{ tienda_id: string }[]>`select tienda_id from etl_execution_details
          where execution_id = ${executionId} order by started_at, id`
      ).map((r) => r.tienda_id)
    const first = await runVentas(db, config, ids)
    expect(first.status).toBe('success')
    expect(await startOrder(first.id)).toEqual(ids)
    const second = await runVentas(db, config, ids)
    expect((await startOrder(second.id))[0]).toBe('tienda_72')
  })
})
