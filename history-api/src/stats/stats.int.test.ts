// /api/etl/stats against the plan's §6.2 verification SQL on the same data, number by number
// (test/helpers/plan-stats.ts says how the plan's queries are adapted to `dias` and DESIGN §12).
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { planNumbers } from '../../../test/helpers/plan-stats.ts'
import { rollupsMatchRebuild } from '../../../test/helpers/rollups.ts'
import { seedStatsDataset } from '../../../test/helpers/stats-dataset.ts'
import type { EtlStats } from './stats.schemas.ts'
import { readStats } from './stats.sql.ts'

describe('GET /api/etl/stats equals the plan §6.2 SQL', () => {
  let database: TestDatabase
  let api: TestApi
  // Each part of the statistics reads the shorter side of its cut (stats.sql.ts), so the clock is set
  // where every side is taken: 14:10 UTC (10:10 in Caracas: the edge and the day's first hours
  // counted out) on the last 5th of a month (dias=1 counts its first days out of the month, dias=7
  // counts the previous month's last days in); the test below moves it past the half hour, onto the
  // hour and into the evening.
  const fifth = new Date()
  if (fifth.getUTCDate() < 5) fifth.setUTCMonth(fifth.getUTCMonth() - 1)
  const now = new Date(Date.UTC(fifth.getUTCFullYear(), fifth.getUTCMonth(), 5, 14, 10))
  const tz = 'America/Caracas'

  beforeAll(async () => {
    database = await createTestDatabase()
    const seeded = await seedStatsDataset(database.sql, now)
    expect(seeded.details).toBeGreaterThan(2000)
    api = await testApi({ db: database.sql, clock: () => now, tz })
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  const compareAll = async (zone = tz, app = api, at = now) => {
    for (const dias of [1, 7, 30, 90]) {
      for (const etl of [null, 'ventas', 'inventario']) {
        const query = `dias=${dias}${etl ? `&etl_name=${etl}` : ''}`
        const r = await app.call('get', `/api/etl/stats?${query}`)
        expect(r.status, query).toBe(200)
        expect(r.body as EtlStats, query).toEqual(await planNumbers(database.sql, at, dias, etl, zone))
      }
    }
  }

  it('every field, for dias 1/7/30/90 and each ETL', async () => {
    const week = await api.call('get', '/api/etl/stats')
    const stats = week.body as EtlStats
    expect(stats.dias).toBe(7)
    expect(stats.total_executions).toBeGreaterThan(50)
    expect(stats.tiendas_con_mas_fallos.length).toBeGreaterThan(3)
    // The plan's two §6.2 views that were missing (DESIGN §9): present and not trivially empty.
    expect(stats.distribucion_por_origen.map((o) => o.triggered_by).sort()).toEqual([
      'cli',
      'eventbridge',
      'fluxion_admin',
      'recovery',
      'scheduler',
    ])
    expect(stats.distribucion_por_origen.reduce((n, o) => n + o.total_ejecuciones, 0)).toBe(stats.total_executions)
    expect(Object.values(stats.tiempo_promedio_por_fase).every((v) => typeof v === 'number' && v > 0)).toBe(true)
    await compareAll()
  })

  it('a window starting late in its hour, on the hour, or late in its day (counted in, not out)', async () => {
    for (const minutes of [40, 50, 8 * 60]) {
      const at = new Date(now.getTime() + minutes * 60_000)
      const later = await testApi({ db: database.sql, clock: () => at, tz })
      try {
        await compareAll(tz, later, at)
      } finally {
        await later.close()
      }
    }
  })

  it('the plan’s “últimas 10 ejecuciones” is the first history page', async () => {
    const plan = await database.sql`
      SELECT id, etl_name, status, duration_seconds::float8 as duration_seconds,
        records_loaded, error_phase, error_category, triggered_by
      FROM etl_executions
      ORDER BY started_at DESC, id DESC
      LIMIT 10`
    const r = await api.call('get', '/api/etl/history?limit=10')
    expect(
      (r.body as Record<string, unknown>[]).map(
        ({ id, etl_name, status, duration_seconds, records_loaded, error_phase, error_category, triggered_by }) => ({
          id,
          etl_name,
          status,
          duration_seconds,
          records_loaded,
          error_phase,
          error_category,
          triggered_by,
        }),
      ),
    ).toEqual([...plan])
  })

  it('stays equal after updates, deletes and a reaper-style statement, whoever writes', async () => {
    const db = database.sql
    await db`update etl_executions set status = 'failed', error_phase = 'load', error_category = 'deadlock'
             where id in (select id from etl_executions where status = 'success' order by id limit 40)`
    await db`update etl_execution_details set status = 'failed', error_phase = 'load', error_category = 'disk_full'
             where id in (select id from etl_execution_details where status = 'success' order by id desc limit 60)`
    await db`update etl_executions set started_at = started_at - interval '90 minutes', duration_seconds = 1.25
             where id in (select id from etl_executions where started_at is not null order by id limit 30)`
    await db`update etl_executions set extract_duration_seconds = null, load_duration_seconds = 7.77,
               triggered_by = 'recovery'
             where id in (select id from etl_executions where status = 'success' order by id desc limit 35)`
    await db`delete from etl_executions where id in (select id from etl_executions order by id desc limit 25)`
    // The reaper closes a running execution and its stores in one statement.
    await db`
      with lost as (update etl_execution_details set status = 'failed', error_phase = 'extract',
                      error_category = 'worker_lost'
                    where execution_id in (select id from etl_executions where status = 'running') returning 1)
      update etl_executions set status = 'failed', error_phase = 'extract', error_category = 'worker_lost',
        finished_at = now(), duration_seconds = 3
      where status = 'running'`
    await db`update etl_execution_details set tienda_nombre = 'RENOMBRADA' where tienda_id = 'tienda_03'`
    await rollupsMatchRebuild(db)
    await compareAll()
  })

  it('daily buckets follow TZ_TIENDAS, also in a zone whose days start on a half hour', async () => {
    await database.sql`select etl_stats_set_timezone('Asia/Kolkata')`
    const kolkata = await testApi({ db: database.sql, clock: () => now, tz: 'Asia/Kolkata' })
    try {
      await compareAll('Asia/Kolkata', kolkata)
    } finally {
      await database.sql`select etl_stats_set_timezone(${tz})`
    }
  })

  it('rejects a bad dias or etl_name naming the field', async () => {
    for (const [query, name] of [
      ['dias=0', 'dias'],
      ['dias=91', 'dias'],
      ['dias=abc', 'dias'],
      ['etl_name=nomina', 'etl_name'],
      ['desde=2026-01-01', 'desde'],
    ]) {
      const r = await api.call('get', `/api/etl/stats?${query}`)
      expect(r.status, query).toBe(400)
      expect(r.body, query).toMatchObject({ 'invalid-params': [{ name }] })
    }
  })

  // readStats runs its two statements on two connections under one exported snapshot; from a pool
  // of one connection, or beyond half of a pool, one after the other in one transaction.
  const read = (db: postgres.Sql, dias: number) =>
    readStats(db, { since: new Date(now.getTime() - dias * 86_400_000), now, dias, etlName: null, tz }).then(
      (body) => JSON.parse(body) as EtlStats,
    )

  it('one pool connection, or more reads than half the pool: the same numbers, no read left waiting', async () => {
    const one = postgres(database.url, { max: 1, onnotice: () => {} })
    const two = postgres(database.url, { max: 2, onnotice: () => {} })
    try {
      for (const dias of [1, 90]) {
        const plan = await planNumbers(database.sql, now, dias, null, tz)
        expect(await read(one, dias), `dias=${dias}, one connection`).toEqual(plan)
        // Six at once on two connections: one may split, the others read in turn.
        const all = await Promise.all(Array.from({ length: 6 }, () => read(two, dias)))
        for (const stats of all) expect(stats, `dias=${dias}, six at once`).toEqual(plan)
      }
    } finally {
      await Promise.all([one.end(), two.end()])
    }
  })

  it("inside a caller's transaction: read in it, the plan's numbers", async () => {
    const plan = await planNumbers(database.sql, now, 90, null, tz)
    const body = await database.sql.begin('isolation level repeatable read read only', (tx) =>
      readStats(tx, { since: new Date(now.getTime() - 90 * 86_400_000), now, dias: 90, etlName: null, tz }),
    )
    expect(JSON.parse(body)).toEqual(plan)
  })

  it('a read that fails ends both transactions and gives their connections back', async () => {
    const two = postgres(database.url, { max: 2, onnotice: () => {} })
    try {
      // The first transaction fails on its first statement, before the second has its snapshot.
      const bad = { since: new Date(now.getTime() - 86_400_000), now, dias: 1, etlName: null, tz: 'Mars/Olympus' }
      for (let i = 0; i < 3; i++) await expect(readStats(two, bad)).rejects.toThrow(/time zone "Mars\/Olympus"/)
      expect(await read(two, 1)).toEqual(await planNumbers(database.sql, now, 1, null, tz))
    } finally {
      await two.end()
    }
  })

  it('a read whose map fails after importing the snapshot ends both transactions, none left open', async () => {
    // The map alone reads etl_stats_fallos_day: a lock held on it fails the map's statement (55P03,
    // lock_timeout) after its SET TRANSACTION SNAPSHOT, while the figures' transaction is waiting to commit.
    const app = `stats-fail-${process.pid}`
    const two = postgres(database.url, {
      max: 2,
      onnotice: () => {},
      connection: { application_name: app, lock_timeout: 200 },
    })
    const locker = await database.sql.reserve()
    try {
      await locker`begin`
      await locker`lock table etl_stats_fallos_day in access exclusive mode`
      for (let i = 0; i < 2; i++) await expect(read(two, 7)).rejects.toMatchObject({ code: '55P03' })
      const open = await database.sql<{ state: string }[]>`
        select state from pg_stat_activity where application_name = ${app} and state <> 'idle'`
      expect(open).toEqual([])
      await locker`rollback`
      expect(await read(two, 7)).toEqual(await planNumbers(database.sql, now, 7, null, tz))
    } finally {
      await locker`rollback`.catch(() => {})
      locker.release()
      await two.end()
    }
  })

  it('the store × day map and the other figures read one snapshot while failures are being committed', async () => {
    // A writer commits one failed store run at a time (an execution and its store row, one
    // transaction) inside the window; every answer read meanwhile must count the same failures in
    // tiendas_con_mas_fallos (8 stores: all listed) as in mapa_fallos, which a second statement reads.
    const db = database.sql
    const fallos = (s: EtlStats) => ({
      tiendas: s.tiendas_con_mas_fallos.reduce((n, t) => n + t.fallos, 0),
      mapa: s.mapa_fallos.reduce((n, m) => n + m.fallos, 0),
    })
    let writing = true
    let written = 0
    const writer = (async () => {
      while (writing) {
        await db.begin(async (tx) => {
          const [e] = await tx<{ id: number }[]>`
            insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds,
              triggered_by, error_phase, error_category, tiendas_count, tiendas_fallidas, tienda_ids)
            values ('ventas', 'scheduled', 'failed', ${new Date(now.getTime() - 3_600_000)},
              ${new Date(now.getTime() - 3_590_000)}, 10, 'scheduler', 'extract', 'vpn_timeout', 1, 1, ${['tienda_05']})
            returning id`
          await tx`
            insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status,
              error_phase, error_category, attempts)
            values (${e!.id}, 'tienda_05', 'TIENDA TIENDA_05', 'klk', 'failed', 'extract', 'vpn_timeout', 1)`
        })
        written++
      }
    })()
    const seen = new Set<number>()
    try {
      for (let i = 0; i < 60; i++) {
        const counted = fallos(await read(db, 7))
        expect(counted.mapa, `read ${i}`).toBe(counted.tiendas)
        seen.add(counted.mapa)
      }
    } finally {
      writing = false
      await writer
    }
    // The reads did overlap the writes: they saw the count move.
    expect(written).toBeGreaterThan(20)
    expect(seen.size).toBeGreaterThan(5)
  })
})
