// What must hold for every finished execution, whatever closed it (the tracker, a crashed job, the
// reaper after kill -9, a runner shutting down): every store is accounted for exactly once.
import type { Sql } from 'postgres'
import { expect } from 'vitest'

export async function expectStoresAccountedFor(db: Sql, executionId: number) {
  const [row] = await db<
    {
      status: string
      count: number
      ok: number
      failed: number
      closed: number
      closedRows: number
      skipped: number
      running: number
      rows: number
    }[]
  >`
    select e.status, e.tiendas_count as count, e.tiendas_exitosas as ok, e.tiendas_fallidas as failed,
      e.tiendas_cerradas as closed, count(d.id) filter (where d.status = 'closed')::int as "closedRows",
      count(d.id) filter (where d.status = 'skipped')::int as skipped,
      count(d.id) filter (where d.status = 'running')::int as running,
      count(d.id)::int as rows
    from etl_executions e left join etl_execution_details d on d.execution_id = e.id
    where e.id = ${executionId}
    group by e.id`
  expect(row, `execution ${executionId}`).toBeDefined()
  expect(['success', 'partial', 'failed', 'cancelled'], `execution ${executionId} is finished`).toContain(row!.status)
  expect(row!.running, `no store of execution ${executionId} left running`).toBe(0)
  expect(row!.closed, `tiendas_cerradas counts the closed rows (execution ${executionId})`).toBe(row!.closedRows)
  expect(row!.count, `tiendas_count = exitosas + fallidas + cerradas + skipped (execution ${executionId})`).toBe(
    row!.ok + row!.failed + row!.closed + row!.skipped,
  )
  expect(row!.rows, `one detail row per store (execution ${executionId})`).toBe(row!.count)
}
