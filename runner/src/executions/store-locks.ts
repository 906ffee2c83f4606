// Two runs of the same ETL never load the same store at the same time, whichever process runs
// them (any number of runners, the CLI on a laptop): each run holds a PostgreSQL session-level
// advisory lock per (etl, store) for as long as it runs.
//
// Why advisory locks on a dedicated connection rather than a flag in a table:
// - they vanish with the session, so a runner killed with -9 (or cut off from the database)
//   releases its stores at once: no stale flag to expire, no clock to trust;
// - they are taken all-or-nothing with pg_try_advisory_lock, so two runs each waiting for
//   the other's stores (deadlock) cannot happen: a run that gets only some releases them and
//   tries again later;
// - they are independent of pg-boss: a job pg-boss retried because it thought its worker
//   dead (a long GC pause, a partition) waits here until the first attempt really let go.
// The queue's singleton policy (boss.ts) already serialises queue jobs of one ETL; these locks
// are what also serialises CLI runs against them, per store, so a CLI run of tienda_01 does
// not hold up a scheduled run of the other 18 stores any longer than needed.
import type { ReservedSql, Sql } from 'postgres'
import type { EtlName } from '../jobs/boss.ts'

/** First key of the two-int advisory lock: one namespace per ETL, shared by every process. */
const lockNamespace = (etlName: EtlName) => `fluxion_etl:${etlName}`

export type StoreLocks = { tiendaIds: string[]; release: () => Promise<void> }

export type AcquireOptions = {
  signal?: AbortSignal
  /** Called once when the stores are busy, with the ones held by someone else. */
  onWait?: (busy: string[]) => void
  pollMs?: number
}

/** Waits until every store is free, then holds them all until `release()`. */
export async function acquireStoreLocks(
  sql: Sql,
  etlName: EtlName,
  tiendaIds: readonly string[],
  options: AcquireOptions = {},
): Promise<StoreLocks> {
  const ids = [...new Set(tiendaIds)].sort()
  const conn = await sql.reserve()
  let waited = false
  let session: string
  try {
    session = await sessionOf(conn)
    for (;;) {
      options.signal?.throwIfAborted()
      const rows = await conn<{ tienda_id: string; ok: boolean }[]>`
        select t as tienda_id, pg_try_advisory_lock(hashtext(${lockNamespace(etlName)}), hashtext(t)) as ok
        from unnest(${ids}::text[]) as t`
      const busy = rows.filter((r) => !r.ok).map((r) => r.tienda_id)
      if (busy.length === 0) break
      await unlock(
        conn,
        etlName,
        rows.filter((r) => r.ok).map((r) => r.tienda_id),
      )
      if (!waited) options.onWait?.(busy)
      waited = true
      await sleep(options.pollMs ?? 500, options.signal)
    }
  } catch (error) {
    conn.release()
    throw error
  }
  let released = false
  return {
    tiendaIds: ids,
    release: async () => {
      if (released) return
      released = true
      // A session that ended (PostgreSQL restarted, backend terminated) took its locks with it. Its
      // connection must then be left alone: postgres.js 3.4.9 never settles a query sent on a closed
      // reserved connection (the write throws in a socket callback, see driver-guard.ts), so the
      // unlock would hang the job forever, and release() would hand the dead connection back to the
      // pool as open. Left alone, it stays in the pool's closed queue and is reconnected on demand.
      // Asked on another pooled connection; a pool with none free (all reserved) answers late: then
      // the unlock is tried as before.
      const alive = await Promise.race([sessionAlive(sql, session).catch(() => null), sleep(1000).then(() => null)])
      if (alive === false) return
      try {
        await unlock(conn, etlName, ids)
      } finally {
        // A session lock survives release() back to the pool; unlocked above, or the connection is
        // broken and the server dropped the locks with it.
        conn.release()
      }
    },
  }
}

/** Holds the stores' locks around `fn`, always releasing them. */
export async function withStoreLocks<T>(
  sql: Sql,
  etlName: EtlName,
  tiendaIds: readonly string[],
  options: AcquireOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const locks = await acquireStoreLocks(sql, etlName, tiendaIds, options)
  try {
    return await fn()
  } finally {
    await locks.release().catch(() => {})
  }
}

/** The lock session's identity: pid and start (a pid alone may be reused after a restart). */
async function sessionOf(conn: ReservedSql): Promise<string> {
  const [row] = await conn<{ id: string }[]>`
    select pid || '@' || backend_start::text as id from pg_stat_activity where pid = pg_backend_pid()`
  return row!.id
}

/** Asked on another connection of the pool: a closed reserved connection cannot be queried. */
async function sessionAlive(sql: Sql, session: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from pg_stat_activity where pid || '@' || backend_start::text = ${session}`
  return row !== undefined
}

async function unlock(conn: ReservedSql, etlName: EtlName, ids: string[]) {
  if (ids.length === 0) return
  await conn`
    select pg_advisory_unlock(hashtext(${lockNamespace(etlName)}), hashtext(t)) from unnest(${ids}::text[]) as t`
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      done()
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      done()
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
