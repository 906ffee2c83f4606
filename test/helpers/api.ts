// Drives the history API in-process (app.request) with every response checked against
// openapi.yaml by Ajv (test/helpers/contract.ts): the handlers and the contract cannot drift
// apart in any test that goes through here.
import { PgBoss } from 'pg-boss'
import type { Sql } from 'postgres'
import { type AppDeps, buildApp } from '../../history-api/src/app.ts'
import { type AuthSettings, authSettings, type Role, signToken } from '../../history-api/src/auth.ts'
import type { JobSender } from '../../scripts/lib/queue-run.ts'
import { type HttpMethod, spec, validateHttpResponse } from './contract.ts'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'
export const testAuth: AuthSettings = authSettings({
  AUTH_JWT_SECRET: TEST_SECRET,
  AUTH_ISSUER: 'fluxion',
  AUTH_AUDIENCE: 'etl-history',
  AUTH_TOKEN_TTL_S: 3600,
})

export const tokenFor = async (role: Role = 'super_admin', ttlS = 600) =>
  (await signToken(testAuth, { sub: `${role}@fluxion.test`, role }, ttlS, new Date())).token

/** A sender for suites that never reach a send: reaching it is a test failure. */
export const noBoss: JobSender = {
  send: async () => {
    throw new Error('this test did not expect a job to be sent')
  },
}

const templates = Object.keys(spec.paths as object).map((template) => ({
  template,
  re: new RegExp(`^${template.replaceAll(/\{[^}]+\}/g, '[^/]+')}$`),
}))

/** The contract's path template of a concrete path, or null when the contract has none. */
export const templateOf = (path: string) => templates.find((t) => t.re.test(path.split('?')[0]!))?.template ?? null

export type ApiResponse = { status: number; headers: Headers; body: unknown; res: Response }
export type RequestOptions = {
  token?: string | null
  body?: unknown
  rawBody?: string
  headers?: Record<string, string>
}

export type TestApi = ReturnType<typeof buildApp> & {
  call: (method: HttpMethod, path: string, opts?: RequestOptions) => Promise<ApiResponse>
  token: string
}

export async function testApi(deps: Partial<AppDeps> & { db: Sql }): Promise<TestApi> {
  const app = buildApp({ auth: testAuth, boss: noBoss, ...deps })
  const token = await tokenFor('super_admin')
  const call = async (method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers }
    const bearer = opts.token === undefined ? token : opts.token
    if (bearer !== null) headers.Authorization = `Bearer ${bearer}`
    let body: string | undefined = opts.rawBody
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers['Content-Type'] ??= 'application/json'
    }
    const res = await app.request(path, { method: method.toUpperCase(), headers, body })
    const template = templateOf(path)
    const parsed = template
      ? await validateHttpResponse(method, template, res)
      : res.headers.get('content-type')?.includes('json')
        ? await res.json()
        : await res.text()
    return { status: res.status, headers: res.headers, body: parsed, res }
  }
  return Object.assign(app, { call, token })
}

/**
 * pg-boss's schema and the runner's two queues in the test database, as the runner creates
 * them at start (the API itself only sends). Returns a send-only instance like main.ts's.
 */
/** A send-only pg-boss like the API's: the migrated template already holds pg-boss's schema and queues. */
export async function startTestBoss(url: string): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: 'pgboss',
    max: 2,
    supervise: false,
    schedule: false,
    migrate: false,
  })
  await boss.start()
  return boss
}
