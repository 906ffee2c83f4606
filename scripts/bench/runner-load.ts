// The runner's real ventas load (runner/src/etl/load.sql.ts), as the bench calls it: one store's
// lines in one transaction, chunked as the runner chunks them.
import type { Sql } from 'postgres'
import { loadVentas } from '../../runner/src/etl/load.sql.ts'
import type { SaleLine } from '../../test/fakes/sales-data.ts'

const chunkRows = Number(process.env.LOAD_CHUNK_ROWS ?? 5000)

export function runnerLoad(sql: Sql, tiendaId: string, lines: SaleLine[], executionId: number) {
  return loadVentas(sql, tiendaId, executionId, lines, { chunkRows, statementTimeoutMs: 0 })
}
