// GET /api/etl/history and GET /api/etl/history/{id} (plan §3.1).
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context, TypedResponse } from 'hono'
import type { Db } from '../db.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { invalid, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { jsonResponse, type ResponseCache } from '../response-cache.ts'
import { dayStart, isPlainDate, nextDayStart } from '../time.ts'
import { countStartedForTienda, totalForTienda, totalOf } from './counts.sql.ts'
import { listExecutionsPageLocated, listStartedIdsForTiendaLocated } from './deep-page.sql.ts'
import { ExecutionDetail } from './detail.schemas.ts'
import { findExecution, listTiendaDetails } from './detail.sql.ts'
import { ExecutionIdParam, ExecutionSummary, type HistoryExportQuery, HistoryQuery } from './executions.schemas.ts'
import {
  findTienda,
  type HistoryFilters,
  listExecutionsByIds,
  listExecutionsPageByMonths,
  listQueuedIdsForTienda,
  listRecentPage,
  type SortKey,
  usesTiendaIndex,
} from './executions.sql.ts'
import { toDetail } from './executions.view.ts'

const listRoute = createRoute({
  method: 'get',
  path: '/api/etl/history',
  tags: ['history'],
  operationId: 'listExecutions',
  summary: 'List executions',
  description:
    'Newest first (`started_at DESC NULLS FIRST, id DESC`: queued executions first). The body is the page; ' +
    '`X-Total-Count` and `Link` (first, prev, next, last) carry the pagination.',
  request: { query: HistoryQuery },
  responses: {
    200: {
      description: 'One page of executions.',
      headers: {
        'X-Total-Count': { $ref: '#/components/headers/X-Total-Count' },
        Link: { $ref: '#/components/headers/Link' },
      },
      content: { 'application/json': { schema: z.array(ExecutionSummary).max(200) } },
    },
    ...etlErrors,
  },
})

const detailRoute = createRoute({
  method: 'get',
  path: '/api/etl/history/{id}',
  tags: ['history'],
  operationId: 'getExecution',
  summary: 'Get one execution with its per-store detail',
  request: { params: ExecutionIdParam, query: NoQuery },
  responses: {
    200: { description: 'The execution.', content: { 'application/json': { schema: ExecutionDetail } } },
    ...etlErrors,
  },
})

export type ExecutionsDeps = { read: Db; tz: string; cache: ResponseCache }
type TypedJson<T> = Response & TypedResponse<T, 200, 'json'>

export function toFilters(q: HistoryExportQuery & Partial<Pick<HistoryQuery, 'limit' | 'offset'>>, tz: string) {
  const f: HistoryFilters = {
    etlName: q.etl_name,
    statuses: q.status,
    id: q.id,
    sort: { key: q.sort.replace(/^-/, '') as SortKey, desc: q.sort.startsWith('-') },
    triggeredBy: q.triggered_by,
    errorPhase: q.error_phase,
    errorCategory: q.error_category,
    tienda: q.tienda,
    limit: q.limit ?? 0,
    offset: q.offset ?? 0,
  }
  if (q.fecha_desde) f.desde = isPlainDate(q.fecha_desde) ? dayStart(q.fecha_desde, tz) : new Date(q.fecha_desde)
  if (q.fecha_hasta) {
    f.hasta = isPlainDate(q.fecha_hasta)
      ? { at: nextDayStart(q.fecha_hasta, tz), inclusive: false }
      : { at: new Date(q.fecha_hasta), inclusive: true }
  }
  return f
}

/** RFC 8288 links to the other pages, relative, keeping every filter as the client wrote it. */
function linkHeader(c: Context, total: number, limit: number, offset: number) {
  const params = new URLSearchParams(c.req.query())
  const page = (o: number) => {
    params.set('limit', String(limit))
    params.set('offset', String(o))
    return `<${new URL(c.req.url).pathname}?${params.toString()}>`
  }
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit
  const links = [`${page(0)}; rel="first"`]
  if (offset > 0) links.push(`${page(Math.max(0, offset - limit))}; rel="prev"`)
  if (offset + limit < total) links.push(`${page(offset + limit)}; rel="next"`)
  links.push(`${page(last)}; rel="last"`)
  return links.join(', ')
}

async function pageForTienda(db: Db, f: HistoryFilters & { tienda: string }) {
  const queued = (await listQueuedIdsForTienda(db, f)).map((r) => r.id)
  const fromQueued = queued.slice(f.offset, f.offset + f.limit)
  const rest = f.limit - fromQueued.length
  const startedOffset = Math.max(0, f.offset - queued.length)
  const [started, startedTotal] = await Promise.all([
    rest > 0 ? listStartedIdsForTiendaLocated(db, f, rest, startedOffset) : Promise.resolve([]),
    countStartedForTienda(db, f),
  ])
  const ids = [...fromQueued, ...started.map((r) => r.id)]
  const body = ids.length ? await listExecutionsByIds(db, ids) : '[]'
  return { body, total: queued.length + startedTotal }
}

async function page(db: Db, f: HistoryFilters) {
  if (f.tienda && usesTiendaIndex(f)) return pageForTienda(db, { ...f, tienda: f.tienda })
  // A first page is mostly recent: one statement, no lookup of the counts (listExecutionsPageLocated) unless needed.
  const first = f.offset === 0 ? await listRecentPage(db, f, totalOf(db, f), new Date()) : undefined
  if (first) return first
  const deep = await listExecutionsPageLocated(db, f, (tx) => totalOf(tx, f))
  if (deep) return deep
  return listExecutionsPageByMonths(
    db,
    f,
    f.tienda ? totalForTienda(db, { ...f, tienda: f.tienda }) : totalOf(db, f),
    new Date(),
  )
}

/** 422s that need the database or compare fields: a window upside down, an unknown store. */
export async function refuseFilters(c: Context, db: Db, f: HistoryFilters) {
  if (f.desde && f.hasta && (f.hasta.inclusive ? f.desde > f.hasta.at : f.desde >= f.hasta.at)) {
    return invalid(c, 422, [{ name: 'fecha_desde', reason: 'must not be later than fecha_hasta', code: 'after_end' }])
  }
  if (f.tienda && !(await findTienda(db, f.tienda))) {
    return invalid(c, 422, [{ name: 'tienda', reason: `${f.tienda} is not a known store`, code: 'unknown_store' }])
  }
  return null
}

export const executionsRoutes = (deps: ExecutionsDeps) =>
  new OpenAPIHono({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const f = toFilters(c.req.valid('query'), deps.tz)
      // Refused before the kept responses: a refusal is a Response of its own request, not shareable.
      const refused = await refuseFilters(c, deps.read, f)
      if (refused) return refused
      // Kept per query string as written (the Link header repeats it) until the history changes; every
      // caller sees the same history (/api/etl/* is super_admin only), so the caller is not in the key.
      const answer = await deps.cache.get(`history ${new URL(c.req.url).search}`, async () => {
        const { body, total } = await page(deps.read, f)
        // The items arrive as JSON built by PostgreSQL (executions.sql.ts): sent as they are.
        return jsonResponse(body, { 'X-Total-Count': String(total), Link: linkHeader(c, total, f.limit, f.offset) })
      })
      return c.body(answer.body, 200, answer.headers) as unknown as TypedJson<ExecutionSummary[]>
    })
    .openapi(detailRoute, async (c) => {
      const { id } = c.req.valid('param')
      const answer = await deps.cache.get(`detail ${id}`, async () => {
        const [execution, tiendas] = await Promise.all([findExecution(deps.read, id), listTiendaDetails(deps.read, id)])
        if (!execution) return undefined
        const body = JSON.stringify(toDetail(execution, tiendas))
        return jsonResponse(body)
      })
      if (!answer) return problem(c, 404, `Execution ${id} does not exist.`, { type: PROBLEM_TYPES.executionNotFound })
      return c.body(answer.body, 200, answer.headers) as unknown as TypedJson<ExecutionDetail>
    })
