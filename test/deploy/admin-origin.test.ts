// The panel where it is deployed (README "Deployment"): `npm run start:admin` with ORIGIN set to
// the URL the browser uses, with ORIGIN unset (plain http on any host name), and behind a real
// reverse proxy that passes X-Forwarded-Proto / X-Forwarded-Host (PROTOCOL_HEADER / HOST_HEADER).
// In each, logging in and the other forms pass SvelteKit's CSRF check, and a cross-site POST is
// still refused. Before the fix, ORIGIN=… made every form POST a 403 "Cross-site POST form
// submissions are forbidden": adapter-node 6 ignores ORIGIN, and start-admin.ts then let it
// assume https.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { hashPassword } from '../../history-api/src/login/passwords.ts'
import { type ReservedPort, reservePort } from '../../scripts/lib/reserved-port.ts'
import { submitLogin } from '../e2e/panel-kit.ts'
import { ensureAdminBuild } from '../helpers/admin-build.ts'
import { startTestBoss } from '../helpers/api.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { type Command, npm, stopAll, waitForHttp } from '../helpers/commands.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { cleanEnv } from '../helpers/env.ts'

const EMAIL = 'operador@fluxion.test'
const PASSWORD = 'clave-de-prueba-origen'
const held: ReservedPort[] = []
let database: TestDatabase
let apiUrl: string

async function port() {
  const p = await reservePort()
  held.push(p)
  return p.port
}

/** `npm run start:admin` on a held port; resolves once it answers. */
async function startAdmin(env: Record<string, string>): Promise<{ admin: Command; base: string }> {
  const adminPort = await port()
  const admin = npm(
    'admin',
    ['run', 'start:admin'],
    cleanEnv({ ADMIN_PORT: String(adminPort), HISTORY_API_URL: apiUrl, ...env }),
  )
  const base = `http://127.0.0.1:${adminPort}`
  await waitForHttp(admin, `${base}/login`)
  return { admin, base }
}

type FormResult = { status: number; type?: string; location?: string | null; cookie?: string | null; text: string }

/**
 * A form POST as the panel's enhanced forms send it (JSON answer), with the given Origin. Over
 * node:http rather than fetch, which would not let a test choose the Host header.
 */
function postForm(url: string, origin: string, form: Record<string, string>, extra: Record<string, string> = {}) {
  const body = new URLSearchParams(form).toString()
  return new Promise<FormResult>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        origin,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        accept: 'application/json',
        'x-sveltekit-action': 'true',
        ...extra,
      },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (b: Buffer) => chunks.push(b))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        const json = res.headers['content-type']?.includes('json') ? (JSON.parse(text) as { type?: string }) : {}
        const cookie = [res.headers['set-cookie'] ?? []].flat().join('\n') || null
        resolve({ status: res.statusCode ?? 0, type: json.type, location: res.headers.location ?? null, cookie, text })
      })
    })
    req.end(body)
  })
}

const login = (base: string, origin: string, extra?: Record<string, string>): Promise<FormResult> =>
  postForm(`${base}/login?/entrar`, origin, { email: EMAIL, password: PASSWORD, volver: '/' }, extra)

const session = (cookie: string | null | undefined) => /fluxion_sesion=[^;]+/.exec(cookie ?? '')?.[0] ?? ''

beforeAll(async () => {
  await ensureAdminBuild()
  database = await createTestDatabase()
  const boss = await startTestBoss(database.url) // pg-boss's schema and queues for POST /api/etl/run
  await boss.stop({ graceful: false })
  await database.sql`
    insert into admin_users (email, password_hash, role) values (${EMAIL}, ${await hashPassword(PASSWORD)}, 'super_admin')`
  await database.sql`
    insert into tiendas (id, nombre, source_system, host, port) values ('tienda_01', 'PERIFERICO', 'klk', '127.0.0.1', 9)`
  const apiPort = await port()
  apiUrl = `http://127.0.0.1:${apiPort}`
  const api = npm(
    'history-api',
    ['run', 'start:api'],
    cleanEnv({
      DATABASE_URL: database.url,
      AUTH_JWT_SECRET: 'origin-test-secret-long-enough-for-hs256-0123456789',
      HISTORY_API_PORT: String(apiPort),
      HISTORY_API_HOST: '127.0.0.1',
    }),
  )
  await waitForHttp(api, `${apiUrl}/healthz`)
}, 300_000)

afterAll(async () => {
  await stopAll()
  await database?.drop()
  for (const p of held) p.release()
})

describe.concurrent('admin login and forms', () => {
  test('ORIGIN unset: plain http on any host name; a cross-site POST is refused', async () => {
    const { admin, base } = await startAdmin({})
    const direct = await login(base, base)
    expect(direct, direct.text).toMatchObject({ status: 200, type: 'redirect' })
    expect(session(direct.cookie)).not.toBe('')
    expect(direct.cookie).not.toMatch(/Secure/i)
    // Another name for the same server: the browser sends that Host and that Origin.
    const port = new URL(base).port
    const byName = await login(base, `http://localhost:${port}`, { host: `localhost:${port}` })
    expect(byName, byName.text).toMatchObject({ status: 200, type: 'redirect' })
    // A client's own X-Forwarded-Proto is not trusted when no proxy is configured.
    const spoofed = await login(base, base, { 'x-forwarded-proto': 'https' })
    expect(spoofed.type).toBe('redirect')
    const crossSite = await login(base, 'http://evil.example')
    expect(crossSite.status).toBe(403)
    expect(crossSite.text).toContain('Cross-site POST form submissions are forbidden')
    await admin.stop()
  })

  test('ORIGIN=http://127.0.0.1:3999: login and every form work with that Origin, not with another', async () => {
    const origin = 'http://127.0.0.1:3999'
    const { admin, base } = await startAdmin({ ORIGIN: origin })
    const ok = await login(base, origin)
    expect(ok, ok.text).toMatchObject({ status: 200, type: 'redirect' })
    const cookie = session(ok.cookie)
    expect(cookie).not.toBe('')
    const withSession = { cookie }
    // The run form: a real run queued through the API.
    const run = await postForm(`${base}/ventas?/ejecutar`, origin, { tienda_ids: 'tienda_01' }, withSession)
    expect(run, run.text).toMatchObject({ status: 200, type: 'success' })
    expect(run.text).toMatch(/ejecucion/)
    const [queued] = await database.sql`select status from etl_executions where 'tienda_01' = any(tienda_ids)`
    expect(queued?.status).toBe('queued')
    // The gap recovery form reaches the API too (no such gap: the API's 404, not a CSRF 403).
    const recover = await postForm(`${base}/ventas?/recuperar`, origin, { gap: '999999' }, withSession)
    expect(recover, recover.text).toMatchObject({ type: 'failure', status: 404 })
    const logout = await postForm(`${base}/login?/salir`, origin, {}, withSession)
    expect(logout, logout.text).toMatchObject({ type: 'redirect' })
    // The panel's own address is not the public origin: a POST claiming it is cross-site.
    expect((await login(base, base)).status).toBe(403)
    await admin.stop()
  })

  test('ORIGIN=https://… (TLS at the proxy): login works and the session cookie is Secure', async () => {
    const origin = 'https://panel.fluxion.example'
    const { admin, base } = await startAdmin({ ORIGIN: origin })
    const ok = await login(base, origin)
    expect(ok, ok.text).toMatchObject({ status: 200, type: 'redirect' })
    expect(ok.cookie).toMatch(/Secure/i)
    expect((await login(base, 'http://panel.fluxion.example')).status).toBe(403)
    await admin.stop()
  })

  test('a bad ORIGIN stops start:admin with one line naming it', async () => {
    const bad = npm('admin', ['run', 'start:admin'], cleanEnv({ ADMIN_PORT: '0', ORIGIN: 'panel.example.com/admin' }))
    const within = (ms: number) => new Promise<string>((r) => setTimeout(() => r(`still running after ${ms} ms`), ms))
    expect(await Promise.race([bad.exited, within(60_000)])).toBe(1)
    expect(bad.output()).toContain("admin: ORIGIN must be the panel's public origin")
    expect(bad.output()).not.toMatch(/\n\s+at /)
  })
})

test('through a reverse proxy that sets X-Forwarded-Proto/-Host: a browser logs in (PROTOCOL_HEADER, HOST_HEADER)', async () => {
  const { admin, base } = await startAdmin({ PROTOCOL_HEADER: 'x-forwarded-proto', HOST_HEADER: 'x-forwarded-host' })
  const target = new URL(base)
  // What nginx's proxy_pass does by default: the upstream's Host, the browser's in X-Forwarded-Host.
  const proxy = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          host: target.host,
          'x-forwarded-host': req.headers.host,
          'x-forwarded-proto': 'http',
          'x-forwarded-for': req.socket.remoteAddress,
        },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const publicBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${publicBase}/historial`)
    await page.waitForURL(/\/login/)
    await submitLogin(page, { email: EMAIL, password: PASSWORD })
    // Under a full suite's load the login (scrypt) and the first page can take a while; say what was on screen.
    await page.waitForURL(`${publicBase}/historial`, { timeout: 90_000 }).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\non screen: ${await page.locator('body').textContent()}\nadmin:\n${admin.output().slice(-3000)}`,
      )
    })
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBeTruthy()
    // Without the proxy headers configured the same login would be cross-site (Host is the upstream's).
    expect((await login(base, publicBase, { 'x-forwarded-host': 'elsewhere.example' })).status).toBe(403)
  } finally {
    await browser.close()
    proxy.closeAllConnections()
    proxy.close()
    await admin.stop()
  }
})
