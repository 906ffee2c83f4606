// `npm run etl -- <ventas|inventario> [--tiendas a,b] [--desde ISO] [--hasta ISO] [--recovery-mode]`
// Runs one tracked execution in this process (no queue), showing progress per store, then the
// recorded summary. Exit: 0 success or partial (said so), 1 failed or could not run, 2 bad arguments.
import { hostname } from 'node:os'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { Sql } from 'postgres'
import { parseRunnerConfig, type RunnerConfig } from '../config.ts'
import { connect } from '../db.ts'
import { type FreshRunRequest, runEtl } from '../etl/run-etl.ts'
import { listActiveTiendaIds } from '../etl/tiendas.sql.ts'
import { withStoreLocks } from '../executions/store-locks.ts'
import { findPendingGaps, groupGaps } from '../gaps/gaps.sql.ts'
import { createBoss, type EtlName } from '../jobs/boss.ts'
import { createLogger } from '../logger.ts'
import { detectTriggeredBy } from '../tracker/triggered-by.ts'
import { type CliArgs, parseCliArgs, USAGE, UsageError } from './args.ts'
import { createProgressView, estado, formatSummary, loadSummary } from './view.ts'

type Ctx = {
  db: Sql
  config: RunnerConfig
  logger: Logger
  signal: AbortSignal
  out: (line?: string) => void
  /** Send-only pg-boss when a webhook is configured: the run's alert deliveries go to the runners' queue. */
  boss?: PgBoss
}
type RunRequest = Omit<FreshRunRequest, 'onProgress' | 'signal'> & { tiendaIds: string[] }

async function main(argv: string[]): Promise<number> {
  let config: RunnerConfig
  let args: CliArgs
  try {
    config = parseRunnerConfig(process.env)
  } catch (error) {
    process.stderr.write(`etl: ${(error as Error).message}\n`)
    return 1
  }
  try {
    args = parseCliArgs(argv, config.TZ_TIENDAS)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`etl: ${error.message}\n${USAGE}\n`)
    return 2
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  // Logs go to stderr and only from warn up unless LOG_LEVEL asks: stdout is for the person.
  const logger = createLogger(process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn', { name: 'etl-cli', stderr: true })
  const db = connect(config.DATABASE_URL, { applicationName: 'fluxion-etl-cli', max: config.ETL_CONCURRENCY + 3 })
  const abort = new AbortController()
  const out = (line = '') => process.stdout.write(`${line}\n`)
  onInterrupt(abort, out)
  let boss: PgBoss | undefined
  try {
    const unknown = await unknownStores(db, args.tiendaIds ?? [])
    if (unknown.length > 0) {
      process.stderr.write(`etl: --tiendas: ${unknown.join(', ')} is not an active store\n${USAGE}\n`)
      return 2
    }
    // Deliveries are retried by whichever runner works the alert-delivery queue, after this process exits.
    if (config.ALERT_WEBHOOK_URL) {
      boss = createBoss(config.DATABASE_URL, {
        schedule: false,
        supervise: false,
        applicationName: 'fluxion-etl-cli-boss',
      })
      await boss.start()
    }
    const ctx: Ctx = { db, config, logger, signal: abort.signal, out, boss }
    const triggeredBy = detectTriggeredBy(process.env, { recoveryMode: args.recoveryMode })
    if (args.recoveryMode) return await recover(ctx, args)
    const tiendaIds = args.tiendaIds ?? (await listActiveTiendaIds(db, args.etlName))
    if (tiendaIds.length === 0) {
      out('no hay tiendas activas: nada que ejecutar (no active stores)')
      return 1
    }
    const etlType = triggeredBy === 'eventbridge' ? 'scheduled' : 'manual'
    const row = await runOnce(ctx, {
      etlName: args.etlName,
      tiendaIds,
      desde: args.desde,
      hasta: args.hasta,
      triggeredBy,
      etlType,
    })
    return row.status === 'failed' ? 1 : 0
  } finally {
    await boss?.stop({ graceful: false }).catch(() => {})
    await db.end({ timeout: 5 })
  }
}

/** DESIGN §12: recovers the pending gaps overlapping --tiendas/--desde/--hasta, one run per failed execution. */
async function recover(ctx: Ctx, args: CliArgs): Promise<number> {
  const etlName: EtlName = args.etlName
  const gaps = await findPendingGaps(ctx.db, {
    etlName,
    tiendaIds: args.tiendaIds,
    desde: args.desde,
    hasta: args.hasta,
  })
  if (gaps.length === 0) {
    ctx.out(`no hay gaps de ${etlName} que recuperar (no gaps to recover); no se registró ninguna ejecución`)
    return 0
  }
  const groups = groupGaps(gaps)
  ctx.out(
    `${gaps.length} gap(s) de ${etlName} en ${groups.length} ejecución(es) fallida(s): ${groups.map((g) => `#${g.gapId}`).join(', ')}`,
  )
  let exit = 0
  for (const g of groups) {
    if (ctx.signal.aborted) break
    // An earlier recovery run of this loop may have loaded the same store and window already.
    const pending = (await findPendingGaps(ctx.db, { etlName, tiendaIds: g.tiendaIds }))
      .filter((p) => p.gap_id === g.gapId)
      .map((p) => p.tienda_id)
    if (pending.length === 0) {
      ctx.out(`\n#${g.gapId}: ya recuperado por la ejecución anterior`)
      continue
    }
    ctx.out(`\nrecuperando #${g.gapId}: ${pending.join(', ')}`)
    const row = await runOnce(ctx, {
      etlName,
      tiendaIds: pending,
      desde: g.desde,
      hasta: g.hasta,
      triggeredBy: 'recovery',
      etlType: 'recovery',
      recoveredGapId: g.gapId,
    })
    if (row.status === 'failed') exit = 1
  }
  return exit
}

async function runOnce(ctx: Ctx, request: RunRequest) {
  const { db, config, logger, signal, out, boss } = ctx
  const onWait = (busy: string[]) =>
    out(`esperando: otra ejecución de ${request.etlName} está cargando ${busy.join(', ')}…`)
  const row = await withStoreLocks(db, request.etlName, request.tiendaIds, { signal, onWait }, async () => {
    const view = createProgressView(request.tiendaIds)
    try {
      // worker_id names this process, so a reaped CLI run says whose it was.
      const workerId = `cli@${hostname()}:${process.pid}`
      return await runEtl({ db, config, logger, workerId, boss }, { ...request, onProgress: view.onProgress, signal })
    } finally {
      view.stop()
    }
  })
  const summary = await loadSummary(db, row.id)
  out()
  out(
    `Ejecución #${row.id} ${row.etl_name} (${row.triggered_by}) — ${estado(row.status)}: ` +
      `${row.tiendas_exitosas} ✓ / ${row.tiendas_fallidas} ✗${row.tiendas_cerradas ? ` / ${row.tiendas_cerradas} cerrada(s)` : ''} ` +
      `de ${row.tiendas_count} tiendas en ${Number(row.duration_seconds ?? 0).toFixed(2)} s`,
  )
  out(formatSummary(summary))
  if (row.status === 'partial') out(`Parcial: ${row.tiendas_fallidas} tienda(s) fallaron; el resto se cargó (exit 0).`)
  if (row.status === 'failed')
    out(`Fallida: ${row.error_phase ?? '?'}/${row.error_category ?? '?'} — ${row.error_message ?? ''}`)
  return row
}

async function unknownStores(db: Sql, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await db<{ id: string }[]>`
    select t as id from unnest(${ids}::text[]) t
    where not exists (select 1 from tiendas where id = t and active)`
  return rows.map((r) => r.id)
}

/** Ctrl-C: the run finishes the stores in hand and records itself; a second Ctrl-C quits at once. */
function onInterrupt(abort: AbortController, out: (line: string) => void) {
  let firstAt = 0
  const handler = (signal: NodeJS.Signals) => {
    // npm forwards the terminal's Ctrl-C to us as well: a copy within 2 s is the same request.
    if (firstAt && Date.now() - firstAt < 2000) return
    if (firstAt) process.exit(130)
    firstAt = Date.now()
    out(`\ninterrumpido (${signal}): terminando las tiendas en curso; otra vez para salir ya`)
    abort.abort(new Error(`interrupted by ${signal}`))
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`etl: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
