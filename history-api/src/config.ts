// The history API's configuration, read once from the environment by main.ts and passed down
// as a value. A bad or missing variable stops the process with a message that names it.
import { IANAZone } from 'luxon'
import { z } from 'zod'

const isTimeZone = (tz: string) => IANAZone.isValidZone(tz)

export const apiConfigSchema = z
  .object({
    // 0: any free port (the listening line names it), for tests that must not race for a port.
    HISTORY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    HISTORY_API_HOST: z.string().min(1).default('0.0.0.0'),
    // Unset → the embedded PostgreSQL that `npm start` runs on EMBEDDED_PG_PORT (DESIGN §9).
    DATABASE_URL: z.string().min(1).optional(),
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    /** A replica for the read-only routes (history, stats, tiendas); unset → DATABASE_URL. */
    DATABASE_READ_URL: z.string().min(1).optional(),
    AUTH_JWT_SECRET: z
      .string({ error: 'is required: the HS256 secret that signs and verifies bearer tokens' })
      .min(32, 'must be at least 32 characters (256 bits) for HS256'),
    AUTH_ISSUER: z.string().min(1).default('fluxion'),
    AUTH_AUDIENCE: z.string().min(1).default('etl-history'),
    /** Lifetime of the tokens POST /api/auth/login issues. */
    AUTH_TOKEN_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(8 * 3600),
    TZ_TIENDAS: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as America/Caracas')
      .default('America/Caracas'),
    /**
     * Memory for history list pages, details and statistics kept until the history changes (migration 093's
     * notifications); 0 keeps none. Not used with DATABASE_READ_URL (a replica lags the notification).
     */
    HISTORY_API_CACHE_MB: z.coerce.number().min(0).max(4096).default(64),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .transform(({ EMBEDDED_PG_PORT, ...c }) => ({
    ...c,
    DATABASE_URL: c.DATABASE_URL ?? `postgres://fluxion:fluxion@127.0.0.1:${EMBEDDED_PG_PORT}/fluxion`,
  }))

export type ApiConfig = z.infer<typeof apiConfigSchema>

export function parseApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const result = apiConfigSchema.safeParse(env)
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new Error(`invalid history-api configuration:\n${lines.join('\n')}`)
  }
  return result.data
}
