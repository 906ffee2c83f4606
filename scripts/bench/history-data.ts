// A large synthetic history made set-based (generate_series), for query-plan tests and the
// bench. Triggers are off while loading (session_replication_role = replica: per-row trigger
// work would dominate), the store rows get their execution's state directly, and the counts and
// rollups are rebuilt from the tables afterwards by migration 036's etl_stats_rebuild().
import type { Sql } from 'postgres'

export type BulkOptions = {
  executions: number
  tiendasPerExecution: number
  tiendas: number
  /** Executions are spread evenly over the last `days` days. */
  days: number
  now: Date
  /** Ventas executions get the window [started_at − N min, started_at] (the scheduled run's); unset: no window. */
  ventasWindowMin?: number
  /** Rebuild the statistics rollups after the load (default true; the alerts bench reads none). */
  rollups?: boolean
  /** Drop the store rows' secondary indexes while loading and rebuild them after (large loads). */
  rebuildIndexes?: boolean
  log?: (line: string) => void
}

/** Runs `fn` without the table's secondary indexes and unique constraints, then recreates them as they were. */
async function withoutSecondaryIndexes(db: Sql, table: string, fn: () => Promise<void>) {
  const constraints = await db<{ conname: string; def: string }[]>`
    select conname, pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = ${table}::regclass and contype = 'u'`
  const indexes = await db<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes
    where schemaname = 'public' and tablename = ${table}
      and indexname not in (select conname from pg_constraint where conrelid = ${table}::regclass)`
  for (const c of constraints) await db.unsafe(`alter table ${table} drop constraint ${c.conname}`)
  for (const i of indexes) await db.unsafe(`drop index ${i.indexname}`)
  try {
    await fn()
  } finally {
    await db.begin(async (tx) => {
      await tx`set local maintenance_work_mem = '1GB'`
      await tx`set local max_parallel_maintenance_workers = 2`
      // A partitioned table's index reads back as CREATE INDEX … ON ONLY, which builds no partition's
      // index (and leaves the parent's invalid): recreate it on the whole table.
      for (const i of indexes) await tx.unsafe(i.indexdef.replace(' ON ONLY ', ' ON '))
      for (const c of constraints) await tx.unsafe(`alter table ${table} add constraint ${c.conname} ${c.def}`)
    })
  }
}

export async function loadBulkHistory(db: Sql, o: BulkOptions) {
  const log = o.log ?? (() => {})
  const spanS = o.days * 86_400
  const step = spanS / o.executions
  await db`
    insert into tiendas (id, nombre, source_system, host, port)
    select format('tienda_%s', lpad(n::text, greatest(3, length(${o.tiendas}::text)), '0')), format('TIENDA %s', n), case when n % 4 = 0 then 'stellar' else 'klk' end,
      '127.0.0.1', 18000 + n
    from generate_series(1, ${o.tiendas}) n
    on conflict (id) do nothing`
  // A database migrated up to 080 (the bench's unpartitioned baseline) has no months: default ids there.
  const [schema] = await db<{ monthly: boolean }[]>`select to_regproc('etl_execution_next_id') is not null as monthly`
  const monthly = schema!.monthly
  const load = () =>
    db.begin(async (tx) => {
      await tx`set local session_replication_role = replica`
      // Store rows only for this call's executions: a second call appends a history.
      const [last] = await tx<{ id: number }[]>`select coalesce(max(id), 0)::int as id from etl_executions`
      const before = last!.id
      // Every month of the span exists, and each execution takes an id of its month (migrations/085),
      // as the runner's rows do when they are written at the time they record.
      if (monthly)
        await tx`
        select etl_history_partition_create(m)
        from generate_series(date_trunc('month', ${o.now}::timestamptz - make_interval(secs => ${spanS + 120}::float8), 'UTC'),
          ${o.now}::timestamptz, interval '1 month') m`
      const t0 = Date.now()
      await tx`
      insert into etl_executions (${monthly ? tx`id,` : tx``} etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
        error_phase, error_category, error_source, records_extracted, records_loaded, duplicates_skipped, tiendas_count,
        tiendas_exitosas, tiendas_fallidas, tienda_ids, source_system, extract_duration_seconds,
        transform_duration_seconds, load_duration_seconds, fecha_desde, fecha_hasta)
      select
        ${monthly ? tx`etl_execution_next_id(w.at),` : tx``}
        case when g % 3 = 0 then 'inventario' else 'ventas' end,
        case when g % 50 = 0 then 'manual' else 'scheduled' end,
        s.status,
        ${o.now}::timestamptz - make_interval(secs => (${o.executions} - g) * ${step}::float8 + 60),
        ${o.now}::timestamptz - make_interval(secs => (${o.executions} - g) * ${step}::float8 + 15),
        -- Durations and loaded rows vary (a spread, not one value) so the sorts by them read a real order.
        (5 + (g * 37) % 300 + (g % 10) / 10.0)::numeric(10, 2),
        (array['scheduler', 'eventbridge', 'cli', 'fluxion_admin', 'recovery'])[1 + (g * 7) % 5],
        case when s.status <> 'success' then (array['extract', 'extract', 'transform', 'load'])[1 + g % 4] end,
        case when s.status <> 'success' then (array['vpn_timeout', 'api_timeout', 'data_format', 'pg_timeout'])[1 + g % 4] end,
        case when s.status <> 'success' then 'klk_api' end,
        12500, 12000 + (g * 13) % 500, 20, ${o.tiendasPerExecution},
        case when s.status = 'success' then ${o.tiendasPerExecution} when s.status = 'partial' then ${o.tiendasPerExecution - 1} else 0 end,
        case when s.status = 'success' then 0 when s.status = 'partial' then 1 else ${o.tiendasPerExecution} end,
        '{}', 'klk', 30.5 + g % 7, 5.2, 9.5,
        case when g % 3 <> 0 and ${o.ventasWindowMin ?? null}::int is not null then w.at - make_interval(mins => ${o.ventasWindowMin ?? 0}) end,
        case when g % 3 <> 0 and ${o.ventasWindowMin ?? null}::int is not null then w.at end
      from generate_series(1, ${o.executions}) g
      cross join lateral (select ${o.now}::timestamptz - make_interval(secs => (${o.executions} - g) * ${step}::float8 + 60) as at) w
      cross join lateral (select case when g % 20 = 7 then 'failed' when g % 10 = 3 then 'partial' else 'success' end as status) s`
      log(`executions: ${o.executions} in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      const t1 = Date.now()
      await tx`
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        finished_at, duration_seconds, records_extracted, records_loaded, duplicates_skipped, error_phase, error_category,
        error_message, attempts, server_ip, server_port, connection_latency_ms,
        execution_started_at, execution_etl_name, execution_finished)
      select e.id, format('tienda_%s', lpad(t.n::text, greatest(3, length(${o.tiendas}::text)), '0')), format('TIENDA %s', t.n), 'klk',
        case when e.status = 'failed' or (e.status = 'partial' and t.i = 1) then 'failed' else 'success' end,
        e.started_at, e.finished_at, 2.3, 1250, 1248, 2,
        case when e.status = 'failed' or (e.status = 'partial' and t.i = 1) then e.error_phase end,
        case when e.status = 'failed' or (e.status = 'partial' and t.i = 1) then e.error_category end,
        case when e.status = 'failed' or (e.status = 'partial' and t.i = 1) then 'Connection timeout after 90s' end,
        1, '10.8.0.15', 80, 12.4,
        e.started_at, e.etl_name, true
      from etl_executions e
      cross join lateral (
        select i, 1 + ((e.id::bigint * 7 + i * 13) % ${o.tiendas}) as n from generate_series(1, ${o.tiendasPerExecution}) i
      ) t
      where e.id > ${before}`
      log(`store rows: ${o.executions * o.tiendasPerExecution} in ${((Date.now() - t1) / 1000).toFixed(1)} s`)
    })
  if (o.rebuildIndexes) {
    const t = Date.now()
    await withoutSecondaryIndexes(db, 'etl_execution_details', load)
    log(`load + index rebuild of the store rows in ${((Date.now() - t) / 1000).toFixed(1)} s`)
  } else {
    await load()
  }
  if (o.rollups ?? true) {
    const t2 = Date.now()
    await db`select etl_stats_rebuild()`
    log(`rollups rebuilt in ${((Date.now() - t2) / 1000).toFixed(1)} s`)
  }
  const t3 = Date.now()
  await db.unsafe('vacuum analyze etl_executions')
  await db.unsafe('vacuum analyze etl_execution_details')
  await db.unsafe(
    'analyze etl_stats_exec_hour, etl_stats_exec_day, etl_stats_tienda_hour, etl_stats_tienda_day, etl_execution_counts, ' +
      'etl_execution_day_counts, etl_execution_hour_counts',
  )
  log(`vacuum analyze in ${((Date.now() - t3) / 1000).toFixed(1)} s`)
}
