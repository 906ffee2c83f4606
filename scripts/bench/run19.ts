// Benchmark (ii): a 19-store, ~12.5k-line ventas run against the KLK simulator at loopback speed
// (DESIGN §10: ≤ 2 s wall), through the real runEtl, with ETL_CONCURRENCY=4 and =1.
import { salesFor } from '../../test/fakes/sales-data.ts'
import { runVentasOnce } from './etl-once.ts'
import { insertStores, startFleetProcess } from './fleet-process.ts'
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
  addressBase?: string
}): Promise<{ lines: number; runs: RunMeasure[] }> {
  const fleet = await startFleetProcess({ count: opts.stores, token: TOKEN, addressBase: opts.addressBase })
  const db = await createThrowawayDb('run19')
  try {
    await insertStores(db.sql, fleet.stores)
    const tiendaIds = fleet.stores.map((s) => s.tiendaId)
    const hasta = windowFor(tiendaIds, opts.lines)
    const lines = tiendaIds.reduce((a, t) => a + salesFor(t, DESDE, hasta).length, 0)
    const run = async (concurrency: number, ids: string[]): Promise<RunMeasure> => {
      await db.sql`truncate ventas`
      const r = await runVentasOnce({
        databaseUrl: db.url,
        concurrency,
        tiendaIds: ids,
        desde: DESDE,
        hasta,
        env: { KLK_API_TOKEN: TOKEN },
      })
      return {
        etl_concurrency: concurrency,
        wall_seconds: r.wall_seconds,
        status: r.status,
        stores: r.stores,
        records_loaded: r.records_loaded,
        execution_id: r.id,
      }
    }
    // Warm-up (JIT, connections, the stand-ins' first requests); not reported.
    await run(4, tiendaIds.slice(0, 2))
    const runs = [await run(4, tiendaIds), await run(1, tiendaIds)]
    return { lines, runs }
  } finally {
    fleet.stop()
    await db.drop()
  }
}
