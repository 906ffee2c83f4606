import postgres, { type Sql, type TransactionSql } from 'postgres'

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
