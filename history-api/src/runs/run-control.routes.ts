// Re-run and cancel from the run itself (issue 13):
//  - POST /api/etl/executions/{id}/rerun {scope}: a new manual run of the same ETL and window, for every
//    store (`all`, "Repetir") or only those that did not load (`failed`, "Reintentar tiendas fallidas"),
//    queued the one way (queue-run.ts) and linked to its origin (rerun_of / rerun_scope).
//  - POST /api/etl/executions/{id}/cancel: a queued run is closed `cancelled` at once and its pg-boss job
//    deleted, in one transaction (the one close statement, runner/src/executions/close.sql.ts); a running
//    one gets cancel_requested_at, which every runner working on it reads (with the part's execution row,
//    and with its heartbeat) and stops at the next store/page boundary.
// The execution row is locked (FOR UPDATE) first, so a runner claiming the queued run at the same moment
// either finds it cancelled or is seen running here.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Sql, TransactionSql } from 'postgres'
import { closeCancelledQueuedExecution } from '../../../runner/src/executions/close.sql.ts'
import { bossDb, type JobSender, lockRuns, QUEUES, queueRun, RunConflict } from '../../../scripts/lib/queue-run.ts'
import type { AuthUser } from '../auth.ts'
import { RerunScope } from '../executions/detail.schemas.ts'
import { ExecutionIdParam, ExecutionIdValue } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { bodyTooLarge, etlErrors, NoQuery } from '../openapi.ts'
import { invalid, type OverlapMembers, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { RunAccepted } from './runs.schemas.ts'
import { findTiendas } from './runs.sql.ts'

type S = components['schemas']

export const RerunRequest = z.strictObject({ scope: RerunScope }).openapi('RerunRequest') satisfies z.ZodType<
  S['RerunRequest']
>

export const CancelAccepted = z
  .strictObject({
    message: z.string(),
    execution_id: ExecutionIdValue,
    status: z.enum(['cancelled', 'running']),
    cancel_requested_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('CancelAccepted') satisfies z.ZodType<S['CancelAccepted']>

const rerunRoute = createRoute({
  method: 'post',
  path: '/api/etl/executions/{id}/rerun',
  tags: ['runs'],
  operationId: 'rerunExecution',
  summary: 'Run a finished execution again',
  description:
    'Queues a manual run of the same ETL and window for every store (`all`) or the stores that did not load ' +
    '(`failed`), linked by rerun_of. 404: no such execution; 409: not finished, or an overlapping run; 422: no store to run.',
  request: {
    params: ExecutionIdParam,
    query: NoQuery,
    body: { required: true, content: { 'application/json': { schema: RerunRequest } } },
  },
  responses: {
    202: { description: 'The new run is queued.', content: { 'application/json': { schema: RunAccepted } } },
    ...etlErrors,
    ...bodyTooLarge,
  },
})

const cancelRoute = createRoute({
  method: 'post',
  path: '/api/etl/executions/{id}/cancel',
  tags: ['runs'],
  operationId: 'cancelExecution',
  summary: 'Cancel a queued execution, or ask a running one to stop',
  description:
    'Queued: closed `cancelled` and its job deleted. Running: asked to stop at the next store or page boundary. ' +
    '404: no such execution; 409: already finished.',
  request: { params: ExecutionIdParam, query: NoQuery },
  responses: {
    202: {
      description: 'Cancelled, or a stop was requested.',
      content: { 'application/json': { schema: CancelAccepted } },
    },
    ...etlErrors,
  },
})

export type RunControlDeps = { write: Sql; boss: JobSender; clock: () => Date }

type ExecutionToRepeat = {
  id: number
  etl_name: S['EtlName']
  status: S['ExecutionStatus']
  fecha_desde: Date | null
  fecha_hasta: Date | null
  tienda_ids: string[]
  job_id: string | null
  cancel_requested_at: Date | null
}

function lockExecution(tx: TransactionSql, id: number) {
  return tx<ExecutionToRepeat[]>`
    select id, etl_name, status, fecha_desde, fecha_hasta, tienda_ids, job_id::text as job_id, cancel_requested_at
    from etl_executions where id = ${id} for update`.then((r) => r[0])
}

/** The stores of a finished execution a re-run takes: every one it covered, or those that did not load. */
function storesToRerun(tx: TransactionSql, e: ExecutionToRepeat, scope: 'failed' | 'all') {
  return tx<{ tienda_id: string }[]>`
    select t as tienda_id from unnest(${e.tienda_ids}::text[]) with ordinality as u(t, n)
    where ${scope === 'all'} or not exists (
      select 1 from etl_execution_details d where d.execution_id = ${e.id} and d.tienda_id = u.t and d.status = 'success')
    order by n`.then((r) => r.map((x) => x.tienda_id))
}

type RerunOutcome =
  | { kind: 'queued'; executionId: number; etlName: S['EtlName']; tiendaIds: string[] }
  | { kind: 'missing' }
  | { kind: 'busy'; status: string }
  | { kind: 'overlap'; detail: string; members: OverlapMembers }
  | { kind: 'nothing'; code: 'no_failed_store' | 'stores_unrunnable'; reason: string }

const FINISHED = new Set(['success', 'partial', 'failed', 'cancelled'])

async function rerun(deps: RunControlDeps, id: number, scope: 'failed' | 'all'): Promise<RerunOutcome> {
  return deps.write.begin(async (tx): Promise<RerunOutcome> => {
    const origin = await lockExecution(tx, id)
    if (!origin) return { kind: 'missing' }
    if (!FINISHED.has(origin.status)) return { kind: 'busy', status: origin.status }
    await lockRuns(tx, origin.etl_name)
    const wanted = await storesToRerun(tx, origin, scope)
    if (!wanted.length) {
      return { kind: 'nothing', code: 'no_failed_store', reason: `every store of execution ${id} loaded` }
    }
    // Stores deactivated (or no longer readable by the ETL) since are left out; the answer lists the rest.
    const known = await findTiendas(tx, origin.etl_name, wanted)
    const runnable = wanted.flatMap((w) => known.filter((t) => t.id === w && t.active && t.has_feed))
    if (!runnable.length) {
      const reason = `the stores to run again (${wanted.join(', ')}) are inactive or unknown`
      return { kind: 'nothing', code: 'stores_unrunnable', reason }
    }
    try {
      const executionId = await queueRun(tx, deps.boss, {
        etlName: origin.etl_name,
        etlType: 'manual',
        triggeredBy: 'fluxion_admin',
        tiendas: runnable,
        desde: origin.fecha_desde,
        hasta: origin.fecha_hasta,
        rerun: { of: id, scope },
      })
      return { kind: 'queued', executionId, etlName: origin.etl_name, tiendaIds: runnable.map((t) => t.id) }
    } catch (error) {
      if (error instanceof RunConflict) return { kind: 'overlap', detail: error.message, members: error.members }
      throw error
    }
  })
}

type CancelOutcome =
  | { kind: 'cancelled' | 'stopping'; requestedAt: Date }
  | { kind: 'missing' }
  | { kind: 'finished'; status: string }

async function cancel(deps: RunControlDeps, id: number, who: string): Promise<CancelOutcome> {
  return deps.write.begin(async (tx): Promise<CancelOutcome> => {
    const e = await lockExecution(tx, id)
    if (!e) return { kind: 'missing' }
    if (e.status === 'queued') {
      if (e.job_id && deps.boss.deleteJob) {
        await deps.boss.deleteJob(QUEUES[e.etl_name], e.job_id, { db: bossDb(tx) })
      }
      const [requested] = await tx<{ at: Date }[]>`
        update etl_executions set cancel_requested_at = now(), cancel_requested_by = ${who}
        where id = ${id} returning cancel_requested_at as at`
      await closeCancelledQueuedExecution(tx, id)
      return { kind: 'cancelled', requestedAt: requested!.at }
    }
    if (e.status === 'running') {
      const [requested] = await tx<{ at: Date }[]>`
        update etl_executions set cancel_requested_at = coalesce(cancel_requested_at, now()),
          cancel_requested_by = coalesce(cancel_requested_by, ${who})
        where id = ${id} returning cancel_requested_at as at`
      await tx`select pg_notify('etl_events', ${JSON.stringify({ execution_id: id, kind: 'cancel_requested' })})`
      return { kind: 'stopping', requestedAt: requested!.at }
    }
    return { kind: 'finished', status: e.status }
  })
}

const notFound = (id: number) => `Execution ${id} does not exist.`

export const runControlRoutes = (deps: RunControlDeps) =>
  new OpenAPIHono({ defaultHook: validationHook })
    .openapi(rerunRoute, async (c) => {
      const { id } = c.req.valid('param')
      const { scope } = c.req.valid('json')
      const now = deps.clock()
      const outcome = await rerun(deps, id, scope)
      switch (outcome.kind) {
        case 'missing':
          return problem(c, 404, notFound(id), { type: PROBLEM_TYPES.executionNotFound })
        case 'busy':
          return problem(c, 409, `Execution ${id} is ${outcome.status}: it can be run again once it has finished.`, {
            type: PROBLEM_TYPES.executionNotFinished,
          })
        case 'overlap':
          return problem(c, 409, outcome.detail, { type: PROBLEM_TYPES.runOverlap, members: outcome.members })
        case 'nothing':
          return invalid(c, 422, [{ name: 'scope', reason: outcome.reason, code: outcome.code }])
      }
      return c.json(
        {
          message: 'ETL execution re-run queued',
          execution_id: outcome.executionId,
          etl_name: outcome.etlName,
          tienda_ids: outcome.tiendaIds,
          triggered_by: 'fluxion_admin' as const,
          started_at: now.toISOString(),
        },
        202,
      )
    })
    .openapi(cancelRoute, async (c) => {
      const { id } = c.req.valid('param')
      const user = c.get('user' as never) as AuthUser | undefined
      const outcome = await cancel(deps, id, user?.sub ?? 'unknown')
      switch (outcome.kind) {
        case 'missing':
          return problem(c, 404, notFound(id), { type: PROBLEM_TYPES.executionNotFound })
        case 'finished':
          return problem(c, 409, `Execution ${id} has already finished (${outcome.status}): nothing to cancel.`, {
            type: PROBLEM_TYPES.executionFinished,
          })
      }
      const at = outcome.requestedAt.toISOString()
      return c.json(
        outcome.kind === 'cancelled'
          ? {
              message: `Execution ${id} cancelled before it started`,
              execution_id: id,
              status: 'cancelled' as const,
              cancel_requested_at: at,
            }
          : {
              message: `Execution ${id} will stop at the next store or page boundary`,
              execution_id: id,
              status: 'running' as const,
              cancel_requested_at: at,
            },
        202,
      )
    })
