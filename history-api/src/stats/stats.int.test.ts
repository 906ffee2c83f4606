// /api/etl/stats against the plan's §6.2 verification SQL on the same data, number by number.
// The plan's queries are kept as written except: the literal interval becomes `dias`, NOW()
// becomes the instant the API was given as its clock (both read the same window), and — per
// DESIGN §12 — only finished executions (success, partial, failed) are counted, optionally of
// one ETL. Fields the plan's SQL does not cover are computed with the same plain SQL style.
import type { Sql } from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestApi, testApi } from '../../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { seedStatsDataset } from '../../../test/helpers/stats-dataset.ts'
import type { EtlStats } from './stats.schemas.ts'

const FINISHED = "status IN ('success', 'partial', 'failed')"

async function planNumbers(db: Sql, now: Date, dias: number, etl: string | null, tz: string) {
  const since = db`${now}::timestamptz - make_interval(days => ${dias})`
  const etlFilter = etl ? db`AND etl_name = ${etl}` : db``
  const finished = db.unsafe(FINISHED)
  // §6.2 "Errores por fase últimos 7 días"
  const errores = await db<{ error_phase: string; error_category: string; cantidad: number }[]>`
    SELECT error_phase, error_category, COUNT(*)::int as cantidad
    FROM etl_executions
    WHERE started_at >= ${since} AND error_phase IS NOT NULL AND ${finished} ${etlFilter}
    GROUP BY error_phase, error_category
    ORDER BY cantidad DESC`
  // §6.2 "Distribución por origen" (its totals add up to the window's)
  const origen = await db<{ triggered_by: string; total: number; exitosas: number; fallidas: number }[]>`
    SELECT triggered_by, COUNT(*)::int as total,
      COUNT(*) FILTER (WHERE status = 'success')::int as exitosas,
      COUNT(*) FILTER (WHERE status = 'failed')::int as fallidas,
      ROUND(AVG(duration_seconds)::numeric, 2) as duracion_promedio
    FROM etl_executions
    WHERE started_at >= ${since} AND ${finished} ${etlFilter}
    GROUP BY triggered_by`
  // §6.2 "Tiendas con más fallos" (+ tienda_id as the tie-break DESIGN §12 adds)
  const tiendas = await db`
    SELECT tienda_id, tienda_nombre, COUNT(*)::int as total_intentos,
      COUNT(*) FILTER (WHERE status = 'failed')::int as fallos,
      mode() WITHIN GROUP (ORDER BY error_category) as error_mas_comun
    FROM etl_execution_details
    WHERE execution_id IN (SELECT id FROM etl_executions WHERE started_at >= ${since} AND ${finished} ${etlFilter})
    GROUP BY tienda_id, tienda_nombre
    HAVING COUNT(*) FILTER (WHERE status = 'failed') > 0
    ORDER BY fallos DESC, tienda_id
    LIMIT 10`
  const [totals] = await db`
    SELECT ROUND(AVG(duration_seconds)::numeric, 2)::float8 as avg_duration_seconds,
      COALESCE(SUM(records_loaded), 0)::float8 as total_records_loaded,
      COALESCE(SUM(duplicates_skipped), 0)::float8 as total_duplicates,
      COUNT(*) FILTER (WHERE status = 'partial')::int as partial
    FROM etl_executions WHERE started_at >= ${since} AND ${finished} ${etlFilter}`
  const tendencia = await db`
    SELECT to_char((started_at AT TIME ZONE ${tz})::date, 'YYYY-MM-DD') as fecha,
      COUNT(*) FILTER (WHERE status = 'success')::int as exitosas,
      COUNT(*) FILTER (WHERE status = 'partial')::int as parciales,
      COUNT(*) FILTER (WHERE status = 'failed')::int as fallidas
    FROM etl_executions WHERE started_at >= ${since} AND ${finished} ${etlFilter}
    GROUP BY 1 ORDER BY 1`
  const mapa = await db`
    SELECT d.tienda_id, to_char((e.started_at AT TIME ZONE ${tz})::date, 'YYYY-MM-DD') as fecha, COUNT(*)::int as fallos
    FROM etl_execution_details d JOIN etl_executions e ON e.id = d.execution_id
    WHERE e.started_at >= ${since} AND e.${finished} ${etl ? db`AND e.etl_name = ${etl}` : db``} AND d.status = 'failed'
    GROUP BY 1, 2 ORDER BY 1, 2`
  const [live] = await db`
    SELECT COUNT(*) FILTER (WHERE status = 'running' AND started_at >= ${since})::int as running,
      COUNT(*) FILTER (WHERE status = 'queued')::int as queued
    FROM etl_executions WHERE true ${etlFilter}`

  const total = origen.reduce((n, o) => n + o.total, 0)
  const successful = origen.reduce((n, o) => n + o.exitosas, 0)
  const byPhase = { extract: 0, transform: 0, load: 0 }
  const byCategory: Record<string, number> = {}
  for (const e of errores) {
    byPhase[e.error_phase as keyof typeof byPhase] += e.cantidad
    byCategory[e.error_category] = (byCategory[e.error_category] ?? 0) + e.cantidad
  }
  return {
    total_executions: total,
    successful,
    partial: totals!.partial,
    failed: origen.reduce((n, o) => n + o.fallidas, 0),
    success_rate: total ? Math.round((successful / total) * 10000) / 100 : null,
    avg_duration_seconds: totals!.avg_duration_seconds,
    total_records_loaded: totals!.total_records_loaded,
    total_duplicates: totals!.total_duplicates,
    errors_by_phase: byPhase,
    errors_by_category: byCategory,
    tiendas_con_mas_fallos: tiendas.map((t) => ({
      tienda_id: t.tienda_id,
      tienda_nombre: t.tienda_nombre,
      total_ejecuciones: t.total_intentos,
      fallos: t.fallos,
      error_mas_comun: t.error_mas_comun,
    })),
    running: live!.running,
    queued: live!.queued,
    dias,
    etl_name: etl,
    tendencia_diaria: [...tendencia],
    mapa_fallos: [...mapa],
  }
}

/** The trigger-kept rollups equal a rebuild from the raw tables (rows netted to zero aside). */
async function rollupsMatchRebuild(db: Sql) {
  const dump = () =>
    db<{ line: string }[]>`
    select 'c ' || dim || ' ' || val || ' ' || n as line from etl_execution_counts where n <> 0
    union all select 'eh ' || row(h.*)::text from etl_stats_exec_hour h where n <> 0
    union all select 'ed ' || row(h.*)::text from etl_stats_exec_day h where n <> 0
    union all select 'th ' || row(h.*)::text from etl_stats_tienda_hour h where n <> 0
    union all select 'td ' || row(h.*)::text from etl_stats_tienda_day h where n <> 0
    order by 1`.then((rows) => rows.map((r) => r.line))
  const kept = await dump()
  await db`select etl_stats_rebuild()`
  expect(kept).toEqual(await dump())
}

describe('GET /api/etl/stats equals the plan §6.2 SQL', () => {
  let database: TestDatabase
  let api: TestApi
  const now = new Date()
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

  const compareAll = async (zone = tz, app = api) => {
    for (const dias of [1, 7, 30, 90]) {
      for (const etl of [null, 'ventas', 'inventario']) {
        const query = `dias=${dias}${etl ? `&etl_name=${etl}` : ''}`
        const r = await app.call('get', `/api/etl/stats?${query}`)
        expect(r.status, query).toBe(200)
        expect(r.body as EtlStats, query).toEqual(await planNumbers(database.sql, now, dias, etl, zone))
      }
    }
  }

  it('every field, for dias 1/7/30/90 and each ETL', async () => {
    const week = await api.call('get', '/api/etl/stats')
    expect((week.body as EtlStats).dias).toBe(7)
    expect((week.body as EtlStats).total_executions).toBeGreaterThan(50)
    expect((week.body as EtlStats).tiendas_con_mas_fallos.length).toBeGreaterThan(3)
    await compareAll()
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
})
