// LISTEN for the API's two channels (etl_events for the event streams, etl_history_changed for the
// kept responses), in one way.
import type { Sql } from 'postgres'

/**
 * LISTEN on `channel`: `onNotify` for each notification, `onListen` each time listening (re)starts.
 * Resolves once listening (rejects when PostgreSQL cannot be reached); the function it resolves to
 * stops.
 */
export type Listen = (
  channel: string,
  onNotify: (payload: string) => void,
  onListen?: () => void,
) => Promise<() => Promise<void>>

/**
 * Each LISTEN on a pool of its own, made by `connect` for each attempt: a postgres.js pool whose
 * first LISTEN failed keeps answering every later listen() on that channel with the same rejection
 * (it re-listens by itself only after a connection that did listen is lost), so a retry needs a new
 * pool. Stopping ends it. What the API process uses (main.ts).
 */
export const listenOnNewPools =
  (connect: () => Sql): Listen =>
  async (channel, onNotify, onListen) => {
    const sql = connect()
    try {
      const { unlisten } = await sql.listen(channel, onNotify, onListen)
      return async () => {
        await unlisten()
        await sql.end({ timeout: 1 })
      }
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {})
      throw error
    }
  }

/** LISTEN on an existing pool (in-process apps of tests and benchmarks): a failed first LISTEN is final. */
export const listenOnPool =
  (sql: Sql): Listen =>
  async (channel, onNotify, onListen) =>
    (await sql.listen(channel, onNotify, onListen)).unlisten
