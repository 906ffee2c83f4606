// npm run bench — the runner's measured targets (DESIGN §10), side by side in one run, each step in
// a throwaway database on DATABASE_URL's server (default: the local PostgreSQL), always dropped.
//   (i)  ventas load path vs plain COPY and vs row-by-row INSERT (same lines, same indexed table)
//   (ii) 19-store ventas run against the KLK simulator, ETL_CONCURRENCY=4 and =1
// Prints a table and writes .data/bench/latest.json. Not a test: numbers depend on the machine.
//   BENCH_LINES (500000)  BENCH_ROW_BY_ROW_LINES (20000)  BENCH_RUN_LINES (12500)
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import path from 'node:path'
import { benchLoad, type LoadFn } from './bench/load.ts'
import { benchRun19 } from './bench/run19.ts'
import { printTable } from './bench/table.ts'
import { SERVER_URL } from './bench/throwaway-db.ts'
import { describeUrl } from './lib/database-url.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const out = (line = '') => process.stdout.write(`${line}\n`)

async function realLoad(): Promise<LoadFn | null> {
  try {
    const mod = await import('./bench/runner-load.ts')
    return mod.runnerLoad
  } catch (error) {
    out(`(runner load not available: ${(error as Error).message})`)
    return null
  }
}

const table = (rows: Record<string, string | number>[]) => printTable(rows, out)

async function main() {
  const started = Date.now()
  out(`bench on ${describeUrl(SERVER_URL)} · ${cpus().length} CPU · node ${process.version}`)

  out('\n(i) ventas load path')
  const load = await benchLoad(await realLoad(), {
    lines: env('BENCH_LINES', 500_000),
    rowByRowLines: env('BENCH_ROW_BY_ROW_LINES', 20_000),
  })
  table(load.measures.map((m) => ({ method: m.method, lines: m.lines, seconds: m.seconds, 'rows/s': m.rows_per_s })))
  const by = (prefix: string) => load.measures.find((m) => m.method.startsWith(prefix))?.rows_per_s
  const [copy, runner, rowByRow] = [by('COPY'), by('runner'), by('row-by-row')]
  const ratios = {
    vs_copy: runner && copy ? Math.round((runner / copy) * 100) / 100 : null,
    vs_row_by_row: runner && rowByRow ? Math.round((runner / rowByRow) * 10) / 10 : null,
  }
  out(
    `runner load = ${ratios.vs_copy ?? '—'}× COPY (target ≥ 0.5) · ${ratios.vs_row_by_row ?? '—'}× row-by-row (target ≥ 30)`,
  )
  out(`row-by-row measured on ${env('BENCH_ROW_BY_ROW_LINES', 20_000)} lines (rate compared, not total time)`)
  out(`duplicates: ${load.duplicatesCheck}`)

  out('\n(ii) 19-store ventas run against the KLK simulator')
  const run = await benchRun19({ stores: 19, lines: env('BENCH_RUN_LINES', 12_500) })
  table(
    run.runs.map((r) => ({
      ETL_CONCURRENCY: r.etl_concurrency,
      'wall s': r.wall_seconds,
      status: r.status,
      stores: r.stores,
      records_loaded: r.records_loaded,
    })),
  )
  out(`${run.lines} lines in the window · target ≤ 2 s wall at ETL_CONCURRENCY=4`)

  const result = {
    at: new Date().toISOString(),
    server: describeUrl(SERVER_URL),
    cpus: cpus().length,
    node: process.version,
    load: { ...load, ratios },
    run19: run,
    total_seconds: Math.round((Date.now() - started) / 100) / 10,
  }
  const dir = path.join(import.meta.dirname, '..', '.data', 'bench')
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
  out(`\nwritten .data/bench/latest.json (${result.total_seconds} s)`)
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
