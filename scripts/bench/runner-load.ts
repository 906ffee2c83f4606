// The runner's real ventas load (runner/src/etl/load.sql.ts) as the bench calls it: one store's
// lines in one transaction, chunked as the runner chunks them (LOAD_CHUNK_ROWS).
import type { Sql } from 'postgres'
import { parseRunnerConfig } from '../../runner/src/config.ts'
import { loadVentas } from '../../runner/src/etl/load.sql.ts'
import type { SaleLine } from '../../test/fakes/sales-data.ts'

const config = parseRunnerConfig(process.env)

export function runnerLoad(sql: Sql, tiendaId: string, lines: SaleLine[], executionId: number) {
  return loadVentas(sql, tiendaId, executionId, lines, { chunkRows: config.LOAD_CHUNK_ROWS, statementTimeoutMs: 0 })
}
