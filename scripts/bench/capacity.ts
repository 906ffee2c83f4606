// Benchmark (vii): what one store-run costs, the inputs of the README's capacity model (issue 12).
// Real runs of N stand-in KLK stores (loopback speed: the VPN adds waiting, not work) queued the way
// the API queues them and worked by one real runner process (`node runner/src/main.ts`, default
// ETL_CONCURRENCY, fanned out into one etl-tienda job per store). Per chain size:
//   1. a ventas run of the window [T, T + VENTAS_WINDOW_MIN] — primes the stores' lines and the
//      runner's JIT; not reported;
//   2. the next scheduled ventas run, [T + cadence, T + cadence + window]: the steady state, where
//      the overlapping half of the window is re-read and skipped as duplicates;
//   3. an inventario run (first snapshot of each store: every item inserted).
// Each measured run starts after a CHECKPOINT: at a 30-minute cadence with checkpoint_timeout ≤ 30 min
// every run follows a checkpoint, so its first write to each page carries a full-page image.
import type { ChildProcess } from 'node:child_process'
import postgres from 'postgres'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { createBoss } from '../../runner/src/jobs/boss.ts'
import { inventoryFor, salesFor } from '../../test/fakes/sales-data.ts'
import { queueRun } from '../lib/queue-run.ts'
import type { StoreRunCost } from './capacity-model.ts'
import {
  backendCpu,
  bytesPerRowAdded,
  cpuBetween,
  currentLsn,
  flushedLsn,
  footprint,
  historySizes,
  holdWal,
  runnerConnections,
  type Sizes,
  sizeDelta,
  type WalCost,
  walCost,
  walinspectAvailable,
} from './capacity-probe.ts'
import { cpuSeconds, startRunner } from './fan-out.ts'
import { type BenchStore, insertStores, startFleetProcess } from './fleet-process.ts'
import { interrupted, onInterrupt } from './interrupt.ts'
import { createThrowawayDb } from './throwaway-db.ts'

export type CapacityOptions = {
  storeCounts: number[]
  /** Minutes between scheduled ventas runs (VENTAS_CRON's step). */
  cadenceMin: number
  addressBase: string
  log: (line: string) => void
}

export type CapacityRun = {
  etl: 'ventas' | 'inventario'
  stores: number
  etl_concurrency: number
  window: string
  wall_s: number
  status: string
  lines_read: number
  rows_loaded: number
  runner_cpu_s: number
  /** CPU of the PostgreSQL backends serving the database (the runner's and pg-boss's connections). */
  postgres_cpu_s: number
  runner_connections_peak: number
  wal: WalCost
  /** Bytes the run added (after VACUUM), per group of tables. */
  bytes_added: Sizes
}

const TOKEN = 'bench-capacity-token'
const T0 = new Date('2026-11-02T12:00:00Z')
const DAY = 86_400_000

export type CapacityResult = {
  walinspect: boolean
  runs: CapacityRun[]
  /** Bytes per row each table group gained over the largest chain's three runs (its stores' first ones). */
  marginal: ReturnType<typeof bytesPerRowAdded>
}

/**
 * A measured run's costs divided by its stores. Bytes come from the marginal bytes per row (one
 * store row, its share of the execution row and of the run's job, one job per store, the loaded
 * lines), the run's own page-sized deltas being too coarse at a few hundred stores.
 */
export function storeRunCost(run: CapacityRun, m: CapacityResult['marginal'], storesPerRun: number): StoreRunCost {
  const per = (x: number) => x / run.stores
  return {
    wal_bytes: per(run.wal.bytes || run.wal.cluster_bytes),
    row_writes: per(run.wal.row_inserts + run.wal.row_updates + run.wal.row_deletes),
    commits: per(run.wal.commits),
    history_bytes: m.etl_execution_details.bytes_per_row + m.etl_executions.bytes_per_row / storesPerRun,
    job_bytes: m.pgboss_job.bytes_per_row * (1 + 1 / storesPerRun),
    rows_loaded: per(run.rows_loaded),
    bytes_per_loaded_row: run.etl === 'ventas' ? m.ventas.bytes_per_row : 0,
    runner_cpu_s: per(run.runner_cpu_s),
    postgres_cpu_s: per(run.postgres_cpu_s),
  }
}

export async function benchCapacity(o: CapacityOptions): Promise<CapacityResult> {
  const config = parseRunnerConfig({})
  const windowMs = config.VENTAS_WINDOW_MIN * 60_000
  // Each chain size gets stores of its own: every measured run is its stores' first inventario
  // snapshot and their first runs in the hour's rollup rows, whatever ran before it.
  const total = o.storeCounts.reduce((a, b) => a + b, 0)
  const fleet = await startFleetProcess({ count: total, token: TOKEN, addressBase: o.addressBase })
  const db = await createThrowawayDb('capacity')
  // One connection for queueing and measuring: nothing of the bench's own shares the runner's pool.
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const sender = createBoss(db.url, { schedule: false, supervise: false })
  let runner: ChildProcess | undefined
  const stopRunner = async () => {
    if (!runner || runner.exitCode !== null) return
    const exited = new Promise((done) => runner!.once('exit', done))
    runner.kill('SIGTERM')
    await exited
  }
  const unregister = onInterrupt(stopRunner)
  const runs: CapacityRun[] = []
  let before: Awaited<ReturnType<typeof footprint>> | undefined
  let marginal: CapacityResult['marginal'] | undefined
  try {
    await insertStores(db.sql, fleet.stores)
    const inspect = await walinspectAvailable(sql)
    if (!inspect) o.log('  (pg_walinspect not available: WAL is the whole server’s lsn diff only)')
    await sender.start()
    // Recovery passes and alert deliveries are per-minute / per-alert costs, not per store-run.
    runner = await startRunner(db.url, config.ETL_CONCURRENCY, { KLK_API_TOKEN: TOKEN, RECOVERY_CRON: 'off' })
    for (const [i, count] of o.storeCounts.entries()) {
      if (interrupted()) break
      const offset = o.storeCounts.slice(0, i).reduce((a, b) => a + b, 0)
      const stores = fleet.stores.slice(offset, offset + count)
      const start = new Date(T0.getTime() + i * DAY)
      const next = new Date(start.getTime() + o.cadenceMin * 60_000)
      const run = (etl: 'ventas' | 'inventario', desde: Date | null) =>
        measureRun(sql, sender, runner!, {
          etl,
          stores,
          concurrency: config.ETL_CONCURRENCY,
          desde,
          hasta: desde && new Date(desde.getTime() + windowMs),
          inspect,
        })
      const largest = count === Math.max(...o.storeCounts)
      if (largest) before = await footprint(sql)
      await run('ventas', start)
      for (const measured of [await run('ventas', next), await run('inventario', null)]) {
        runs.push(measured)
        o.log(
          `  ${count} stores, ${measured.etl}: ${measured.wall_s} s, ${measured.rows_loaded} rows loaded, ` +
            `WAL ${Math.round(measured.wal.bytes / 1024)} KiB, runner CPU ${measured.runner_cpu_s} s`,
        )
      }
      if (largest) marginal = bytesPerRowAdded(before!, await footprint(sql))
    }
    return { walinspect: inspect, runs, marginal: marginal! }
  } finally {
    await stopRunner()
    unregister()
    await sender.stop({ graceful: false }).catch(() => {})
    await sql.end({ timeout: 5 })
    fleet.stop()
    await db.drop()
  }
}

type RunSpec = {
  etl: 'ventas' | 'inventario'
  stores: BenchStore[]
  concurrency: number
  desde: Date | null
  hasta: Date | null
  inspect: boolean
}

async function measureRun(
  sql: postgres.Sql,
  sender: ReturnType<typeof createBoss>,
  runner: ChildProcess,
  r: RunSpec,
): Promise<CapacityRun> {
  const sizesBefore = await historySizes(sql)
  await sql`checkpoint`
  const held = r.inspect ? await holdWal(sql) : undefined
  const lsnBefore = await currentLsn(sql)
  const cpuBefore = await cpuSeconds(runner.pid!)
  const pgBefore = await backendCpu(sql, cpuSeconds)
  const started = performance.now()
  const id = await sql.begin((tx) =>
    queueRun(tx, sender, {
      etlName: r.etl,
      etlType: 'manual',
      triggeredBy: 'fluxion_admin',
      tiendas: r.stores.map((s) => ({ id: s.tiendaId, source_system: s.sourceSystem })),
      desde: r.desde,
      hasta: r.hasta,
    }),
  )
  let peak = 0
  let row: { status: string; records_loaded: number; jobs_open: number } | undefined
  // Done = closed, and every job of it (the run's and each store's) completed: the closing part
  // evaluates alerts before its job completes, and that is part of the run's cost.
  for (;;) {
    peak = Math.max(peak, await runnerConnections(sql))
    ;[row] = await sql<{ status: string; records_loaded: number; jobs_open: number }[]>`
      select e.status, e.records_loaded,
        (select count(*) from pgboss.job j where j.state <> 'completed'
          and j.name in ('etl-ventas', 'etl-inventario', 'etl-tienda')
          and (j.id::text = e.job_id::text or (j.name = 'etl-tienda' and (j.data->>'execution_id')::int = e.id)))::int as jobs_open
      from etl_executions e where e.id = ${id} and e.status not in ('queued', 'running')`
    if (row?.jobs_open === 0) break
    await new Promise((done) => setTimeout(done, 100))
  }
  const wall = (performance.now() - started) / 1000
  const cpu = (await cpuSeconds(runner.pid!)) - cpuBefore
  const pgCpu = cpuBetween(pgBefore, await backendCpu(sql, cpuSeconds))
  const lsnAfter = await flushedLsn(sql)
  const wal = await walCost(sql, lsnBefore, lsnAfter, r.inspect)
  await held?.release()
  const sizesAfter = await historySizes(sql)
  const linesRead = r.stores.reduce(
    (n, s) =>
      n + (r.etl === 'ventas' ? salesFor(s.tiendaId, r.desde!, r.hasta!).length : inventoryFor(s.tiendaId).length),
    0,
  )
  return {
    etl: r.etl,
    stores: r.stores.length,
    etl_concurrency: r.concurrency,
    window: r.desde && r.hasta ? `${r.desde.toISOString()}/${r.hasta.toISOString()}` : 'snapshot',
    wall_s: round(wall),
    status: row.status,
    lines_read: linesRead,
    rows_loaded: row.records_loaded,
    runner_cpu_s: round(cpu),
    postgres_cpu_s: round(pgCpu),
    runner_connections_peak: peak,
    wal,
    bytes_added: sizeDelta(sizesBefore, sizesAfter),
  }
}

const round = (x: number) => Math.round(x * 100) / 100
