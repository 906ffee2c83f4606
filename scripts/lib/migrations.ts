// Plain-SQL migrations as the plan names them: NNN_name_UP.sql / NNN_name_DOWN.sql.
// No library fits that file pair (postgrator wants NNN.do.sql, node-pg-migrate one file
// with markers), so this stays a small runner: each file in its own transaction under a
// transaction-level advisory lock, applied versions recorded with the UP file's checksum.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Sql } from 'postgres'

export const MIGRATIONS_DIR = path.join(import.meta.dirname, '..', '..', 'migrations')
const LOCK_KEY = 20_260_128 // any constant shared by every migrating process
const FILE = /^(\d{3})_([a-z0-9_]+)_(UP|DOWN)\.sql$/

export type Migration = { version: string; name: string; up: string; down: string; checksum: string }
export type Applied = { version: string; name: string; checksum: string; applied_at: Date }

export class MigrationError extends Error {}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()
  const byVersion = new Map<string, { name: string; up?: string; down?: string }>()
  for (const file of files) {
    const m = FILE.exec(file)
    if (!m) throw new MigrationError(`${file}: migration files must be named NNN_name_UP.sql / NNN_name_DOWN.sql`)
    const [, version, name, kind] = m as unknown as [string, string, string, 'UP' | 'DOWN']
    const entry = byVersion.get(version) ?? { name }
    if (entry.name !== name) throw new MigrationError(`version ${version} is used by both ${entry.name} and ${name}`)
    entry[kind === 'UP' ? 'up' : 'down'] = await readFile(path.join(dir, file), 'utf8')
    byVersion.set(version, entry)
  }
  return [...byVersion].map(([version, { name, up, down }]) => {
    if (up === undefined || down === undefined) {
      throw new MigrationError(
        `${version}_${name}: needs both ${version}_${name}_UP.sql and ${version}_${name}_DOWN.sql`,
      )
    }
    return { version, name, up, down, checksum: createHash('sha256').update(up).digest('hex') }
  })
}

async function ensureTable(sql: Sql) {
  await sql`
    create table if not exists schema_migrations (
      version text primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`
}

export async function appliedMigrations(sql: Sql): Promise<Applied[]> {
  await ensureTable(sql)
  return sql<Applied[]>`select version, name, checksum, applied_at from schema_migrations order by version`
}

function verifyChecksums(migrations: Migration[], applied: Applied[]) {
  const known = new Map(migrations.map((m) => [m.version, m]))
  for (const a of applied) {
    const m = known.get(a.version)
    if (!m) throw new MigrationError(`applied migration ${a.version}_${a.name} has no file in migrations/ any more`)
    if (m.checksum !== a.checksum) {
      throw new MigrationError(
        `migration ${a.version}_${a.name}_UP.sql changed after it was applied ` +
          `(recorded checksum ${a.checksum.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…). ` +
          'Restore the file and put the change in a new migration.',
      )
    }
  }
}

const releaseVersions: Record<string, Promise<string[]>> = {}

/**
 * Versions in migrations/ that the database has not applied, read-only (no table is created): what a
 * service checks on start and in /readyz. A database never migrated has every version pending.
 */
export async function pendingMigrations(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  // The files ship with the release and do not change under a running service: read them once.
  releaseVersions[dir] ??= loadMigrations(dir).then((ms) => ms.map((m) => m.version))
  const known = await releaseVersions[dir]
  const [{ exists } = { exists: false }] = await sql<{ exists: boolean }[]>`
    select to_regclass('schema_migrations') is not null as exists`
  const applied = exists
    ? new Set((await sql<{ version: string }[]>`select version from schema_migrations`).map((r) => r.version))
    : new Set<string>()
  return known.filter((v) => !applied.has(v))
}

/** The one sentence both services stop with (and /readyz reports) when the schema is behind. */
export function schemaBehindMessage(pending: string[]): string {
  const shown =
    pending.length > 5 ? `${pending.slice(0, 5).join(', ')} and ${pending.length - 5} more` : pending.join(', ')
  return `the database schema is behind this release (migration${pending.length > 1 ? 's' : ''} ${shown} not applied): run \`npm run migrate\``
}

/** Applies every pending migration (up to `to`, inclusive) in version order; returns the versions applied. */
export async function migrateUp(sql: Sql, opts: { dir?: string; to?: string; log?: (line: string) => void } = {}) {
  const migrations = (await loadMigrations(opts.dir)).filter((m) => !opts.to || m.version <= opts.to)
  verifyChecksums(migrations, await appliedMigrations(sql))
  const done: string[] = []
  for (const m of migrations) {
    const applied = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`
      // Re-read under the lock: another process may have applied it meanwhile.
      const [row] = await tx<Applied[]>`select checksum from schema_migrations where version = ${m.version}`
      if (row) return false
      await tx.unsafe(m.up)
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`
      return true
    })
    if (applied) {
      done.push(m.version)
      opts.log?.(`applied ${m.version}_${m.name}`)
    }
  }
  return done
}

/** Rolls back every applied migration whose version is ≥ `target`, newest first. */
export async function migrateDown(sql: Sql, target: string, opts: { dir?: string; log?: (line: string) => void } = {}) {
  if (!/^\d{1,3}$/.test(target)) throw new MigrationError(`down needs a migration number such as 033, got "${target}"`)
  const version = target.padStart(3, '0')
  const migrations = await loadMigrations(opts.dir)
  const applied = await appliedMigrations(sql)
  verifyChecksums(migrations, applied)
  if (!migrations.some((m) => m.version === version)) {
    throw new MigrationError(`there is no migration ${version} in migrations/`)
  }
  const done: string[] = []
  for (const m of [...migrations].reverse().filter((m) => m.version >= version)) {
    const rolledBack = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`
      const [row] = await tx`select 1 from schema_migrations where version = ${m.version}`
      if (!row) return false
      await tx.unsafe(m.down)
      await tx`delete from schema_migrations where version = ${m.version}`
      return true
    })
    if (rolledBack) {
      done.push(m.version)
      opts.log?.(`rolled back ${m.version}_${m.name}`)
    }
  }
  return done
}
