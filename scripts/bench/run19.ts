// Benchmark (ii): a 19-store, ~12.5k-line ventas run against the KLK simulator, through the real
// runEtl (HTTP extraction, transform, load, tracker), with ETL_CONCURRENCY=4 and =1.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import pino from 'pino'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { connect } from '../../runner/src/db.ts'
import { runEtl } from '../../runner/src/etl/run-etl.ts'
import { salesFor } from '../../test/fakes/sales-data.ts'
import { createThrowawayDb } from './throwaway-db.ts'

export type RunMeasure = {
  etl_concurrency: number
  wall_seconds: number
  status: string
  stores: number
  records_loaded: number
  execution_id: number
}

const TOKEN = 'bench-klk-token'
const DESDE = new Date('2026-11-02T04:00:00Z')

async function startStores(count: number) {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'klk-child.ts'), String(count), TOKEN], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const first = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`KLK stand-ins exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', resolve)
  })
  const stores = JSON.parse(first) as { tiendaId: string; port: number }[]
  const stop = () => {
    child.stdin!.end()
    setTimeout(() => child.kill('SIGKILL'), 2000).unref()
  }
  return { stores, stop }
}

/** The window (from DESDE) whose lines over all stores come closest to `target` from above. */
function windowFor(tiendaIds: string[], target: number): Date {
  let minutes = 60
  const total = (m: number) =>
    tiendaIds.reduce((a, t) => a + salesFor(t, DESDE, new Date(DESDE.getTime() + m * 60_000)).length, 0)
  while (total(minutes) < target) minutes += 5
  return new Date(DESDE.getTime() + minutes * 60_000)
}

export async function benchRun19(opts: {
  stores: number
  lines: number
}): Promise<{ lines: number; runs: RunMeasure[] }> {
  const { stores, stop } = await startStores(opts.stores)
  const db = await createThrowawayDb('run19')
  try {
    for (const s of stores) {
      await db.sql`insert into tiendas (id, nombre, source_system, host, port)
        values (${s.tiendaId}, ${s.tiendaId.toUpperCase()}, 'klk', '127.0.0.1', ${s.port})`
    }
    const tiendaIds = stores.map((s) => s.tiendaId)
    const hasta = windowFor(tiendaIds, opts.lines)
    const lines = tiendaIds.reduce((a, t) => a + salesFor(t, DESDE, hasta).length, 0)
    const logger = pino({ level: 'silent' })
    const run = async (concurrency: number, ids: string[]) => {
      const config = parseRunnerConfig({
        DATABASE_URL: db.url,
        KLK_API_TOKEN: TOKEN,
        ETL_CONCURRENCY: String(concurrency),
        LOG_LEVEL: 'silent',
      })
      const sql = connect(db.url, { max: concurrency + 4, applicationName: 'fluxion-bench' })
      try {
        await sql`truncate ventas`
        const t0 = performance.now()
        const row = await runEtl(
          { db: sql, config, logger },
          { etlName: 'ventas', tiendaIds: ids, desde: DESDE, hasta, triggeredBy: 'cli', etlType: 'manual' },
        )
        const wall = (performance.now() - t0) / 1000
        return {
          etl_concurrency: concurrency,
          wall_seconds: Math.round(wall * 1000) / 1000,
          status: row.status,
          stores: ids.length,
          records_loaded: row.records_loaded,
          execution_id: row.id,
        }
      } finally {
        await sql.end({ timeout: 5 })
      }
    }
    // Warm-up (JIT, connections, the stand-ins' first requests); not reported.
    await run(4, tiendaIds.slice(0, 2))
    const runs = [await run(4, tiendaIds), await run(1, tiendaIds)]
    return { lines, runs }
  } finally {
    stop()
    await db.drop()
  }
}
