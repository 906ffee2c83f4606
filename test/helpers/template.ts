// The migrated template every test database is cloned from. Several runs share one server (two
// copies of the suite, other checkouts with other migrations), so:
// - a run holds a shared advisory lock on its template for as long as it runs, and a template is
//   dropped as stale only by a run that can take that lock exclusively (nobody is cloning it);
// - should a template vanish anyway (dropped by code that does not take the lock), the next
//   clone builds it again instead of failing every test file after it.
import postgres, { type Sql } from 'postgres'
import { migrateUp } from '../../scripts/lib/migrations.ts'
import { urlFor } from './pg-admin.ts'

/** Serialises template builds and the stale-database sweep (transaction-level). */
const BUILD_LOCK = 88_033
/** Shared by every run using a template; a sweep needs it exclusively (session-level). */
const IN_USE_LOCK = 88_035

/** Builds `template` unless it exists. `admin` is a superuser connection to the server. */
export async function ensureTemplate(admin: Sql, template: string): Promise<void> {
  await admin.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${BUILD_LOCK})`
    const [exists] = await tx`select 1 from pg_database where datname = ${template}`
    if (exists) return
    await admin.unsafe(`create database "${template}"`)
    await admin.unsafe(`comment on database "${template}" is '${Date.now()}'`)
    const sql = postgres(urlFor(template), { max: 1, onnotice: () => {} })
    try {
      await migrateUp(sql)
    } catch (error) {
      await sql.end()
      await admin.unsafe(`drop database if exists "${template}" with (force)`)
      throw error
    }
    await sql.end()
  })
}

/** Marks `template` as in use until the returned connection is closed (or this process dies). */
export async function holdTemplate(serverUrl: string, template: string): Promise<Sql> {
  const holder = postgres(serverUrl, { max: 1, onnotice: () => {}, idle_timeout: 0 })
  await holder`select pg_advisory_lock_shared(${IN_USE_LOCK}, hashtext(${template}))`
  return holder
}

/** Drops `datname` if no run holds it as its template; true when dropped. */
export async function dropUnlessInUse(admin: Sql, datname: string): Promise<boolean> {
  const conn = await admin.reserve()
  try {
    const [{ free }] = (await conn`select pg_try_advisory_lock(${IN_USE_LOCK}, hashtext(${datname})) as free`) as [
      { free: boolean },
    ]
    if (!free) return false
    try {
      await conn.unsafe(`drop database if exists "${datname}" with (force)`)
    } finally {
      await conn`select pg_advisory_unlock(${IN_USE_LOCK}, hashtext(${datname}))`
    }
    return true
  } finally {
    conn.release()
  }
}
