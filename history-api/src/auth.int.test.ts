// The auth matrix (DESIGN §11): every /api/etl/* route × every kind of bad token → 401/403
// problem+json; the operator endpoints stay public; login with scrypt hashes and a rate limit.
import { exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_SECRET, type TestApi, testApi, tokenFor } from '../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { insertUser } from './login/login.sql.ts'
import { hashPassword } from './login/passwords.ts'

const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
const secret = new TextEncoder().encode(TEST_SECRET)
const inAMinute = () => Math.floor(Date.now() / 1000) + 60

function claims(overrides: { iss?: string; aud?: string; exp?: number; role?: string } = {}) {
  return new SignJWT({ role: overrides.role ?? 'super_admin' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('someone@fluxion.test')
    .setIssuer(overrides.iss ?? 'fluxion')
    .setAudience(overrides.aud ?? 'etl-history')
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? inAMinute())
}

async function badTokens(): Promise<[string, string | null, 401 | 403][]> {
  const rsa = await generateKeyPair('RS256')
  const publicPem = await exportSPKI(rsa.publicKey)
  const payload = { sub: 'x', role: 'super_admin', iss: 'fluxion', aud: 'etl-history', exp: inAMinute() }
  return [
    ['no token', null, 401],
    ['malformed (not a JWT)', 'Bearer not-a-jwt', 401],
    ['malformed (garbage segments)', 'Bearer aaa.bbb.ccc', 401],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, 401],
    ['expired', `Bearer ${await claims({ exp: Math.floor(Date.now() / 1000) - 60 }).sign(secret)}`, 401],
    [
      'wrong signature',
      `Bearer ${await claims().sign(new TextEncoder().encode('another-secret-another-secret-1234'))}`,
      401,
    ],
    ['alg none', `Bearer ${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`, 401],
    [
      'RS256 signed with a generated key',
      `Bearer ${await new SignJWT({ role: 'super_admin' }).setProtectedHeader({ alg: 'RS256' }).setSubject('x').setIssuer('fluxion').setAudience('etl-history').setExpirationTime(inAMinute()).sign(rsa.privateKey)}`,
      401,
    ],
    ['HS256 keyed with the RSA public key', `Bearer ${await claims().sign(new TextEncoder().encode(publicPem))}`, 401],
    ['wrong iss', `Bearer ${await claims({ iss: 'someone-else' }).sign(secret)}`, 401],
    ['wrong aud', `Bearer ${await claims({ aud: 'another-api' }).sign(secret)}`, 401],
    [
      'no exp',
      `Bearer ${await new SignJWT({ role: 'super_admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('fluxion').setAudience('etl-history').sign(secret)}`,
      401,
    ],
    ['role viewer', `Bearer ${await tokenFor('viewer')}`, 403],
    [
      'no role',
      `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('fluxion').setAudience('etl-history').setExpirationTime(inAMinute()).sign(secret)}`,
      401,
    ],
  ]
}

describe('auth', () => {
  let database: TestDatabase
  let api: TestApi
  let clockMs = Date.now()

  beforeAll(async () => {
    database = await createTestDatabase()
    api = await testApi({ db: database.sql, clock: () => new Date(clockMs) })
    await insertUser(database.sql, {
      email: 'Admin@Fluxion.test',
      passwordHash: await hashPassword('correct horse'),
      role: 'super_admin',
    })
    await insertUser(database.sql, {
      email: 'viewer@fluxion.test',
      passwordHash: await hashPassword('just looking'),
      role: 'viewer',
    })
    await insertUser(database.sql, {
      email: 'gone@fluxion.test',
      passwordHash: await hashPassword('old password'),
      role: 'super_admin',
    })
    await database.sql`update admin_users set active = false where email = 'gone@fluxion.test'`
  })
  afterAll(async () => {
    await api?.close()
    await database?.drop()
  })

  it('every /api/etl/* route × every bad token → 401/403 problem+json', async () => {
    const paths = Object.keys((api.document().paths ?? {}) as object).filter((p) => p.startsWith('/api/etl/'))
    expect(paths.length).toBeGreaterThanOrEqual(6)
    const operations = paths.flatMap((p) =>
      Object.keys((api.document().paths as Record<string, object>)[p]!).map(
        (m) => [m as 'get' | 'post', p.replace('{id}', '1')] as const,
      ),
    )
    const tokens = await badTokens()
    for (const [method, path] of operations) {
      for (const [label, header, status] of tokens) {
        const r = await api.call(method, path, {
          token: null,
          headers: header ? { Authorization: header } : {},
          body: method === 'post' ? { etl_name: 'ventas' } : undefined,
        })
        expect(r.status, `${method} ${path} with ${label}`).toBe(status)
        expect(r.headers.get('content-type'), label).toBe('application/problem+json')
        const detail = (r.body as { detail: string }).detail
        expect(detail.length, label).toBeGreaterThan(10)
        if (header) expect(detail, label).not.toContain(header.split(' ')[1]!.slice(0, 20))
        if (status === 401) expect(r.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="etl-history"/)
      }
    }
  })

  it('says why a token was refused', async () => {
    const [, , , , expired, , none, rs] = await badTokens()
    const detail = async (h: string) =>
      (
        (await api.call('get', '/api/etl/tiendas', { token: null, headers: { Authorization: h } })).body as {
          detail: string
        }
      ).detail
    expect(await detail(expired![1]!)).toBe('The bearer token has expired; log in again.')
    expect(await detail(none![1]!)).toBe('The bearer token must be signed with HS256.')
    expect(await detail(rs![1]!)).toBe('The bearer token must be signed with HS256.')
  })

  it('health, readiness, metrics, the contract and the docs page are public', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs', '/metrics']) {
      const r = await api.call('get', path, { token: null })
      expect(r.status, path).toBe(200)
    }
  })

  it('login: the right password gets a token that works for its role; anything else is one 401', async () => {
    const ok = await api.call('post', '/api/auth/login', {
      token: null,
      body: { email: 'admin@fluxion.test', password: 'correct horse' },
    })
    expect(ok.status).toBe(200)
    const { token, role } = ok.body as { token: string; role: string }
    expect(role).toBe('super_admin')
    expect((await api.call('get', '/api/etl/tiendas', { token })).status).toBe(200)
    const viewer = await api.call('post', '/api/auth/login', {
      token: null,
      body: { email: 'viewer@fluxion.test', password: 'just looking' },
    })
    expect(
      (await api.call('get', '/api/etl/tiendas', { token: (viewer.body as { token: string }).token })).status,
    ).toBe(403)
    for (const body of [
      { email: 'admin@fluxion.test', password: 'wrong horse' },
      { email: 'nobody@fluxion.test', password: 'correct horse' },
      { email: 'gone@fluxion.test', password: 'old password' },
    ]) {
      const r = await api.call('post', '/api/auth/login', { token: null, body })
      expect(r.status, body.email).toBe(401)
      expect(r.body, body.email).toMatchObject({ detail: 'Wrong email or password.' })
      expect(JSON.stringify(r.body)).not.toContain(body.password)
    }
    const [user] = await database.sql`select last_login_at from admin_users where email = 'Admin@Fluxion.test'`
    expect(user!.last_login_at).toBeInstanceOf(Date)
  })

  it('login: repeated failures for one email are 429 with Retry-After until the window passes', async () => {
    const attempt = (password: string) =>
      api.call('post', '/api/auth/login', { token: null, body: { email: 'viewer@fluxion.test', password } })
    for (let i = 0; i < 5; i++) expect((await attempt(`guess ${i}`)).status).toBe(401)
    const limited = await attempt('just looking')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800)
    clockMs += 15 * 60_000 + 1000
    expect((await attempt('just looking')).status).toBe(200)
  })

  it('login: a burst of parallel guesses meets the same limit as sequential ones', async () => {
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.call('post', '/api/auth/login', { token: null, body: { email: 'burst@fluxion.test', password: `g${i}` } }),
      ),
    )
    const statuses = burst.map((r) => r.status).sort()
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429])
  })
})
