// The measured side of the VPN benchmark, one child process per measurement so that its peak RSS
// (getrusage's maxRSS, which only grows) belongs to that measurement alone. argv[2] is a VpnJob as
// JSON; prints one JSON line (VpnJobResult). A warm-up run (JIT, pools, first connects) comes first
// and is not reported; ventas is emptied before each measured run so every run loads everything.
import postgres from 'postgres'
import { runVentasOnce, type VentasOutcome } from './etl-once.ts'

export type VpnJob = {
  databaseUrl: string
  env: Record<string, string>
  desde: string
  hasta: string
  warmup: string[]
  runs: { concurrency: number; tiendaIds?: string[] }[]
}

export type VpnJobResult = { runs: VentasOutcome[]; rss_after_warmup_mb: number; rss_peak_mb: number }

const rssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

const job = JSON.parse(process.argv[2] ?? '{}') as VpnJob
const sql = postgres(job.databaseUrl, { max: 1, onnotice: () => {} })
try {
  const base = { databaseUrl: job.databaseUrl, env: job.env, desde: new Date(job.desde), hasta: new Date(job.hasta) }
  await runVentasOnce({ ...base, concurrency: 4, tiendaIds: job.warmup })
  const rssAfterWarmup = rssMb()
  const runs: VentasOutcome[] = []
  for (const run of job.runs) {
    await sql`truncate ventas`
    runs.push(await runVentasOnce({ ...base, ...run }))
  }
  const result: VpnJobResult = { runs, rss_after_warmup_mb: rssAfterWarmup, rss_peak_mb: rssMb() }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  await sql.end()
}
