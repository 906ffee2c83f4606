// GET /api/etl/gaps and POST /api/etl/gaps/{id}/recover. A gap's id is its failed execution's id
// (etl_gaps, migration 040); recovering it queues one recovery run over that execution's window for
// every store of it still pending — the execution row and its pg-boss job in ONE transaction, under
// the same per-ETL lock and overlap rule as POST /api/etl/run, so the two can never both queue a store.
import { randomUUID } from 'node:crypto'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Sql } from 'postgres'
import { type Db, iso } from '../db.ts'
import { ExecutionIdParam } from '../executions/executions.schemas.ts'
import { findTienda } from '../executions/executions.sql.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { invalid, type OverlapMembers, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { bossDb, type JobSender, QUEUES } from '../runs/enqueue.ts'
import { RunAccepted } from '../runs/runs.schemas.ts'
import { findOverlap, lockRuns, notifyQueued } from '../runs/runs.sql.ts'
import { type Gap, Gap as GapSchema, GapsQuery } from './gaps.schemas.ts'
import {
  findExecutionEtl,
  type GapRow,
  type GapStore,
  insertRecoveryExecution,
  listGapStores,
  listGaps,
} from './gaps.sql.ts'

const listRoute = createRoute({
  method: 'get',
  path: '/api/etl/gaps',
  tags: ['gaps'],
  operationId: 'listGaps',
  summary: 'List gaps',
  description:
    'One gap per failed store of a failed or partial execution, identified by that execution id; recovered once a ' +
    'later run loads the store for the window. Newest detected_at first.',
  request: { query: GapsQuery },
  responses: {
    200: { description: 'The gaps.', content: { 'application/json': { schema: z.array(GapSchema) } } },
    ...etlErrors,
  },
})

const recoverRoute = createRoute({
  method: 'post',
  path: '/api/etl/gaps/{id}/recover',
  tags: ['gaps'],
  operationId: 'recoverGap',
  summary: 'Recover the gaps of a failed execution',
  description:
    'Queues one recovery execution (etl_type recovery, is_recovery, recovered_gap_id = id) over the failed ' +
    "execution's window for its stores still pending. 404: no gap; 409: nothing pending, or an overlapping run.",
  request: { params: ExecutionIdParam, query: NoQuery },
  responses: {
    202: { description: 'The recovery run is queued.', content: { 'application/json': { schema: RunAccepted } } },
    ...etlErrors,
  },
})

export type GapsDeps = { read: Db; write: Sql; boss: JobSender; clock: () => Date }

/** The job payload of runner/src/jobs/ventas.ts for a recovery (the API must not import the runner). */
export type RecoveryJob = {
  execution_id: number
  etl_name: keyof typeof QUEUES
  tienda_ids: string[]
  fecha_inicio: string | null
  fecha_fin: string | null
  triggered_by: 'recovery'
  recovered_gap_id: number
}

type Outcome =
  | { kind: 'queued'; executionId: number; etlName: keyof typeof QUEUES; tiendaIds: string[] }
  | {
      kind: 'none' | 'conflict'
      type: 'executionNotFound' | 'noGap' | 'gapRecovered' | 'runOverlap'
      detail: string
      members?: OverlapMembers
    }
  | { kind: 'unrunnable'; detail: string }

const toGap = (r: GapRow): Gap => ({
  id: r.id,
  etl_name: r.etl_name,
  tienda_id: r.tienda_id,
  tienda_nombre: r.tienda_nombre,
  fecha_desde: iso(r.fecha_desde),
  fecha_hasta: iso(r.fecha_hasta),
  error_category: r.error_category as Gap['error_category'],
  detected_at: iso(r.detected_at)!,
  recovered_at: iso(r.recovered_at),
  recovered_by_execution_id: r.recovered_by_execution_id,
})

function sourceSystemOf(stores: GapStore[]) {
  const systems = new Set(stores.map((s) => s.source_system))
  return systems.size === 1 ? [...systems][0]! : systems.size > 1 ? 'mixed' : null
}

/** Everything is read under the per-ETL lock, so a concurrent run or recovery is either seen or waits. */
async function queueRecovery(deps: GapsDeps, id: number): Promise<Outcome> {
  return deps.write.begin(async (tx): Promise<Outcome> => {
    const etlName = await findExecutionEtl(tx, id)
    if (!etlName) {
      const detail = `Execution ${id} does not exist, so it has no gap to recover.`
      return { kind: 'none', type: 'executionNotFound', detail }
    }
    await lockRuns(tx, etlName)
    const stores = await listGapStores(tx, id)
    if (!stores.length) {
      return { kind: 'none', type: 'noGap', detail: `Execution ${id} has no gap: none of its stores failed.` }
    }
    const pending = stores.filter((s) => s.pending)
    if (!pending.length) {
      return { kind: 'conflict', type: 'gapRecovered', detail: `Every gap of execution ${id} is already recovered.` }
    }
    // A store deactivated since it failed cannot be run; its gap stays pending and visible.
    const runnable = pending.filter((s) => s.active)
    if (!runnable.length) {
      const ids = pending.map((s) => s.tienda_id).join(', ')
      return { kind: 'unrunnable', detail: `the pending stores of execution ${id} (${ids}) are inactive or unknown` }
    }
    const tiendaIds = runnable.map((s) => s.tienda_id)
    const overlap = await findOverlap(tx, etlName, tiendaIds)
    if (overlap) {
      const detail = `Execution ${overlap.id} of ${etlName} (${overlap.status}) already includes ${overlap.tienda_id}.`
      const members = {
        execution_id: overlap.id,
        execution_status: overlap.status,
        etl_name: etlName,
        tienda_id: overlap.tienda_id,
      }
      return { kind: 'conflict', type: 'runOverlap', detail, members }
    }
    const { fecha_desde: desde, fecha_hasta: hasta } = runnable[0]!
    const jobId = randomUUID()
    const executionId = await insertRecoveryExecution(tx, {
      etlName,
      gapId: id,
      tiendaIds,
      desde,
      hasta,
      sourceSystem: sourceSystemOf(runnable),
      jobId,
    })
    const job: RecoveryJob = {
      execution_id: executionId,
      etl_name: etlName,
      tienda_ids: tiendaIds,
      fecha_inicio: desde?.toISOString() ?? null,
      fecha_fin: hasta?.toISOString() ?? null,
      triggered_by: 'recovery',
      recovered_gap_id: id,
    }
    await deps.boss.send(QUEUES[etlName], job, { id: jobId, db: bossDb(tx) })
    await notifyQueued(tx, executionId)
    return { kind: 'queued', executionId, etlName, tiendaIds }
  })
}

export const gapsRoutes = (deps: GapsDeps) =>
  new OpenAPIHono({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query')
      if (q.tienda && !(await findTienda(deps.read, q.tienda))) {
        return invalid(c, 422, [{ name: 'tienda', reason: `${q.tienda} is not a known store`, code: 'unknown_store' }])
      }
      const rows = await listGaps(deps.read, { etlName: q.etl_name, tienda: q.tienda, estado: q.estado })
      return c.json(rows.map(toGap), 200)
    })
    .openapi(recoverRoute, async (c) => {
      const { id } = c.req.valid('param')
      const now = deps.clock()
      const outcome = await queueRecovery(deps, id)
      if (outcome.kind !== 'queued') {
        if (outcome.kind === 'unrunnable') {
          return invalid(c, 422, [{ name: 'id', reason: outcome.detail, code: 'stores_unrunnable' }])
        }
        return problem(c, outcome.kind === 'none' ? 404 : 409, outcome.detail, {
          type: PROBLEM_TYPES[outcome.type],
          ...(outcome.members ? { members: outcome.members } : {}),
        })
      }
      return c.json(
        {
          message: 'ETL recovery execution queued',
          execution_id: outcome.executionId,
          etl_name: outcome.etlName,
          tienda_ids: outcome.tiendaIds,
          triggered_by: 'fluxion_admin' as const,
          started_at: now.toISOString(),
        },
        202,
      )
    })
