// POST /api/auth/login: email + password → a bearer token. Every wrong email or password is
// the same 401; repeated failures per email and per client address are answered 429.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { type AuthSettings, signToken } from '../auth.ts'
import type { Db } from '../db.ts'
import type { components } from '../generated/openapi.ts'
import { loginErrors, NoQuery } from '../openapi.ts'
import { problem, validationHook } from '../problem.ts'
import { findActiveUser, recordLogin } from './login.sql.ts'
import { DUMMY_HASH, verifyPassword } from './passwords.ts'
import { failureLimiter, type RateLimiter } from './rate-limit.ts'

type S = components['schemas']

const Role = z.enum(['super_admin', 'viewer']).openapi('Role') satisfies z.ZodType<S['Role']>
const LoginRequest = z
  .strictObject({
    // Exactly the contract's pattern: HTML's valid e-mail address (zod's html5Email), `0@com` included.
    email: z
      .string({ error: 'is required' })
      .min(3, 'must be an email address')
      .max(254, 'must be at most 254 characters')
      .regex(z.regexes.html5Email, 'must be an email address'),
    password: z
      .string({ error: 'is required' })
      .min(1, 'must not be empty')
      .max(1024, 'must be at most 1024 characters')
      .openapi({ writeOnly: true }),
  })
  .openapi('LoginRequest') satisfies z.ZodType<S['LoginRequest']>
const LoginResponse = z
  .strictObject({
    token: z.string(),
    token_type: z.literal('Bearer'),
    expires_at: z.string().openapi({ format: 'date-time' }),
    role: Role,
  })
  .openapi('LoginResponse') satisfies z.ZodType<S['LoginResponse']>

const loginRoute = createRoute({
  method: 'post',
  path: '/api/auth/login',
  tags: ['auth'],
  operationId: 'login',
  summary: 'Exchange email and password for a bearer token',
  security: [],
  request: { query: NoQuery, body: { required: true, content: { 'application/json': { schema: LoginRequest } } } },
  responses: {
    200: { description: 'Authenticated.', content: { 'application/json': { schema: LoginResponse } } },
    ...loginErrors,
  },
})

export type LoginDeps = {
  write: Db
  auth: AuthSettings
  clock: () => Date
  limiters?: { email: RateLimiter; client: RateLimiter }
}

/** 5 failures per email, 50 per client address, within 15 minutes. */
export const defaultLimiters = () => ({
  email: failureLimiter({ max: 5, windowMs: 15 * 60_000 }),
  client: failureLimiter({ max: 50, windowMs: 15 * 60_000 }),
})

function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'local'
}

export const loginRoutes = (deps: LoginDeps) => {
  const limiters = deps.limiters ?? defaultLimiters()
  return new OpenAPIHono({ defaultHook: validationHook }).openapi(loginRoute, async (c) => {
    const { email, password } = c.req.valid('json')
    const now = deps.clock().getTime()
    const keys = { email: `email:${email.toLowerCase()}`, client: `client:${clientAddress(c)}` }
    const wait = Math.max(limiters.email.retryAfter(keys.email, now), limiters.client.retryAfter(keys.client, now))
    if (wait > 0) {
      return problem(c, 429, `Too many failed logins; try again in ${wait} seconds.`, {
        headers: { 'Retry-After': String(wait) },
      })
    }
    // Counted as a failure before the (deliberately slow) check, so a burst of parallel guesses
    // meets the limit as sequential ones do; a success takes it back.
    limiters.email.fail(keys.email, now)
    limiters.client.fail(keys.client, now)
    const user = await findActiveUser(deps.write, email)
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH)
    if (!user || !ok) return problem(c, 401, 'Wrong email or password.')
    limiters.email.reset(keys.email)
    limiters.client.forgive(keys.client, now)
    await recordLogin(deps.write, user.id)
    const { token, expiresAt } = await signToken(
      deps.auth,
      { sub: user.email, role: user.role },
      deps.auth.tokenTtlS,
      deps.clock(),
    )
    return c.json({ token, token_type: 'Bearer' as const, expires_at: expiresAt.toISOString(), role: user.role }, 200)
  })
}
