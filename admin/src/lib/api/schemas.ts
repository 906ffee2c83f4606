// Names for the contract's schemas, so components say `Schemas['ExecutionSummary']` instead of
// the long generated path. These are aliases of the generated types, never copies of them.
import type { components, paths } from './generated/openapi.ts'

export type Schemas = components['schemas']

export type HistoryQuery = NonNullable<paths['/api/etl/history']['get']['parameters']['query']>
export type StatsQuery = NonNullable<paths['/api/etl/stats']['get']['parameters']['query']>
