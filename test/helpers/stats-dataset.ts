// A deterministic history for the statistics tests: ~1,000 executions over the last 100 days
// (denser in the last two, so a rolling window's edge cuts through hours and days), every
// status and origin, stores failing with assorted categories, some (phase) durations missing.
import type { Sql } from 'postgres'

const CATEGORIES = [
  ['extract', 'vpn_timeout'],
  ['extract', 'vpn_timeout'],
  ['extract', 'api_timeout'],
  ['extract', 'db_connection'],
  ['transform', 'data_format'],
  ['load', 'pg_timeout'],
  ['load', 'deadlock'],
] as const
export const STATS_TIENDAS = [
  'tienda_01',
  'tienda_02',
  'tienda_03',
  'tienda_04',
  'tienda_05',
  'tienda_06',
  'tienda_07',
  'tienda_08',
]
const TRIGGERS = ['scheduler', 'eventbridge', 'cli', 'fluxion_admin', 'recovery']

function prng(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function seedStatsDataset(db: Sql, now: Date, seed = 42) {
  const rand = prng(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!
  await db`
    insert into tiendas (id, nombre, source_system, host, port)
    select t, 'TIENDA ' || upper(t), 'klk', '127.0.0.1', 18100 + n
    from unnest(${STATS_TIENDAS}::text[]) with ordinality as s(t, n)
    on conflict (id) do nothing`
  const starts: number[] = []
  for (let m = 3; m < 100 * 24 * 60; m += 137 + Math.floor(rand() * 60)) starts.push(now.getTime() - m * 60_000)
  for (let m = 2; m < 2 * 24 * 60; m += 7) starts.push(now.getTime() - m * 60_000 - 17_000)
  for (const d of [1, 7, 30, 90]) {
    starts.push(now.getTime() - d * 86_400_000 + 180_000, now.getTime() - d * 86_400_000 - 180_000)
  }

  // Phase durations from their own sequence, so the rest of the dataset stays as it was.
  const phaseRand = prng(seed + 1)
  const phase = (status: string) =>
    status === 'running' || phaseRand() < 0.1 ? null : Math.round(phaseRand() * 6_000) / 100
  const executions = starts.map((t, i) => {
    const r = rand()
    const status = i % 97 === 0 ? 'running' : r < 0.7 ? 'success' : r < 0.88 ? 'partial' : 'failed'
    const stores = STATS_TIENDAS.filter(() => rand() < 0.6)
    if (stores.length === 0) stores.push(pick(STATS_TIENDAS))
    const nFailed = status === 'success' || status === 'running' ? 0 : status === 'failed' ? stores.length : 1
    const failures = stores.slice(0, nFailed).map((tienda) => ({ tienda, cat: pick(CATEGORIES) }))
    const dominant = failures[0]?.cat
    return {
      row: {
        etl_name: rand() < 0.6 ? 'ventas' : 'inventario',
        etl_type: 'scheduled',
        status,
        started_at: new Date(t),
        finished_at: status === 'running' ? null : new Date(t + 30_000),
        duration_seconds: status === 'running' || rand() < 0.05 ? null : Math.round(rand() * 12_000) / 100,
        extract_duration_seconds: phase(status),
        transform_duration_seconds: phase(status),
        load_duration_seconds: phase(status),
        triggered_by: pick(TRIGGERS),
        error_phase: dominant?.[0] ?? null,
        error_category: dominant?.[1] ?? null,
        records_loaded: Math.floor(rand() * 20_000),
        duplicates_skipped: Math.floor(rand() * 50),
        tiendas_count: stores.length,
        tiendas_exitosas: stores.length - nFailed,
        tiendas_fallidas: nFailed,
        tienda_ids: stores,
      },
      stores,
      failures,
    }
  })
  for (let i = 0; i < 3; i++) {
    executions.push({
      row: {
        ...executions[0]!.row,
        status: 'queued',
        started_at: null as unknown as Date,
        finished_at: null,
        duration_seconds: null,
        error_phase: null,
        error_category: null,
      },
      stores: [],
      failures: [],
    })
  }
  const inserted = await db<{ id: number }[]>`
    insert into etl_executions ${db(executions.map((e) => e.row))} returning id`
  const details = executions.flatMap((e, i) =>
    e.stores.map((tienda) => {
      const failure = e.failures.find((f) => f.tienda === tienda)
      return {
        execution_id: inserted[i]!.id,
        tienda_id: tienda,
        tienda_nombre: `TIENDA ${tienda.toUpperCase()}`,
        source_system: 'klk',
        status: e.row.status === 'running' ? 'running' : failure ? 'failed' : 'success',
        error_phase: failure?.cat[0] ?? null,
        error_category: failure?.cat[1] ?? null,
        attempts: 1,
      }
    }),
  )
  for (let i = 0; i < details.length; i += 2000) {
    await db`insert into etl_execution_details ${db(details.slice(i, i + 2000))}`
  }
  return { executions: executions.length, details: details.length }
}
