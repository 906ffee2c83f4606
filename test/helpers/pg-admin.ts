// Where tests create their databases. The global setup (global-setup.ts) picks the server once
// per run — DATABASE_URL when set, else a server at 127.0.0.1:5432 when one answers, else an
// embedded PostgreSQL of its own — and provides its URL to every test file. Only the server part
// of the URL is used; databases are made per test file.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import postgres from 'postgres'
import { inject } from 'vitest'
import { MIGRATIONS_DIR } from '../../scripts/lib/migrations.ts'

export const LOCAL_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL server of this run (an admin URL: a superuser, database `postgres`). */
    pgServerUrl: string
  }
}

let chosen: string | undefined

/** Called by the global setup, which runs outside the test files (where inject() is not available). */
export function useTestServer(url: string) {
  chosen = url
}

export function testServerUrl(): string {
  chosen ??= inject('pgServerUrl')
  return chosen
}

export function urlFor(database: string): string {
  const u = new URL(testServerUrl())
  u.pathname = `/${database}`
  return u.toString()
}

export function adminSql() {
  return postgres(testServerUrl(), { max: 2, onnotice: () => {}, connect_timeout: 10 })
}

/** Template name changes whenever a migration file does, so a stale template is never reused. */
export async function templateName(): Promise<string> {
  const hash = createHash('sha256')
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) {
    hash.update(file).update(await readFile(`${MIGRATIONS_DIR}/${file}`))
  }
  return `fluxion_tpl_${hash.digest('hex').slice(0, 12)}`
}
