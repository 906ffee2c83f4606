// The capacity model's arithmetic: measured per store-run costs (capacity.ts) times a deployment's
// cadence. Pure, so the README's figures can be recomputed from any run of the section. The history
// is one unpartitioned table pair with no retention today: everything below accumulates for `years`.

/** What one store costs in one run of one ETL, as measured. */
export type StoreRunCost = {
  wal_bytes: number
  /** Heap rows inserted + updated + deleted (durable: staging is UNLOGGED and not counted). */
  row_writes: number
  commits: number
  /** etl_executions + etl_execution_details (heap + indexes), the run's share per store. */
  history_bytes: number
  /** pgboss.job bytes per store-run while the jobs are kept (deleteAfterSeconds). */
  job_bytes: number
  /** New rows of the loaded table (ventas: new lines; inventario: inserted or changed items). */
  rows_loaded: number
  /** Bytes (heap + indexes) per loaded row of that table. */
  bytes_per_loaded_row: number
  runner_cpu_s: number
  /** CPU of the database's backends (not its background writers) for this store-run. */
  postgres_cpu_s: number
}

export type Deployment = {
  stores: number
  runsPerDay: { ventas: number; inventario: number }
  years: number
  /** Days pg-boss keeps a finished job (deleteAfterSeconds / 86400). */
  jobRetentionDays: number
  /** Rollup rows per store, ETL and day (24 hourly + 1 daily + a month row's share), and their bytes each. */
  rollupRowsPerStoreDay: number
  rollupBytesPerRow: number
  etlConcurrency: number
  /** The ventas cadence, minutes: a run must end within it. */
  cadenceMin: number
  /** Connections one runner process may open (its pool + pg-boss's), and the API's (pool + pg-boss sender). */
  connectionsPerRunner: number
  connectionsPerApi: number
}

export type Projection = {
  executions_per_day: number
  executions_total: number
  detail_rows_total: number
  history_bytes_total: number
  rollup_bytes_total: number
  wal_bytes_per_day: number
  row_writes_per_day: number
  commits_per_day: number
  ventas_rows_per_day: number
  ventas_rows_total: number
  ventas_bytes_total: number
  /** Steady size of pgboss.job: what deleteAfterSeconds keeps. */
  job_bytes_steady: number
  /** Runner CPU of one ventas run of every store. */
  runner_cpu_s_per_ventas_run: number
  /** Runner CPU per ventas cadence (its ventas run plus its share of inventario runs) over the cadence's seconds. */
  runner_cores_busy: number
  /** The same for the database server's backends. */
  postgres_cores_busy: number
  /** Store parts in hand at once across all runners so that a ventas run of every store ends within the cadence, for a given store wall. */
  stores_in_flight_for: (storeWallS: number) => number
  runners_for: (storeWallS: number) => number
  /** The longest store wall (seconds per store, in flight) at which one runner still ends a ventas run of every store within the cadence. */
  max_store_wall_s_one_runner: number
  connections_for: (runners: number, apis: number) => number
}

const DAYS_PER_YEAR = 365.25

export function projectCapacity(cost: { ventas: StoreRunCost; inventario: StoreRunCost }, d: Deployment): Projection {
  const days = d.years * DAYS_PER_YEAR
  const storeRunsPerDay = {
    ventas: d.stores * d.runsPerDay.ventas,
    inventario: d.stores * d.runsPerDay.inventario,
  }
  const perDay = (f: (c: StoreRunCost) => number) =>
    storeRunsPerDay.ventas * f(cost.ventas) + storeRunsPerDay.inventario * f(cost.inventario)
  const executionsPerDay = d.runsPerDay.ventas + d.runsPerDay.inventario
  const ventasRowsPerDay = storeRunsPerDay.ventas * cost.ventas.rows_loaded
  const cpuPerVentasRun = d.stores * cost.ventas.runner_cpu_s
  const perCadence = (f: (c: StoreRunCost) => number) =>
    d.stores * (f(cost.ventas) + (d.runsPerDay.inventario / d.runsPerDay.ventas) * f(cost.inventario))
  const storesInFlight = (storeWallS: number) => Math.ceil((d.stores * storeWallS) / (d.cadenceMin * 60))
  return {
    executions_per_day: executionsPerDay,
    executions_total: Math.round(executionsPerDay * days),
    detail_rows_total: Math.round((storeRunsPerDay.ventas + storeRunsPerDay.inventario) * days),
    history_bytes_total: perDay((c) => c.history_bytes) * days,
    rollup_bytes_total: d.stores * 2 * d.rollupRowsPerStoreDay * d.rollupBytesPerRow * days,
    wal_bytes_per_day: perDay((c) => c.wal_bytes),
    row_writes_per_day: perDay((c) => c.row_writes),
    commits_per_day: perDay((c) => c.commits),
    ventas_rows_per_day: ventasRowsPerDay,
    ventas_rows_total: Math.round(ventasRowsPerDay * days),
    ventas_bytes_total: ventasRowsPerDay * days * cost.ventas.bytes_per_loaded_row,
    job_bytes_steady: perDay((c) => c.job_bytes) * d.jobRetentionDays,
    runner_cpu_s_per_ventas_run: cpuPerVentasRun,
    runner_cores_busy: perCadence((c) => c.runner_cpu_s) / (d.cadenceMin * 60),
    postgres_cores_busy: perCadence((c) => c.postgres_cpu_s) / (d.cadenceMin * 60),
    stores_in_flight_for: storesInFlight,
    runners_for: (storeWallS) => Math.max(1, Math.ceil(storesInFlight(storeWallS) / d.etlConcurrency)),
    max_store_wall_s_one_runner: (d.cadenceMin * 60 * d.etlConcurrency) / d.stores,
    connections_for: (runners, apis) => runners * d.connectionsPerRunner + apis * d.connectionsPerApi,
  }
}

/** Minutes between the fires of an every-N-minutes cron (`0 * * * *`: 60); null for any other shape. */
export function cronStepMinutes(cron: string): number | null {
  const m = /^\*\/(\d+) \* \* \* \*$/.exec(cron.trim())
  if (m) return Number(m[1])
  return /^\d+ \* \* \* \*$/.test(cron.trim()) ? 60 : null
}
