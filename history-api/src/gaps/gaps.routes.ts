// GET /api/etl/gaps and POST /api/etl/gaps/{id}/recover. A gap's id is its failed execution's id
// (etl_gaps, migration 040); recovering it queues one recovery run over that execution's window for
// every store of it still pending — the execution row and its pg-boss job in ONE transaction, under
// the same per-ETL lock and overlap rule as POST /api/etl/run, so the two can never both queue a store.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Sql } from 'postgres'
import { type JobSender, lockRuns, type QUEUES, queueRun, RunConflict } from '../../../scripts/lib/queue-run.ts'
import type { AuthVariables } from '../auth.ts'
import { type Db, iso } from '../db.ts'
import { ExecutionIdParam } from '../executions/executions.schemas.ts'
import { findTienda } from '../executions/executions.sql.ts'
import { bodyTooLarge, etlErrors, NoQuery } from '../openapi.ts'
import { invalid, type OverlapMembers, PROBLEM_TYPES, problem, validationHook } from '../problem.ts'
import { RunAccepted } from '../runs/runs.schemas.ts'
import { AutoRecovery, AutoRecoveryUpdate, type Gap, Gap as GapSchema, GapsQuery } from './gaps.schemas.ts'
import {
  type AutoRecoveryRow,
  findExecutionEtl,
  type GapRow,
  getAutoRecovery,
  listGapStores,
  listGaps,
  setAutoRecovery,
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

const getAutoRecoveryRoute = createRoute({
  method: 'get',
  path: '/api/etl/gaps/auto-recovery',
  tags: ['gaps'],
  operationId: 'getAutoRecovery',
  summary: 'Whether automatic gap recovery is paused',
  request: { query: NoQuery },
  responses: {
    200: { description: 'The setting.', content: { 'application/json': { schema: AutoRecovery } } },
    ...etlErrors,
  },
})

const setAutoRecoveryRoute = createRoute({
  method: 'put',
  path: '/api/etl/gaps/auto-recovery',
  tags: ['gaps'],
  operationId: 'setAutoRecovery',
  summary: 'Pause or resume automatic gap recovery',
  request: {
    query: NoQuery,
    body: { required: true, content: { 'application/json': { schema: AutoRecoveryUpdate } } },
  },
  responses: {
    200: { description: 'The setting as stored.', content: { 'application/json': { schema: AutoRecovery } } },
    ...etlErrors,
    ...bodyTooLarge,
  },
})

const toAutoRecovery = (r: AutoRecoveryRow) => ({
  paused: r.paused,
  updated_at: iso(r.updated_at)!,
  updated_by: r.updated_by,
})

export type GapsDeps = { read: Db; write: Sql; boss: JobSender; clock: () => Date }

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
  recovery_attempts: r.recovery_attempts,
  last_attempt_at: iso(r.last_attempt_at),
  next_attempt_at: iso(r.next_attempt_at),
  recovery_exhausted_at: iso(r.recovery_exhausted_at),
})

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
    const { fecha_desde: desde, fecha_hasta: hasta } = runnable[0]!
    try {
      const executionId = await queueRun(tx, deps.boss, {
        etlName,
        etlType: 'recovery',
        triggeredBy: 'fluxion_admin',
        tiendas: runnable.map((s) => ({ id: s.tienda_id, source_system: s.source_system })),
        desde,
        hasta,
        recoveredGapId: id,
      })
      return { kind: 'queued', executionId, etlName, tiendaIds }
    } catch (error) {
      if (error instanceof RunConflict) {
        return { kind: 'conflict', type: 'runOverlap', detail: error.message, members: error.members }
      }
      throw error
    }
  })
}

export const gapsRoutes = (deps: GapsDeps) =>
  new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook })
    .openapi(getAutoRecoveryRoute, async (c) => {
      const row = await getAutoRecovery(deps.read)
      if (!row) throw new Error('etl_recovery_settings has no row: run `npm run migrate`')
      return c.json(toAutoRecovery(row), 200)
    })
    .openapi(setAutoRecoveryRoute, async (c) => {
      const row = await setAutoRecovery(deps.write, c.req.valid('json').paused, c.get('user').sub)
      if (!row) throw new Error('etl_recovery_settings has no row: run `npm run migrate`')
      return c.json(toAutoRecovery(row), 200)
    })
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query')
      if (q.tienda && !(await findTienda(deps.read, q.tienda))) {
        return invalid(c, 422, [{ name: 'tienda', reason: `${q.tienda} is not a known store`, code: 'unknown_store' }])
      }
      const rows = await listGaps(deps.read, {
        etlName: q.etl_name,
        tienda: q.tienda,
        estado: q.estado,
        since: q.dias ? new Date(deps.clock().getTime() - q.dias * 86_400_000) : undefined,
        limit: q.limit,
      })
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
