// POST /api/etl/run (plan §3.1): validates, then writes the queued execution and its pg-boss
// job in ONE transaction — both or neither — and answers 202 with the plan's body.
import { randomUUID } from 'node:crypto'
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Sql, TransactionSql } from 'postgres'
import { bodyTooLarge, etlErrors, NoQuery } from '../openapi.ts'
import { type InvalidParam, invalid, type OverlapMembers, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { dateIn, dayStart, parseStoreDateTime } from '../time.ts'
import { type JobSender, sendRunJob } from './enqueue.ts'
import { RunAccepted, RunRequest } from './runs.schemas.ts'
import {
  findOverlap,
  findTiendas,
  insertQueuedExecution,
  listActiveTiendas,
  lockRuns,
  notifyQueued,
  type TiendaRow,
} from './runs.sql.ts'

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

export type RunsDeps = {
  write: Sql
  boss: JobSender
  tz: string
  clock: () => Date
  /** Test seam: runs inside the transaction between the execution row and the job. */
  betweenWrites?: (tx: TransactionSql) => Promise<void>
}

class Conflict extends Error {
  members: OverlapMembers
  constructor(message: string, members: OverlapMembers) {
    super(message)
    this.members = members
  }
}

function sourceSystemOf(tiendas: TiendaRow[]) {
  const systems = new Set(tiendas.map((t) => t.source_system))
  return systems.size === 1 ? [...systems][0]! : systems.size > 1 ? 'mixed' : null
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
      const known = new Map((await findTiendas(deps.write, body.tienda_ids)).map((t) => [t.id, t]))
      const bad = body.tienda_ids.flatMap((id, i): InvalidParam[] => {
        const t = known.get(id)
        const name = `tienda_ids[${i}]`
        if (!t?.active) {
          const code = t ? 'inactive_store' : 'unknown_store'
          return [{ name, reason: `${id} is ${t ? 'an inactive store' : 'not a known store'}`, code }]
        }
        // The runner reads inventory from KLK only (plan: etl_inventario_klk); a queued run of a
        // Stellar store could never succeed.
        if (body.etl_name === 'inventario' && t.source_system !== 'klk') {
          return [{ name, reason: `${id} runs Stellar, which has no inventario feed`, code: 'no_inventario_feed' }]
        }
        return []
      })
      if (bad.length) return invalid(c, 422, bad)
      tiendas = body.tienda_ids.map((id) => known.get(id)!)
    } else {
      tiendas = (await listActiveTiendas(deps.write)).filter(
        (t) => body.etl_name !== 'inventario' || t.source_system === 'klk',
      )
      if (!tiendas.length) {
        return invalid(c, 422, [
          { name: 'tienda_ids', reason: 'there is no active store to run', code: 'no_active_store' },
        ])
      }
    }
    const tiendaIds = tiendas.map((t) => t.id)

    try {
      const executionId = await deps.write.begin(async (tx) => {
        await lockRuns(tx, body.etl_name)
        const overlap = await findOverlap(tx, body.etl_name, tiendaIds)
        if (overlap) {
          throw new Conflict(
            `Execution ${overlap.id} of ${body.etl_name} (${overlap.status}) already includes ${overlap.tienda_id}.`,
            {
              execution_id: overlap.id,
              execution_status: overlap.status,
              etl_name: body.etl_name,
              tienda_id: overlap.tienda_id,
            },
          )
        }
        const jobId = randomUUID()
        const id = await insertQueuedExecution(tx, {
          etlName: body.etl_name,
          tiendaIds,
          desde,
          hasta,
          sourceSystem: sourceSystemOf(tiendas),
          jobId,
        })
        await deps.betweenWrites?.(tx)
        await sendRunJob(deps.boss, tx, jobId, {
          execution_id: id,
          etl_name: body.etl_name,
          tienda_ids: tiendaIds,
          fecha_inicio: desde.toISOString(),
          fecha_fin: hasta.toISOString(),
          triggered_by: 'fluxion_admin',
        })
        await notifyQueued(tx, id)
        return id
      })
      return c.json(
        {
          message: 'ETL execution started',
          execution_id: executionId,
          etl_name: body.etl_name,
          tienda_ids: tiendaIds,
          triggered_by: 'fluxion_admin' as const,
          started_at: now.toISOString(),
        },
        202,
      )
    } catch (error) {
      if (error instanceof Conflict) {
        return problem(c, 409, error.message, { type: PROBLEM_TYPES.runOverlap, members: error.members })
      }
      throw error
    }
  })
