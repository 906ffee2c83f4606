// The one place that knows the default database: the embedded PostgreSQL of `npm start`.
export const EMBEDDED_PG_PORT = Number(process.env.EMBEDDED_PG_PORT ?? 54329)
export const EMBEDDED_DATABASE_URL = `postgres://fluxion:fluxion@127.0.0.1:${EMBEDDED_PG_PORT}/fluxion`

export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATABASE_URL || EMBEDDED_DATABASE_URL
}

/** The URL with its password masked, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable DATABASE_URL)'
  }
}
