// The history list's queries are index-backed for any single filter, on page 1 and deep pages:
// EXPLAIN shows no sequential scan of the executions or their store rows and no Sort but of a
// page's worth of rows. (The bench checks the same at 1M executions; see scripts/bench-api.ts.)
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBulkHistory } from '../../../scripts/bench/history-data.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { explainHistory, explainRequest, type PlanNode, planProblems } from '../../../test/helpers/explain.ts'

describe('history list query plans', () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createTestDatabase()
    await loadBulkHistory(database.sql, {
      executions: 30_000,
      tiendasPerExecution: 5,
      tiendas: 19,
      days: 120,
      now: new Date(),
    })
  })
  afterAll(async () => {
    await database?.drop()
  })

  const filters: [string, Record<string, string>][] = [
    ['no filter', {}],
    ['etl_name', { etl_name: 'inventario' }],
    ['status', { status: 'failed' }],
    ['triggered_by', { triggered_by: 'cli' }],
    ['error_phase', { error_phase: 'load' }],
    ['error_category', { error_category: 'pg_timeout' }],
    ['tienda', { tienda: 'tienda_007' }],
    ['fecha_desde', { fecha_desde: '2020-01-01' }],
    ['fecha_hasta', { fecha_hasta: '2099-01-01' }],
  ]

  it('uses an index in list order for every single filter, first and deep page', async () => {
    const problems: string[] = []
    for (const [label, query] of filters) {
      for (const offset of [0, 1000]) {
        const plans = await explainHistory(database.url, { ...query, limit: '50', offset: String(offset) })
        expect(plans.length, label).toBeGreaterThan(0)
        for (const { text, plan } of plans) {
          problems.push(...planProblems(plan as PlanNode, 200).map((p) => `${label} offset ${offset}: ${p}\n${text}`))
        }
      }
    }
    expect(problems).toEqual([])
  })

  it('sorts by duration and records, both ways, are index scans too (no filter, the ETL, one or several statuses)', async () => {
    const problems: string[] = []
    const sorts = ['started_at', '-duration_seconds', 'duration_seconds', '-records_loaded', 'records_loaded']
    const sortFilters: [string, Record<string, string>][] = [
      ['no filter', {}],
      ['etl_name', { etl_name: 'inventario' }],
      ['status', { status: 'failed' }],
      ['several statuses', { status: 'failed,partial' }],
    ]
    for (const sort of sorts) {
      for (const [label, query] of sortFilters) {
        for (const offset of [0, 1000]) {
          const plans = await explainHistory(database.url, { ...query, sort, limit: '50', offset: String(offset) })
          for (const { text, plan } of plans) {
            problems.push(
              ...planProblems(plan, 200).map((p) => `${label} sort=${sort} offset ${offset}: ${p}\n${text}`),
            )
          }
        }
      }
    }
    expect(problems).toEqual([])
  })

  it('counts come from the kept counters for single filters', async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} })
    try {
      const [{ n }] = (await sql`select n::int from etl_execution_counts where dim = 'all'`) as unknown as [
        { n: number },
      ]
      expect(n).toBe(30_000)
      const [{ c }] = (await sql`select count(*)::int as c from etl_executions where status = 'failed'`) as unknown as [
        { c: number },
      ]
      const [{ k }] =
        (await sql`select n::int as k from etl_execution_counts where dim = 'status' and val = 'failed'`) as unknown as [
          { k: number },
        ]
      expect(k).toBe(c)
    } finally {
      await sql.end()
    }
  })

  // GET /api/etl/gaps decides "recovered since?" per failed store row it reads (the etl_gaps view's
  // lateral). The panel's call names a window (dias): only the failed store rows of executions started
  // in it may reach that test, however long the history — counted from EXPLAIN ANALYZE's loops.
  it("the panel's pending gaps read only the window's failed store rows, not every failure ever", async () => {
    const lateralLoops = async (path: string, opts: { indexed: boolean }) => {
      const plans = await explainRequest(database.url, path, { analyze: true })
      expect(plans).toHaveLength(1)
      const { plan } = plans[0]!
      // Unbounded, the call reads every failure ever: a month small enough may rightly be scanned whole
      // (PostgreSQL 18 does so for this test's current month); only the windowed call must stay on indexes.
      if (opts.indexed) expect(planProblems(plan, Number.POSITIVE_INFINITY), path).toEqual([])
      // The lateral is the only Limit run more than once; its loops are the store rows it judged.
      const limits: PlanNode[] = []
      const walk = (n: PlanNode) => {
        if (n['Node Type'] === 'Limit' && (n['Actual Loops'] ?? 0) > 1) limits.push(n)
        for (const c of n.Plans ?? []) walk(c)
      }
      walk(plan)
      expect(limits, path).toHaveLength(1)
      return limits[0]!['Actual Loops']!
    }
    const sql = postgres(database.url, { max: 1, onnotice: () => {} })
    try {
      const failedSince = async (days: number | null) => {
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from etl_execution_details d join etl_executions e on e.id = d.execution_id
          where d.status = 'failed' and e.etl_name = 'ventas' and e.status in ('failed', 'partial', 'cancelled')
            ${days ? sql`and e.started_at >= now() - make_interval(days => ${days})` : sql``}`
        return row!.n
      }
      const windowed = await lateralLoops('/api/etl/gaps?etl_name=ventas&estado=pendiente&dias=7&limit=201', {
        indexed: true,
      })
      const inWindow = await failedSince(7)
      const ever = await failedSince(null)
      expect(inWindow).toBeGreaterThan(0)
      // A few rows may start or leave the window between the count and the request (a second apart).
      expect(Math.abs(windowed - inWindow)).toBeLessThanOrEqual(10)
      expect(ever).toBeGreaterThan(10 * inWindow)
      // Unbounded, the same question judges every failed store row of the history.
      expect(await lateralLoops('/api/etl/gaps?etl_name=ventas&estado=pendiente', { indexed: false })).toBe(ever)
    } finally {
      await sql.end()
    }
  })
})
