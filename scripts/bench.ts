// npm run bench [-- --scale small] [-- --help] — the measured targets (DESIGN §10, issue 12), each
// beside its baseline in the same run. Every step runs in a throwaway database on DATABASE_URL's
// server (default: the local PostgreSQL), dropped at the end, on Ctrl-C/SIGTERM, or — after a
// SIGKILL — at the next start. Prints tables and writes .data/bench/latest.json. Not a test: the
// numbers depend on the machine.
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import path from 'node:path'
import { parseRunnerConfig } from '../runner/src/config.ts'
import { benchAlerts } from './bench/alerts.ts'
import { type BenchArgs, parseBenchArgs, USAGE, UsageError } from './bench/args.ts'
import { benchCapacity } from './bench/capacity.ts'
import { cronStepMinutes } from './bench/capacity-model.ts'
import { reportCapacity } from './bench/capacity-report.ts'
import { benchFanOut } from './bench/fan-out.ts'
import { exitOnError, onInterrupt } from './bench/interrupt.ts'
import { benchLoad, type LoadFn } from './bench/load.ts'
import { benchPartitions } from './bench/partitions.ts'
import { benchRun19 } from './bench/run19.ts'
import { printTable } from './bench/table.ts'
import { reapLeftovers, SERVER_URL } from './bench/throwaway-db.ts'
import { benchVpn, type VpnChain } from './bench/vpn.ts'
import { describeUrl } from './lib/database-url.ts'

const out = (line = '') => process.stdout.write(`${line}\n`)
const table = (rows: Record<string, string | number>[]) => printTable(rows, out)

async function realLoad(): Promise<LoadFn | null> {
  try {
    return (await import('./bench/runner-load.ts')).runnerLoad
  } catch (error) {
    out(`(runner load not available: ${(error as Error).message})`)
    return null
  }
}

async function load(a: BenchArgs) {
  out('\n(i) ventas load path')
  const result = await benchLoad(await realLoad(), { lines: a.loadLines, rowByRowLines: a.rowByRowLines })
  table(result.measures.map((m) => ({ method: m.method, lines: m.lines, seconds: m.seconds, 'rows/s': m.rows_per_s })))
  const by = (prefix: string) => result.measures.find((m) => m.method.startsWith(prefix))?.rows_per_s
  const [copy, runner, rowByRow] = [by('COPY'), by('runner'), by('row-by-row')]
  const ratios = {
    vs_copy: runner && copy ? Math.round((runner / copy) * 100) / 100 : null,
    vs_row_by_row: runner && rowByRow ? Math.round((runner / rowByRow) * 10) / 10 : null,
  }
  out(
    `runner load = ${ratios.vs_copy ?? '—'}× COPY (target ≥ 0.5) · ${ratios.vs_row_by_row ?? '—'}× row-by-row (target ≥ 30)`,
  )
  out(
    `row-by-row measured on ${result.measures.find((m) => m.method.startsWith('row-by-row'))?.lines} lines (rate compared, not total time)`,
  )
  out(`duplicates: ${result.duplicatesCheck}`)
  return { ...result, ratios }
}

async function run19(a: BenchArgs) {
  out('\n(ii) 19-store ventas run against the KLK simulator at loopback speed')
  const run = await benchRun19({ stores: 19, lines: a.run19Lines, addressBase: a.addressBase })
  table(
    run.runs.map((r) => ({
      ETL_CONCURRENCY: r.etl_concurrency,
      'wall s': r.wall_seconds,
      status: r.status,
      stores: r.stores,
      records_loaded: r.records_loaded,
    })),
  )
  const [c4, c1] = run.runs
  out(
    `${run.lines} lines · target ≤ 2 s wall at ETL_CONCURRENCY=4 · ${c4 && c1 ? `${Math.round((c4.wall_seconds / c1.wall_seconds) * 100) / 100}× the ETL_CONCURRENCY=1 wall` : ''}`,
  )
  return run
}

async function vpn(a: BenchArgs) {
  out(
    `\n(iii) ventas runs behind a modelled VPN: ${a.rttMs} ms RTT, ${a.bytesPerSecond / 1e6} MB/s per store, ${a.windowMin}-minute window`,
  )
  const chains = await benchVpn({
    storeCounts: a.vpnStores,
    concurrencyFor: a.vpnConcurrencyFor,
    rttMs: a.rttMs,
    bytesPerSecond: a.bytesPerSecond,
    windowMin: a.windowMin,
    addressBase: a.addressBase,
    stellarEvery: a.stellarEvery,
    repeatFor: a.vpnRepeatFor,
    log: out,
  })
  for (const chain of chains) {
    const bySystem = Object.entries(chain.ideal_by_system).map(([system, s]) => `${system} ${s} s`)
    out(
      `\n${chain.stores} stores, ${chain.lines} lines · ideal (slowest store alone, ${chain.ideal_store}) ${chain.ideal_s} s (${bySystem.join(', ')})`,
    )
    table(
      chain.runs.map((r) => ({
        ETL_CONCURRENCY: r.etl_concurrency,
        'wall s': r.wall_s,
        'wall/ideal': r.vs_ideal,
        'ideal×⌈n/c⌉ s': r.ideal_x_batches_s,
        'wall/(ideal×⌈n/c⌉)': r.vs_batches,
        'rows/s': r.rows_per_s,
        status: r.status,
        'peak RSS MB': r.rss_peak_mb,
        'RSS after warm-up MB': r.rss_after_warmup_mb,
      })),
    )
    // Issue 12's targets at the best concurrency (the lowest wall): 19 stores within 1.25× the
    // ideal; a large chain within 1.5× the ideal per batch of `concurrency` stores.
    const best = chain.runs.reduce((x, y) => (y.wall_s < x.wall_s ? y : x), chain.runs[0]!)
    if (best) {
      const [metric, value, target] =
        chain.stores <= 19 ? ['wall/ideal', best.vs_ideal, 1.25] : ['wall/(ideal×⌈n/c⌉)', best.vs_batches, 1.5]
      out(
        `best: ETL_CONCURRENCY=${best.etl_concurrency}, ${metric} ${value} (target ≤ ${target}) — ${value <= target ? 'met' : 'NOT met'}`,
      )
    }
  }
  rssComparison(chains)
  return chains
}

/** Peak RSS at the same concurrency across chain sizes: flat means independent of the store count. */
function rssComparison(chains: VpnChain[]) {
  if (chains.length < 2) return
  const [small, ...larger] = chains
  for (const big of larger) {
    const rows = big.runs.flatMap((r) => {
      const s = small!.runs.find((x) => x.etl_concurrency === r.etl_concurrency)
      return s
        ? [
            {
              ETL_CONCURRENCY: r.etl_concurrency,
              [`${small!.stores} stores MB`]: s.rss_peak_mb,
              [`${big.stores} stores MB`]: r.rss_peak_mb,
              ratio: Math.round((r.rss_peak_mb / s.rss_peak_mb) * 100) / 100,
            },
          ]
        : []
    })
    if (rows.length) {
      out(`\npeak RSS of the runner, ${big.stores} vs ${small!.stores} stores (1.0 = independent of the store count)`)
      table(rows)
    }
  }
}

async function fanout(a: BenchArgs) {
  out(
    `\n(v) one run, many runners: ${a.fanoutStores} stores behind the modelled VPN (${a.rttMs} ms RTT), ` +
      `one run worked by ${a.fanoutRunners.join(', ')} runner process(es) at ETL_CONCURRENCY=${a.fanoutConcurrency} each`,
  )
  const runs = await benchFanOut({
    stores: a.fanoutStores,
    runnerCounts: a.fanoutRunners,
    concurrency: a.fanoutConcurrency,
    rttMs: a.rttMs,
    bytesPerSecond: a.bytesPerSecond,
    windowMin: a.windowMin,
    // Its own addresses: the vpn section's fleet may still be closing.
    addressBase: a.addressBase.replace(/^127\.(\d+)\./, (_, b) => `127.${(Number(b) + 1) % 256}.`),
    log: out,
  })
  table(
    runs.map((r) => ({
      runners: r.runners,
      'wall s': r.wall_s,
      'wall vs 1 runner': r.vs_one_runner,
      "runners' CPU s": r.runner_cpu_s,
      'PostgreSQL CPU s': r.postgres_cpu_s,
      'CPU / (wall × cores)': r.cpu_share_of_cores,
      status: r.status,
      'stores ok': r.stores_ok,
      'parts per runner': r.parts_per_runner.join(' / '),
    })),
  )
  out(
    `CPU / (wall × cores): what the runners and PostgreSQL used of the machine's ${cpus().length} cores; the rest of the wall is waiting (VPN round trips, locks, other load)`,
  )
  return runs
}

async function alerts(a: BenchArgs) {
  out(
    `\n(vi) alert evaluation after a run (every kind), at ${a.alertStores.join(' and ')} stores, ` +
      `histories of ${a.alertRows.join(' and ')} store rows`,
  )
  const measures = await benchAlerts({
    detailRows: a.alertRows,
    storeCounts: a.alertStores,
    runsPerHour: 3,
    iterationsFor: (stores) => (stores <= 100 ? 200 : 30),
    log: out,
  })
  table(
    measures.map((m) => ({
      executions: m.executions,
      'store rows': m.detail_rows,
      'history days': m.history_days,
      stores: m.stores,
      evaluations: m.evaluations,
      'p50 ms': m.p50_ms,
      'p95 ms': m.p95_ms,
      'max ms': m.max_ms,
      "plan's 2 alone p50/p95 ms": `${m.plan_two_p50_ms} / ${m.plan_two_p95_ms}`,
      'open alerts': Object.entries(m.open_alerts)
        .map(([t, n]) => `${t} ${n}`)
        .join(', '),
    })),
  )
  const at19 = measures.filter((m) => m.stores <= 19)
  if (at19.length) {
    const worst = Math.max(...at19.map((m) => m.p95_ms))
    out(`p95 at ${at19[0]!.stores} stores: ${worst} ms (target < 50) — ${worst < 50 ? 'met' : 'NOT met'}`)
  }
  return measures
}

async function capacity(a: BenchArgs) {
  const config = parseRunnerConfig({})
  const cadence = cronStepMinutes(config.VENTAS_CRON) ?? 30
  out(
    `\n(vii) per store-run costs: ${a.capacityStores.join(' and ')} KLK stand-in stores at loopback speed, one runner ` +
      `at ETL_CONCURRENCY=${config.ETL_CONCURRENCY}; a ventas run ${cadence} min after the previous (${config.VENTAS_WINDOW_MIN}-min window), then inventario`,
  )
  const result = await benchCapacity({
    storeCounts: a.capacityStores,
    cadenceMin: cadence,
    addressBase: a.addressBase,
    log: out,
  })
  return { ...result, ...reportCapacity(result, { config, cadenceMin: cadence, out, table }) }
}

async function partitions(a: BenchArgs) {
  const started = Date.now()
  out(
    `\n(viii) history API on monthly partitions vs plain tables: ${a.partitionExecutions} executions × 20 store rows, ` +
      `over 10 years and over 13 months, ${a.partitionIterations} requests of each kind per database`,
  )
  const result = await benchPartitions({
    executions: a.partitionExecutions,
    tiendasPerExecution: 20,
    iterations: a.partitionIterations,
    layouts: [
      { label: '10 years', days: 3650 },
      { label: '13 months', days: 395 },
    ],
    log: out,
  })
  for (const l of result.layouts) {
    out(
      `${l.layout}: ${l.executions} executions, ${l.store_rows} store rows; partitioned: ${l.partitions.executions} + ` +
        `${l.partitions.details} partitions, ${l.indexes_per_partition.executions} + ${l.indexes_per_partition.details} ` +
        `indexes each; seeded in ${l.seed_s.unpartitioned} s (unpartitioned), ${l.seed_s.partitioned} s (partitioned)`,
    )
  }
  out()
  table(
    result.requests.map((r) => ({
      layout: r.layout,
      request: r.request,
      'unpartitioned p50/p95 ms': `${r.unpartitioned.p50_ms} / ${r.unpartitioned.p95_ms}`,
      'partitioned p50/p95 ms': `${r.partitioned.p50_ms} / ${r.partitioned.p95_ms}`,
      'ratio p95': r.ratio_p95,
    })),
  )
  out('ratio: partitioned p95 / unpartitioned p95 (same history, same process, requests alternated)')
  out()
  table(
    result.statements.map((s) => ({
      layout: s.layout,
      statement: s.statement,
      'planning ms': s.partitioned.planning_ms,
      'etl_executions partitions': s.partitioned.executions_partitions,
      'etl_execution_details partitions': s.partitioned.details_partitions,
      locks: s.partitioned.locks,
      'plan cache (10 runs)': s.partitioned.plans,
      'unpartitioned planning ms / locks / plan cache': `${s.unpartitioned.planning_ms} / ${s.unpartitioned.locks} / ${s.unpartitioned.plans}`,
    })),
  )
  out(
    'partitioned databases: planning time (median of 5 EXPLAIN ANALYZE), partitions in that plan, locks held in a ' +
      'transaction right after the statement (its 10th run on the connection, prepared as the API runs it; the count ' +
      "includes the transaction's own virtualxid and pg_locks' lock)",
  )
  const wall_s = Math.round((Date.now() - started) / 100) / 10
  out(`partitions section: ${wall_s} s wall`)
  return { ...result, wall_s }
}

/** bench-api.ts in its own process (it seeds millions of rows); a signal is passed on and awaited. */
function api(a: BenchArgs) {
  out('\n(iv) history API at scale (scripts/bench-api.ts)')
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'bench-api.ts')], {
    stdio: 'inherit',
    env: { ...a.apiEnv, ...process.env },
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const unregister = onInterrupt(async () => {
    child.kill('SIGTERM')
    await exited
  })
  return exited.then((code) => {
    unregister()
    if (code !== 0) throw new Error(`bench-api exited with ${code}`)
    return { exit_code: code }
  })
}

async function main() {
  const a = parseBenchArgs(process.argv.slice(2))
  if (a.help) {
    out(USAGE)
    return
  }
  const started = Date.now()
  out(`bench (${a.scale}) on ${describeUrl(SERVER_URL)} · ${cpus().length} CPU · node ${process.version}`)
  const reaped = await reapLeftovers(out)
  if (reaped.length) out(`dropped ${reaped.length} database(s) left by interrupted benchmarks`)
  const result: Record<string, unknown> = {
    at: new Date().toISOString(),
    scale: a.scale,
    server: describeUrl(SERVER_URL),
    cpus: cpus().length,
    node: process.version,
  }
  if (a.sections.has('load')) result.load = await load(a)
  if (a.sections.has('run19')) result.run19 = await run19(a)
  if (a.sections.has('vpn')) result.vpn = await vpn(a)
  if (a.sections.has('fanout')) result.fanout = await fanout(a)
  if (a.sections.has('api')) result.api = await api(a)
  if (a.sections.has('alerts')) result.alerts = await alerts(a)
  if (a.sections.has('capacity')) result.capacity = await capacity(a)
  if (a.sections.has('partitions')) result.partitions = await partitions(a)
  result.total_seconds = Math.round((Date.now() - started) / 100) / 10
  const dir = path.join(import.meta.dirname, '..', '.data', 'bench')
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
  out(`\nwritten .data/bench/latest.json (${result.total_seconds} s)`)
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`)
    process.exit(2)
  }
  exitOnError('bench')(error)
})
