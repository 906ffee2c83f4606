// The benchmarks' one call into the runner: a ventas run through its programmatic entry point
// (runEtl: extraction over real sockets, transform, load, tracker), exactly as a job runs it.
// Everything else in scripts/bench/ talks to the stand-ins and PostgreSQL only, so a change of the
// runner's internals touches this file alone.
import pino from 'pino'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { connect } from '../../runner/src/db.ts'
import { runEtl } from '../../runner/src/etl/run-etl.ts'

export type VentasRun = {
  databaseUrl: string
  concurrency: number
  /** Unset: every active store. */
  tiendaIds?: string[]
  desde: Date
  hasta: Date
  /** Extra runner settings (KLK_API_TOKEN, STELLAR_*, timeouts). */
  env?: Record<string, string>
}

export type VentasOutcome = { wall_seconds: number; status: string; stores: number; records_loaded: number; id: number }

export async function runVentasOnce(run: VentasRun): Promise<VentasOutcome> {
  const config = parseRunnerConfig({
    ...run.env,
    DATABASE_URL: run.databaseUrl,
    ETL_CONCURRENCY: String(run.concurrency),
    LOG_LEVEL: 'silent',
  })
  // A connection per store in flight (its load) plus the tracker's.
  const sql = connect(run.databaseUrl, { max: run.concurrency + 4, applicationName: 'fluxion-bench' })
  try {
    const t0 = performance.now()
    const row = await runEtl(
      { db: sql, config, logger: pino({ level: 'silent' }) },
      {
        etlName: 'ventas',
        tiendaIds: run.tiendaIds,
        desde: run.desde,
        hasta: run.hasta,
        triggeredBy: 'cli',
        etlType: 'manual',
      },
    )
    return {
      wall_seconds: Math.round(performance.now() - t0) / 1000,
      status: row.status,
      stores: row.tiendas_count,
      records_loaded: row.records_loaded,
      id: row.id,
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}
