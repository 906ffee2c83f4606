// POST /api/etl/run (plan §3.1): validates, then writes the queued execution and its pg-boss
// job in ONE transaction — both or neither — and answers 202 with the plan's body.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Sql, TransactionSql } from 'postgres'
import { type JobSender, queueRun, RunConflict } from '../../../scripts/lib/queue-run.ts'
import { bodyTooLarge, etlErrors, NoQuery } from '../openapi.ts'
import { type InvalidParam, invalid, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { dateIn, dayStart, parseStoreDateTime } from '../time.ts'
import { RunAccepted, RunRequest } from './runs.schemas.ts'
import { findTiendas, listRunnableTiendas, type TiendaRow } from './runs.sql.ts'

const runRoute = createRoute({
  method: 'post',
  path: '/api/etl/run',
  tags: ['runs'],
  operationId: 'runEtl',
  summary: 'Run an ETL manually',
  description:
    'Queues a manual run: the execution row (queued, manual, fluxion_admin) and the job a runner picks up are ' +
    'written in one transaction. 422 for an impossible window or an unknown/inactive store; 409 on overlap.',
  request: { query: NoQuery, body: { required: true, content: { 'application/json': { schema: RunRequest } } } },
  responses: {
    202: { description: 'The run is queued.', content: { 'application/json': { schema: RunAccepted } } },
    ...etlErrors,
    ...bodyTooLarge,
  },
})

export const MAX_WINDOW_DAYS = 31
const SYSTEM_NAMES: Record<string, string> = { klk: 'KLK', stellar: 'Stellar' }

export type RunsDeps = {
  write: Sql
  boss: JobSender
  tz: string
  clock: () => Date
  /** Test seam: runs inside the transaction between the execution row and the job. */
  betweenWrites?: (tx: TransactionSql) => Promise<void>
}

export const runsRoutes = (deps: RunsDeps) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(runRoute, async (c) => {
    const body = c.req.valid('json')
    const now = deps.clock()
    const desde = body.fecha_inicio
      ? parseStoreDateTime(body.fecha_inicio, deps.tz)
      : dayStart(dateIn(now, deps.tz), deps.tz)
    const hasta = body.fecha_fin ? parseStoreDateTime(body.fecha_fin, deps.tz) : now
    if (desde > hasta) {
      return invalid(c, 422, [{ name: 'fecha_inicio', reason: 'must not be later than fecha_fin', code: 'after_end' }])
    }
    if (hasta.getTime() - desde.getTime() > MAX_WINDOW_DAYS * 24 * 3600 * 1000) {
      return invalid(c, 422, [
        {
          name: 'fecha_fin',
          reason: `must be at most ${MAX_WINDOW_DAYS} days after fecha_inicio`,
          code: 'window_too_long',
        },
      ])
    }

    let tiendas: TiendaRow[]
    if (body.tienda_ids) {
      const known = new Map((await findTiendas(deps.write, body.etl_name, body.tienda_ids)).map((t) => [t.id, t]))
      const bad = body.tienda_ids.flatMap((id, i): InvalidParam[] => {
        const t = known.get(id)
        const name = `tienda_ids[${i}]`
        if (!t?.active) {
          const code = t ? 'inactive_store' : 'unknown_store'
          return [{ name, reason: `${id} is ${t ? 'an inactive store' : 'not a known store'}`, code }]
        }
        // A queued run of a store the ETL cannot read could never succeed (inventario is KLK's).
        if (!t.has_feed) {
          const system = SYSTEM_NAMES[t.source_system] ?? t.source_system
          return [
            { name, reason: `${id} runs ${system}, which has no ${body.etl_name} feed`, code: 'no_inventario_feed' },
          ]
        }
        return []
      })
      if (bad.length) return invalid(c, 422, bad)
      tiendas = body.tienda_ids.map((id) => known.get(id)!)
    } else {
      tiendas = await listRunnableTiendas(deps.write, body.etl_name)
      if (!tiendas.length) {
        return invalid(c, 422, [
          { name: 'tienda_ids', reason: 'there is no active store to run', code: 'no_active_store' },
        ])
      }
    }

    try {
      const executionId = await deps.write.begin((tx) =>
        queueRun(
          tx,
          deps.boss,
          { etlName: body.etl_name, etlType: 'manual', triggeredBy: 'fluxion_admin', tiendas, desde, hasta },
          deps.betweenWrites,
        ),
      )
      return c.json(
        {
          message: 'ETL execution started',
          execution_id: executionId,
          etl_name: body.etl_name,
          tienda_ids: tiendas.map((t) => t.id),
          triggered_by: 'fluxion_admin' as const,
          started_at: now.toISOString(),
        },
        202,
      )
    } catch (error) {
      if (error instanceof RunConflict) {
        return problem(c, 409, error.message, { type: PROBLEM_TYPES.runOverlap, members: error.members })
      }
      throw error
    }
  })
