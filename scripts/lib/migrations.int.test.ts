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
