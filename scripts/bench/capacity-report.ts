// The capacity section's tables: what each measured run cost per store, the marginal bytes per row
// of each growing table, and the projection to 1,000 stores × the default schedules × 10 years.
import type { RunnerConfig } from '../../runner/src/config.ts'
import { queueOptions } from '../../runner/src/jobs/boss.ts'
import type { CapacityResult, CapacityRun } from './capacity.ts'
import { storeRunCost } from './capacity.ts'
import { cronStepMinutes, type Deployment, projectCapacity } from './capacity-model.ts'

type Print = {
  config: RunnerConfig
  cadenceMin: number
  out: (line?: string) => void
  table: (rows: Record<string, string | number>[]) => void
}

const STORES = 1000
const YEARS = 10

/** Seconds a store was in flight: the run's wall over the stores one runner held at once. */
const storeWall = (r: CapacityRun) => round((r.wall_s * r.etl_concurrency) / r.stores, 2)
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits
const kib = (b: number) => round(b / 1024)
const gb = (b: number) => `${round(b / 1e9)} GB`
const pct = (x: number) => `${round(x * 100)}%`
const n = (x: number) => Math.round(x).toLocaleString('en')

export function reportCapacity(result: CapacityResult, { config, cadenceMin, out, table }: Print) {
  table(
    result.runs.map((r) => ({
      ETL: r.etl,
      stores: r.stores,
      'wall s': r.wall_s,
      status: r.status,
      'lines read': round(r.lines_read / r.stores),
      'rows loaded': round(r.rows_loaded / r.stores),
      'WAL KiB': kib(r.wal.bytes / r.stores),
      'of it FPI': pct(r.wal.full_page_image_bytes / (r.wal.bytes || 1)),
      'server WAL KiB': kib(r.wal.cluster_bytes / r.stores),
      'rows written': round((r.wal.row_inserts + r.wal.row_updates + r.wal.row_deletes) / r.stores),
      commits: round(r.wal.commits / r.stores),
      'runner CPU ms': round((r.runner_cpu_s * 1000) / r.stores),
      'PostgreSQL CPU ms': round((r.postgres_cpu_s * 1000) / r.stores),
      'store wall s': storeWall(r),
      'runner conns (peak)': r.runner_connections_peak,
    })),
  )
  out(
    'per store-run (the run over its stores). WAL: this database’s records (pg_walinspect); server WAL: every database on the server. ' +
      'rows written: heap inserts + updates + deletes in that WAL. PostgreSQL CPU: the backends serving this database',
  )
  out(
    `\nbytes per row added over the ${Math.max(...result.runs.map((r) => r.stores))}-store runs (heap + indexes + TOAST, after VACUUM)`,
  )
  table(
    Object.entries(result.marginal).map(([group, m]) => ({
      table: group,
      'rows added': m.rows,
      'KiB added': kib(m.bytes),
      'B / row': m.bytes_per_row,
    })),
  )

  const largest = Math.max(...result.runs.map((r) => r.stores))
  const at = (etl: string) => result.runs.find((r) => r.etl === etl && r.stores === largest)
  const [ventas, inventario] = [at('ventas'), at('inventario')]
  if (!ventas || !inventario) return {}
  const everyDay = (cron: string) => 1440 / (cronStepMinutes(cron) ?? 1440)
  const deployment: Deployment = {
    stores: STORES,
    runsPerDay: { ventas: everyDay(config.VENTAS_CRON), inventario: everyDay(config.INVENTARIO_CRON) },
    years: YEARS,
    jobRetentionDays: (queueOptions(config).deleteAfterSeconds ?? 0) / 86_400,
    // A store's successful runs of one ETL: 24 hourly rows, 1 daily, a monthly one every ~30 days.
    rollupRowsPerStoreDay: 24 + 1 + 12 / 365.25,
    rollupBytesPerRow: result.marginal.store_rollups.bytes_per_row,
    etlConcurrency: config.ETL_CONCURRENCY,
    cadenceMin,
    // runner/src/main.ts: 2 × ETL_CONCURRENCY + 4, plus createBoss's max 4; history-api/src/main.ts: 10, the
    // event stream's LISTEN 1 (while a panel streams), the kept responses' LISTEN 1, pg-boss 2.
    connectionsPerRunner: 2 * config.ETL_CONCURRENCY + 4 + 4,
    connectionsPerApi: 10 + 1 + 1 + 2,
  }
  const cost = {
    ventas: storeRunCost(ventas, result.marginal, STORES),
    inventario: storeRunCost(inventario, result.marginal, STORES),
  }
  const p = projectCapacity(cost, deployment)
  const { ventas: v, inventario: i } = deployment.runsPerDay
  out(
    `\n${n(STORES)} stores × ${v} ventas + ${i} inventario runs/day × ${YEARS} years, at the ${largest}-store figures`,
  )
  const wall = storeWall(ventas)
  table([
    { figure: 'executions', value: `${p.executions_per_day}/day, ${n(p.executions_total)} in ${YEARS} years` },
    { figure: 'store rows (etl_execution_details)', value: n(p.detail_rows_total) },
    { figure: 'history (executions + store rows)', value: gb(p.history_bytes_total) },
    { figure: 'per-store rollups', value: gb(p.rollup_bytes_total) },
    { figure: 'ventas rows', value: `${n(p.ventas_rows_per_day)}/day, ${n(p.ventas_rows_total)} in ${YEARS} years` },
    { figure: 'ventas', value: gb(p.ventas_bytes_total) },
    { figure: 'WAL', value: `${gb(p.wal_bytes_per_day)}/day` },
    { figure: 'rows written, commits', value: `${n(p.row_writes_per_day)}/day, ${n(p.commits_per_day)}/day` },
    { figure: `pgboss.job (kept ${deployment.jobRetentionDays} days)`, value: gb(p.job_bytes_steady) },
    {
      figure: 'runner CPU per ventas run',
      value: `${Math.round(p.runner_cpu_s_per_ventas_run)} s; with inventario ${pct(p.runner_cores_busy)} of a core`,
    },
    { figure: 'PostgreSQL backends CPU', value: `${pct(p.postgres_cores_busy)} of a core` },
    {
      figure: `one runner (ETL_CONCURRENCY=${config.ETL_CONCURRENCY}) ends a run within ${cadenceMin} min`,
      value: `while a store takes ≤ ${round(p.max_store_wall_s_one_runner)} s (here, at loopback speed: ${wall} s)`,
    },
    ...[wall, 30, 60].map((w) => ({
      figure: `runners at ${w} s a store`,
      value: `${p.runners_for(w)} (${p.stores_in_flight_for(w)} stores in flight); ${p.connections_for(p.runners_for(w), 1)} connections with 1 API`,
    })),
  ])
  const { stores_in_flight_for: _s, runners_for: _r, connections_for: _c, ...projection } = p
  return { deployment, store_run_cost: cost, projection }
}
