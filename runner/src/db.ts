import postgres, { type Sql, type TransactionSql } from 'postgres'

/** The pool or a transaction: every SQL function accepts either. */
export type Db = Sql | TransactionSql

export function connect(url: string, opts: { max?: number; applicationName?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'fluxion-runner' },
    // numeric columns come back as strings by default; the tracker reads only counts/durations
    types: {
      numeric: { to: 1700, from: [1700], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
  })
}
