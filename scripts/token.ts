// npm run token -- --role super_admin [--sub someone] [--ttl 1h]
// Prints a bearer token for the history API, signed HS256 with AUTH_JWT_SECRET (iss/aud from
// AUTH_ISSUER / AUTH_AUDIENCE, as the API checks them). For scripts and curl.
import { parseArgs } from 'node:util'
import { authSettings, type Role, signToken } from '../history-api/src/auth.ts'

const USAGE = 'usage: npm run token -- --role <super_admin|viewer> [--sub <subject>] [--ttl <30m|1h|2d|seconds>]'
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

export function parseTtl(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim())
  if (!m) throw new Error(`--ttl ${value}: expected a number of seconds or a duration such as 30m, 1h, 2d`)
  const seconds = Number(m[1]) * UNITS[m[2] || 's']!
  if (seconds < 1 || seconds > 365 * 86_400) throw new Error(`--ttl ${value}: must be between 1 second and 365 days`)
  return seconds
}

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`)
  process.exit(1)
}

async function main() {
  let values: { role?: string; sub?: string; ttl?: string }
  try {
    ;({ values } = parseArgs({
      options: { role: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`)
  }
  if (values.role !== 'super_admin' && values.role !== 'viewer') fail(`--role must be super_admin or viewer\n${USAGE}`)
  const secret = process.env.AUTH_JWT_SECRET
  if (!secret) fail('AUTH_JWT_SECRET is not set: it is the HS256 secret the history API verifies tokens with')
  if (secret.length < 32) fail('AUTH_JWT_SECRET must be at least 32 characters, as the history API requires')
  let ttl: number
  try {
    ttl = parseTtl(values.ttl ?? '1h')
  } catch (error) {
    fail((error as Error).message)
  }
  const auth = authSettings({
    AUTH_JWT_SECRET: secret,
    AUTH_ISSUER: process.env.AUTH_ISSUER || 'fluxion',
    AUTH_AUDIENCE: process.env.AUTH_AUDIENCE || 'etl-history',
    AUTH_TOKEN_TTL_S: ttl,
  })
  const { token } = await signToken(auth, { sub: values.sub ?? 'cli', role: values.role as Role }, ttl, new Date())
  process.stdout.write(`${token}\n`)
}

if (import.meta.main) await main()
