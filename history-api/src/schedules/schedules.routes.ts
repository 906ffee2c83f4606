// GET /api/etl/schedules, POST /api/etl/schedules/{etl}/pause and /resume (issue 13, Deliver 3).
// The cron expressions are the runners' (pg-boss's schedule table, from VENTAS_CRON/INVENTARIO_CRON);
// the pause lives in etl_schedules_state, which every runner reads when a cron job fires
// (runner/src/jobs/etl-job.ts) — so a pause is honoured by all of them and shown to every panel.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { CronExpressionParser } from 'cron-parser'
import type { Sql } from 'postgres'
import { QUEUES } from '../../../scripts/lib/queue-run.ts'
import type { AuthUser } from '../auth.ts'
import { type Db, iso } from '../db.ts'
import { dateTime, EtlName, ExecutionIdValue, ExecutionStatus, nullable } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { listSchedules, pauseSchedule, resumeSchedule, type ScheduleRow } from './schedules.sql.ts'

type S = components['schemas']

export const ScheduleRun = z
  .strictObject({
    id: ExecutionIdValue,
    status: ExecutionStatus,
    started_at: dateTime().nullable(),
    finished_at: dateTime().nullable(),
  })
  .openapi('ScheduleRun') satisfies z.ZodType<S['ScheduleRun']>

export const EtlSchedule = z
  .strictObject({
    etl_name: EtlName,
    cron: z.string().nullable(),
    tz: z.string().nullable(),
    paused: z.boolean(),
    paused_by: z.string().nullable(),
    paused_at: dateTime().nullable(),
    last_run: nullable(ScheduleRun),
    next_run_at: dateTime().nullable(),
  })
  .openapi('EtlSchedule') satisfies z.ZodType<S['EtlSchedule']>

const EtlParam = z.strictObject({ etl: EtlName })

const listRoute = createRoute({
  method: 'get',
  path: '/api/etl/schedules',
  tags: ['runs'],
  operationId: 'listSchedules',
  summary: 'The ventas and inventario schedules',
  request: { query: NoQuery },
  responses: {
    200: { description: 'The schedules.', content: { 'application/json': { schema: z.array(EtlSchedule).max(2) } } },
    ...etlErrors,
  },
})

const actionRoute = (action: 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/api/etl/schedules/{etl}/${action}`,
    tags: ['runs'],
    operationId: action === 'pause' ? 'pauseSchedule' : 'resumeSchedule',
    summary: action === 'pause' ? "Pause an ETL's schedule" : "Resume an ETL's schedule",
    request: { params: EtlParam, query: NoQuery },
    responses: {
      200: { description: 'The schedule.', content: { 'application/json': { schema: EtlSchedule } } },
      ...etlErrors,
    },
  })

export type SchedulesDeps = { read: Db; write: Sql; clock: () => Date }

/** The next time the cron fires after `now`, in its zone; null when unknown or unparseable. */
export function nextRun(cron: string | null, tz: string | null, now: Date): string | null {
  if (!cron) return null
  try {
    return CronExpressionParser.parse(cron, { currentDate: now, tz: tz ?? 'UTC' })
      .next()
      .toDate()
      .toISOString()
  } catch {
    return null
  }
}

function toSchedule(r: ScheduleRow, now: Date): z.infer<typeof EtlSchedule> {
  return {
    etl_name: r.etl_name,
    cron: r.cron,
    tz: r.tz,
    paused: r.paused,
    paused_by: r.paused_by,
    paused_at: iso(r.paused_at),
    last_run:
      r.last_id === null || r.last_status === null
        ? null
        : {
            id: r.last_id,
            status: r.last_status,
            started_at: iso(r.last_started_at),
            finished_at: iso(r.last_finished_at),
          },
    next_run_at: r.paused ? null : nextRun(r.cron, r.tz, now),
  }
}

export const schedulesRoutes = (deps: SchedulesDeps) =>
  new OpenAPIHono({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const rows = await listSchedules(deps.read, QUEUES)
      const now = deps.clock()
      return c.json(
        rows.map((r) => toSchedule(r, now)),
        200,
      )
    })
    .openapi(actionRoute('pause'), async (c) => {
      const { etl } = c.req.valid('param')
      const user = c.get('user' as never) as AuthUser | undefined
      await pauseSchedule(deps.write, etl, user?.sub ?? 'unknown')
      const [row] = await listSchedules(deps.write, QUEUES, etl)
      return c.json(toSchedule(row!, deps.clock()), 200)
    })
    .openapi(actionRoute('resume'), async (c) => {
      const { etl } = c.req.valid('param')
      await resumeSchedule(deps.write, etl)
      const [row] = await listSchedules(deps.write, QUEUES, etl)
      return c.json(toSchedule(row!, deps.clock()), 200)
    })
