// The PostgreSQL server a test run uses, chosen once by the global setup so that `npm test` needs
// nothing but `npm ci`: DATABASE_URL when set; else a server at 127.0.0.1:5432 when one answers
// (what CI and a developer's machine have); else an embedded PostgreSQL started here, in a temp
// directory, on a port this process holds (test/fakes/reserved-port.ts), and stopped at the end.
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { describeUrl } from '../../scripts/lib/database-url.ts'
import { startEmbeddedPostgres } from '../../scripts/lib/embedded-pg.ts'
import { reservePort } from '../../scripts/lib/reserved-port.ts'
import { LOCAL_SERVER_URL } from './pg-admin.ts'

export type TestServer = { url: string; source: 'DATABASE_URL' | 'local' | 'embedded'; stop(): Promise<void> }

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {})
  }
}

async function embedded(): Promise<TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fluxion-test-pg-'))
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the directory.
  await chmod(dir, 0o755)
  const port = await reservePort()
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: port.port,
      user: 'postgres',
      password: randomBytes(12).toString('hex'),
      database: 'postgres',
      // A throwaway cluster: durability buys nothing, and every test file creates a database.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    })
    return {
      url: pg.url,
      source: 'embedded',
      stop: async () => {
        await pg.stop()
        port.release()
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    port.release()
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

export async function chooseTestServer(): Promise<TestServer> {
  const none = async () => {}
  const configured = process.env.DATABASE_URL
  if (configured) {
    if (!(await answers(configured)))
      throw new Error(`DATABASE_URL is set, but no PostgreSQL answers at ${describeUrl(configured)}`)
    return { url: configured, source: 'DATABASE_URL', stop: none }
  }
  if (await answers(LOCAL_SERVER_URL)) return { url: LOCAL_SERVER_URL, source: 'local', stop: none }
  return embedded()
}
