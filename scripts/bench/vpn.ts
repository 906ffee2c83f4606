// Benchmark (iii): ventas runs against stores behind a modelled VPN (test/fakes/link.ts: an RTT on
// every answer, a bandwidth limit per store), each store on its own loopback address at one port.
// For each chain size: the ideal — the slowest store alone — then one run per ETL_CONCURRENCY,
// each in a fresh child process (vpn-run.ts) whose peak RSS is the runner's.
//   vs_ideal = wall / ideal: issue 12's target for 19 stores (≤ 1.25 at the best concurrency).
//   vs_batches = wall / (ideal × ⌈stores / concurrency⌉), its target for 1,000 (≤ 1.5): 1.0 means the run costs no more than its
//   stores one batch after another, each batch as fast as the slowest store alone.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { salesFor } from '../../test/fakes/sales-data.ts'
import { insertStores, startFleetProcess } from './fleet-process.ts'
import { interrupted, onInterrupt } from './interrupt.ts'
import { createThrowawayDb } from './throwaway-db.ts'
import type { VpnJob, VpnJobResult } from './vpn-run.ts'

export type VpnOptions = {
  storeCounts: number[]
  /** The ETL_CONCURRENCY levels measured for a chain of `stores`. */
  concurrencyFor: (stores: number) => number[]
  rttMs: number
  bytesPerSecond: number
  windowMin: number
  addressBase: string
  stellarEvery: number
  /** Measured runs per level (their median is reported); a shared machine needs more than one. */
  repeatFor: (stores: number) => number
  log: (line: string) => void
}

export type VpnRun = {
  stores: number
  etl_concurrency: number
  wall_s: number
  ideal_x_batches_s: number
  vs_ideal: number
  vs_batches: number
  rows_per_s: number
  records_loaded: number
  status: string
  rss_peak_mb: number
  rss_after_warmup_mb: number
}

export type VpnChain = {
  stores: number
  lines: number
  ideal_s: number
  ideal_store: string
  /** The slowest candidate of each system alone (Stellar logs in over more round trips than KLK). */
  ideal_by_system: Record<string, number>
  runs: VpnRun[]
}

const TOKEN = 'bench-vpn-token'
const DESDE = new Date('2026-11-02T12:00:00Z')
const ENV = { KLK_API_TOKEN: TOKEN, STELLAR_USER: 'etl_reader', STELLAR_PASSWORD: 'bench', STELLAR_DATABASE: 'stellar' }

function runChild(job: VpnJob): Promise<VpnJobResult> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'vpn-run.ts'), JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const unregister = onInterrupt(() => child.kill('SIGTERM'))
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      unregister()
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)!) as VpnJobResult)
      else reject(new Error(`vpn-run exited with ${signal ?? code}`))
    })
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function benchVpn(o: VpnOptions): Promise<VpnChain[]> {
  const hasta = new Date(DESDE.getTime() + o.windowMin * 60_000)
  const chains: VpnChain[] = []
  for (const count of o.storeCounts) {
    if (interrupted()) break
    const link = { rttMs: o.rttMs, bytesPerSecond: o.bytesPerSecond }
    const fleet = await startFleetProcess({
      count,
      token: TOKEN,
      link,
      addressBase: o.addressBase,
      stellarEvery: o.stellarEvery,
    })
    const db = await createThrowawayDb('vpn')
    try {
      await insertStores(db.sql, fleet.stores)
      const linesOf = new Map(fleet.stores.map((s) => [s.tiendaId, salesFor(s.tiendaId, DESDE, hasta).length]))
      const lines = [...linesOf.values()].reduce((a, b) => a + b, 0)
      const base = { databaseUrl: db.url, env: ENV, desde: DESDE.toISOString(), hasta: hasta.toISOString() }
      // The slowest store alone: the two largest stores of each system (Stellar needs more round
      // trips to log in; size sets the transfer), three runs each, the worst median.
      const candidates = (['klk', 'stellar'] as const).flatMap((system) =>
        fleet.stores
          .filter((s) => s.sourceSystem === system)
          .sort((a, b) => linesOf.get(b.tiendaId)! - linesOf.get(a.tiendaId)!)
          .slice(0, 2)
          .map((s) => s.tiendaId),
      )
      o.log(`  ${count} stores, ${lines} lines: measuring the ideal on ${candidates.join(', ')}`)
      const alone = await runChild({
        ...base,
        warmup: candidates.slice(0, 1),
        runs: candidates.flatMap((id) => [1, 2, 3].map(() => ({ concurrency: 1, tiendaIds: [id] }))),
      })
      const byStore = candidates.map((id, i) => ({
        id,
        wall: median(alone.runs.slice(i * 3, i * 3 + 3).map((r) => r.wall_seconds)),
      }))
      const slowest = byStore.reduce((a, b) => (b.wall > a.wall ? b : a))
      const systemOf = new Map(fleet.stores.map((s) => [s.tiendaId, s.sourceSystem]))
      const idealBySystem: Record<string, number> = {}
      for (const { id, wall } of byStore) {
        const system = systemOf.get(id)!
        idealBySystem[system] = Math.max(idealBySystem[system] ?? 0, wall)
      }
      const runs: VpnRun[] = []
      for (const c of o.concurrencyFor(count)) {
        if (interrupted()) break
        const repeat = o.repeatFor(count)
        o.log(`  ${count} stores at ETL_CONCURRENCY=${c}${repeat > 1 ? ` (median of ${repeat})` : ''}…`)
        const r = await runChild({
          ...base,
          warmup: candidates.slice(0, 1),
          runs: Array.from({ length: repeat }, () => ({ concurrency: c })),
        })
        const wall = median(r.runs.map((x) => x.wall_seconds))
        const run = r.runs.find((x) => x.wall_seconds === wall)!
        const idealBatches = slowest.wall * Math.ceil(count / c)
        runs.push({
          stores: count,
          etl_concurrency: c,
          wall_s: run.wall_seconds,
          ideal_x_batches_s: Math.round(idealBatches * 1000) / 1000,
          vs_ideal: Math.round((run.wall_seconds / slowest.wall) * 100) / 100,
          vs_batches: Math.round((run.wall_seconds / idealBatches) * 100) / 100,
          rows_per_s: Math.round(run.records_loaded / run.wall_seconds),
          records_loaded: run.records_loaded,
          status: run.status,
          rss_peak_mb: r.rss_peak_mb,
          rss_after_warmup_mb: r.rss_after_warmup_mb,
        })
      }
      chains.push({
        stores: count,
        lines,
        ideal_s: slowest.wall,
        ideal_store: slowest.id,
        ideal_by_system: idealBySystem,
        runs,
      })
    } finally {
      fleet.stop()
      await db.drop()
    }
  }
  return chains
}
