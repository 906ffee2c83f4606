// The history list's queries are index-backed for any single filter, on page 1 and deep pages:
// EXPLAIN shows no sequential scan of the executions or their store rows and no Sort but of a
// page's worth of rows. (The bench checks the same at 1M executions; see scripts/bench-api.ts.)
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBulkHistory } from '../../../scripts/bench/history-data.ts'
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.ts'
import { explainHistory, type PlanNode, planProblems } from '../../../test/helpers/explain.ts'

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
})
