// EXPLAIN of the very statements the history API runs for a request: the request goes
// through the real app with a pool whose `debug` hook records each statement and its
// parameters, which are then explained one by one.
import postgres from 'postgres'
import { buildApp } from '../../history-api/src/app.ts'
import { testAuth, tokenFor } from './api.ts'

export type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Plan Rows': number
  'Total Cost'?: number
  /** EXPLAIN ANALYZE only. */
  'Actual Loops'?: number
  Plans?: PlanNode[]
}

const BIG_TABLES = new Set(['etl_executions', 'etl_execution_details'])

/** The table a relation belongs to: a month's partition (migrations/085) is its table. */
export const tableOf = (relation: string) => relation.replace(/_(\d{4}_\d{2}|legacy)$/, '')

/** What makes a list plan unfit for scale: a full scan of a big table, or a sort of more than a page. */
export function planProblems(node: PlanNode, maxSortRows: number): string[] {
  const own: string[] = []
  // A seq scan the planner costs at 0 is of a month's partition it knows to be empty (vacuumed, no pages).
  const empty = node['Total Cost'] === 0
  if (node['Node Type'] === 'Seq Scan' && !empty && BIG_TABLES.has(tableOf(node['Relation Name'] ?? ''))) {
    own.push(`sequential scan of ${node['Relation Name']}`)
  }
  if (node['Node Type'] === 'Sort' && node['Plan Rows'] > maxSortRows) own.push(`sort of ~${node['Plan Rows']} rows`)
  return [...own, ...(node.Plans ?? []).flatMap((p) => planProblems(p, maxSortRows))]
}

export function explainHistory(url: string, query: Record<string, string>, opts: { analyze?: boolean } = {}) {
  return explainRequest(url, `/api/etl/history?${new URLSearchParams(query)}`, opts)
}

/** EXPLAIN of the statements a GET of `path` (with its query) runs on the executions and their store rows. */
export async function explainRequest(url: string, path: string, opts: { analyze?: boolean } = {}) {
  const captured: { text: string; params: unknown[] }[] = []
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    debug: (_conn, text, params) => {
      if (!/^\s*(explain|select 1$)/i.test(text)) captured.push({ text, params: params as unknown[] })
    },
  })
  try {
    const app = buildApp({ db: sql, auth: testAuth, boss: { send: async () => null } })
    const res = await app.request(path, { headers: { Authorization: `Bearer ${await tokenFor()}` } })
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`)
    const plans: { text: string; plan: PlanNode }[] = []
    for (const { text, params } of captured) {
      // Only the request's own statements on the history: not the store check or the driver's type fetch.
      if (!/etl_executions|etl_execution_details|etl_gaps/.test(text) || /from tiendas/.test(text)) continue
      const options = opts.analyze ? 'analyze, buffers, format json' : 'format json'
      const [row] = await sql.unsafe(`explain (${options}) ${text}`, params as never[])
      plans.push({ text, plan: (row!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan })
    }
    return plans
  } finally {
    await sql.end()
  }
}
