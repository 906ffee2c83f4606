import { expect } from 'vitest'
import { pgTest } from '../../../test/helpers/db.ts'
import { findPendingGaps, groupGaps } from './gaps.sql.ts'

const at = (h: number) => new Date(Date.UTC(2026, 10, 2, h))

pgTest('a gap is a failed store not loaded since by a later success covering its window', async ({ db }) => {
  const exec = async (
    etl: string,
    status: string,
    startedHoursAgo: number,
    window: [number, number] | null,
    stores: Record<string, string>,
  ) => {
    const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, fecha_desde, fecha_hasta, triggered_by)
      values (${etl}, 'scheduled', ${status}, now() - make_interval(hours => ${startedHoursAgo}),
        ${status === 'running' ? null : db`now() - make_interval(hours => ${startedHoursAgo}) + interval '1 min'`},
        ${window ? at(window[0]) : null}, ${window ? at(window[1]) : null}, 'scheduler')
      returning id`
    for (const [tienda, s] of Object.entries(stores)) {
      await db`insert into etl_execution_details (execution_id, tienda_id, status, error_category)
        values (${row!.id}, ${tienda}, ${s}, ${s === 'failed' ? 'vpn_timeout' : null})`
    }
    return row!.id
  }
  const older = await exec('ventas', 'success', 40, [0, 23], { t2: 'success' })
  const e1 = await exec('ventas', 'partial', 30, [8, 10], { t1: 'success', t2: 'failed', t3: 'failed' })
  await exec('ventas', 'success', 20, [9, 10], { t2: 'success' }) // does not cover 08–09: t2 stays a gap
  await exec('ventas', 'success', 10, [7, 11], { t3: 'success' }) // covers it: t3 recovered
  const e5 = await exec('ventas', 'failed', 5, [14, 16], { t1: 'failed' })
  await exec('ventas', 'running', 1, [14, 16], { t4: 'failed' }) // still running: not a gap yet
  await exec('inventario', 'failed', 9, null, { t1: 'failed', t4: 'failed' })
  await exec('inventario', 'success', 8, null, { t1: 'success' }) // a snapshot: any later success recovers

  const all = await findPendingGaps(db, { etlName: 'ventas' })
  expect(all.map((g) => [g.gap_id, g.tienda_id])).toEqual([
    [e1, 't2'],
    [e5, 't1'],
  ])
  expect(all[0]).toMatchObject({ fecha_desde: at(8), fecha_hasta: at(10), error_category: 'vpn_timeout' })
  expect(older).toBeLessThan(e1)

  expect((await findPendingGaps(db, { etlName: 'ventas', tiendaIds: ['t1'] })).map((g) => g.gap_id)).toEqual([e5])
  // Window overlap, either bound alone.
  expect((await findPendingGaps(db, { etlName: 'ventas', desde: at(11) })).map((g) => g.gap_id)).toEqual([e5])
  expect((await findPendingGaps(db, { etlName: 'ventas', hasta: at(9) })).map((g) => g.gap_id)).toEqual([e1])
  expect(await findPendingGaps(db, { etlName: 'ventas', desde: at(11), hasta: at(13) })).toEqual([])

  const inventario = await findPendingGaps(db, { etlName: 'inventario' })
  expect(inventario.map((g) => g.tienda_id)).toEqual(['t4'])
  expect(groupGaps([...all, ...all.slice(0, 1).map((g) => ({ ...g, tienda_id: 't9' }))])).toEqual([
    { gapId: e1, tiendaIds: ['t2', 't9'], desde: at(8), hasta: at(10) },
    { gapId: e5, tiendaIds: ['t1'], desde: at(14), hasta: at(16) },
  ])
})
