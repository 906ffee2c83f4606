// GET /api/etl/history.csv: the filtered list as CSV, streamed. Rows come from a postgres.js
// cursor a batch at a time and are written as the client reads (the stream's pull), so an
// export of a million executions holds one batch in memory, and a client that goes away
// closes the cursor (cancel) instead of leaving the query running.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Db } from '../db.ts'
import { etlErrors } from '../openapi.ts'
import { validationHook } from '../problem.ts'
import { refuseFilters, toFilters } from './executions.routes.ts'
import { HistoryExportQuery } from './executions.schemas.ts'
import { type ExecutionRow, selectExecutionsForExport } from './executions.sql.ts'

/** The plan's list fields (ExecutionSummary), in its order: the CSV header. */
export const CSV_COLUMNS = [
  'id',
  'etl_name',
  'etl_type',
  'started_at',
  'finished_at',
  'duration_seconds',
  'status',
  'records_extracted',
  'records_loaded',
  'duplicates_skipped',
  'tiendas_count',
  'tiendas_exitosas',
  'tiendas_fallidas',
  'tiendas_cerradas',
  'error_phase',
  'error_category',
  'triggered_by',
] as const satisfies readonly (keyof ExecutionRow)[]

const BATCH = 1000

const exportRoute = createRoute({
  method: 'get',
  path: '/api/etl/history.csv',
  tags: ['history'],
  operationId: 'exportExecutions',
  summary: 'Export the filtered list as CSV',
  request: { query: HistoryExportQuery },
  responses: {
    200: {
      description: 'The executions as CSV.',
      headers: { 'Content-Disposition': { required: true, schema: { type: 'string' } } },
      content: { 'text/csv': { schema: z.string() } },
    },
    ...etlErrors,
  },
})

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

const csvLine = (values: readonly unknown[]) => `${values.map(csvField).join(',')}\r\n`

// postgres.js reads NUMERIC as a string ("45.20"); the CSV writes the number the JSON list has.
const toCsvLine = (r: ExecutionRow) =>
  csvLine(CSV_COLUMNS.map((k) => (k === 'duration_seconds' && r[k] !== null ? Number(r[k]) : r[k])))

export const exportRoutes = (deps: { read: Db; tz: string }) =>
  new OpenAPIHono({ defaultHook: validationHook }).openapi(exportRoute, async (c) => {
    const f = toFilters(c.req.valid('query'), deps.tz)
    const refused = await refuseFilters(c, deps.read, f)
    if (refused) return refused
    const encoder = new TextEncoder()
    const batches = selectExecutionsForExport(deps.read, f).cursor(BATCH)[Symbol.asyncIterator]()
    let header = true
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (header) {
          header = false
          controller.enqueue(encoder.encode(csvLine(CSV_COLUMNS)))
          return
        }
        const { value: rows, done } = await batches.next()
        if (done) {
          controller.close()
          return
        }
        controller.enqueue(encoder.encode(rows.map(toCsvLine).join('')))
      },
      async cancel() {
        await batches.return?.()
      },
    })
    return c.body(body, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': 'attachment; filename="historial-ejecuciones.csv"',
    })
  })
