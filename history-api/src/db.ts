import postgres, { type ReservedSql, type Sql, type TransactionSql } from 'postgres'

/** The pool or a transaction: every SQL function accepts either. */
export type Db = Sql | TransactionSql

export function connect(url: string, opts: { max?: number; applicationName?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? 'fluxion-history-api',
      // JIT compilation costs ~1 s per statement on this workload (short, index-driven queries
      // whose estimated cost crosses jit_above_cost on a large history) and never pays off here.
      jit: 'off',
    },
  })
}

/**
 * RFC 3339 in UTC, or null: every timestamp leaves the API this way. SQL functions cast
 * numeric columns to float8 and counts to int themselves, so they do not depend on how the
 * pool they are handed parses types.
 */
export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)

/** A contract shape as the database returns it: the named timestamp fields are Dates (`iso` turns them back). */
export type AsRow<T, K extends keyof T> = Omit<T, K> & { [P in K]: Date | null }

/** A read-only transaction that sees one snapshot throughout. */
export const READ_SNAPSHOT = 'begin isolation level repeatable read read only'

/**
 * A connection of the pool for `work`, which ends its transaction with a pipelined COMMIT (one of an
 * aborted transaction answers ROLLBACK); when `work` fails before sending it, ROLLBACK is sent.
 */
export async function inReserved<T>(db: Sql, work: (c: ReservedSql) => Promise<T>): Promise<T> {
  const c = await db.reserve()
  try {
    return await work(c)
  } catch (error) {
    // Queued behind whatever is still in flight on the connection; a warning when nothing is open.
    await c`rollback`.catch(() => {})
    throw error
  } finally {
    c.release()
  }
}

/** Sends the statements in order without waiting (one write); settles as Promise.all does. */
export function pipeline<T extends readonly Sendable[]>(...queries: T) {
  // Each one executed here, in order: awaiting them would send them in the order they are awaited.
  for (const q of queries) q.execute().then(undefined, () => {})
  return Promise.all(queries)
}

type Sendable = PromiseLike<unknown> & { execute(): PromiseLike<unknown> }
