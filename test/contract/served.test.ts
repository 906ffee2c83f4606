// GET /openapi.json serves openapi.yaml itself, and the routes implement exactly it: the document
// generated from the zod schemas the routes validate with (app.document()) is equivalent to
// openapi.yaml — same paths and methods, parameters (with bounds), request bodies, responses
// (status codes, media types, headers) and schemas.
//
// Both documents are normalised before a deep comparison. What normalisation removes or
// rewrites is representation, not meaning:
// - prose and samples (description, summary, example(s), title) — the generated document keeps
//   shorter texts than the hand-written contract; response `links` are not compared either;
// - `$ref`s are resolved: the generated document names its components differently in places
//   (e.g. inline header schemas), the schemas they lead to are compared;
// - `discriminator` (an annotation in OAS 3.1; zod's discriminated union adds it, the contract
//   relies on `const` event names), `enum: [x]` ≡ `const: x`, `additionalProperties: {}` ≡ `true`,
//   `type: [T, 'null']` ≡ `anyOf: [{type: T}, {type: 'null'}]`, order of `required` and `anyOf`.
import { isDeepStrictEqual } from 'node:util'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../history-api/src/app.ts'
import { testAuth } from '../helpers/api.ts'
import { spec } from '../helpers/contract.ts'

type Json = Record<string, unknown>

const PROSE = new Set(['description', 'summary', 'example', 'examples', 'title', 'discriminator', 'externalDocs'])
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']

function resolver(doc: Json) {
  const resolve = (ref: string): Json => {
    let node: unknown = doc
    for (const key of ref.replace(/^#\//, '').split('/'))
      node = (node as Json)[key.replaceAll('~1', '/').replaceAll('~0', '~')]
    if (node === undefined) throw new Error(`unresolved ${ref}`)
    return node as Json
  }
  const deref = (node: unknown): Json => {
    let n = node as Json
    for (let hops = 0; typeof n?.$ref === 'string'; hops++) {
      if (hops > 20) throw new Error('$ref loop')
      n = resolve(n.$ref as string)
    }
    return n
  }
  return deref
}

function normaliseSchema(schema: unknown, deref: (n: unknown) => Json): unknown {
  if (Array.isArray(schema)) return schema.map((s) => normaliseSchema(s, deref))
  if (!schema || typeof schema !== 'object') return schema
  const s = { ...deref(schema) }
  const out: Json = {}
  for (const [key, value] of Object.entries(s)) {
    if (PROSE.has(key)) continue
    if (key === 'properties' && !Object.keys(value as Json).length) continue
    if (key === 'properties' || key === 'dependentRequired') {
      out[key] = Object.fromEntries(
        Object.entries(value as Json)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, key === 'properties' ? normaliseSchema(v, deref) : v]),
      )
    } else if (key === 'required') out[key] = [...(value as string[])].sort()
    else if (key === 'enum' && (value as unknown[]).length === 1) out.const = (value as unknown[])[0]
    else if (
      key === 'additionalProperties' &&
      (value === true || (typeof value === 'object' && !Object.keys(value as Json).length))
    )
      continue
    else out[key] = normaliseSchema(value, deref)
  }
  if (Array.isArray(out.type) && out.type.includes('null') && out.type.length === 2) {
    const { type, ...rest } = out
    out.anyOf = [{ ...rest, type: (type as string[]).find((t) => t !== 'null') }, { type: 'null' }]
    for (const k of Object.keys(rest)) delete out[k]
    delete out.type
  }
  if (Array.isArray(out.anyOf)) {
    const flat = (out.anyOf as Json[]).flatMap((a) =>
      Array.isArray(a.anyOf) && Object.keys(a).length === 1 ? (a.anyOf as Json[]) : [a],
    )
    out.anyOf = flat
      .map((a) => JSON.stringify(a))
      .sort()
      .map((a) => JSON.parse(a))
  }
  if (Array.isArray(out.allOf) && out.allOf.length === 1) return out.allOf[0]
  return out
}

function normaliseOperation(doc: Json, op: Json) {
  const deref = resolver(doc)
  const schema = (s: unknown) => normaliseSchema(s, deref)
  const content = (c: unknown) =>
    c ? Object.fromEntries(Object.entries(c as Json).map(([type, m]) => [type, schema((m as Json).schema)])) : undefined
  const parameters = ((op.parameters as unknown[]) ?? [])
    .map((p) => deref(p))
    .map((p) => ({ name: p.name, in: p.in, required: Boolean(p.required), schema: schema(p.schema) }))
    .sort((a, b) => `${a.in}:${a.name}`.localeCompare(`${b.in}:${b.name}`))
  const body = op.requestBody ? deref(op.requestBody) : undefined
  const responses = Object.fromEntries(
    Object.entries(op.responses as Json).map(([status, r]) => {
      const res = deref(r)
      const headers = Object.fromEntries(
        Object.entries((res.headers as Json) ?? {}).map(([name, h]) => {
          const header = deref(h)
          return [name, { required: Boolean(header.required), schema: schema(header.schema) }]
        }),
      )
      return [status, { content: content(res.content) ?? null, headers }]
    }),
  )
  return {
    operationId: op.operationId,
    tags: op.tags,
    security: op.security ?? doc.security,
    parameters,
    requestBody: body ? { required: Boolean(body.required), content: content(body.content) } : null,
    responses,
  }
}

const operationsOf = (doc: Json) =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op: op as Json })),
  )

describe('GET /openapi.json and the routes', () => {
  const app = buildApp({
    // Never connected: building the app and serving the document touch no database.
    db: postgres('postgres://nobody@127.0.0.1:1/none', { max: 1 }),
    auth: testAuth,
    boss: { send: async () => null },
  })

  it('is public OpenAPI 3.1 JSON', async () => {
    const res = await app.request('/openapi.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'Fluxion ETL execution history' } })
  })

  it('is openapi.yaml itself, with `servers` naming where it was served', async () => {
    for (const origin of ['http://localhost', 'https://etl.fluxion.example:8443']) {
      const served = (await (await app.request(`${origin}/openapi.json`)).json()) as Json
      const { servers, ...rest } = served
      const { servers: _, ...written } = spec
      expect(rest).toEqual(written)
      expect(servers).toEqual([{ url: origin, description: expect.any(String) }])
    }
    // Behind a reverse proxy, the address the client used.
    const proxied = (await (
      await app.request('http://10.0.0.5:8787/openapi.json', {
        headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'etl.fluxion.example' },
      })
    ).json()) as Json
    expect(proxied.servers).toEqual([{ url: 'https://etl.fluxion.example', description: expect.any(String) }])
    // Nothing is lost on the way: every description and example of the contract is there.
    const text = await (await app.request('/openapi.json')).text()
    expect(text.length).toBeGreaterThan(JSON.stringify(spec).length - 200)
  })

  it('the routes implement every operation of openapi.yaml, and nothing else', async () => {
    const served = app.document()
    const contractPaths = Object.keys(spec.paths as Json)
    const servedPaths = Object.keys(served.paths as Json)
    expect(servedPaths.filter((p) => !contractPaths.includes(p))).toEqual([])
    expect(contractPaths.filter((p) => !servedPaths.includes(p))).toEqual([])
    const servedOps = operationsOf(served)
      .map((o) => o.key)
      .sort()
    const contractOps = operationsOf(spec)
      .map((o) => o.key)
      .sort()
    expect(servedOps).toEqual(contractOps)
  })

  it('the routes declare the same parameters, bodies, responses, headers and schemas for each operation', async () => {
    const served = app.document()
    const contract = new Map(operationsOf(spec).map((o) => [o.key, o.op]))
    const mismatched = operationsOf(served).filter(
      ({ key, op }) => !isDeepStrictEqual(normaliseOperation(served, op), normaliseOperation(spec, contract.get(key)!)),
    )
    for (const { key, op } of mismatched) {
      expect(normaliseOperation(served, op), key).toEqual(normaliseOperation(spec, contract.get(key)!))
    }
    expect(mismatched.map((m) => m.key)).toEqual([])
  })

  it('the routes use the contract’s security scheme', async () => {
    const served = app.document()
    const pick = (doc: Json) => {
      const { type, scheme, bearerFormat } = ((doc.components as Json).securitySchemes as Json).bearerAuth as Json
      return { type, scheme, bearerFormat, security: doc.security }
    }
    expect(pick(served)).toEqual(pick(spec))
  })
})
