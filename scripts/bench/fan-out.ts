// Benchmark (v): one run, many runners (issue 12). A chain of stores behind the modelled VPN, one
// ventas run queued the way the history API queues it, worked by 1, 2 and 4 real runner processes
// (`node runner/src/main.ts`, ETL_CONCURRENCY each). Wall is queue → close; the runners' CPU is read
// from /proc (user + system), so the table says how much of the wall was CPU and how much waiting.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import path from 'node:path'
import { createBoss } from '../../runner/src/jobs/boss.ts'
import { queueRun } from '../../scripts/lib/queue-run.ts'
import { insertStores, startFleetProcess } from './fleet-process.ts'
import { onInterrupt } from './interrupt.ts'
import { createThrowawayDb } from './throwaway-db.ts'

export type FanOutOptions = {
  stores: number
  runnerCounts: number[]
  concurrency: number
  rttMs: number
  bytesPerSecond: number
  windowMin: number
  addressBase: string
  log: (line: string) => void
}

export type FanOutRun = {
  runners: number
  etl_concurrency: number
  wall_s: number
  vs_one_runner: number
  runner_cpu_s: number
  /** CPU of the local PostgreSQL's processes over the run (0 when the server is elsewhere). */
  postgres_cpu_s: number
  /** Runners' and PostgreSQL's CPU over what the machine's cores could give in the wall: the rest is waiting. */
  cpu_share_of_cores: number
  status: string
  stores_ok: number
  parts_per_runner: number[]
}

const TOKEN = 'bench-fanout-token'
const DESDE = new Date('2026-11-02T12:00:00Z')
const ROOT = path.join(import.meta.dirname, '..', '..')
const TICKS = 100 // USER_HZ on Linux

/** User + system CPU of a process so far, from /proc (0 once it is gone). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS
}

/** CPU of every PostgreSQL process on this machine (the server the runs write to, when it is local). */
async function postgresCpuSeconds(): Promise<number> {
  const pids = (await readdir('/proc').catch(() => [])).filter((d) => /^\d+$/.test(d))
  let total = 0
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')
    if (comm.trim() === 'postgres') total += await cpuSeconds(Number(pid))
  }
  return total
}

/** A real runner process (`node runner/src/main.ts`), resolved once it logs that it started; `env` adds settings. */
export function startRunner(url: string, concurrency: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'runner/src/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      KLK_API_TOKEN: TOKEN,
      ETL_CONCURRENCY: String(concurrency),
      SOURCE_RETRIES: '0',
      VENTAS_CRON: 'off',
      INVENTARIO_CRON: 'off',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let output = ''
    child.stdout!.on('data', (b: Buffer) => {
      if (output.length < 4096) output += b.toString()
      if (/runner started/.test(output)) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`runner exited ${code} before it started: ${output}`)))
  })
}

export async function benchFanOut(o: FanOutOptions): Promise<FanOutRun[]> {
  const fleet = await startFleetProcess({
    count: o.stores,
    addressBase: o.addressBase,
    token: TOKEN,
    link: { rttMs: o.rttMs, bytesPerSecond: o.bytesPerSecond },
  })
  const runs: FanOutRun[] = []
  try {
    for (const n of o.runnerCounts) {
      const db = await createThrowawayDb('fanout')
      const runners: ChildProcess[] = []
      const stopRunners = async () => {
        for (const r of runners) r.kill('SIGTERM')
        await Promise.all(
          runners.map((r) => new Promise((done) => (r.exitCode === null ? r.once('exit', done) : done(null)))),
        )
      }
      const unregister = onInterrupt(stopRunners)
      const sender = createBoss(db.url, { schedule: false, supervise: false })
      try {
        await insertStores(db.sql, fleet.stores)
        await sender.start()
        for (let i = 0; i < n; i++) runners.push(await startRunner(db.url, o.concurrency))
        const cpuBefore = await Promise.all(runners.map((r) => cpuSeconds(r.pid!)))
        const pgBefore = await postgresCpuSeconds()
        const hasta = new Date(DESDE.getTime() + o.windowMin * 60_000)
        const started = performance.now()
        const id = await db.sql.begin((tx) =>
          queueRun(tx, sender, {
            etlName: 'ventas',
            etlType: 'manual',
            triggeredBy: 'fluxion_admin',
            tiendas: fleet.stores.map((s) => ({ id: s.tiendaId, source_system: s.sourceSystem })),
            desde: DESDE,
            hasta,
          }),
        )
        let row: { status: string; tiendas_exitosas: number } | undefined
        for (;;) {
          ;[row] = await db.sql<{ status: string; tiendas_exitosas: number }[]>`
            select status, tiendas_exitosas from etl_executions where id = ${id} and status not in ('queued', 'running')`
          if (row) break
          await new Promise((r) => setTimeout(r, 200))
        }
        const wall = (performance.now() - started) / 1000
        const cpuAfter = await Promise.all(runners.map((r) => cpuSeconds(r.pid!)))
        const cpu = cpuAfter.reduce((t, c, i) => t + c - cpuBefore[i]!, 0)
        const pgCpu = (await postgresCpuSeconds()) - pgBefore
        // pg-boss completes the closing part's job just after the part closed the run.
        let perRunner: { n: number }[] = []
        for (let i = 0; i < 20; i++) {
          perRunner = await db.sql<{ n: number }[]>`
            select count(*)::int as n from pgboss.job where name = 'etl-tienda' and state = 'completed'
            group by output->>'worker_id' order by 1 desc`
          if (perRunner.reduce((t, p) => t + p.n, 0) >= o.stores) break
          await new Promise((r) => setTimeout(r, 100))
        }
        const base = runs[0]?.wall_s ?? wall
        runs.push({
          runners: n,
          etl_concurrency: o.concurrency,
          wall_s: round(wall),
          vs_one_runner: round(wall / base),
          runner_cpu_s: round(cpu),
          postgres_cpu_s: round(pgCpu),
          cpu_share_of_cores: round((cpu + pgCpu) / (wall * cpus().length)),
          status: row.status,
          stores_ok: row.tiendas_exitosas,
          parts_per_runner: perRunner.map((p) => p.n),
        })
        o.log(
          `  ${n} runner(s): ${round(wall)} s, ${row.tiendas_exitosas}/${o.stores} stores, runners' CPU ${round(cpu)} s`,
        )
      } finally {
        await stopRunners()
        unregister()
        await sender.stop({ graceful: false }).catch(() => {})
        await db.drop()
      }
    }
  } finally {
    fleet.stop()
  }
  return runs
}

const round = (x: number) => Math.round(x * 100) / 100
