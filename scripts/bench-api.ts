// node scripts/bench-api.ts (via npx, Node 24) — the history API's targets of DESIGN §10 at scale.
// What it measures and its settings: USAGE below (`--help` prints it). Not a test: numbers depend on
// the machine.
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import path from 'node:path'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { isDeepStrictEqual, parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { PgBoss } from 'pg-boss'
import type { Sql } from 'postgres'
import { buildApp } from '../history-api/src/app.ts'
import { signToken } from '../history-api/src/auth.ts'
import { connect } from '../history-api/src/db.ts'
import { TEST_SECRET, testAuth } from '../test/helpers/api.ts'
import { explainHistory, planProblems } from '../test/helpers/explain.ts'
import { planNumbers } from '../test/helpers/plan-stats.ts'
import { loadBulkHistory } from './bench/history-data.ts'
import { exitOnError, onInterrupt } from './bench/interrupt.ts'
import { printTable } from './bench/table.ts'
import { createThrowawayDb, reapLeftovers } from './bench/throwaway-db.ts'
import { times as summary } from './bench/times.ts'
import { describeUrl } from './lib/database-url.ts'
import { migrateUp } from './lib/migrations.ts'
import { reservePort } from './lib/reserved-port.ts'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const out = (line = '') => process.stdout.write(`${line}\n`)
const EXECUTIONS = env('BENCH_API_EXECUTIONS', 1_000_000)
const STORES = env('BENCH_API_STORES', 20)
const ITERATIONS = env('BENCH_API_ITERATIONS', 200)
const TZ = 'America/Caracas'

type Measure = { what: string; n: number; p50_ms: number; p95_ms: number; max_ms: number }

async function measure(what: string, fn: () => Promise<void>, n = ITERATIONS): Promise<Measure> {
  for (let i = 0; i < Math.min(20, n); i++) await fn()
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  return { what, n, ...summary(times) }
}

const table = (rows: Record<string, string | number>[]) => printTable(rows, out)

/**
 * This process's garbage-collection pauses until the returned function is called, as one line: the
 * in-process API's share of the p95s above (a scavenge that copies megabytes stalls every request
 * in flight; see scripts/patches/postgres+3.4.9.patch).
 */
function watchGc(): () => string {
  const pauses = { scavenges: [] as number[], 'mark-compacts': [] as number[] }
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.scavenges.push(e.duration)
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) pauses['mark-compacts'].push(e.duration)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return () => {
    observer.disconnect()
    return Object.entries(pauses)
      .map(([what, ms]) => {
        const t = summary(ms)
        return `${ms.length} ${what} (p50 ${t.p50_ms}, p95 ${t.p95_ms}, max ${t.max_ms} ms)`
      })
      .join(', ')
  }
}

async function seed(sql: Sql, now: Date) {
  const [{ n }] = (await sql`select count(*)::int as n from etl_executions`) as unknown as [{ n: number }]
  if (n >= EXECUTIONS) {
    out(`reusing ${n} executions`)
    return
  }
  const t = Date.now()
  await loadBulkHistory(sql, {
    executions: EXECUTIONS,
    tiendasPerExecution: STORES,
    tiendas: Math.max(STORES, 19),
    days: env('BENCH_API_DAYS', 365),
    now,
    rebuildIndexes: true,
    log: (line) => out(`  ${line}`),
  })
  // One run over 200 stores, for the detail target; written with triggers on, like the runner.
  await sql`
    insert into tiendas (id, nombre, source_system, host, port)
    select format('tienda_%s', lpad(n::text, 3, '0')), format('TIENDA %s', n), 'klk', '127.0.0.1', 18000 + n
    from generate_series(1, 200) n on conflict (id) do nothing`
  await sql`
    with e as (
      insert into etl_executions (etl_name, status, started_at, finished_at, duration_seconds, triggered_by, tiendas_count,
        tiendas_exitosas, tiendas_fallidas, error_phase, error_category)
      values ('ventas', 'partial', now() - interval '2 days', now() - interval '2 days' + interval '95 seconds', 95, 'cli', 200,
        199, 1, 'extract', 'vpn_timeout')
      returning id)
    insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
      finished_at, duration_seconds, records_extracted, records_loaded, attempts, error_phase, error_category)
    select e.id, format('tienda_%s', lpad(n::text, 3, '0')), format('TIENDA %s', n), 'klk',
      case when n = 8 then 'failed' else 'success' end, now() - interval '2 days', now() - interval '2 days',
      2.3, 1250, 1248, 1, case when n = 8 then 'extract' end, case when n = 8 then 'vpn_timeout' end
    from e, generate_series(1, 200) n`
  out(`seeded in ${Math.round((Date.now() - t) / 1000)} s`)
}

async function installBoss(url: string) {
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', max: 2, supervise: false, schedule: false })
  await boss.start()
  for (const name of ['etl-ventas', 'etl-inventario']) await boss.createQueue(name, { policy: 'singleton' })
  await boss.stop({ graceful: false })
}

/**
 * The list over HTTP from a history-api process, with its kept responses (the default,
 * HISTORY_API_CACHE_MB=64: answered from memory until the history changes) or without (0: every
 * request reads PostgreSQL); `changesPerSecond` > 0 writes to the newest execution meanwhile, as a
 * run in progress does (each change drops every kept response).
 */
async function overHttp(sql: Sql, url: string, token: string, cacheMb: number, changesPerSecond = 0) {
  // Held while the API runs (reserved-port.ts): a random guess could be taken by anything.
  const reserved = await reservePort()
  const port = reserved.port
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'history-api', 'src', 'main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      HISTORY_API_PORT: String(port),
      HISTORY_API_HOST: '127.0.0.1',
      HISTORY_API_CACHE_MB: String(cacheMb),
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const unregister = onInterrupt(() => child.kill('SIGTERM'))
  try {
    const base = `http://127.0.0.1:${port}`
    for (let i = 0; ; i++) {
      if (
        await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break
      if (i > 100) throw new Error('history-api did not become ready')
      await new Promise((r) => setTimeout(r, 200))
    }
    const results = []
    const [newest] = await sql<{ id: number }[]>`select max(id) as id from etl_executions`
    let writing = true
    const writer = (async () => {
      while (writing && changesPerSecond > 0) {
        await sql`update etl_executions set records_loaded = records_loaded where id = ${newest!.id}`
        await new Promise((r) => setTimeout(r, 1000 / changesPerSecond))
      }
    })()
    for (const query of ['limit=50', 'status=failed&limit=50']) {
      const r = await autocannon({
        url: `${base}/api/etl/history?${query}`,
        connections: env('BENCH_API_CONNECTIONS', 20),
        duration: env('BENCH_API_SECONDS', 10),
        headers: { authorization: `Bearer ${token}` },
      })
      results.push({
        url: `/api/etl/history?${query}`,
        kept: cacheMb > 0 ? 'yes' : 'no',
        'changes/s': changesPerSecond,
        connections: r.connections,
        'req/s': Math.round(r.requests.average),
        'p50 ms': r.latency.p50,
        'p99 ms': r.latency.p99,
        errors: r.errors + r.timeouts,
        non2xx: r.non2xx,
      })
    }
    writing = false
    await writer
    return results
  } finally {
    unregister()
    child.kill('SIGTERM')
    reserved.release()
  }
}

const USAGE = `npm run bench:api [-- --help]

The history API's targets of DESIGN §10 at scale: the history list (page 1 and 1000 of every filter),
the 200-store detail, the statistics (beside the plan's SQL, numbers compared), EXPLAIN of every list
statement and the list over HTTP. Seeds a throwaway database on DATABASE_URL's server (dropped at the
end, also on Ctrl-C) unless BENCH_API_DB names one to reuse. Settings are environment variables:
  BENCH_API_EXECUTIONS (1000000)  BENCH_API_STORES (20)  BENCH_API_DAYS (365)  BENCH_API_ITERATIONS (200)
  BENCH_API_CONNECTIONS (20)  BENCH_API_SECONDS (10)  BENCH_API_DB (a database URL to seed once and keep)
  BENCH_API_KEEP=1 (keep the throwaway database)  BENCH_API_SEED_ONLY=1
  BENCH_API_ONLY=lists,detail,stats (any of them: only those latencies, no EXPLAIN, CSV or HTTP)`

/** The latencies BENCH_API_ONLY can choose. */
const PARTS = ['lists', 'detail', 'stats'] as const

async function main() {
  // Options are environment variables; an argument is --help or a mistake (not a reason to seed 7 GB).
  try {
    if (parseArgs({ options: { help: { type: 'boolean', short: 'h' } } }).values.help) return out(USAGE)
  } catch (e) {
    process.stderr.write(`bench:api: ${(e as Error).message}\n\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  // Checked before a database is created or seeded.
  const only = new Set((process.env.BENCH_API_ONLY ?? '').split(',').filter(Boolean))
  const unknown = [...only].filter((o) => !(PARTS as readonly string[]).includes(o))
  if (unknown.length) {
    process.stderr.write(`bench:api: BENCH_API_ONLY names ${unknown.join(', ')}; the parts are ${PARTS.join(', ')}\n`)
    process.exitCode = 2
    return
  }
  const wants = (part: (typeof PARTS)[number]) => only.size === 0 || only.has(part)
  const reuse = process.env.BENCH_API_DB
  await reapLeftovers(out)
  // A kept database (BENCH_API_KEEP) is marked so that no later start reaps it.
  const db = reuse
    ? { url: reuse, drop: async () => {} }
    : await createThrowawayDb('api', { keep: Boolean(process.env.BENCH_API_KEEP) })
  // The API's own pool settings (history-api/src/db.ts), e.g. JIT off.
  const sql = connect(db.url, { max: 8, applicationName: 'fluxion-bench-api' })
  out(`bench:api on ${describeUrl(db.url)} · ${cpus().length} CPU · node ${process.version}`)
  try {
    if (reuse) await migrateUp(sql)
    const now = new Date()
    await seed(sql, now)
    const [scale] = await sql`
      select (select count(*) from etl_executions)::int as executions, (select count(*) from etl_execution_details)::int as store_rows`
    out(`scale: ${scale!.executions} executions, ${scale!.store_rows} store rows`)
    if (process.env.BENCH_API_SEED_ONLY) return
    const [big] =
      await sql`select execution_id as id from etl_execution_details group by 1 having count(*) >= 200 limit 1`

    const app = buildApp({ db: sql, auth: testAuth, boss: { send: async () => null }, tz: TZ })
    const token = (await signToken(testAuth, { sub: 'bench', role: 'super_admin' }, 3600, new Date())).token
    const get = (p: string) => async () => {
      const res = await app.request(p, { headers: { Authorization: `Bearer ${token}` } })
      if (res.status !== 200) throw new Error(`${p} answered ${res.status}: ${await res.text()}`)
      await res.arrayBuffer()
    }
    const filters = [
      '',
      'etl_name=inventario',
      'status=failed',
      'triggered_by=cli',
      'error_phase=load',
      'error_category=pg_timeout',
      'tienda=tienda_007',
      'fecha_desde=2025-01-01',
    ]
    const gc = watchGc()
    // The machine's own jitter, beside every p95 below: one round trip that does nothing.
    const measures: Measure[] = [await measure('baseline: select 1 (a round trip)', () => sql`select 1`.then(() => {}))]
    for (const f of wants('lists') ? filters : []) {
      for (const page of [1, 1000]) {
        const q = `${f ? `${f}&` : ''}limit=50&offset=${(page - 1) * 50}`
        measures.push(await measure(`history ${f || '(no filter)'} page ${page}`, get(`/api/etl/history?${q}`)))
      }
    }
    // Issue 13's list ergonomics: the new orders (index-backed alone, under the ETL and under one or
    // several statuses), several statuses, the id search; and, not index-backed, orders under the
    // other filters, measured so their cost is known.
    const [probe] =
      await sql`select id from etl_executions order by id limit 1 offset ${Math.floor(scale!.executions / 2)}`
    const ergonomics = [
      'sort=-duration_seconds',
      'sort=records_loaded',
      'sort=started_at',
      'status=failed,partial',
      'status=failed,partial&sort=-duration_seconds',
      'etl_name=inventario&sort=-duration_seconds',
      'status=failed&sort=records_loaded',
      `id=${probe!.id}`,
    ]
    const unbacked = [
      'triggered_by=cli&sort=-duration_seconds',
      'error_category=pg_timeout&sort=-records_loaded',
      'tienda=tienda_007&sort=-duration_seconds',
      'fecha_desde=2025-01-01&sort=-duration_seconds',
    ]
    for (const f of wants('lists') ? [...ergonomics, ...unbacked] : []) {
      for (const page of [1, 1000]) {
        if (f.startsWith('id=') && page > 1) continue
        const q = `${f}&limit=50&offset=${(page - 1) * 50}`
        const n = unbacked.includes(f) ? Math.min(ITERATIONS, 20) : ITERATIONS
        measures.push(await measure(`history ${f} page ${page}`, get(`/api/etl/history?${q}`), n))
      }
    }
    if (wants('detail')) {
      measures.push(await measure('detail, 200 stores', get(`/api/etl/history/${big!.id}`)))
      measures.push(await measure('freshness, every store × ETL', get('/api/etl/freshness')))
      // The ETL tab's pending gaps name a window (dias): the cost follows it, not the history. At the
      // seeded density (1M executions a year: 2,740 a day) one day holds what 1,000 stores × 72 runs a
      // day write in 38 days.
      measures.push(
        await measure(
          'gaps ventas pendiente dias=1 limit=201',
          get('/api/etl/gaps?etl_name=ventas&estado=pendiente&dias=1&limit=201'),
          Math.min(ITERATIONS, 50),
        ),
      )
    }
    if (wants('stats')) {
      measures.push(await measure('stats dias=7', get('/api/etl/stats?dias=7')))
      measures.push(await measure('stats dias=90', get('/api/etl/stats?dias=90')))
      measures.push(await measure('stats dias=90 etl_name=ventas', get('/api/etl/stats?dias=90&etl_name=ventas')))
    }
    const gcPauses = gc()
    if (wants('stats')) {
      measures.push(
        await measure(
          'plan §6.2 SQL on the raw tables, dias=90',
          () => planNumbers(sql, new Date(), 90, null, TZ).then(() => {}),
          5,
        ),
      )
    }
    table(measures.map((m) => ({ ...m })))
    out(`garbage collection in this process while the API was measured: ${gcPauses}`)

    if (wants('stats')) {
      const statsNow = new Date()
      const statsApp = buildApp({
        db: sql,
        auth: testAuth,
        boss: { send: async () => null },
        tz: TZ,
        clock: () => statsNow,
      })
      const served = await (
        await statsApp.request('/api/etl/stats?dias=90', { headers: { Authorization: `Bearer ${token}` } })
      ).json()
      const plan = await planNumbers(sql, statsNow, 90, null, TZ)
      out(`\nstats dias=90 equals the plan's SQL on the raw tables: ${isDeepStrictEqual(served, plan)}`)
    }
    if (only.size) return

    // The CSV export streams from a cursor: rows per second and the bytes sent, status=failed.
    const t0 = performance.now()
    const csv = await app.request('/api/etl/history.csv?status=failed', {
      headers: { Authorization: `Bearer ${token}` },
    })
    let bytes = 0
    let lines = 0
    for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength
      for (const b of chunk) if (b === 10) lines++
    }
    const secs = (performance.now() - t0) / 1000
    out(
      `\nCSV export status=failed: ${lines - 1} rows, ${(bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(2)} s (${Math.round((lines - 1) / secs)} rows/s)`,
    )

    out('\nEXPLAIN of the list statements (no sequential scan of a big table, no sort beyond a page):')
    for (const f of [...filters, ...ergonomics, ...unbacked]) {
      for (const offset of [0, 49_950]) {
        const query = Object.fromEntries(new URLSearchParams(`${f}&limit=50&offset=${offset}`))
        const plans = await explainHistory(db.url, query)
        const problems = plans.flatMap((p) => planProblems(p.plan, 200))
        out(
          `  ${(f || '(no filter)').padEnd(26)} offset ${String(offset).padEnd(6)} ${problems.length ? problems.join('; ') : 'ok (index scans only)'}`,
        )
      }
    }

    out('\nhistory list over HTTP (history-api in a child process, autocannon):')
    await installBoss(db.url)
    table([
      ...(await overHttp(sql, db.url, token, 64)),
      ...(await overHttp(sql, db.url, token, 64, 20)),
      ...(await overHttp(sql, db.url, token, 0)),
    ])
  } finally {
    await sql.end()
    if (!reuse && !process.env.BENCH_API_KEEP) await db.drop()
  }
}

main().catch(exitOnError('bench:api'))
