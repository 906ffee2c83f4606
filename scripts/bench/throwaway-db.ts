// A migrated database that exists only for one benchmark step, always dropped: at the end of the
// step, on SIGINT/SIGTERM (interrupt.ts), and — for a run that was SIGKILLed or lost its machine
// mid-step — at the next benchmark's start, which drops every `fluxion_bench_*` database whose
// creating process (pid in the name, host in the database comment) is gone.
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import postgres, { type Sql } from 'postgres'
import { migrateUp } from '../lib/migrations.ts'
import { onInterrupt } from './interrupt.ts'

export const SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

export type ThrowawayDb = { name: string; url: string; sql: Sql; drop: () => Promise<void> }

/** What the database comment records about its creator: the reaper only judges its own host. */
type Owner = { host: string; pid: number; keep?: boolean }

const NAME = /^fluxion_bench_[a-z0-9]+_(\d+)_[0-9a-f]{6}$/

function urlFor(database: string) {
  const u = new URL(SERVER_URL)
  u.pathname = `/${database}`
  return u.toString()
}

const admin = (server = SERVER_URL) => postgres(server, { max: 1, onnotice: () => {} })

async function dropDatabase(name: string, server = SERVER_URL) {
  const a = admin(server)
  try {
    await a.unsafe(`drop database if exists "${name}" with (force)`)
  } finally {
    await a.end()
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Drops the benchmark databases of dead processes of this host; returns their names. Databases of
 * older benchmarks (no pid in the name) are only listed: nothing says whether their run still goes.
 */
export async function reapLeftovers(log: (line: string) => void = () => {}, server = SERVER_URL): Promise<string[]> {
  const a = admin(server)
  let rows: { datname: string; comment: string | null; size: string }[]
  try {
    rows = await a`
      select datname, shobj_description(oid, 'pg_database') as comment, pg_size_pretty(pg_database_size(oid)) as size
      from pg_database where datname like 'fluxion\\_bench\\_%'`
  } finally {
    await a.end()
  }
  const dropped: string[] = []
  for (const { datname, comment, size } of rows) {
    const pid = Number(NAME.exec(datname)?.[1])
    let owner: Owner | null = null
    try {
      owner = comment ? (JSON.parse(comment) as Owner) : null
    } catch {
      owner = null
    }
    if (!pid || !owner) {
      log(`  left alone: ${datname} (${size}), made by an older benchmark; drop it with: drop database "${datname}"`)
      continue
    }
    if (owner.keep || owner.host !== hostname() || owner.pid !== pid || alive(pid)) continue
    await dropDatabase(datname, server)
    log(`  dropped ${datname} (${size}), left by benchmark process ${pid} which is gone`)
    dropped.push(datname)
  }
  return dropped
}

export async function createThrowawayDb(label: string, opts: { keep?: boolean } = {}): Promise<ThrowawayDb> {
  if (!/^[a-z0-9]+$/.test(label)) throw new Error(`throwaway database label must be [a-z0-9]+: ${label}`)
  const name = `fluxion_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`
  const owner: Owner = { host: hostname(), pid: process.pid, ...(opts.keep ? { keep: true } : {}) }
  // Registered before the database exists: a signal during CREATE still ends in a drop.
  const unregister = opts.keep ? () => {} : onInterrupt(() => dropDatabase(name))
  const a = admin()
  try {
    await a.unsafe(`create database "${name}"`)
    await a.unsafe(`comment on database "${name}" is '${JSON.stringify(owner)}'`)
  } finally {
    await a.end()
  }
  const url = urlFor(name)
  const sql = postgres(url, { max: 8, onnotice: () => {} })
  const drop = async () => {
    unregister()
    await sql.end({ timeout: 5 })
    await dropDatabase(name)
  }
  try {
    await migrateUp(sql)
  } catch (error) {
    await drop()
    throw error
  }
  return { name, url, sql, drop }
}
