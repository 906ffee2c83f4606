// The cost of evaluating every alert kind after a run (etl_evaluate_alerts, migrations 041 and 070)
// on a large history, at a small and a large chain, at two history lengths: the statement reads
// each active store's latest rows and the same weekday-hour windows of the last weeks through
// indexes, so its cost should follow the number of stores and not the history's length.
//
// Per chain size one throwaway database: the shorter history is loaded (set-based,
// history-data.ts) and measured, then an older history is appended (same density) and measured
// again. Before each measure a "latest run" is written as the tracker writes it (triggers on), with
// a share of the stores failing with vpn_timeout, so incident, folding and baselines all do their work.

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Sql } from 'postgres'
import { evaluateAlertRules } from '../../runner/src/alerts/alerts.sql.ts'
import { alertThresholds } from '../../runner/src/alerts/evaluate-alerts.ts'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { loadBulkHistory } from './history-data.ts'
import { createThrowawayDb } from './throwaway-db.ts'

export type AlertsBenchOptions = {
  /** History lengths in store rows, ascending (each the total after appending). */
  detailRows: number[]
  storeCounts: number[]
  /** Runs per hour over the whole history (2 ventas + 1 inventario: the default schedules). */
  runsPerHour: number
  iterationsFor: (stores: number) => number
  log: (line: string) => void
}

export type AlertsMeasure = {
  executions: number
  detail_rows: number
  history_days: number
  stores: number
  evaluations: number
  p50_ms: number
  p95_ms: number
  max_ms: number
  /** The plan's two alerts alone (migration 041's function), same database, same run: the baseline. */
  plan_two_p50_ms: number
  plan_two_p95_ms: number
  open_alerts: Record<string, number>
}

const DAY = 86_400_000

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
const round = (n: number) => Math.round(n * 100) / 100

/**
 * Per chain size, its own database: every run of the history reaches every store (as the scheduled
 * runs do), at the schedules' density, so a longer history is a longer span, never a denser one.
 */
export async function benchAlerts(o: AlertsBenchOptions): Promise<AlertsMeasure[]> {
  const measures: AlertsMeasure[] = []
  for (const stores of o.storeCounts) measures.push(...(await benchChain(o, stores)))
  return measures
}

async function benchChain(o: AlertsBenchOptions, stores: number): Promise<AlertsMeasure[]> {
  const db = await createThrowawayDb('alerts')
  await installPlanTwo(db.sql)
  const thresholds = alertThresholds(parseRunnerConfig({}))
  const measures: AlertsMeasure[] = []
  // The history ends an hour before the measured run; appended history goes further back.
  let oldest = new Date(Date.now() - 3_600_000)
  let executions = 0
  try {
    for (const rows of o.detailRows) {
      const adding = Math.round(rows / stores) - executions
      if (adding <= 0) continue
      const days = adding / (o.runsPerHour * 24)
      o.log(`${stores} stores: loading ${adding} executions × ${stores} store rows over ${Math.round(days)} days…`)
      await loadBulkHistory(db.sql, {
        executions: adding,
        tiendasPerExecution: stores,
        tiendas: stores,
        days,
        now: oldest,
        ventasWindowMin: 60,
        rebuildIndexes: true,
        // Statistics rollups are not read by the alerts (and rebuilding 20M rows in one
        // transaction can exhaust a shared server's lock table).
        rollups: false,
        log: (line) => o.log(`  ${line}`),
      })
      executions += adding
      oldest = new Date(oldest.getTime() - days * DAY)
      await latestRun(db.sql, stores)
      const n = o.iterationsFor(stores)
      // Interleaved, so that both see the same load of a shared machine.
      const times: number[] = []
      const before: number[] = []
      for (let i = 0; i < n + 3; i++) {
        let t = performance.now()
        await db.sql
          .begin(async (tx) => {
            await tx`select count(*) from etl_evaluate_alerts_041(80, 5)`
            throw new Rollback()
          })
          .catch((e: unknown) => {
            if (!(e instanceof Rollback)) throw e
          })
        if (i >= 3) before.push(performance.now() - t)
        t = performance.now()
        await evaluateAlertRules(db.sql, thresholds, 60_000)
        if (i >= 3) times.push(performance.now() - t) // the first evaluations open the alerts
      }
      times.sort((a, b) => a - b)
      before.sort((a, b) => a - b)
      const open = await db.sql<{ tipo: string; n: number }[]>`
        select tipo, count(*)::int as n from etl_alerts where resuelta_at is null group by tipo order by tipo`
      const [count] = await db.sql<{ rows: number }[]>`select count(*)::int as rows from etl_execution_details`
      measures.push({
        executions: executions + 1,
        detail_rows: count!.rows,
        history_days: Math.round((Date.now() - oldest.getTime()) / DAY),
        stores,
        evaluations: n,
        p50_ms: round(pct(times, 0.5)),
        p95_ms: round(pct(times, 0.95)),
        max_ms: round(times.at(-1)!),
        plan_two_p50_ms: round(pct(before, 0.5)),
        plan_two_p95_ms: round(pct(before, 0.95)),
        open_alerts: Object.fromEntries(open.map((r) => [r.tipo, r.n])),
      })
      o.log(
        `  ${executions} executions, ${stores} stores: p50 ${round(pct(times, 0.5))} ms, p95 ${round(pct(times, 0.95))} ms` +
          ` (the plan's two alone: p50 ${round(pct(before, 0.5))} ms, p95 ${round(pct(before, 0.95))} ms)`,
      )
    }
    return measures
  } finally {
    await db.drop()
  }
}

class Rollback extends Error {}

/**
 * Migration 041's function (success_rate_low and tienda_consecutive_failures only) beside the
 * current one, as the baseline; measured in a rolled-back transaction so it leaves no alerts.
 */
async function installPlanTwo(db: Sql) {
  const file = await readFile(path.join(import.meta.dirname, '..', '..', 'migrations', '041_etl_alerts_UP.sql'), 'utf8')
  const fn = file.slice(file.indexOf('CREATE FUNCTION etl_evaluate_alerts('))
  await db.unsafe(fn.replace('CREATE FUNCTION etl_evaluate_alerts(', 'CREATE FUNCTION etl_evaluate_alerts_041('))
}

/**
 * A ventas run over every store that just finished: 40 % of them timed out (vpn_timeout, so a
 * network incident opens and folds their alerts), the rest loaded 1,000 rows of the last hour.
 */
async function latestRun(db: Sql, stores: number) {
  await db`delete from etl_alerts`
  const now = new Date()
  const desde = new Date(now.getTime() - 3_600_000)
  const failing = Math.max(3, Math.ceil(stores * 0.4))
  await db.begin(async (tx) => {
    const [e] = await tx<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
        fecha_desde, fecha_hasta, tiendas_count, tiendas_exitosas, tiendas_fallidas, tienda_ids, error_phase, error_category)
      values ('ventas', 'scheduled', 'partial', ${now}, ${new Date(now.getTime() + 20_000)}, 20, 'scheduler',
        ${desde}, ${now}, ${stores}, ${stores - failing}, ${failing}, '{}', 'extract', 'vpn_timeout')
      returning id`
    await tx`
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        finished_at, duration_seconds, records_extracted, records_loaded, duplicates_skipped, error_phase,
        error_category, attempts)
      select ${e!.id}, t.id, t.nombre, 'klk', case when n <= ${failing} then 'failed' else 'success' end,
        ${now}, ${new Date(now.getTime() + 20_000)}, 2.1, 1000, case when n <= ${failing} then 0 else 980 end, 20,
        case when n <= ${failing} then 'extract' end, case when n <= ${failing} then 'vpn_timeout' end, 1
      from tiendas t cross join lateral (select substr(t.id, 8)::int as n) x
      where t.active`
  })
}
