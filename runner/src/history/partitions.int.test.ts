// The history's monthly partitions (migrations/085) and retention (`npm run retention`, the runner's
// daily upkeep): where a row lands, what a drop removes and what it must leave exactly as it was.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import pino from 'pino'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { ROOT } from '../../../test/helpers/commands.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { explainRequest, type PlanNode } from '../../../test/helpers/explain.ts'
import { addTiendas, listReference, tiendaWhere } from '../../../test/helpers/history-seed.ts'
import { parseRunnerConfig } from '../config.ts'
import { maintenancePass } from '../jobs/maintenance-job.ts'
import { claimQueuedExecution, isStartable } from '../tracker/tracker.sql.ts'
import { MONTHS_AHEAD } from './partitions.sql.ts'

const run = promisify(execFile)
const DAY = 86_400_000
const TIENDAS = ['t01', 't02', 't03']

/** `npm run retention -- …` as an operator runs it; resolves with its exit code and output. */
async function retention(url: string, args: string[]) {
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'retention', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url },
    })
    return { code: 0, out: stdout + stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, out: err.stdout + err.stderr }
  }
}

const monthKey = (d: Date) => `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`
const monthStart = (now: Date, back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1))

/** Partitions of a table, by suffix (YYYY_MM or legacy). */
async function partitions(db: TestDatabase['sql'], table: string) {
  const rows = await db<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${table}::regclass order by 1`
  return rows.map((r) => r.name.slice(table.length + 1))
}

/** The relations a plan reads. */
const relations = (node: PlanNode): string[] => [
  ...(node['Relation Name'] ? [node['Relation Name']] : []),
  ...(node.Plans ?? []).flatMap(relations),
]

describe('monthly partitions of the history', () => {
  let database: TestDatabase
  let api: TestApi
  const now = new Date()
  // 15 months: this one and the 14 before it, three executions each with a store row per store.
  const months = Array.from({ length: 15 }, (_, back) => {
    const start = monthStart(now, back)
    // Inside the month and not in the future: this month's rows sit between its start and now.
    const at = new Date(start.getTime() + Math.min(2 * DAY, (now.getTime() - monthStart(now, 0).getTime()) / 2))
    return { back, key: monthKey(start), at }
  })

  beforeAll(async () => {
    database = await createTestDatabase()
    const db = database.sql
    await addTiendas(db, TIENDAS)
    for (const m of months) {
      await db`select etl_history_partition_create(${m.at})`
      for (const [i, status] of (['success', 'failed', 'partial'] as const).entries()) {
        const started = new Date(m.at.getTime() + i * 3_600_000)
        const [e] = await db<{ id: number }[]>`
          insert into etl_executions (id, etl_name, status, started_at, finished_at, duration_seconds, created_at,
            triggered_by, error_phase, error_category, records_loaded, tiendas_count, tienda_ids)
          values (etl_execution_next_id(${started}), 'ventas', ${status}, ${started},
            ${new Date(started.getTime() + 60_000)}, 60, ${started}, 'scheduler',
            ${status === 'success' ? null : 'extract'}, ${status === 'success' ? null : 'vpn_timeout'}, 100, 3,
            ${TIENDAS}::text[])
          returning id`
        for (const [k, t] of TIENDAS.entries()) {
          const failed = status === 'failed' || (status === 'partial' && k === 0)
          await db`
            insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, status, started_at, finished_at,
              error_phase, error_category, records_loaded)
            values (${e!.id}, ${t}, ${t.toUpperCase()}, ${failed ? 'failed' : 'success'}, ${started},
              ${new Date(started.getTime() + 60_000)}, ${failed ? 'extract' : null}, ${failed ? 'vpn_timeout' : null},
              ${failed ? 0 : 33})`
        }
      }
    }
    api = await testApi({ db, clock: () => now, tz: 'America/Caracas' })
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  it("a row lands in its month's partition, and its store rows beside it", async () => {
    const db = database.sql
    const [fresh] = await db<{ id: number; part: string }[]>`
      insert into etl_executions (etl_name, status, started_at) values ('inventario', 'running', now())
      returning id, tableoid::regclass::text as part`
    expect(fresh!.part).toBe(`etl_executions_${monthKey(now)}`)
    const [detail] = await db<{ part: string }[]>`
      insert into etl_execution_details (execution_id, tienda_id, status) values (${fresh!.id}, 't01', 'running')
      returning tableoid::regclass::text as part`
    expect(detail!.part).toBe(`etl_execution_details_${monthKey(now)}`)
    await db`delete from etl_executions where id = ${fresh!.id}`

    const placed = await db<{ part: string; month: string }[]>`
      select tableoid::regclass::text as part, to_char(created_at at time zone 'UTC', 'YYYY_MM') as month
      from etl_executions`
    expect(placed).toHaveLength(45)
    for (const p of placed) expect(p.part).toBe(`etl_executions_${p.month}`)

    // A month nobody created: the insert says which month is missing and who creates them.
    await expect(db`select etl_execution_next_id(${new Date(Date.UTC(2040, 0, 15))})`).rejects.toThrow(
      /etl_executions has no partition for 2040-01/,
    )
  })

  it('the upkeep creates this month and the next; RETENTION_MONTHS unset drops nothing', async () => {
    const db = database.sql
    const ahead = monthKey(monthStart(now, -MONTHS_AHEAD))
    await db.unsafe(`drop table etl_execution_details_${ahead};
      alter table etl_executions detach partition etl_executions_${ahead}; drop table etl_executions_${ahead}`)
    const config = parseRunnerConfig({ DATABASE_URL: database.url })
    const pass = await maintenancePass({ db, config, logger: pino({ level: 'silent' }) })
    expect(pass).toEqual({ created: [ahead.replace('_', '-')], dropped: [] })
    expect(await partitions(db, 'etl_executions')).toContain(ahead)
    expect(await partitions(db, 'etl_execution_details')).toContain(ahead)
  })

  it('a run queued in a month that ended more than 14 days ago is not started (windowed reads count on it)', async () => {
    const db = database.sql
    // The last day of the month before the one 14 days ago: its month ended more than 14 days ago.
    const queuedAt = new Date(monthStart(new Date(now.getTime() - 14 * DAY), 0).getTime() - DAY / 2)
    await db`select etl_history_partition_create(${queuedAt})`
    const [old] = await db<{ id: number }[]>`
      insert into etl_executions (id, etl_name, status, created_at)
      values (etl_execution_next_id(${queuedAt}), 'inventario', 'queued', ${queuedAt}) returning id`
    const [recent] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, status) values ('inventario', 'queued') returning id`
    expect(await isStartable(db, old!.id)).toBe(false)
    expect(await claimQueuedExecution(db, old!.id, { workerId: 'w', jobId: null })).toBeUndefined()
    expect(await isStartable(db, recent!.id)).toBe(true)
    expect((await claimQueuedExecution(db, recent!.id, { workerId: 'w', jobId: null }))?.status).toBe('running')
    await db`delete from etl_executions where id in ${db([old!.id, recent!.id])}`
  })

  it('reads of one execution and windowed reads open only their months', async () => {
    const db = database.sql
    // A failed run of six months ago: its row and store rows are in its month; only the reruns (which
    // come after it) look at later months, and no statement opens an earlier one.
    const month = months[6]!.key
    const [old] = await db<{ id: number }[]>`
      select id from etl_executions where status = 'failed' and to_char(created_at at time zone 'UTC', 'YYYY_MM') = ${month}`
    const detail = await explainRequest(database.url, `/api/etl/history/${old!.id}`)
    const read = detail.flatMap((p) => relations(p.plan)).filter((r) => /^etl_execution/.test(r))
    expect(read).toContain(`etl_executions_${month}`)
    expect(read).toContain(`etl_execution_details_${month}`)
    for (const r of read) {
      if (r.startsWith('etl_execution_details_')) expect(r).toBe(`etl_execution_details_${month}`)
      else expect(r.slice('etl_executions_'.length) >= month, r).toBe(true)
    }

    // The last 7 days: no month before that of 7 + 14 days ago (a run starts at the latest 14 days after
    // the month it was queued in ends); the months created ahead are empty and cost nothing.
    const first = monthKey(new Date(now.getTime() - 21 * DAY))
    // Pruned when planned: executions and their store rows (the stats' edge, the gaps and the later runs
    // that may have recovered them), the months of the window only.
    for (const path of ['/api/etl/stats?dias=7', '/api/etl/gaps?dias=7&estado=pendiente']) {
      const plans = await explainRequest(database.url, path)
      const read = plans
        .flatMap((p) => relations(p.plan))
        .filter((r) => /^etl_execution(s|_details)_\d/.test(r))
        .map((r) => r.replace(/^etl_execution(s|_details)_/, ''))
      expect(read.length, path).toBeGreaterThan(0)
      for (const r of read) expect(r >= first, `${path} reads etl_executions_${r}`).toBe(true)
      expect(new Set(read.filter((r) => r < monthKey(now))).size, path).toBeLessThanOrEqual(1)
    }
  })

  it("a run's reruns are looked for in the months up to its newest rerun only, and nowhere when it has none", async () => {
    const db = database.sql
    const month = months[6]!.key
    const [old] = await db<{ id: number }[]>`
      select id from etl_executions where status = 'failed' and to_char(created_at at time zone 'UTC', 'YYYY_MM') = ${month}`
    // The lookup is a statement inside etl_execution_reruns (plpgsql): auto_explain logs its plan as
    // executed, partitions pruned at its start, to this session (client_min_messages = log).
    const logged: string[] = []
    const sql = postgres(database.url, { max: 1, onnotice: (n) => void logged.push(String(n.message)) })
    try {
      await sql`load 'auto_explain'`
      await sql.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
        set auto_explain.log_format = json; set client_min_messages = log`)
      const lookup = async () => {
        logged.length = 0
        const [row] = await sql<{ reruns: { id: number }[] }[]>`
          select etl_execution_reruns(id, last_rerun_id) as reruns from etl_executions where id = ${old!.id}`
        // Each message is "duration: … plan:" and the plan as JSON ({ "Query Text", "Plan" }).
        const nested = logged.filter((m) => m.includes('rerun_of = p_id'))
        const read = nested
          .flatMap((m) => relations((JSON.parse(m.slice(m.indexOf('{'))) as { Plan: PlanNode }).Plan))
          .filter((r) => r.startsWith('etl_executions_'))
          .map((r) => r.slice('etl_executions_'.length))
        return { reruns: row!.reruns.map((r) => r.id), planned: nested.length, read: [...new Set(read)].sort() }
      }
      expect(await lookup()).toEqual({ reruns: [], planned: 0, read: [] })

      const rerunMonth = months[3]!
      const [rerun] = await db<{ id: number }[]>`
        insert into etl_executions (id, etl_name, status, created_at, rerun_of, rerun_scope)
        values (etl_execution_next_id(${rerunMonth.at}), 'inventario', 'queued', ${rerunMonth.at}, ${old!.id}, 'failed')
        returning id`
      try {
        const [kept] = await db`select last_rerun_id from etl_executions where id = ${old!.id}`
        expect(kept!.last_rerun_id).toBe(rerun!.id)
        const after = await lookup()
        expect(after.reruns).toEqual([rerun!.id])
        expect(after.planned).toBe(1)
        // From its month to the rerun's: not the later months, not the ones made ahead.
        expect(after.read).toContain(rerunMonth.key)
        for (const m of after.read) expect(m >= month && m <= rerunMonth.key, m).toBe(true)
      } finally {
        await db`delete from etl_executions where id = ${rerun!.id}`
        await db`update etl_executions set last_rerun_id = null where id = ${old!.id}`
      }
    } finally {
      await sql.end()
    }
  })

  it('the newest-first list reads the recent months when that gives the true page, and every page is the true one', async () => {
    const db = database.sql
    // A run queued on the last day of last month and started 13 days later: its id is last month's.
    const lastMonth = new Date(monthStart(now, 0).getTime() - DAY / 2)
    await db`select etl_history_partition_create(${lastMonth})`
    const late = new Date(Math.min(now.getTime() - 60_000, lastMonth.getTime() + 13 * DAY))
    const [lateRow] = await db<{ id: number }[]>`
      insert into etl_executions (id, etl_name, status, created_at, started_at, finished_at, duration_seconds, tiendas_count)
      values (etl_execution_next_id(${lastMonth}), 'inventario', 'success', ${lastMonth}, ${late}, ${late}, 1, 0)
      returning id`
    // A row written with a start months before its id's month (the demo's replayed history does it),
    // and two not started yet: the day counts place them, the bounds still find them.
    const backdatedAt = new Date(months[6]!.at.getTime() + 5 * 3_600_000)
    const [backdated] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, status, started_at, finished_at, duration_seconds, triggered_by, tiendas_count)
      values ('ventas', 'failed', ${backdatedAt}, ${backdatedAt}, 1, 'cli', 1) returning id`
    await db`insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, status, started_at)
      values (${backdated!.id}, 't01', 'T01', 'failed', ${backdatedAt})`
    const queued = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, status, triggered_by, tiendas_count, tienda_ids)
      values ('ventas', 'queued', 'cli', 1, '{t01}'), ('ventas', 'queued', 'scheduler', 1, '{t02}') returning id`
    const desde = months[9]!.at.toISOString().slice(0, 10)
    for (const [query, where] of [
      ['', ''],
      ['&status=failed', "and status = 'failed'"],
      ['&status=failed,partial', "and status in ('failed', 'partial')"],
      ['&etl_name=ventas', "and etl_name = 'ventas'"],
      ['&triggered_by=cli', "and triggered_by = 'cli'"],
      ['&tienda=t01', tiendaWhere('t01')],
      [`&fecha_desde=${desde}`, `and started_at >= '${desde}T00:00:00-04:00'`],
      [`&status=failed&fecha_desde=${desde}`, `and status = 'failed' and started_at >= '${desde}T00:00:00-04:00'`],
    ] as const) {
      const all = await listReference(db, where)
      for (let offset = 0; offset < all.length + 5; offset += 3) {
        const r = await api.call('get', `/api/etl/history?limit=4&offset=${offset}${query}`)
        expect(r.status).toBe(200)
        expect(
          (r.body as { id: number }[]).map((x) => x.id),
          `${query} offset ${offset}`,
        ).toEqual(all.slice(offset, offset + 4))
        expect(r.headers.get('x-total-count'), `${query} offset ${offset}`).toBe(String(all.length))
      }
    }
    // Instants past the last month an id can hold (2085-04) bound the months too, without overflowing.
    for (const q of ['fecha_desde=2099-01-01', 'fecha_hasta=2099-01-01&offset=8', 'fecha_desde=1999-01-01&offset=8']) {
      const r = await api.call('get', `/api/etl/history?limit=4&${q}`)
      expect(r.status, `${q}: ${JSON.stringify(r.body)}`).toBe(200)
    }
    // A deep page plans the months its day's rows can be in, not the newer ones (the backdated row
    // gone: its month, this one, is where it was found).
    await db`delete from etl_executions where id = any(${[backdated!.id, ...queued.map((q) => q.id)]}::int[])`
    const deep = await explainRequest(database.url, '/api/etl/history?limit=4&offset=30')
    const deepRead = deep
      .flatMap((p) => relations(p.plan))
      .filter((r) => /^etl_executions_\d/.test(r))
      .map((r) => r.slice('etl_executions_'.length))
    expect(deepRead).toContain(months[9]!.key)
    for (const r of deepRead) expect(r <= months[9]!.key, `offset 30 reads ${r}`).toBe(true)
    // Page 1 plans the recent months only (and those created ahead).
    const plans = await explainRequest(database.url, '/api/etl/history?limit=4')
    const read = new Set(
      plans
        .flatMap((p) => relations(p.plan))
        .filter((r) => /^etl_executions_\d/.test(r))
        .map((r) => r.slice('etl_executions_'.length)),
    )
    for (const r of read) expect(r >= monthKey(new Date(now.getTime() - 45 * DAY)), `page 1 reads ${r}`).toBe(true)
    await db`delete from etl_executions where id = ${lateRow!.id}`
  })

  it('--keep-months 0 is refused with a message, and nothing is dropped', async () => {
    const before = await partitions(database.sql, 'etl_executions')
    for (const bad of ['0', '=-3', 'twelve']) {
      const r = await retention(database.url, bad.startsWith('=') ? [`--keep-months${bad}`] : ['--keep-months', bad])
      expect(r.code, r.out).toBe(2)
      expect(r.out).toMatch(/--keep-months must be (at least 1|a whole number)/)
    }
    const missing = await retention(database.url, [])
    expect(missing.out).toMatch(/--keep-months is required/)
    await expect(database.sql`select * from etl_history_retention(0)`).rejects.toThrow(/at least 1/)
    expect(await partitions(database.sql, 'etl_executions')).toEqual(before)
  })

  it('--keep-months 12 on 15 months drops 3 whole months; newer rows and their statistics stay as they were', async () => {
    const db = database.sql
    const dropped = months.filter((m) => m.back >= 12).map((m) => m.key)
    const kept = months.filter((m) => m.back < 12).map((m) => m.key)
    const rows = () =>
      db`select e.id, e.status, e.started_at, count(d.id)::int as stores from etl_executions e
         left join etl_execution_details d on d.execution_id = e.id group by e.id order by e.id`
    const rollups = () =>
      db`select 'day' as k, fecha::text, status, n::int from etl_stats_exec_day
         union all select 'tienda_month', mes::text, tienda_id, n::int from etl_stats_tienda_month
         order by 1, 2, 3, 4`
    const keptRows = (await rows()).filter((r) => kept.includes(monthKey(r.started_at)))
    const statsBefore = await api.call('get', '/api/etl/stats?dias=90')
    const trendBefore = await rollups()
    // A kept run that re-ran a dropped one: the reference is released, the run stays.
    const [oldest] = await db<{ id: number }[]>`select min(id)::int as id from etl_executions`
    await db`update etl_executions set rerun_of = ${oldest!.id} where id = ${keptRows[0]!.id}`

    const dry = await retention(database.url, ['--keep-months', '12', '--dry-run'])
    expect(dry.code, dry.out).toBe(0)
    expect(dry.out).toContain('would drop 3 month(s), 9 executions')
    expect(await partitions(db, 'etl_executions')).toEqual(expect.arrayContaining(dropped))

    const r = await retention(database.url, ['--keep-months', '12'])
    expect(r.code, r.out).toBe(0)
    for (const key of dropped) expect(r.out).toContain(`dropped ${key}: 3 executions, 9 store rows`)
    expect(r.out).toContain('dropped 3 month(s), 9 executions; kept the newest 12 month(s)')

    for (const table of ['etl_executions', 'etl_execution_details']) {
      const left = await partitions(db, table)
      for (const key of dropped) expect(left, table).not.toContain(key)
      for (const key of kept) expect(left, table).toContain(key)
    }
    expect((await rows()).map((x) => ({ ...x }))).toEqual(keptRows.map((x) => ({ ...x })))
    expect(await db`select rerun_of from etl_executions where id = ${keptRows[0]!.id}`).toEqual([{ rerun_of: null }])
    // Dropping is not deleting: the rollups (fed by row triggers) still hold the dropped months.
    expect(await rollups()).toEqual(trendBefore)
    expect((await api.call('get', '/api/etl/stats?dias=90')).body).toEqual(statsBefore.body)

    // The list's counts forget the dropped months: X-Total-Count is that of the rows kept, and the
    // kept counts equal those recomputed from the rows left.
    const list = await api.call('get', '/api/etl/history?limit=1&status=failed')
    expect(list.headers.get('x-total-count')).toBe(String(keptRows.filter((x) => x.status === 'failed').length))
    const counts = () =>
      db`select 'c' as k, dim, val, '' as dia, n::int from etl_execution_counts where n <> 0
         union all select 'd', dim, val, dia::text, n::int from etl_execution_day_counts where n <> 0
         union all select 'h', dim, val, hora::text, n::int from etl_execution_hour_counts where n <> 0
         order by 1, 2, 3, 4`
    const keptCounts = await counts()
    await db`select etl_stats_rebuild()`
    expect(keptCounts).toEqual(await counts())

    const again = await retention(database.url, ['--keep-months', '12'])
    expect(again.out).toContain('nothing to drop')
  })

  it("the runner's daily upkeep applies RETENTION_MONTHS the same way", async () => {
    const config = parseRunnerConfig({ DATABASE_URL: database.url, RETENTION_MONTHS: '11' })
    const pass = await maintenancePass({ db: database.sql, config, logger: pino({ level: 'silent' }) })
    expect(pass).toEqual({
      created: [],
      dropped: [{ partition_month: months[11]!.key, executions: 3, store_rows: 9 }],
    })
    expect(await partitions(database.sql, 'etl_executions')).not.toContain(months[11]!.key)
  })
})
