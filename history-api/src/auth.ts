// Bearer tokens: HS256 JWTs signed with AUTH_JWT_SECRET. Verification pins the algorithm
// (so `alg: none`, RS256 and an HS256 token "signed" with a public key all fail), requires
// exp/sub/role and checks iss and aud. Every /api/etl/* route needs role super_admin.
import type { Context, MiddlewareHandler } from 'hono'
import { errors, jwtVerify, SignJWT } from 'jose'
import { problem } from './problem.ts'

export type Role = 'super_admin' | 'viewer'
export type AuthSettings = {
  secret: Uint8Array
  issuer: string
  audience: string
  /** Lifetime of the tokens login issues. */
  tokenTtlS: number
}
export type AuthUser = { sub: string; role: string; expMs: number }
export type AuthVariables = { user: AuthUser }

export const authSettings = (c: {
  AUTH_JWT_SECRET: string
  AUTH_ISSUER: string
  AUTH_AUDIENCE: string
  AUTH_TOKEN_TTL_S: number
}): AuthSettings => ({
  secret: new TextEncoder().encode(c.AUTH_JWT_SECRET),
  issuer: c.AUTH_ISSUER,
  audience: c.AUTH_AUDIENCE,
  tokenTtlS: c.AUTH_TOKEN_TTL_S,
})

export async function signToken(auth: AuthSettings, claims: { sub: string; role: Role }, ttlS: number, now: Date) {
  const iat = Math.floor(now.getTime() / 1000)
  const exp = iat + ttlS
  const token = await new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(auth.secret)
  return { token, expiresAt: new Date(exp * 1000) }
}

const REALM = 'Bearer realm="etl-history"'

function unauthorized(c: Context, detail: string, tokenSent: boolean) {
  const challenge = tokenSent ? `${REALM}, error="invalid_token"` : REALM
  return problem(c, 401, detail, { headers: { 'WWW-Authenticate': challenge } })
}

/** Why a token was refused, in words the caller can act on (never echoing the token). */
function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The bearer token has expired; log in again.'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The bearer token must be signed with HS256.'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The bearer token signature is not valid.'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'The bearer token was issued by another issuer.'
    if (error.claim === 'aud') return 'The bearer token is meant for another audience.'
    return `The bearer token's ${error.claim} claim is missing or invalid.`
  }
  return 'The bearer token is malformed.'
}

const BEARER = /^Bearer +(\S+)$/i

export async function verifyBearer(auth: AuthSettings, header: string | undefined, now: Date) {
  const match = header ? BEARER.exec(header) : null
  if (!match) return { ok: false as const, tokenSent: Boolean(header), detail: 'A bearer token is required.' }
  try {
    const { payload } = await jwtVerify(match[1]!, auth.secret, {
      algorithms: ['HS256'],
      issuer: auth.issuer,
      audience: auth.audience,
      requiredClaims: ['exp', 'sub', 'role'],
      currentDate: now,
    })
    return {
      ok: true as const,
      user: { sub: String(payload.sub), role: String(payload.role), expMs: Number(payload.exp) * 1000 },
    }
  } catch (error) {
    return { ok: false as const, tokenSent: true, detail: reasonFor(error) }
  }
}

/**
 * Tokens already verified, until they expire: a token's claims cannot change, so the signature
 * and claim checks need not be repeated for every request of a session (the exp still is).
 */
function verifiedCache(max = 1000) {
  const cache = new Map<string, AuthUser>()
  return {
    get(header: string, now: Date) {
      const hit = cache.get(header)
      if (hit && hit.expMs <= now.getTime()) cache.delete(header)
      return hit && hit.expMs > now.getTime() ? hit : undefined
    },
    set(header: string, user: AuthUser) {
      if (cache.size >= max) cache.delete(cache.keys().next().value!)
      cache.set(header, user)
    },
  }
}

/** 401 without a valid token, 403 with a valid token of another role. */
export function requireSuperAdmin(
  auth: AuthSettings,
  clock: () => Date,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const verified = verifiedCache()
  return async (c, next) => {
    const header = c.req.header('authorization')
    const now = clock()
    const cached = header ? verified.get(header, now) : undefined
    const result = cached ? { ok: true as const, user: cached } : await verifyBearer(auth, header, now)
    if (result.ok && !cached && header) verified.set(header, result.user)
    if (!result.ok) {
      const detail = result.tokenSent
        ? result.detail
        : 'A bearer token is required: send Authorization: Bearer <token> (POST /api/auth/login issues one).'
      return unauthorized(c, detail, result.tokenSent)
    }
    if (result.user.role !== 'super_admin') {
      return problem(c, 403, `Role ${result.user.role} may not use the ETL history API; super_admin is required.`)
    }
    c.set('user', result.user)
    await next()
  }
}
