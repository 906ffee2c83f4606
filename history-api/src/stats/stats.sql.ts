import type { ReservedSql, Sql } from 'postgres'
import { type Db, inReserved, pipeline, READ_SNAPSHOT } from '../db.ts'

const FINISHED = ['success', 'partial', 'failed']

type StatsParams = { since: Date; now: Date; dias: number; etlName: string | null; tz: string }

/** Where the window [since, ∞) is cut between raw rows and each rollup (readStats says how). */
type Cuts = {
  s: Date
  r0: Date
  r1: Date
  t0: Date
  d0: Date
  ha: Date
  hb: Date
  hsg: number
  dfrom: string
  sd0: string
  sd1: string
  ssg: number
  mfrom: string
  id_below: number
  /** The cuts' transaction snapshot, when exported for a second connection (pg_export_snapshot). */
  snapshot: string | null
}

/** Statistics reads running their two statements on two connections, per pool. */
const splitReads = new WeakMap<Sql, number>()

/**
 * Every statistic, from rows signed +1 (counted in) or −1 (counted out) so that each part reads at
 * most half of its unit. The window [since, ∞) is
 *   raw rows:   the sub-hour edge at `since` — the rows of [since, h0) counted in, or those of
 *               [hour, since) counted out (its bucket counted in by the hours below), the shorter;
 *               plus a sub-hour tail before d0 in zones whose days do not start on a UTC hour
 *   hourly:     since's day from the edge's hour to d0 counted in, or its start to that hour
 *               counted out (the whole day counted in by the days below), the shorter
 *   daily:      days from d0 (or from since's day)          (whole TZ_TIENDAS days)
 *   monthly:    per store only, from the first month start on or after those days (their days
 *               before it counted in) or from the one before (its days before them counted out)
 * so the numbers equal the plan's §6.2 SQL over the raw tables (migration 036 keeps the rollups by
 * trigger) while reading a few thousand rollup rows and at most half an hour of raw ones, however
 * dense the history.
 *
 * Two statements under one snapshot: every figure but the store × day map (figuresQuery), and the
 * map (mapQuery), about half of the work each (at 1M executions a single statement took 22–26 ms,
 * of which the map 7–9). From a pool they run at once on two connections, the second importing the
 * first's snapshot (SET TRANSACTION SNAPSHOT), so the answer is as consistent as one statement and
 * takes about as long as its larger half. At most half of a pool's connections are taken this way,
 * so reads holding one connection while waiting for another cannot take them all; beyond that both
 * run on one connection, and inside a caller's transaction in it. Statements that do not wait for
 * an answer are pipelined (BEGIN with the cuts; the map with its BEGIN, SET and COMMIT): two round
 * trips on the way to the answer instead of five.
 */
export async function readStats(db: Db, p: StatsParams): Promise<string> {
  if ('savepoint' in db) return readOnOne(db, p, false)
  const inFlight = splitReads.get(db) ?? 0
  if (inFlight >= Math.floor(db.options.max / 2)) return inReserved(db, (a) => readOnOne(a, p, true))
  splitReads.set(db, inFlight + 1)
  try {
    return await inReserved(db, (a) => inReserved(db, (b) => readOnTwo(a, b, p)))
  } finally {
    const left = (splitReads.get(db) ?? 1) - 1
    if (left > 0) splitReads.set(db, left)
    else splitReads.delete(db)
  }
}

/**
 * Both statements on one connection: in a transaction of its own (BEGIN sent with the cuts, COMMIT
 * with the statements), or in the caller's.
 */
async function readOnOne(db: Db, p: StatsParams, own: boolean) {
  const cuts = cutsQuery(db, p, false)
  const [c] = own ? (await pipeline(db.unsafe(READ_SNAPSHOT), cuts))[1] : await cuts
  const both = [figuresQuery(db, p, c!), mapQuery(db, p, c!)] as const
  const [[figures], [map]] = await (own ? pipeline(...both, db`commit`) : pipeline(...both))
  return joinBodies(figures!.body, mapBody(map!))
}

/**
 * The figures on `a`, which exports its snapshot with the cuts; the map on `b`, which imports it.
 * `a` commits once `b` has its snapshot (an exported snapshot lives as long as its transaction).
 */
async function readOnTwo(a: ReservedSql, b: ReservedSql, p: StatsParams) {
  const [, [c]] = await pipeline(a.unsafe(READ_SNAPSHOT), cutsQuery(a, p, true))
  // SET TRANSACTION SNAPSHOT takes no parameter: the id is checked to be one (hex and dashes).
  if (!/^[0-9A-F-]+$/i.test(c!.snapshot ?? '')) throw new Error(`not a snapshot id: ${c!.snapshot}`)
  const imported = b.unsafe(`set transaction snapshot '${c!.snapshot}'`)
  const map = pipeline(b.unsafe(READ_SNAPSHOT), imported, mapQuery(b, p, c!), b`commit`)
  const figures = pipeline(figuresQuery(a, p, c!))
  // Rejected with `map` when the import failed; `a` ends then by inReserved's ROLLBACK.
  const [[[f]]] = await Promise.all([figures, imported])
  const [[, , [m]]] = await Promise.all([map, a`commit`])
  return joinBodies(f!.body, mapBody(m!))
}

/** The figures' JSON object with the map added: the contract object (EtlStats). */
const joinBodies = (figures: string, map: string) => `${figures.slice(0, -1)}, "mapa_fallos" : ${map}}`

/**
 * The cuts, computed with PostgreSQL's zone rules (the numbers must equal the plan's SQL), then bound
 * into the statements as constants: the planner sizes each part by them and plans only the months the
 * raw rows can be in — from the edge (migrations/085) to since's next day (migrations/090:
 * etl_first_id_not_started_before), one or two months instead of every month since.
 */
function cutsQuery(db: Db, p: StatsParams, exportSnapshot: boolean) {
  const tz = p.tz
  // Each step materialized: inlined, every reference to a step's column copied its whole expression
  // into the next (7 steps deep), 8 ms of planning and 7 ms of evaluation for one row; so, 0.8 ms.
  return db<Cuts[]>`
    with b0 as materialized (
      select x.s, y.h, y.h0, z.d0, greatest(y.h0, date_trunc('hour', z.d0, 'UTC')) as h1,
        (z.d0 at time zone ${tz})::date as d0_fecha, z.dia, z.dia::timestamp at time zone ${tz} as dstart
      from (select ${p.since}::timestamptz as s) x
      cross join lateral (select date_trunc('hour', x.s, 'UTC') as h, date_trunc('hour', x.s, 'UTC')
        + case when date_trunc('hour', x.s, 'UTC') = x.s then interval '0' else interval '1 hour' end as h0) y
      cross join lateral (select (x.s at time zone ${tz})::date as dia,
        case when ((x.s at time zone ${tz})::date::timestamp at time zone ${tz}) = x.s then x.s
          else (((x.s at time zone ${tz})::date + 1)::timestamp at time zone ${tz}) end as d0) z
    ),
    -- The edge counted out when shorter and its hour's bucket is a whole hour of since's day.
    b1 as materialized (select b0.*, s - h < h0 - s and h0 <= d0 and (h at time zone ${tz})::date = dia as back_raw from b0),
    b2 as materialized (select b1.*, case when back_raw then h else h0 end as c from b1),
    -- The day's hours counted out when fewer and the day starts and ends on a UTC hour.
    b3 as materialized (select b2.*, d0 > s and date_trunc('hour', dstart, 'UTC') = dstart and h1 = d0 and c - dstart < h1 - c as back_day
      from b2),
    b4 as materialized (select b3.*, case when back_day then dia else d0_fecha end as dfrom from b3),
    b5 as materialized (select b4.*, date_trunc('month', dfrom::timestamp)::date as m_back,
        case when date_trunc('month', dfrom::timestamp)::date = dfrom then dfrom
          else (date_trunc('month', dfrom::timestamp) + interval '1 month')::date end as m_fwd
      from b4),
    b6 as materialized (select b5.*, dfrom - m_back < m_fwd - dfrom as back_month from b5)
    select s, d0,
      case when back_raw then h else s end as r0,
      case when back_raw then s else least(h0, d0) end as r1,
      case when back_day then d0 else h1 end as t0,
      case when back_day then dstart else c end as ha,
      case when back_day then c else h1 end as hb,
      case when back_day then -1 else 1 end as hsg,
      dfrom::text,
      (case when back_month then m_back else dfrom end)::text as sd0,
      (case when back_month then dfrom else m_fwd end)::text as sd1,
      case when back_month then -1 else 1 end as ssg,
      (case when back_month then m_back else m_fwd end)::text as mfrom,
      etl_first_id_not_started_before(d0) as id_below,
      ${exportSnapshot ? db`pg_export_snapshot()` : db`null`} as snapshot
    from b6`
}

/** SQL fragments shared by both statements: the cuts bound as constants, the ETL filter, the edge rows. */
function fragments(db: Db, p: StatsParams, c: Cuts) {
  const tz = p.tz
  // Bound as constants, each use a fragment of its own.
  const at = (v: Date) => db`${v}::timestamptz`
  const day = (v: string) => db`${v}::date`
  const etl = (alias: string, column = 'etl_name') =>
    p.etlName ? db`and ${db(alias)}.${db(column)} = ${p.etlName}` : db``
  // The months the window's executions can be in (migrations/085), as a bound parameter the planner
  // folds: the raw reads open the window's partitions, not every month ever kept.
  const months = (alias: string, column = 'id', since = p.since) =>
    db`etl_may_have_started_since(${db(alias)}.${db(column)}, ${since}::timestamptz)`
  // The edge and the tail, each row signed: −1 before since (counted out of its hour's bucket).
  const rawWindow = () => db`((e.started_at >= ${at(c.r0)} and e.started_at < ${at(c.r1)})
      or (e.started_at >= ${at(c.t0)} and e.started_at < ${at(c.d0)}))
    and ${months('e', 'id', c.r0)} and e.id < ${c.id_below}::int and e.status in ${db(FINISHED)} ${etl('e')}`
  const hours = (alias: string) => db`${db(alias)}.bucket >= ${at(c.ha)} and ${db(alias)}.bucket < ${at(c.hb)}`
  const hsg = () => db`${c.hsg}::int`
  const fecha = () => db`(e.started_at at time zone ${tz})::date`
  const sg = () => db`case when e.started_at < ${at(c.s)} then -1 else 1 end`
  return { tz, at, day, etl, months, rawWindow, hours, hsg, fecha, sg }
}

/** Every field of EtlStats but the store × day map. */
function figuresQuery(db: Db, p: StatsParams, c: Cuts) {
  const { tz, at, day, etl, months, rawWindow, hours, hsg, fecha, sg } = fragments(db, p, c)
  return db<{ body: string }[]>`
    -- The raw rows, read once for the three parts below.
    with raw as materialized (
      select e.id, ${fecha()} as fecha, ${sg()} as sg,
        e.status, e.error_phase, e.error_category, e.triggered_by, e.duration_seconds, e.extract_duration_seconds,
        e.transform_duration_seconds, e.load_duration_seconds, e.records_loaded, e.duplicates_skipped
      from etl_executions e where ${rawWindow()}
    ),
    ex as (
      select e.fecha, e.status, e.error_phase, e.error_category, e.sg as n,
        e.sg * coalesce(e.duration_seconds, 0)::numeric as dsum, e.sg * (e.duration_seconds is not null)::int as dn,
        e.sg * e.records_loaded::bigint as loaded, e.sg * e.duplicates_skipped::bigint as dups
      from raw e
      union all
      select (h.bucket at time zone ${tz})::date, h.status, h.error_phase, h.error_category, ${hsg()} * h.n,
        ${hsg()} * h.duration_sum, ${hsg()} * h.duration_n, ${hsg()} * h.records_loaded, ${hsg()} * h.duplicates
      from etl_stats_exec_hour h where ${hours('h')} ${etl('h')}
      union all
      select d.fecha, d.status, d.error_phase, d.error_category, d.n, d.duration_sum, d.duration_n, d.records_loaded, d.duplicates
      from etl_stats_exec_day d where d.fecha >= ${day(c.dfrom)} ${etl('d')}
    ),
    -- Per origin and status, with phase durations (migration 051's rollups, same cuts as ex).
    org as (
      select coalesce(e.triggered_by, 'cli') as triggered_by, e.status, e.sg as n,
        e.sg * coalesce(e.duration_seconds, 0)::numeric as dsum, e.sg * (e.duration_seconds is not null)::int as dn,
        e.sg * coalesce(e.extract_duration_seconds, 0)::numeric as xsum, e.sg * (e.extract_duration_seconds is not null)::int as xn,
        e.sg * coalesce(e.transform_duration_seconds, 0)::numeric as tsum,
        e.sg * (e.transform_duration_seconds is not null)::int as tn,
        e.sg * coalesce(e.load_duration_seconds, 0)::numeric as lsum, e.sg * (e.load_duration_seconds is not null)::int as ln
      from raw e
      union all
      select coalesce(h.triggered_by, 'cli'), h.status, ${hsg()} * h.n, ${hsg()} * h.duration_sum, ${hsg()} * h.duration_n,
        ${hsg()} * h.extract_sum, ${hsg()} * h.extract_n, ${hsg()} * h.transform_sum, ${hsg()} * h.transform_n,
        ${hsg()} * h.load_sum, ${hsg()} * h.load_n
      from etl_stats_origen_hour h where ${hours('h')} ${etl('h')}
      union all
      select coalesce(d.triggered_by, 'cli'), d.status, d.n, d.duration_sum, d.duration_n, d.extract_sum, d.extract_n,
        d.transform_sum, d.transform_n, d.load_sum, d.load_n
      from etl_stats_origen_day d where d.fecha >= ${day(c.dfrom)} ${etl('d')}
    ),
    totals as (
      select coalesce(sum(n) filter (where status = 'success'), 0)::int as successful,
        coalesce(sum(n) filter (where status = 'partial'), 0)::int as partial,
        coalesce(sum(n) filter (where status = 'failed'), 0)::int as failed,
        round(sum(dsum) / nullif(sum(dn), 0), 2)::float8 as avg_duration_seconds,
        coalesce(sum(loaded), 0)::float8 as total_records_loaded,
        coalesce(sum(dups), 0)::float8 as total_duplicates
      from ex
    ),
    st as materialized (
      select t.tienda_id, t.tienda_nombre, t.error_category, e.sg as n, e.sg * (t.status = 'failed')::int as fallos
      -- A lateral behind OFFSET 0 (not pulled up into a join): the edge is a few executions; when the
      -- planner could not see the window's bounds, at 100M store rows it chose a merge join over the
      -- whole execution index instead of a lookup per execution (30 s instead of milliseconds).
      from raw e
      cross join lateral (
        select t.tienda_id, t.tienda_nombre, t.error_category, t.status from etl_execution_details t
        where t.execution_id = e.id and ${months('t', 'execution_id', c.r0)} and t.execution_id < ${c.id_below}::int offset 0) t
      union all
      select h.tienda_id, h.tienda_nombre, h.error_category, ${hsg()} * h.n, ${hsg()} * h.fallos
      from etl_stats_tienda_hour h where ${hours('h')} ${etl('h')}
      union all
      select d.tienda_id, d.tienda_nombre, d.error_category, ${c.ssg}::int * d.n, ${c.ssg}::int * d.fallos
      from etl_stats_tienda_day d where d.fecha >= ${day(c.sd0)} and d.fecha < ${day(c.sd1)} ${etl('d')}
      union all
      select m.tienda_id, m.tienda_nombre, m.error_category, m.n, m.fallos
      from etl_stats_tienda_month m where m.mes >= ${day(c.mfrom)} ${etl('m')}
    ),
    per_category as materialized (
      select tienda_id, tienda_nombre, error_category, sum(n) as n, sum(fallos) as fallos from st group by 1, 2, 3
    ),
    top_tiendas as (
      select tienda_id, tienda_nombre, sum(n)::int as total, sum(fallos)::int as fallos,
        (array_agg(error_category order by n desc, error_category) filter (where error_category is not null and n > 0))[1]
          as error_mas_comun
      from per_category group by 1, 2 having sum(fallos) > 0
      order by fallos desc, tienda_id, tienda_nombre limit 10
    )
    -- The response itself (contract EtlStats but mapa_fallos), sent as it comes.
    select json_build_object(
      'total_executions', t.successful + t.partial + t.failed,
      'successful', t.successful, 'partial', t.partial, 'failed', t.failed,
      'success_rate', round(t.successful::numeric * 100 / nullif(t.successful + t.partial + t.failed, 0), 2)::float8,
      'avg_duration_seconds', t.avg_duration_seconds,
      'total_records_loaded', t.total_records_loaded, 'total_duplicates', t.total_duplicates,
      'errors_by_phase', (select json_build_object(
          'extract', coalesce(sum(n) filter (where error_phase = 'extract'), 0)::int,
          'transform', coalesce(sum(n) filter (where error_phase = 'transform'), 0)::int,
          'load', coalesce(sum(n) filter (where error_phase = 'load'), 0)::int)
        from ex),
      'errors_by_category', (select coalesce(json_object_agg(c.error_category, c.n order by c.error_category), '{}')
        from (select error_category, sum(n)::int as n from ex
              where error_phase is not null and error_category is not null
              group by 1 having sum(n) > 0) c),
      'tiendas_con_mas_fallos', (select coalesce(json_agg(json_build_object(
          'tienda_id', x.tienda_id, 'tienda_nombre', x.tienda_nombre, 'total_ejecuciones', x.total,
          'fallos', x.fallos, 'error_mas_comun', x.error_mas_comun)
        order by x.fallos desc, x.tienda_id, x.tienda_nombre), '[]') from top_tiendas x),
      -- Running and queued now (migrations/092).
      'running', a.running, 'queued', a.queued,
      'dias', ${p.dias}::int,
      'etl_name', ${p.etlName}::text,
      'tendencia_diaria', (select coalesce(json_agg(x order by x.fecha), '[]') from (
        select fecha, coalesce(sum(n) filter (where status = 'success'), 0)::int as exitosas,
          coalesce(sum(n) filter (where status = 'partial'), 0)::int as parciales,
          coalesce(sum(n) filter (where status = 'failed'), 0)::int as fallidas
        from ex group by fecha having sum(n) > 0) x),
      -- Plan §6.2 "Tiempo promedio por fase": successful executions only, as its SQL has it.
      'tiempo_promedio_por_fase', (select json_build_object(
          'extract', round(sum(xsum) filter (where status = 'success') / nullif(sum(xn) filter (where status = 'success'), 0), 2)::float8,
          'transform', round(sum(tsum) filter (where status = 'success') / nullif(sum(tn) filter (where status = 'success'), 0), 2)::float8,
          'load', round(sum(lsum) filter (where status = 'success') / nullif(sum(ln) filter (where status = 'success'), 0), 2)::float8)
        from org),
      -- Plan §6.2 "Distribución por origen".
      'distribucion_por_origen', (select coalesce(json_agg(json_build_object('triggered_by', x.triggered_by,
          'total_ejecuciones', x.total, 'exitosas', x.ok, 'fallidas', x.bad, 'duracion_promedio', x.avg)
        order by x.total desc, x.triggered_by), '[]')
        from (select triggered_by, sum(n)::int as total, coalesce(sum(n) filter (where status = 'success'), 0)::int as ok,
            coalesce(sum(n) filter (where status = 'failed'), 0)::int as bad,
            round(sum(dsum) / nullif(sum(dn), 0), 2)::float8 as avg
          from org group by 1 having sum(n) > 0) x)
    )::text as body
    from totals t cross join etl_stats_active_counts(${at(c.s)}, ${p.now}::timestamptz, ${p.etlName}::text) a`
}

/** Failed store runs per store and TZ_TIENDAS day, as three parallel arrays in the contract's order. */
function mapQuery(db: Db, p: StatsParams, c: Cuts) {
  const { tz, day, etl, months, rawWindow, hours, hsg, fecha, sg } = fragments(db, p, c)
  return db<MapRow[]>`
    with raw as materialized (
      select e.id, ${fecha()} as fecha, ${sg()} as sg from etl_executions e where ${rawWindow()}
    ),
    -- Whole days from their own table, since's day completed by the edge's failed store rows, signed
    -- as in figuresQuery's st (the same lateral lookup per execution, behind OFFSET 0).
    fallos as (
      select e.fecha, t.tienda_id, e.sg as fallos from raw e
      cross join lateral (
        select t.tienda_id from etl_execution_details t
        where t.execution_id = e.id and t.status = 'failed' and ${months('t', 'execution_id', c.r0)}
          and t.execution_id < ${c.id_below}::int offset 0) t
      union all
      select (h.bucket at time zone ${tz})::date, h.tienda_id, ${hsg()} * h.fallos
      from etl_stats_tienda_hour h where ${hours('h')} and h.fallos <> 0 ${etl('h')}
      union all
      select f.fecha, f.tienda_id, f.fallos from etl_stats_fallos_day f where f.fecha >= ${day(c.dfrom)} ${etl('f')}
    )
    -- The three aggregates read the same sorted rows (PostgreSQL's documented sorted-subquery form).
    select array_agg(tienda_id) as tiendas, array_agg(fecha::text) as fechas, array_agg(fallos) as fallos from (
      select tienda_id, fecha, sum(fallos)::int as fallos from fallos group by 1, 2 having sum(fallos) > 0
      order by tienda_id, fecha) x`
}

type MapRow = { tiendas: string[] | null; fechas: string[] | null; fallos: number[] | null }

/**
 * EtlStats' mapa_fallos as JSON text, from mapQuery's three arrays: PostgreSQL's json_agg of the
 * ~1,800 entries of a 20-store, 90-day window took a third of that statement.
 */
function mapBody({ tiendas, fechas, fallos }: MapRow) {
  const entries = (tiendas ?? []).map(
    (tienda, i) => `{"tienda_id":${JSON.stringify(tienda)},"fecha":"${fechas![i]}","fallos":${fallos![i]}}`,
  )
  return `[${entries.join(',')}]`
}
