// GET /api/etl/events: text/event-stream of execution changes (DESIGN §7), so a client sees a
// running execution's stores complete without polling. Not replayed: clients re-read the list
// on (re)connection.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import { TiendaDetail } from '../executions/detail.schemas.ts'
import { ExecutionIdValue, ExecutionSummary } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { etlErrors, NoQuery } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import type { EventHub, StreamEvent } from './event-hub.ts'

type S = components['schemas']

export const TiendaEvent = z
  .strictObject({ execution_id: ExecutionIdValue, ...TiendaDetail.shape })
  .openapi('TiendaEvent') satisfies z.ZodType<S['TiendaEvent']>
const ExecutionStreamEvent = z
  .strictObject({ event: z.literal('execution'), data: ExecutionSummary })
  .openapi('ExecutionStreamEvent') satisfies z.ZodType<S['ExecutionStreamEvent']>
const TiendaStreamEvent = z
  .strictObject({ event: z.literal('tienda'), data: TiendaEvent })
  .openapi('TiendaStreamEvent') satisfies z.ZodType<S['TiendaStreamEvent']>
export const StreamEventSchema = z
  .discriminatedUnion('event', [ExecutionStreamEvent, TiendaStreamEvent])
  .openapi('StreamEvent') satisfies z.ZodType<S['StreamEvent']>

const eventsRoute = createRoute({
  method: 'get',
  path: '/api/etl/events',
  tags: ['events'],
  operationId: 'streamEvents',
  summary: 'Live execution changes (server-sent events)',
  description:
    'Events `execution` (an ExecutionSummary) and `tienda` (a TiendaEvent), fed by PostgreSQL LISTEN/NOTIFY, ' +
    'and a `: ping` comment every 15 s. The schema describes one event as an EventSource client sees it.',
  request: { query: NoQuery },
  responses: {
    200: {
      description: 'The event stream; it stays open until the client disconnects.',
      content: { 'text/event-stream': { schema: StreamEventSchema } },
    },
    ...etlErrors,
  },
})

export const PING_MS = 15_000

export const eventsRoutes = (deps: { hub: EventHub; pingMs?: number }) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(eventsRoute, (c) => {
    // HEAD runs this GET handler and drops the body: a stream nobody reads would hold its
    // subscription (and a blocked writer) forever, so HEAD gets the headers only.
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'Content-Type': 'text/event-stream' }) as never
    return streamSSE(c, async (stream) => {
      // A client gone mid-write is noticed by onAbort; the failed write itself is of no interest.
      const send = (e: StreamEvent) => {
        stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) }).catch(() => {})
      }
      let unsubscribe: () => void
      try {
        unsubscribe = await deps.hub.subscribe(send)
      } catch {
        // LISTEN failed (PostgreSQL unreachable; the hub logged it): the stream ends at once, and the
        // client's reconnection makes the hub try again.
        await stream.write(': unavailable\n\n')
        return
      }
      stream.onAbort(unsubscribe)
      // A first comment flushes the headers: the client knows the stream is live from here on.
      await stream.write(': connected\n\n')
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(deps.pingMs ?? PING_MS)
        if (!stream.aborted) await stream.write(': ping\n\n')
      }
      unsubscribe()
    })
  })
