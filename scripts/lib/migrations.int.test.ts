import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { PGBOSS_SCHEMA_VERSION } from '../pgboss-migration.ts'
import { catalogDump } from './catalog.ts'
import { loadMigrations, MIGRATIONS_DIR, migrateDown, migrateUp } from './migrations.ts'

// The clone comes from the migrated template; roll it all the way down first so each
// test starts from an empty schema, as a fresh database would.
let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
  await migrateDown(database.sql, '001')
})
afterAll(() => database.drop())

describe('migrations', () => {
  it('up → down (each, newest first) → up yields an identical schema', async () => {
    const { sql } = database
    const all = await loadMigrations()
    await migrateUp(sql)
    const first = await catalogDump(sql)
    for (const m of [...all].reverse()) {
      const rolledBack = await migrateDown(sql, m.version)
      expect(rolledBack).toEqual([m.version])
    }
    expect(await catalogDump(sql)).toEqual((await catalogDump(sql)).filter((l) => l.includes('schema_migrations')))
    await migrateUp(sql)
    expect(await catalogDump(sql)).toEqual(first)
  })

  it("brings pg-boss's schema to the version the installed pg-boss needs, with the ETL queues", async () => {
    // Upgrading the pg-boss package without `node scripts/pgboss-migration.ts NNN` fails here, not in production.
    const { sql } = database
    await migrateUp(sql)
    expect(await sql`select version from pgboss.version`).toEqual([{ version: PGBOSS_SCHEMA_VERSION }])
    expect(await sql`select name, policy from pgboss.queue order by name`).toEqual([
      { name: 'alert-delivery', policy: 'standard' },
      { name: 'etl-inventario', policy: 'singleton' },
      { name: 'etl-maintenance', policy: 'singleton' },
      { name: 'etl-recovery', policy: 'singleton' },
      { name: 'etl-tienda', policy: 'standard' },
      { name: 'etl-ventas', policy: 'singleton' },
    ])
  })

  it("the plan's 033 DOWN removes exactly what its UP added", async () => {
    const { sql } = database
    await migrateDown(sql, '033')
    const before = await catalogDump(sql)
    await migrateUp(sql, { to: '033' })
    const after = await catalogDump(sql)
    const added = after.filter((l) => !before.includes(l))
    expect(before.every((l) => after.includes(l))).toBe(true)
    // The plan's §1.1 columns, its CHECK, its three indexes, and the §1.2 table with its indexes.
    const addedColumns = added.filter((l) => l.startsWith('column etl_executions.')).map((l) => l.split(' ')[1])
    expect(addedColumns.sort()).toEqual(
      [
        'error_phase',
        'error_category',
        'error_source',
        'extract_duration_seconds',
        'transform_duration_seconds',
        'load_duration_seconds',
        'source_system',
        'api_requests_count',
        'api_errors_count',
        'records_upserted',
        'records_failed',
        'network_diagnostics',
        'is_recovery',
        'recovered_gap_id',
      ]
        .map((c) => `etl_executions.${c}`)
        .sort(),
    )
    expect(added.filter((l) => l.startsWith('column etl_execution_details.'))).toHaveLength(19)
    expect(
      added
        .filter((l) => l.startsWith('index '))
        .map((l) => /INDEX (\w+)/.exec(l)?.[1])
        .sort(),
    ).toEqual([
      'etl_execution_details_pkey',
      'idx_etl_details_execution',
      'idx_etl_details_status',
      'idx_etl_details_tienda',
      'idx_etl_executions_error_phase',
      'idx_etl_executions_recovery',
      'idx_etl_executions_source',
    ])
    await migrateDown(sql, '033')
    expect(await catalogDump(sql)).toEqual(before)
    await migrateUp(sql)
  })

  it('085 partitions a history that has rows and un-partitions it, every row and reference kept', async () => {
    const { sql } = database
    await migrateDown(sql, '085')
    await sql`insert into tiendas (id, nombre, source_system, host, port) values ('t1', 'T1', 'klk', '127.0.0.1', 1)`
    // 40 runs over 400 days, two store rows each, reruns and gap-recovery bookkeeping pointing at them.
    await sql`
      insert into etl_executions (etl_name, status, started_at, finished_at, created_at, triggered_by, records_loaded)
      select 'ventas', case when g % 4 = 0 then 'failed' else 'success' end, now() - g * interval '10 days',
        now() - g * interval '10 days' + interval '1 minute', now() - g * interval '10 days', 'scheduler', g
      from generate_series(1, 40) g`
    await sql`
      insert into etl_execution_details (execution_id, tienda_id, status, error_category)
      select e.id, 't' || k, case when e.status = 'failed' and k = 1 then 'failed' else 'success' end,
        case when e.status = 'failed' and k = 1 then 'vpn_timeout' end
      from etl_executions e, generate_series(1, 2) k`
    await sql`update etl_executions set rerun_of = id - 1 where id % 5 = 0 and id > 1`
    await sql`
      insert into etl_gap_recovery (gap_id, tienda_id, attempts, last_attempt_at, last_outcome, last_execution_id)
      select id, 't1', 1, now(), 'encolada', id + 1 from etl_executions where status = 'failed' and id < 40`
    // Every column but 094's last_rerun_id, which exists above 094 only (checked on its own below).
    const snapshot = async () => ({
      executions: (await sql`select * from etl_executions order by id`).map(({ last_rerun_id: _, ...row }) => row),
      details: await sql`select * from etl_execution_details order by id`,
      recovery: await sql`select * from etl_gap_recovery order by gap_id`,
      gaps: await sql`select * from etl_gaps order by id, tienda_id`,
      rollups:
        await sql`select * from etl_stats_exec_day order by fecha, etl_name, status, error_phase, error_category`,
    })
    const before = await snapshot()
    expect(before.executions).toHaveLength(40)

    await migrateUp(sql)
    expect(await snapshot()).toEqual(before)
    // 094 wrote each repeated run's newest rerun on it: here every fifth run repeats the one before.
    const lastReruns = () =>
      sql`select id, last_rerun_id from etl_executions where last_rerun_id is not null order by id`
    expect(await lastReruns()).toEqual(
      before.executions
        .filter((e) => e.rerun_of !== null)
        .map((e) => ({ id: e.rerun_of, last_rerun_id: e.id }))
        .sort((a, b) => a.id - b.id),
    )
    const placed = await sql`select distinct tableoid::regclass::text as part from etl_executions`
    expect(placed).toEqual([{ part: 'etl_executions_legacy' }])
    // New rows go to their month; the legacy ids stay referable.
    const [fresh] = await sql<{ id: number; part: string }[]>`
      insert into etl_executions (etl_name, status, started_at, rerun_of) values ('ventas', 'running', now(), 40)
      returning id, tableoid::regclass::text as part`
    expect(fresh!.part).toMatch(/^etl_executions_\d{4}_\d{2}$/)
    await sql`insert into etl_execution_details (execution_id, tienda_id, status) values (${fresh!.id}, 't1', 'running')`
    const withFresh = await snapshot()

    await migrateDown(sql, '085')
    expect(await snapshot()).toEqual(withFresh)
    // The plan's sequence goes on above every id, the month-encoded one too.
    const [next] = await sql<{ id: number }[]>`
      insert into etl_executions (etl_name, status) values ('ventas', 'queued') returning id`
    expect(next!.id).toBe(fresh!.id + 1)
    // Up again: the month-encoded rows go back to their month, the others to the legacy partition.
    const afterDown = await snapshot()
    await migrateUp(sql)
    expect(await snapshot()).toEqual(afterDown)
    expect(
      await sql`select tableoid::regclass::text as part, count(*)::int as n from etl_executions group by 1 order by 1`,
    ).toEqual([
      { part: fresh!.part, n: 2 },
      { part: 'etl_executions_legacy', n: 40 },
    ])
  })

  it('refuses to run when an applied migration file has changed', async () => {
    const { sql } = database
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'))
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true })
      const file = path.join(dir, '021_etl_executions_UP.sql')
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited after the fact\n`)
      await expect(migrateUp(sql, { dir })).rejects.toThrow(
        /021_etl_executions_UP\.sql changed after it was applied.*new migration/,
      )
      await expect(migrateDown(sql, '033', { dir })).rejects.toThrow(/changed after it was applied/)
    } finally {
      await rm(dir, { recursive: true })
    }
  })
})
