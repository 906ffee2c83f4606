// The history API on monthly partitions (migrations/085) beside the same history in plain tables
// (the schema at 080), as ratios (issue 12, item 4): list, detail, stats and gaps p50/p95, and, for
// the page-1 list, stats dias=7 and the detail, what a statement costs before it reads a row —
// planning time, the partitions in its plan, and the locks its backend holds until the transaction
// ends. Ten years are 121 monthly partitions with every index of the table each: a statement that
// does not name its months is planned over all of them and locks all of them.
//
// Per layout (the same executions spread over ten years, then over 13 months) two throwaway
// databases seeded alike (history-data.ts, same `now`): one partitioned (every migration), one
// unpartitioned. throwaway-db.ts migrates every database to the newest version, so the
// unpartitioned one is that database rolled back through 085's DOWN (the schema at 080: the same
// tables, indexes, triggers and view definitions as a database migrated up to 080 only). The API
// of this release calls etl_may_have_started_since in its windowed reads (stats, gaps): the
// unpartitioned database gets that function and the two it calls, as 085 defines them (always true
// there: its ids are sequence numbers), and every later migration's UP (090's day counts, 091's
// reruns function: none depends on partitions), so both databases run the very same statements.

import postgres, { type Sql } from 'postgres'
import { buildApp } from '../../history-api/src/app.ts'
import { signToken } from '../../history-api/src/auth.ts'
import { connect } from '../../history-api/src/db.ts'
import { testAuth } from '../../test/helpers/api.ts'
import { type PlanNode, tableOf } from '../../test/helpers/explain.ts'
import { loadMigrations, migrateDown } from '../lib/migrations.ts'
import { loadBulkHistory } from './history-data.ts'
import { interrupted } from './interrupt.ts'
import { createThrowawayDb, type ThrowawayDb } from './throwaway-db.ts'
import { round, type Times, times } from './times.ts'

export type PartitionsBenchOptions = {
  executions: number
  tiendasPerExecution: number
  /** Measured iterations per request and database (after a warm-up of up to 20). */
  iterations: number
  layouts: { label: string; days: number }[]
  log: (line: string) => void
}

export type PartitionsRequest = {
  layout: string
  request: string
  n: number
  unpartitioned: Times
  partitioned: Times
  /** partitioned p95 / unpartitioned p95. */
  ratio_p95: number
}

type StatementCost = {
  planning_ms: number
  /** Partitions of etl_executions / etl_execution_details in the plan (EXPLAIN ANALYZE: a custom plan). */
  executions_partitions: number
  details_partitions: number
  /** Locks the backend holds inside a transaction right after running the statement. */
  locks: number
  /** What the plan cache used for the statement, prepared and run 10 times on one connection. */
  plans: string
}

export type PartitionsStatement = {
  layout: string
  statement: string
  partitioned: StatementCost
  unpartitioned: StatementCost
}

export type PartitionsLayout = {
  layout: string
  days: number
  executions: number
  store_rows: number
  months_with_rows: number
  partitions: { executions: number; details: number }
  indexes_per_partition: { executions: number; details: number }
  seed_s: { unpartitioned: number; partitioned: number }
}

const TZ = 'America/Caracas'

/** The same request on both databases, alternating which goes first: load on the machine hits both alike. */
async function measurePair(a: () => Promise<void>, b: () => Promise<void>, n: number) {
  for (let i = 0; i < Math.min(20, n); i++) {
    await a()
    await b()
  }
  const ta: number[] = []
  const tb: number[] = []
  const timed = async (fn: () => Promise<void>, into: number[]) => {
    const t = performance.now()
    await fn()
    into.push(performance.now() - t)
  }
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      await timed(b, tb)
      await timed(a, ta)
    } else {
      await timed(a, ta)
      await timed(b, tb)
    }
  }
  return [times(ta), times(tb)] as const
}

/** 085's definitions of etl_may_have_started_since (and the two functions it calls), etl_gaps_since and etl_history_retention, from the migration itself. */
async function startedSinceFunctions(): Promise<string[]> {
  const m = (await loadMigrations()).find((x) => x.version === '085')
  if (!m) throw new Error('migrations/085 not found')
  // etl_history_retention: 090 wraps it (never called on the plain side).
  const names = [
    'etl_month_first_id',
    'etl_first_id_started_since',
    'etl_may_have_started_since',
    'etl_gaps_since',
    'etl_history_retention',
  ]
  return names.map((name) => {
    const def = new RegExp(`CREATE FUNCTION ${name}\\([\\s\\S]*?\\$\\$;`).exec(m.up)?.[0]
    if (!def) throw new Error(`migrations/085 no longer defines ${name} as this bench reads it`)
    return def
  })
}

type Side = { db: ThrowawayDb; api: Sql; app: ReturnType<typeof buildApp>; token: string; seed_s: number }

async function prepare(which: 'unpartitioned' | 'partitioned', o: PartitionsBenchOptions, days: number, now: Date) {
  const db = await createThrowawayDb(which === 'partitioned' ? 'partmonthly' : 'partplain')
  try {
    if (which === 'unpartitioned') {
      await migrateDown(db.sql, '085')
      for (const def of await startedSinceFunctions()) await db.sql.unsafe(def)
      // The migrations after 085 do not depend on partitions (the list's day counts, the reruns'
      // function): both sides have them.
      for (const m of (await loadMigrations()).filter((x) => x.version > '085')) await db.sql.unsafe(m.up)
    }
    const [kind] = await db.sql<{ relkind: string; version: string }[]>`
      select relkind::text, (select max(version) from schema_migrations) as version
      from pg_class where oid = 'etl_executions'::regclass`
    // The two schemas the bench compares, or nothing: a partitioned table, or a plain one at 080.
    const expected = which === 'partitioned' ? 'p' : 'r'
    if (kind!.relkind !== expected || (which === 'unpartitioned' && kind!.version !== '080'))
      throw new Error(`${which} database: etl_executions is relkind ${kind!.relkind} at migration ${kind!.version}`)
    const t = Date.now()
    await loadBulkHistory(db.sql, {
      executions: o.executions,
      tiendasPerExecution: o.tiendasPerExecution,
      tiendas: Math.max(o.tiendasPerExecution, 19),
      days,
      now,
      rebuildIndexes: true,
      log: (line) => o.log(`    ${which}: ${line}`),
    })
    const seed_s = round((Date.now() - t) / 1000)
    // The API's own pool settings (history-api/src/db.ts: JIT off); its clock is the seed's `now`.
    const api = connect(db.url, { max: 4, applicationName: 'fluxion-bench-partitions' })
    const app = buildApp({ db: api, auth: testAuth, boss: { send: async () => null }, tz: TZ, clock: () => now })
    const token = (await signToken(testAuth, { sub: 'bench', role: 'super_admin' }, 3600, now)).token
    return { db, api, app, token, seed_s }
  } catch (error) {
    await db.drop()
    throw error
  }
}

async function release(side: Side | undefined) {
  if (!side) return
  await side.app.close()
  await side.api.end({ timeout: 5 })
  await side.db.drop()
}

const get = (side: Side, path: string) => async () => {
  const res = await side.app.request(path, { headers: { Authorization: `Bearer ${side.token}` } })
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
  await res.arrayBuffer()
}

function partitionsIn(node: PlanNode, into: Map<string, Set<string>>) {
  const rel = node['Relation Name']
  if (rel && tableOf(rel) !== rel) {
    const set = into.get(tableOf(rel)) ?? new Set<string>()
    set.add(rel)
    into.set(tableOf(rel), set)
  }
  for (const p of node.Plans ?? []) partitionsIn(p, into)
  return into
}

/**
 * The statements a GET of `path` runs on the history, captured as test/helpers/explain.ts's
 * explainRequest does (a pool whose `debug` hook records each statement and its parameters; the
 * capture is written here because that helper returns the plan only, not the planning time, and
 * uses the wall clock), then each one costed on the same connection.
 */
async function statementCosts(side: Side, path: string, now: Date): Promise<{ table: string; cost: StatementCost }[]> {
  const captured: { text: string; params: unknown[] }[] = []
  let capturing = true
  const sql = postgres(side.db.url, {
    max: 1,
    onnotice: () => {},
    connection: { jit: 'off' },
    debug: (_conn, text, params) => {
      if (capturing) captured.push({ text, params: params as unknown[] })
    },
  })
  try {
    const app = buildApp({ db: sql, auth: testAuth, boss: { send: async () => null }, tz: TZ, clock: () => now })
    const res = await app.request(path, { headers: { Authorization: `Bearer ${side.token}` } })
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
    await res.arrayBuffer()
    await app.close()
    capturing = false
    const costs: { table: string; cost: StatementCost }[] = []
    for (const { text, params } of captured) {
      if (/^\s*(explain|select 1$)/i.test(text)) continue
      if (!/etl_executions|etl_execution_details|etl_gaps/.test(text) || /from tiendas/.test(text)) continue
      const planning: number[] = []
      let plan: PlanNode | undefined
      for (let i = 0; i < 5; i++) {
        const [row] = await sql.unsafe(`explain (analyze, format json) ${text}`, params as never[])
        const out = (row!['QUERY PLAN'] as { Plan: PlanNode; 'Planning Time': number }[])[0]!
        planning.push(out['Planning Time'])
        plan = out.Plan
      }
      const parts = partitionsIn(plan!, new Map())
      // Prepared and run as the API's pool runs it (postgres.js prepares every statement): the plan
      // cache may turn to a generic plan after five runs, which prunes at execution, not planning.
      for (let i = 0; i < 9; i++) await sql.unsafe(text, params as never[], { prepare: true })
      const locks = await sql.begin(async (tx) => {
        await tx.unsafe(text, params as never[], { prepare: true })
        const [l] = await tx<{ n: number }[]>`select count(*)::int as n from pg_locks where pid = pg_backend_pid()`
        return l!.n
      })
      const [cache] = await sql<{ generic_plans: number; custom_plans: number }[]>`
        select generic_plans::int, custom_plans::int from pg_prepared_statements where statement = ${text}
        order by generic_plans + custom_plans desc limit 1`
      costs.push({
        table: /from (etl_\w+)/.exec(text)?.[1] ?? '?',
        cost: {
          planning_ms: round(planning.sort((a, b) => a - b)[2]!),
          executions_partitions: parts.get('etl_executions')?.size ?? 0,
          details_partitions: parts.get('etl_execution_details')?.size ?? 0,
          locks,
          plans: cache ? `${cache.custom_plans} custom, ${cache.generic_plans} generic` : '?',
        },
      })
    }
    return costs
  } finally {
    await sql.end({ timeout: 5 })
  }
}

export async function benchPartitions(o: PartitionsBenchOptions) {
  const layouts: PartitionsLayout[] = []
  const requests: PartitionsRequest[] = []
  const statements: PartitionsStatement[] = []
  for (const { label, days } of o.layouts) {
    if (interrupted()) break
    const now = new Date()
    o.log(`  ${label}: ${o.executions} executions × ${o.tiendasPerExecution} stores over ${days} days`)
    let plain: Side | undefined
    let monthly: Side | undefined
    try {
      plain = await prepare('unpartitioned', o, days, now)
      monthly = await prepare('partitioned', o, days, now)
      const [shape] = await monthly.db.sql<
        { executions: number; store_rows: number; months: number; ep: number; dp: number; ei: number; di: number }[]
      >`
        select (select count(*) from etl_executions)::int as executions,
          (select count(*) from etl_execution_details)::int as store_rows,
          (select count(distinct date_trunc('month', started_at, 'UTC')) from etl_executions)::int as months,
          (select count(*) from pg_inherits where inhparent = 'etl_executions'::regclass)::int as ep,
          (select count(*) from pg_inherits where inhparent = 'etl_execution_details'::regclass)::int as dp,
          (select count(*) from pg_index where indrelid = 'etl_executions'::regclass)::int as ei,
          (select count(*) from pg_index where indrelid = 'etl_execution_details'::regclass)::int as di`
      const layout = `${label} (${shape!.months} months)`
      layouts.push({
        layout,
        days,
        executions: shape!.executions,
        store_rows: shape!.store_rows,
        months_with_rows: shape!.months,
        partitions: { executions: shape!.ep, details: shape!.dp },
        indexes_per_partition: { executions: shape!.ei, details: shape!.di },
        seed_s: { unpartitioned: plain.seed_s, partitioned: monthly.seed_s },
      })
      // One execution from the middle of the span: the same one in both databases (ids differ).
      const middle = async (side: Side) => {
        const [row] = await side.db.sql<{ id: number }[]>`
          select id from etl_executions order by started_at, id offset ${Math.floor(o.executions / 2)} limit 1`
        return row!.id
      }
      const [plainMiddle, monthlyMiddle] = [await middle(plain), await middle(monthly)]
      const paths: [string, (id: number) => string][] = [
        ['history page 1', () => '/api/etl/history?limit=50'],
        ['history page 1000', () => '/api/etl/history?limit=50&offset=49950'],
        ['history status=failed page 1', () => '/api/etl/history?status=failed&limit=50'],
        ['history status=failed page 1000', () => '/api/etl/history?status=failed&limit=50&offset=49950'],
        ['history tienda page 1000', () => '/api/etl/history?tienda=tienda_007&limit=50&offset=49950'],
        ['detail, middle of the span', (id) => `/api/etl/history/${id}`],
        ['stats dias=7', () => '/api/etl/stats?dias=7'],
        ['stats dias=90', () => '/api/etl/stats?dias=90'],
        ['gaps pendiente dias=1 limit=201', () => '/api/etl/gaps?estado=pendiente&dias=1&limit=201'],
      ]
      for (const [request, path] of paths) {
        if (interrupted()) break
        const [u, p] = await measurePair(get(plain, path(plainMiddle)), get(monthly, path(monthlyMiddle)), o.iterations)
        requests.push({
          layout,
          request,
          n: o.iterations,
          unpartitioned: u,
          partitioned: p,
          ratio_p95: round(p.p95_ms / u.p95_ms),
        })
        o.log(`    ${request}: p95 ${u.p95_ms} → ${p.p95_ms} ms`)
      }
      const costed = ['history page 1', 'stats dias=7', 'detail, middle of the span']
      for (const [request, path] of paths.filter(([r]) => costed.includes(r))) {
        if (interrupted()) break
        const [u, p] = [
          await statementCosts(plain, path(plainMiddle), now),
          await statementCosts(monthly, path(monthlyMiddle), now),
        ]
        p.forEach((s, i) => {
          statements.push({
            layout,
            statement: p.length > 1 ? `${request}: ${s.table}` : request,
            partitioned: s.cost,
            unpartitioned: u[i]!.cost,
          })
        })
      }
    } finally {
      await release(monthly)
      await release(plain)
    }
  }
  return { layouts, requests, statements }
}
