// What PostgreSQL says a stretch of work cost ONE database of a possibly shared server:
// - its WAL, read back with pg_walinspect: a record is the database's when one of its block
//   references names the database's oid, or when it belongs to a transaction that wrote such a
//   record (its commit). pg_current_wal_lsn()'s diff is kept beside it: it counts every database.
// - its durable row writes, from the same records (heap INSERT / UPDATE / HOT_UPDATE / DELETE):
//   exact and immediate, where pg_stat_* counters reach the view only when each backend flushes
//   them (up to 10 s after it goes idle). UNLOGGED staging writes no WAL and is not counted.
// - the size of its history tables (heap + indexes + TOAST), read after VACUUM.
import type { Sql } from 'postgres'

export type WalCost = {
  /** pg_wal_lsn_diff over the stretch: every database of the server, this one included. */
  cluster_bytes: number
  bytes: number
  full_page_image_bytes: number
  records: number
  commits: number
  row_inserts: number
  row_updates: number
  row_deletes: number
  /** Heap rows written per table (a partition counts under its parent, pgboss.job's per-queue ones included). */
  rows_by_table: Record<string, { inserts: number; updates: number; deletes: number }>
}

export const SIZE_GROUPS = [
  'etl_executions',
  'etl_execution_details',
  'rollups',
  'pgboss_job',
  'ventas',
  'inventario',
] as const
export type Sizes = Record<(typeof SIZE_GROUPS)[number] | 'database', number>

export async function walinspectAvailable(sql: Sql): Promise<boolean> {
  try {
    await sql`create extension if not exists pg_walinspect`
    return true
  } catch {
    return false
  }
}

/**
 * Keeps the server's WAL from `now` until `release`: a checkpoint (this bench's, another client's,
 * max_wal_size's) may otherwise recycle the segments before they are read. A temporary physical
 * slot, so it ends with the session if the bench dies. `sql` must be a single-connection pool.
 */
export async function holdWal(sql: Sql): Promise<{ release: () => Promise<void> }> {
  const name = `fluxion_bench_capacity_${process.pid}`
  await sql`select pg_create_physical_replication_slot(${name}, true, true)`
  return { release: () => sql`select pg_drop_replication_slot(${name})`.then(() => {}) }
}

export const currentLsn = (sql: Sql) =>
  sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`.then((r) => r[0]!.lsn)

/** The insert position, once flushed: pg_walinspect refuses to read past the flush position. */
export async function flushedLsn(sql: Sql): Promise<string> {
  const lsn = await currentLsn(sql)
  for (;;) {
    const [r] = await sql<{ flushed: boolean }[]>`select pg_current_wal_flush_lsn() >= ${lsn}::pg_lsn as flushed`
    if (r!.flushed) return lsn
    await new Promise((done) => setTimeout(done, 50))
  }
}

export async function walCost(sql: Sql, from: string, to: string, inspect: boolean): Promise<WalCost> {
  const cluster = await sql<{ cluster: number }[]>`
    select pg_wal_lsn_diff(${to}::pg_lsn, ${from}::pg_lsn)::float8 as cluster`.then((r) => r[0]!.cluster)
  const cost: WalCost = {
    cluster_bytes: cluster,
    bytes: 0,
    full_page_image_bytes: 0,
    records: 0,
    commits: 0,
    row_inserts: 0,
    row_updates: 0,
    row_deletes: 0,
    rows_by_table: {},
  }
  if (!inspect) return cost
  const rows = await sql<
    {
      rel: string | null
      bytes: number
      fpi: number
      records: number
      commits: number
      ins: number
      upd: number
      del: number
    }[]
  >`
    with r as (
      select record_length, fpi_length, xid::text as xid, resource_manager as rm, record_type as rt, description,
        regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)') as ref
      from pg_get_wal_records_info(${from}::pg_lsn, ${to}::pg_lsn)
    ), db as (select oid::text as oid from pg_database where datname = current_database()),
    xids as (select distinct xid from r, db where r.ref[1] = db.oid and r.xid <> '0'),
    ours as (
      select r.*, case when r.ref[1] = db.oid then pg_filenode_relation(0, r.ref[2]::oid) end as relid
      from r, db where r.ref[1] = db.oid or r.xid in (select xid from xids)
    )
    select coalesce(p.inhparent, o.relid)::regclass::text as rel,
      sum(record_length)::float8 as bytes, sum(fpi_length)::float8 as fpi, count(*)::int as records,
      count(*) filter (where rm = 'Transaction' and rt like 'COMMIT%')::int as commits,
      coalesce(sum(case
        when rm = 'Heap' and rt like 'INSERT%' then 1
        when rm = 'Heap2' and rt like 'MULTI_INSERT%' then coalesce((regexp_match(description, 'ntuples: (\\d+)'))[1]::int, 1)
      end), 0)::int as ins,
      count(*) filter (where rm = 'Heap' and rt similar to '(HOT_)?UPDATE%')::int as upd,
      count(*) filter (where rm = 'Heap' and rt like 'DELETE%')::int as del
    from ours o left join pg_inherits p on p.inhrelid = o.relid
    group by 1`
  for (const r of rows) {
    cost.bytes += r.bytes
    cost.full_page_image_bytes += r.fpi
    cost.records += r.records
    cost.commits += r.commits
    cost.row_inserts += r.ins
    cost.row_updates += r.upd
    cost.row_deletes += r.del
    if (r.rel && r.ins + r.upd + r.del > 0)
      cost.rows_by_table[r.rel] = { inserts: r.ins, updates: r.upd, deletes: r.del }
  }
  return cost
}

/**
 * VACUUM (not FULL) first: dead versions left by the run's updates become reusable space, as
 * autovacuum makes them in a deployment, and the visibility map is current. The file does not
 * shrink, so a run's size delta is what it adds once its predecessor's dead space is reused.
 */
export async function historySizes(sql: Sql): Promise<Sizes> {
  await sql`vacuum (analyze) etl_executions, etl_execution_details, ventas, inventario, pgboss.job`
  const [s] = await sql<Sizes[]>`
    select
      pg_total_relation_size('etl_executions')::float8 as etl_executions,
      pg_total_relation_size('etl_execution_details')::float8 as etl_execution_details,
      (select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c
        where c.relkind = 'r' and c.relnamespace = 'public'::regnamespace
          and (c.relname like 'etl\\_stats\\_%' or c.relname = 'etl_execution_counts'))::float8 as rollups,
      (select coalesce(sum(pg_total_relation_size(relid)), 0) from pg_partition_tree('pgboss.job') where isleaf)::float8 as pgboss_job,
      pg_total_relation_size('ventas')::float8 as ventas,
      pg_total_relation_size('inventario')::float8 as inventario,
      pg_database_size(current_database())::float8 as database`
  return s!
}

export function sizeDelta(before: Sizes, after: Sizes): Sizes {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Sizes]])) as Sizes
}

/** Connections the runner processes hold on the database now (their pools and pg-boss's). */
export const runnerConnections = (sql: Sql) =>
  sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and application_name like 'fluxion-runner%'`.then((r) => r[0]!.n)

export const FOOTPRINT_GROUPS = [
  'etl_executions',
  'etl_execution_details',
  'store_rollups',
  'pgboss_job',
  'ventas',
] as const
export type Footprint = Record<(typeof FOOTPRINT_GROUPS)[number], { rows: number; bytes: number }>

/**
 * Rows and bytes (heap + indexes + TOAST, after VACUUM) of each growing table group. Two readings
 * around many runs give the marginal bytes per row, free of the fixed pages (metapages, roots) a
 * small table's average carries and finer than one run's page-sized delta. The per-store rollups
 * (etl_stats_tienda_hour/day/month) grow per store and bucket, not per run.
 */
export async function footprint(sql: Sql): Promise<Footprint> {
  await sql`vacuum etl_executions, etl_execution_details, etl_stats_tienda_hour, etl_stats_tienda_day,
    etl_stats_tienda_month, pgboss.job, ventas`
  const rows = await sql<{ g: keyof Footprint; rows: number; bytes: number }[]>`
    select 'etl_executions' as g, (select count(*) from etl_executions)::float8 as rows,
      pg_total_relation_size('etl_executions')::float8 as bytes
    union all select 'etl_execution_details', (select count(*) from etl_execution_details),
      pg_total_relation_size('etl_execution_details')
    union all select 'store_rollups',
      (select count(*) from etl_stats_tienda_hour) + (select count(*) from etl_stats_tienda_day)
        + (select count(*) from etl_stats_tienda_month),
      pg_total_relation_size('etl_stats_tienda_hour') + pg_total_relation_size('etl_stats_tienda_day')
        + pg_total_relation_size('etl_stats_tienda_month')
    union all select 'pgboss_job', (select count(*) from pgboss.job),
      (select sum(pg_total_relation_size(relid)) from pg_partition_tree('pgboss.job') where isleaf)
    union all select 'ventas', (select count(*) from ventas), pg_total_relation_size('ventas')`
  return Object.fromEntries(rows.map((r) => [r.g, { rows: r.rows, bytes: r.bytes }])) as Footprint
}

/** Bytes per row added between two footprints (0 where no row was added). */
export function bytesPerRowAdded(before: Footprint, after: Footprint) {
  return Object.fromEntries(
    FOOTPRINT_GROUPS.map((g) => {
      const rows = after[g].rows - before[g].rows
      const bytes = after[g].bytes - before[g].bytes
      return [g, { rows, bytes, bytes_per_row: rows > 0 ? Math.round(bytes / rows) : 0 }]
    }),
  ) as Record<keyof Footprint, { rows: number; bytes: number; bytes_per_row: number }>
}

/**
 * CPU seconds so far of each backend serving this database (not `sql`'s own), by pid: PostgreSQL's
 * work for the runs, without the other databases of a shared server or its background processes.
 */
export async function backendCpu(sql: Sql, cpuSeconds: (pid: number) => Promise<number>): Promise<Map<number, number>> {
  const pids = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
  return new Map(await Promise.all(pids.map(async ({ pid }) => [pid, await cpuSeconds(pid)] as const)))
}

/** CPU used between two readings; a backend that started in between counts whole. */
export const cpuBetween = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((t, [pid, s]) => t + s - (before.get(pid) ?? 0), 0)
