// Where tests create their databases: the real PostgreSQL at DATABASE_URL (default: the
// local server). Only the server part of the URL is used; databases are made per test file.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import postgres from 'postgres'
import { MIGRATIONS_DIR } from '../../scripts/lib/migrations.ts'

export const TEST_SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

export function urlFor(database: string): string {
  const u = new URL(TEST_SERVER_URL)
  u.pathname = `/${database}`
  return u.toString()
}

export function adminSql() {
  return postgres(TEST_SERVER_URL, { max: 2, onnotice: () => {}, connect_timeout: 10 })
}

/** Template name changes whenever a migration file does, so a stale template is never reused. */
export async function templateName(): Promise<string> {
  const hash = createHash('sha256')
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) {
    hash.update(file).update(await readFile(`${MIGRATIONS_DIR}/${file}`))
  }
  return `fluxion_tpl_${hash.digest('hex').slice(0, 12)}`
}
