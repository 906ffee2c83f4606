// The replay's own statements: its marker (demo_replay, migration 060) and the one step that is
// not the runner's — moving a finished run to the moment it stands for.
import type { Sql } from 'postgres'

/** worker_id of every replayed execution: how a resumed replay finds the runs it already made. */
export const REPLAY_WORKER = 'demo-replay'

// One replay per database at a time (two `npm start` on one DATABASE_URL): held for its duration.
const LOCK_KEY = 60_060

export type ReplayPlan =
  | { outcome: 'already-replayed' | 'has-history' | 'busy' }
  | { outcome: 'replay'; anchor: Date; done: Set<string>; release: () => Promise<void> }

export async function prepareReplay(sql: Sql, o: { anchor: Date; demoStores: string[] }): Promise<ReplayPlan> {
  const lock = await sql.reserve()
  const release = async () => {
    await lock`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => {})
    lock.release()
  }
  const [{ locked }] = (await lock`select pg_try_advisory_lock(${LOCK_KEY}) as locked`) as unknown as [
    { locked: boolean },
  ]
  if (!locked) {
    lock.release()
    return { outcome: 'busy' }
  }
  try {
    const present = await sql<{ id: string }[]>`select id from tiendas where id = any(${o.demoStores}) and active`
    const missing = o.demoStores.filter((id) => !present.some((p) => p.id === id))
    if (missing.length)
      throw new Error(`the demo history needs the demo stores; missing or inactive: ${missing.join(', ')}`)

    const [marker] = await sql<
      { anchor: Date; finished_at: Date | null }[]
    >`select anchor, finished_at from demo_replay`
    if (marker?.finished_at) {
      await release()
      return { outcome: 'already-replayed' }
    }
    let anchor = marker?.anchor
    if (!anchor) {
      // Only an empty demo database gets a made-up past: runs of this start's first minutes aside,
      // a database with history of its own keeps it as it is.
      const [old] = await sql`select 1 from etl_executions where started_at < now() - interval '1 hour' limit 1`
      if (old) {
        await release()
        return { outcome: 'has-history' }
      }
      anchor = o.anchor
      await sql`insert into demo_replay (anchor) values (${anchor})`
    } else {
      // An interrupted replay: a run it left unfinished (or finished but not yet moved into the
      // past) is made again; its rows go, the statistics follow through migration 036's triggers.
      await sql`delete from etl_executions where worker_id = ${REPLAY_WORKER} and started_at >= ${anchor}`
    }
    const made = await sql<{ etl_name: string; started_at: Date }[]>`
      select etl_name, started_at from etl_executions where worker_id = ${REPLAY_WORKER} and started_at < ${anchor}`
    return {
      outcome: 'replay',
      anchor,
      done: new Set(made.map((r) => `${r.etl_name}|${r.started_at.toISOString()}`)),
      release,
    }
  } catch (error) {
    await release()
    throw error
  }
}

/**
 * The runner stamps its own clock on a run (started_at = now()); a replayed run stands for the
 * scheduled run at `at`. This moves the execution and its store rows by the one interval that puts
 * started_at on `at` — started_at, finished_at, heartbeat_at, created_at; the window (fecha_desde,
 * fecha_hasta) is already the past one the run extracted. Migration 036's triggers move the
 * statistics rollups with started_at (and hand it down to the store rows' execution_started_at).
 *
 * A live run of the same ETL finishing at the same moment adds to the same current-hour rollup
 * rows, possibly in another order: the replay must be the one that yields. Its short lock_timeout
 * fails it long before the server's deadlock check (deadlock_timeout, 1 s) could pick the live run
 * as the victim; it is then simply retried.
 */
export async function shiftExecution(sql: Sql, id: number, at: Date) {
  for (let attempt = 1; ; attempt++) {
    try {
      await sql.begin(async (tx) => {
        await tx`select set_config('lock_timeout', '100ms', true)`
        const [row] = await tx<{ shift: string }[]>`
          select (${at}::timestamptz - started_at)::text as shift from etl_executions where id = ${id} for update`
        if (!row) throw new Error(`replayed execution ${id} is gone`)
        await tx`
          update etl_execution_details set started_at = started_at + ${row.shift}::interval,
            finished_at = finished_at + ${row.shift}::interval, created_at = created_at + ${row.shift}::interval
          where execution_id = ${id}`
        await tx`
          update etl_executions set started_at = started_at + ${row.shift}::interval,
            finished_at = finished_at + ${row.shift}::interval, heartbeat_at = heartbeat_at + ${row.shift}::interval,
            created_at = created_at + ${row.shift}::interval
          where id = ${id}`
      })
      return
    } catch (error) {
      const code = (error as { code?: string }).code
      if ((code !== '55P03' && code !== '40P01') || attempt >= 20) throw error
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80))
    }
  }
}

export async function markReplayed(sql: Sql, runs: number) {
  await sql`update demo_replay set finished_at = now(), runs = ${runs}`
}
