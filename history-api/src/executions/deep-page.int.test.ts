// Deep pages of the newest-first list located by the day and hour counts (migrations/090, 095):
// every page is the true one however rows fall into hours (several per hour, ties, empty hours,
// rows moved or deleted after they were counted), and a page deep inside a day reads its hour's
// rows, not the day's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { explainHistory, type PlanNode } from '../../../test/helpers/explain.ts'
import { addExecution, addTiendas, listReference, tiendaWhere } from '../../../test/helpers/history-seed.ts'
import { rollupsMatchRebuild } from '../../../test/helpers/rollups.ts'
import { connect } from '../db.ts'
import { totalOf } from './counts.sql.ts'
import { listExecutionsPageLocated } from './deep-page.sql.ts'
import { toFilters } from './executions.routes.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const STATUSES = ['success', 'failed', 'partial', 'failed'] as const

/** Rows an index scan of an execution partition returned, summed over the plan (EXPLAIN ANALYZE). */
const executionRowsRead = (node: PlanNode & { 'Actual Rows'?: number }): number =>
  (node['Node Type'].startsWith('Index') && /^etl_executions_\d/.test(node['Relation Name'] ?? '')
    ? (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1)
    : 0) + (node.Plans ?? []).reduce((s, p) => s + executionRowsRead(p), 0)

describe('history list: pages located by day and hour', () => {
  let database: TestDatabase
  let api: TestApi
  // Three whole UTC days, ending two days ago; in each, some hours hold 1–5 runs (pairs share an
  // instant), others none.
  const today = Math.floor(Date.now() / DAY) * DAY
  const days = [today - 4 * DAY, today - 3 * DAY, today - 2 * DAY]
  const HOURS = [0, 3, 4, 5, 11, 12, 23]

  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  beforeAll(async () => {
    database = await createTestDatabase()
    const db = database.sql
    await addTiendas(db, ['t01', 't02'])
    for (const [d, day] of days.entries()) {
      for (const h of HOURS) {
        const k = ((h * 7 + d) % 5) + 1
        for (let j = 0; j < k; j++) {
          const status = STATUSES[(h + j + d) % STATUSES.length]!
          await addExecution(
            db,
            {
              status,
              etl_name: j % 3 === 2 ? 'inventario' : 'ventas',
              started_at: new Date(day + h * HOUR + Math.floor(j / 2) * 600_000),
              error_category: status === 'success' ? null : 'vpn_timeout',
              error_phase: status === 'success' ? null : 'extract',
            },
            [{ tienda_id: 't01' }, ...(j % 2 ? [{ tienda_id: 't02' }] : [])],
          )
        }
      }
    }
    await addExecution(db, { status: 'queued', tienda_ids: ['t02'] })
    await addExecution(db, { status: 'running', started_at: new Date(today - 2 * DAY + 23 * HOUR + 1_800_000) })
    // Counted, then moved to another hour (and day), and one deleted: the counts follow.
    const [moved] = await db<
      { id: number }[]
    >`select id from etl_executions where started_at is not null order by id limit 1`
    await db`update etl_executions set started_at = started_at + interval '1 day 7 hours' where id = ${moved!.id}`
    await db`update etl_execution_details set execution_started_at = execution_started_at + interval '1 day 7 hours'
      where execution_id = ${moved!.id}`
    await db`delete from etl_executions where id = (select max(id) from etl_executions where status = 'partial')`
    api = await testApi({ db })
  })

  it('keeps the hour counts equal to a recount from the rows', async () => {
    const [hours] = await database.sql<
      { n: number }[]
    >`select count(*)::int as n from etl_execution_hour_counts where n <> 0`
    expect(hours!.n).toBeGreaterThan(HOURS.length * days.length)
    await rollupsMatchRebuild(database.sql)
  })

  it('gives the true page at every offset, for each counted filter and the store', async () => {
    const db = database.sql
    const desde = new Date(days[1]!).toISOString().slice(0, 10)
    for (const [query, where] of [
      ['', ''],
      ['&status=failed', "and status = 'failed'"],
      ['&status=failed,partial', "and status in ('failed', 'partial')"],
      ['&etl_name=inventario', "and etl_name = 'inventario'"],
      ['&tienda=t02', tiendaWhere('t02')],
      [`&fecha_desde=${desde}`, `and started_at >= '${desde}T00:00:00-04:00'`],
    ] as const) {
      const all = await listReference(db, where)
      expect(all.length, query).toBeGreaterThan(10)
      for (let offset = 0; offset < all.length + 3; offset++) {
        const r = await api.call('get', `/api/etl/history?limit=5&offset=${offset}${query}`)
        expect(r.status).toBe(200)
        expect(
          (r.body as { id: number }[]).map((x) => x.id),
          `${query} offset ${offset}`,
        ).toEqual(all.slice(offset, offset + 5))
        expect(r.headers.get('x-total-count'), `${query} offset ${offset}`).toBe(String(all.length))
      }
    }
  })

  it("reads the hour a deep page starts in, not its day's earlier rows", async () => {
    const db = database.sql
    // The list's last page of the middle day: located by day, the read would skip the day's later hours.
    const [at] = await db<{ offset: number; in_hour: number; in_day: number }[]>`
      with l as (select id, started_at, row_number() over (order by started_at desc nulls first, id desc) - 1 as pos
        from etl_executions)
      select pos::int as offset,
        (select count(*) from l l2 where date_trunc('hour', l2.started_at, 'UTC') = date_trunc('hour', l.started_at, 'UTC'))::int as in_hour,
        (select count(*) from l l2 where date_trunc('day', l2.started_at, 'UTC') = date_trunc('day', l.started_at, 'UTC'))::int as in_day
      from l where started_at >= ${new Date(days[1]!)} and started_at < ${new Date(days[1]! + HOUR)}
      order by pos limit 1`
    expect(at!.in_day).toBeGreaterThan(at!.in_hour + 10)
    const plans = await explainHistory(database.url, { limit: '2', offset: String(at!.offset) }, { analyze: true })
    const read = plans.reduce((s, p) => s + executionRowsRead(p.plan), 0)
    expect(read).toBeGreaterThan(0)
    expect(read, plans.map((p) => p.text).join('\n')).toBeLessThanOrEqual(at!.in_hour + 2)
  })

  it('ends its transaction whether the page is read or fails after the location (a real lock timeout)', async () => {
    const db = database.sql
    const pool = connect(database.url, { max: 1, applicationName: 'deep-page-test' })
    const f = toFilters({ sort: '-started_at', status: ['failed'], limit: 5, offset: 12 }, 'UTC')
    const inTransaction = () =>
      db<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
        where application_name = 'deep-page-test' and state like 'idle in transaction%'`.then((r) => r[0]!.n)
    const expected = (await listReference(db, "and status = 'failed'")).slice(12, 17)
    const ids = (body: string) => (JSON.parse(body) as { id: number }[]).map((r) => r.id)
    try {
      await pool`set lock_timeout = 300`
      const page = await listExecutionsPageLocated(pool, f, (tx) => totalOf(tx, f))
      expect(ids(page!.body)).toEqual(expected)
      expect(await inTransaction()).toBe(0)
      // The location reads the counts only; the page's rows are locked away from it.
      const lock = await db.reserve()
      try {
        await lock`begin`
        await lock`lock table etl_executions in access exclusive mode`
        for (let i = 0; i < 2; i++) {
          await expect(listExecutionsPageLocated(pool, f, (tx) => totalOf(tx, f))).rejects.toMatchObject({
            code: '55P03',
          })
        }
        expect(await inTransaction()).toBe(0)
      } finally {
        await lock`rollback`
        lock.release()
      }
      const again = await listExecutionsPageLocated(pool, f, (tx) => totalOf(tx, f))
      expect(ids(again!.body)).toEqual(expected)
    } finally {
      await pool.end()
    }
  })
})
