// The contract itself: openapi.yaml lints clean, every example in it is valid against its own
// schema (so the examples integrators copy are true), the /api rules hold on every operation,
// and the generated types are not stale.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  deref,
  errorsAt,
  pointerOf,
  resolvePointer,
  responseErrors,
  schemaErrors,
  spec,
  validateResponse,
} from '../helpers/contract.ts'

type Json = Record<string, unknown>
const root = fileURLToPath(new URL('../../', import.meta.url))
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function run(args: string[]) {
  return spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  })
}

// Every example in the document with the pointer of the schema it must satisfy: media-type,
// parameter and header `example`/`examples` (Example Objects, possibly $ref'd) and schema-level
// `examples` arrays, wherever they sit.
type FoundExample = { where: string; schema: string; value: unknown }
const subschemaMaps = ['properties', 'patternProperties', '$defs', 'dependentSchemas']
const subschemaLists = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const subschemaSingles = [
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'contentSchema',
]

function collectSchemaExamples(schema: unknown, pointer: string, out: FoundExample[]) {
  if (!isObject(schema)) return
  if (Array.isArray(schema.examples)) {
    schema.examples.forEach((value, i) => {
      out.push({ where: `${pointer}/examples/${i}`, schema: pointer, value })
    })
  }
  if ('example' in schema) out.push({ where: `${pointer}/example`, schema: pointer, value: schema.example })
  for (const key of subschemaMaps) {
    if (isObject(schema[key])) {
      for (const [name, sub] of Object.entries(schema[key]))
        collectSchemaExamples(sub, pointer + pointerOf(key, name).slice(1), out)
    }
  }
  for (const key of subschemaLists) {
    if (Array.isArray(schema[key])) {
      schema[key].forEach((sub, i) => {
        collectSchemaExamples(sub, `${pointer}/${key}/${i}`, out)
      })
    }
  }
  for (const key of subschemaSingles) collectSchemaExamples(schema[key], `${pointer}/${key}`, out)
}

function collectExamples(node: unknown, pointer: string, out: FoundExample[]) {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      collectExamples(item, `${pointer}/${i}`, out)
    })
    return
  }
  if (!isObject(node)) return
  if (pointer === '#/components/schemas') {
    for (const [name, schema] of Object.entries(node))
      collectSchemaExamples(schema, pointerOf('components', 'schemas', name), out)
    return
  }
  // A media type, parameter or header object: the thing that pairs examples with a schema.
  if (isObject(node.schema)) {
    const schema = `${pointer}/schema`
    if ('example' in node) out.push({ where: `${pointer}/example`, schema, value: node.example })
    if (isObject(node.examples)) {
      for (const [name, raw] of Object.entries(node.examples)) {
        const example = deref(raw, `${pointer}/examples/${name}`)
        out.push({ where: `${pointer}/examples/${name}`, schema, value: example.node.value })
      }
    }
    collectSchemaExamples(node.schema, schema, out)
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'schema' || key === 'example' || key === 'examples') continue
    collectExamples(value, pointer + pointerOf(key).slice(1), out)
  }
}

const examples: FoundExample[] = []
collectExamples(spec, '#', examples)

describe('openapi.yaml', () => {
  it('lints clean with Redocly (recommended ruleset, .redocly.yaml)', () => {
    const result = run([
      'node_modules/@redocly/cli/bin/cli.js',
      'lint',
      '--config',
      '.redocly.yaml',
      '--format=json',
      'openapi.yaml',
    ])
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number }
      problems: { severity: string; message: string; location: { pointer: string }[] }[]
    }
    const errors = report.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.location[0]?.pointer}: ${p.message}`)
    expect(errors).toEqual([])
    expect(report.totals.errors).toBe(0)
    expect(result.status).toBe(0)
  })

  it('has examples everywhere that matters', () => {
    expect(examples.length).toBeGreaterThanOrEqual(30)
    const covered = new Set(examples.map((e) => e.where.split('/content/')[0]))
    for (const [path, item] of Object.entries(spec.paths as Json)) {
      for (const method of Object.keys(item as Json)) {
        const ok = deref((item as Json)[method], '#').node.responses as Json
        const success = Object.keys(ok).find((s) => s.startsWith('2'))!
        const content = deref(ok[success], '#').node.content as Json
        // /openapi.json answers with this very document: no example of it is needed.
        if (!content || !('application/json' in content) || path === '/openapi.json') continue
        expect(covered, `${method.toUpperCase()} ${path} → ${success} has no example`).toContain(
          pointerOf('paths', path, method, 'responses', success),
        )
      }
    }
  })

  it.each(examples.map((e) => [e.where, e] as const))('example %s is valid against its schema', (_, example) => {
    expect(errorsAt(example.schema, example.value)).toEqual([])
  })

  it('the validator rejects examples that break the contract', () => {
    const detail = resolvePointer('#/components/examples/ExecutionDetailPartial/value') as Json
    const pointer = '#/components/schemas/ExecutionDetail'
    expect(errorsAt(pointer, detail)).toEqual([])
    expect(errorsAt(pointer, { ...detail, status: 'bogus' })).toEqual([
      expect.stringContaining('/status must be equal to one of the allowed values'),
    ])
    expect(errorsAt(pointer, { ...detail, surprise: 1 }).join()).toContain('must NOT have additional properties')
    const { error_source: _, ...missing } = detail
    expect(errorsAt(pointer, missing).join()).toContain("must have required property 'error_source'")
    expect(errorsAt(pointer, { ...detail, started_at: 'yesterday' }).join()).toContain('must match format "date-time"')
    expect(errorsAt(pointer, { ...detail, tiendas_detail: [{}] })).not.toEqual([])

    expect(schemaErrors('StoreDateTime', '2026-01-25 00:00:00')).toEqual([])
    expect(schemaErrors('StoreDateTime', '2026-01-25T00:00:00-04:00')).toEqual([])
    expect(schemaErrors('StoreDateTime', '2026-01-25T00:00:00')).not.toEqual([])
    expect(schemaErrors('StoreDateTime', '25/01/2026')).not.toEqual([])
    expect(schemaErrors('DateOrDateTime', '2026-01-26')).toEqual([])
    expect(schemaErrors('DateOrDateTime', '2026-01-26T10:00:00Z')).toEqual([])
    expect(schemaErrors('DateOrDateTime', '2026-01-26T10:00:00')).not.toEqual([])
    expect(errorsAt('#/components/parameters/Limit/schema', 201)).not.toEqual([])
    expect(schemaErrors('RunRequest', { etl_name: 'ventas', fecha_inicio: '2026-01-25 00:00:00' })).not.toEqual([])
    expect(schemaErrors('RunRequest', { etl_name: 'ventas', tienda_ids: ['a', 'a'] })).not.toEqual([])
  })

  it('protects every /api/etl operation and declares all its problem responses', () => {
    const problems = ['400', '401', '403', '404', '409', '422', '429', '500']
    const operationIds = new Set<string>()
    for (const [path, item] of Object.entries(spec.paths as Json)) {
      for (const [method, operation] of Object.entries(item as Json) as [string, Json][]) {
        const name = `${method.toUpperCase()} ${path}`
        expect(operation.operationId, name).toMatch(/^[a-z][a-zA-Z]+$/)
        expect(operationIds, name).not.toContain(operation.operationId)
        operationIds.add(operation.operationId as string)
        if (!path.startsWith('/api/etl/')) {
          expect(operation.security, `${name} is public`).toEqual([])
          continue
        }
        expect(operation.security, `${name} uses the global bearerAuth`).toBeUndefined()
        const responses = operation.responses as Json
        for (const status of problems) {
          expect(responses, `${name} declares ${status}`).toHaveProperty(status)
          const response = deref(responses[status], '#').node
          expect(Object.keys(response.content as Json), `${name} → ${status}`).toEqual(['application/problem+json'])
        }
      }
    }
    expect(spec.security).toEqual([{ bearerAuth: [] }])
  })

  it('generated types are up to date (gen:check)', () => {
    const result = run(['scripts/gen.ts', '--check'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})

describe('validateResponse (test/helpers/contract.ts)', () => {
  const item = (
    resolvePointer('#/paths/~1api~1etl~1history/get/responses/200/content/application~1json/examples/plan') as Json
  ).value as Json[]

  it('accepts a conforming response with its headers', () => {
    const link = '</api/etl/history?limit=50&offset=0>; rel="first", </api/etl/history?limit=50&offset=0>; rel="last"'
    expect(() =>
      validateResponse('get', '/api/etl/history', 200, 'application/json; charset=utf-8', item, {
        'x-total-count': '1',
        link,
      }),
    ).not.toThrow()
  })

  it('names every mismatch', () => {
    expect(
      responseErrors('get', '/api/etl/history', 200, 'application/json', [{ ...item[0], status: 'bogus' }], {}),
    ).toEqual([
      'GET /api/etl/history → 200: body /0/status must be equal to one of the allowed values',
      'GET /api/etl/history → 200: required header X-Total-Count is missing',
      'GET /api/etl/history → 200: required header Link is missing',
    ])
    expect(responseErrors('get', '/api/etl/history', 418, 'application/json', [])).toEqual([
      'status 418 is not declared for GET /api/etl/history',
    ])
    expect(responseErrors('get', '/api/etl/history/{id}', 404, 'application/json', {})).toEqual([
      'GET /api/etl/history/{id} → 404: content type application/json is not declared (application/problem+json)',
    ])
    expect(() => validateResponse('get', '/api/etl/nope', 200, 'application/json', {})).toThrow(/not in openapi.yaml/)
  })
})
