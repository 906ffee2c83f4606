// The plan's §6.2 verification SQL, as the statistics must equal it. The queries are kept as
// written except: the literal interval becomes `dias`, NOW() becomes the instant the API was
// given as its clock (both read the same window), and — per DESIGN §12 — only finished
// executions (success, partial, failed) are counted, optionally of one ETL. Fields the plan's
// SQL does not cover are computed in the same plain SQL style. Shared by the stats test and the bench.
import type { Sql } from 'postgres'

const FINISHED = "status IN ('success', 'partial', 'failed')"

export async function planNumbers(db: Sql, now: Date, dias: number, etl: string | null, tz: string) {
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
  const origen = await db<
    { triggered_by: string; total: number; exitosas: number; fallidas: number; duracion_promedio: number | null }[]
  >`
    SELECT triggered_by, COUNT(*)::int as total,
      COUNT(*) FILTER (WHERE status = 'success')::int as exitosas,
      COUNT(*) FILTER (WHERE status = 'failed')::int as fallidas,
      ROUND(AVG(duration_seconds)::numeric, 2)::float8 as duracion_promedio
    FROM etl_executions
    WHERE started_at >= ${since} AND ${finished} ${etlFilter}
    GROUP BY triggered_by`
  // §6.2 "Tiempo promedio por fase" (one ETL when filtered; both together otherwise, so no GROUP BY)
  const [fases] = await db<{ avg_extract: number | null; avg_transform: number | null; avg_load: number | null }[]>`
    SELECT
      ROUND(AVG(extract_duration_seconds)::numeric, 2)::float8 as avg_extract,
      ROUND(AVG(transform_duration_seconds)::numeric, 2)::float8 as avg_transform,
      ROUND(AVG(load_duration_seconds)::numeric, 2)::float8 as avg_load
    FROM etl_executions
    WHERE started_at >= ${since}
      AND status = 'success' ${etlFilter}`
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
    tiempo_promedio_por_fase: { extract: fases!.avg_extract, transform: fases!.avg_transform, load: fases!.avg_load },
    distribucion_por_origen: [...origen]
      .sort((a, b) => b.total - a.total || a.triggered_by.localeCompare(b.triggered_by))
      .map((o) => ({
        triggered_by: o.triggered_by,
        total_ejecuciones: o.total,
        exitosas: o.exitosas,
        fallidas: o.fallidas,
        duracion_promedio: o.duracion_promedio,
      })),
  }
}
