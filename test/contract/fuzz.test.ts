// Property-based test of the history API against openapi.yaml: for every operation, requests are
// generated from the contract's own schemas (test/helpers/arbitraries.ts) — valid ones, and ones
// with exactly one part the contract refuses — and sent to the real app (app.request over a test
// database with a real pg-boss). Every response must be declared for its operation, with the
// declared content type and headers, and a body valid against its schema (testApi checks each one
// with Ajv); a valid request is never a 400 or a 5xx, an invalid one is a 400 naming what is wrong.
// Methods a path does not declare are 405 with Allow; HEAD mirrors GET.
import fc from 'fast-check'
import type { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../history-api/src/login/passwords.ts'
import { startTestBoss, type TestApi, testApi } from '../helpers/api.ts'
import { invalidBody, invalidParam, validValue } from '../helpers/arbitraries.ts'
import { deref, type HttpMethod, pointerOf, schemaErrors, spec } from '../helpers/contract.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addExecution, addTiendas } from '../helpers/history-seed.ts'

type Json = Record<string, unknown>
type Param = { name: string; in: 'query' | 'path'; required: boolean; pointer: string; schema: Json }
type Operation = {
  key: string
  path: string
  method: HttpMethod
  params: Param[]
  body: { pointer: string } | null
  statuses: string[]
}
type Request = { path: string; body?: unknown; rawBody?: string; mutated?: string }

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const
const EMAIL = 'fuzz@fluxion.test'
const PASSWORD = 'clave-del-fuzz'

const operations: Operation[] = Object.entries(spec.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json)
    .filter(([m]) => (METHODS as readonly string[]).includes(m))
    .map(([method, raw]) => {
      const op = raw as Json
      const at = pointerOf('paths', path, method)
      const params = ((op.parameters as Json[] | undefined) ?? []).map((p, i) => {
        const { node, pointer } = deref(p, `${at}/parameters/${i}`)
        return {
          name: node.name as string,
          in: node.in as 'query' | 'path',
          required: Boolean(node.required),
          pointer: `${pointer}/schema`,
          schema: node.schema as Json,
        }
      })
      const body = op.requestBody
        ? { pointer: `${deref(op.requestBody, `${at}/requestBody`).pointer}/content/application~1json/schema` }
        : null
      return {
        key: `${method.toUpperCase()} ${path}`,
        path,
        method: method as HttpMethod,
        params,
        body,
        statuses: Object.keys(op.responses as Json),
      }
    }),
)

describe('the history API, fuzzed from openapi.yaml', () => {
  let database: TestDatabase
  let boss: PgBoss
  let api: TestApi
  let ids: number[] = []
  const tiendas = ['tienda_01', 'tienda_02', 'tienda_08', 'tienda_17']

  beforeAll(async () => {
    database = await createTestDatabase()
    boss = await startTestBoss(database.url)
    const db = database.sql
    await addTiendas(db, tiendas, { inactive: ['tienda_02'] })
    await db`insert into admin_users (email, password_hash, role) values (${EMAIL}, ${await hashPassword(PASSWORD)}, 'super_admin')`
    const day = (h: number) => new Date(Date.now() - h * 3_600_000)
    ids = [
      await addExecution(db, { status: 'success', started_at: day(30) }, [{ tienda_id: 'tienda_01' }]),
      await addExecution(
        db,
        { status: 'partial', error_phase: 'extract', error_category: 'vpn_timeout', started_at: day(5) },
        [
          { tienda_id: 'tienda_01' },
          { tienda_id: 'tienda_08', status: 'failed', error_phase: 'extract', error_category: 'vpn_timeout' },
        ],
      ),
      await addExecution(db, { status: 'running', started_at: day(0) }, [
        { tienda_id: 'tienda_17', status: 'running' },
      ]),
      await addExecution(db, { status: 'queued', etl_name: 'inventario', tienda_ids: ['tienda_17'] }),
    ]
    // The JSONB columns in the shapes the runner writes (shapes agreed with the runner).
    const span = { attempt: 1, phase: 'extract', started_at: day(5).toISOString(), finished_at: day(5).toISOString() }
    await db`update etl_execution_details set
        network_diagnostics = ${db.json({ ip: '127.0.0.8', port: 18102, latency_ms: null, error_code: 'UND_ERR_CONNECT_TIMEOUT', tcp_connected: false })},
        timeline = ${db.json([{ ...span, duration_seconds: 0.3, records: 0, errors: 1, error_category: 'vpn_timeout', error_code: 'UND_ERR_CONNECT_TIMEOUT' }])}
      where execution_id = ${ids[1]!} and tienda_id = 'tienda_08'`
    await db`update etl_executions set network_diagnostics = ${db.json({
      ip: '127.0.0.8',
      port: 18102,
      tienda_id: 'tienda_08',
      latency_ms: null,
      error_code: 'UND_ERR_CONNECT_TIMEOUT',
      failed_stores: 1,
      stores: [
        {
          tienda_id: 'tienda_08',
          ip: '127.0.0.8',
          port: 18102,
          latency_ms: null,
          error_code: 'UND_ERR_CONNECT_TIMEOUT',
        },
      ],
    })} where id = ${ids[1]!}`
    api = await testApi({ db, boss, pingMs: 20 })
  })

  afterAll(async () => {
    await api?.close()
    await boss?.stop({ graceful: false })
    await database?.drop()
  })

  /** Valid values, leaning towards ones that exist (ids, stores), so handlers go past their lookups. */
  const validFor = (p: Param): fc.Arbitrary<unknown> => {
    if (p.name === 'id') return fc.oneof(fc.constantFrom(...ids), validValue(p.schema))
    if (p.name === 'tienda') return fc.oneof(fc.constantFrom(...tiendas), validValue(p.schema))
    return validValue(p.schema)
  }
  const bodyFor = (op: Operation): fc.Arbitrary<unknown> => {
    const fromContract = validValue({ $ref: op.body!.pointer })
    // Now and then the right credentials, so a 200 is among the answers too.
    return op.key === 'POST /api/auth/login'
      ? fc.oneof(fc.constant({ email: EMAIL, password: PASSWORD }), fromContract)
      : fromContract
  }

  const url = (op: Operation, path: Record<string, unknown>, query: [string, string][]) => {
    const filled = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(path[name])))
    const qs = new URLSearchParams(query).toString()
    return qs ? `${filled}?${qs}` : filled
  }

  const validRequest = (op: Operation): fc.Arbitrary<Request> => {
    const pathParams = op.params.filter((p) => p.in === 'path')
    const queryParams = op.params.filter((p) => p.in === 'query')
    return fc
      .record({
        path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, validFor(p)]))),
        query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, validFor(p)])), { requiredKeys: [] }),
        body: op.body ? bodyFor(op) : fc.constant(undefined),
      })
      .map(({ path, query, body }) => ({
        path: url(
          op,
          path,
          Object.entries(query).map(([k, v]) => [k, String(v)]),
        ),
        ...(op.body ? { body } : {}),
      }))
  }

  const invalidRequest = (op: Operation): fc.Arbitrary<Request> => {
    const options: fc.Arbitrary<Request>[] = []
    const base = validRequest(op)
    for (const p of op.params) {
      options.push(
        // An empty path segment is another URL (a 404), not a value of the parameter; so are `.` and
        // `..`, which the URL resolves (RFC 3986 §5.2.4) before any server sees them.
        fc
          .tuple(
            base,
            invalidParam(p.pointer).filter((v) => p.in !== 'path' || !['', '.', '..'].includes(v)),
          )
          .map(([req, bad]) => {
            const [pathname, search = ''] = req.path.split('?')
            if (p.in === 'path') {
              const template = op.path.split('/')
              const parts = pathname!.split('/')
              const at = template.indexOf(`{${p.name}}`)
              parts[at] = encodeURIComponent(bad)
              return { ...req, path: `${parts.join('/')}${search ? `?${search}` : ''}`, mutated: p.name }
            }
            const q = new URLSearchParams(search)
            q.set(p.name, bad)
            return { ...req, path: `${pathname}?${q}`, mutated: p.name }
          }),
      )
    }
    if (op.statuses.includes('400')) {
      options.push(
        base.map((req) => ({
          ...req,
          path: `${req.path}${req.path.includes('?') ? '&' : '?'}estatus=failed`,
          mutated: 'estatus',
        })),
      )
    }
    if (op.body) {
      options.push(
        fc.tuple(base, invalidBody(op.body.pointer)).map(([req, body]) => ({ ...req, body, mutated: 'body' })),
      )
      options.push(base.map((req) => ({ path: req.path, rawBody: '{"etl_name": ', mutated: 'body' })))
    } else if (op.method === 'post') {
      options.push(base.map((req) => ({ ...req, body: { etl_name: 'ventas' }, mutated: 'body' })))
    }
    return fc.oneof(...options)
  }

  const send = async (op: Operation, req: Request) => {
    if (op.key === 'GET /api/etl/events') {
      // The stream never ends: check what the contract says about its opening, then hang up.
      const res = await api.request(req.path, { headers: { Authorization: `Bearer ${api.token}` } })
      const type = res.headers.get('content-type') ?? ''
      const body = type.includes('json') ? await res.json() : undefined
      if (!type.includes('json')) await res.body?.cancel()
      if (res.status === 200) expect(type).toMatch(/^text\/event-stream/)
      else expect(schemaErrors('Problem', body)).toEqual([])
      return { status: res.status, body }
    }
    const opts =
      req.rawBody !== undefined
        ? { rawBody: req.rawBody, headers: { 'Content-Type': 'application/json' } }
        : { body: req.body }
    return api.call(op.method, req.path, opts)
  }

  const runs = (op: Operation) => (op.key === 'POST /api/auth/login' ? 15 : 40)

  for (const op of operations) {
    it(`${op.key}: valid requests get a declared, non-400, non-5xx answer that matches the contract`, async () => {
      await fc.assert(
        fc.asyncProperty(validRequest(op), async (req) => {
          const res = await send(op, req)
          expect(op.statuses, `${req.path} → ${res.status} ${JSON.stringify(res.body)}`).toContain(String(res.status))
          expect(res.status, `${req.path} ${JSON.stringify(req.body)} → ${JSON.stringify(res.body)}`).not.toBe(400)
          expect(res.status, `${req.path} → ${JSON.stringify(res.body)}`).toBeLessThan(500)
        }),
        { numRuns: runs(op) },
      )
    })

    if (op.params.length === 0 && !op.body && !op.statuses.includes('400')) continue
    it(`${op.key}: requests the contract refuses are a 400 naming what is wrong`, async () => {
      await fc.assert(
        fc.asyncProperty(invalidRequest(op), async (req) => {
          const res = await send(op, req)
          const body = res.body as { 'invalid-params'?: { name: string }[] }
          expect(res.status, `${req.path} ${JSON.stringify(req.body ?? req.rawBody)} → ${JSON.stringify(body)}`).toBe(
            400,
          )
          const names = (body['invalid-params'] ?? []).map((p) => p.name)
          if (req.mutated !== 'body') expect(names, JSON.stringify(body)).toContain(req.mutated)
          else expect(names.length, JSON.stringify(body)).toBeGreaterThan(0)
        }),
        { numRuns: runs(op) },
      )
    })
  }

  it('a method a path does not declare is a 405 naming the allowed ones; HEAD answers like GET', async () => {
    for (const [path, item] of Object.entries(spec.paths as Json)) {
      const declared = Object.keys(item as Json).map((m) => m.toUpperCase())
      const concrete = path.replace('{id}', String(ids[1]))
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        if (declared.includes(method)) continue
        const res = await api.request(concrete, { method, headers: { Authorization: `Bearer ${api.token}` } })
        expect(res.status, `${method} ${path}`).toBe(405)
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
        expect(schemaErrors('Problem', await res.json())).toEqual([])
        const allow = res.headers.get('allow')!.split(', ')
        expect(allow.sort(), `${method} ${path}`).toEqual(
          [...declared, ...(declared.includes('GET') ? ['HEAD'] : [])].sort(),
        )
      }
      if (declared.includes('GET')) {
        const head = await api.request(concrete, { method: 'HEAD', headers: { Authorization: `Bearer ${api.token}` } })
        const get = await api.request(concrete, { headers: { Authorization: `Bearer ${api.token}` } })
        expect(head.status, `HEAD ${path}`).toBe(get.status)
        expect(await head.text()).toBe('')
        expect(head.headers.get('content-type'), `HEAD ${path}`).toBe(get.headers.get('content-type'))
        await get.body?.cancel() // the event stream never ends by itself
      }
    }
    const unknown = await api.request('/api/etl/nada', { headers: { Authorization: `Bearer ${api.token}` } })
    expect(unknown.status).toBe(404)
  })
})
