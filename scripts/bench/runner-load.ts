// The runner's real ventas load (runner/src/etl/load.sql.ts) as the bench calls it: one store's
// lines staged in KLK-sized pages, chunked as the runner chunks them (LOAD_CHUNK_ROWS), then
// merged in one transaction and the staging cleared.
import type { Sql } from 'postgres'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { StoreLoad } from '../../runner/src/etl/load.sql.ts'
import type { VentaLine } from '../../runner/src/etl/ventas.schema.ts'
import type { SaleLine } from '../../test/fakes/sales-data.ts'

const config = parseRunnerConfig(process.env)
const PAGE = 500

export async function runnerLoad(sql: Sql, tiendaId: string, lines: SaleLine[], executionId: number) {
  const load = new StoreLoad<VentaLine>(sql, 'ventas', tiendaId, executionId, {
    chunkRows: config.LOAD_CHUNK_ROWS,
    statementTimeoutMs: 0,
  })
  try {
    for (let i = 0; i < lines.length; i += PAGE) await load.append(lines.slice(i, i + PAGE))
    return await load.merge()
  } finally {
    await load.discard()
  }
}
