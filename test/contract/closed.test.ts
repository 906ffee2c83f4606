// The contract cannot drift: every object a response can carry is closed (additionalProperties
// false, or a declared value schema where the key set is open), and the response validation the
// suites run (test/helpers/contract.ts) fails on an undeclared key anywhere in a response.
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { deref, errorsAt, pointerOf, resolvePointer, responseErrors, spec } from '../helpers/contract.ts'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

// Below these the structure is the OpenAPI specification's own (GET /openapi.json serves this very
// file, compared key for key with openapi.yaml by served.test.ts).
const OPENAPI_OBJECTS = /^#\/components\/schemas\/OpenApiDocument\/properties\/(paths|components|security)\b/

/** Every object schema reachable from the responses, with its pointer; $refs followed once each. */
function responseObjectSchemas(): { pointer: string; schema: Json }[] {
  const found: { pointer: string; schema: Json }[] = []
  const seen = new Set<string>()
  const visit = (node: unknown, pointer: string) => {
    if (!isObject(node)) return
    if (typeof node.$ref === 'string') {
      if (!seen.has(node.$ref)) {
        seen.add(node.$ref)
        visit(resolvePointer(node.$ref), node.$ref)
      }
      return
    }
    if (OPENAPI_OBJECTS.test(pointer)) return
    const types = Array.isArray(node.type) ? node.type : [node.type]
    if (types.includes('object') || isObject(node.properties)) found.push({ pointer, schema: node })
    for (const [key, sub] of Object.entries(node)) {
      if (key === 'properties' && isObject(sub)) {
        for (const [name, s] of Object.entries(sub)) visit(s, `${pointer}/properties/${name}`)
      } else if (['items', 'additionalProperties', 'propertyNames'].includes(key)) visit(sub, `${pointer}/${key}`)
      else if (['anyOf', 'oneOf', 'allOf'].includes(key) && Array.isArray(sub)) {
        sub.forEach((s, i) => {
          visit(s, `${pointer}/${key}/${i}`)
        })
      }
    }
  }
  for (const [path, item] of Object.entries(spec.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      for (const [status, raw] of Object.entries((op as Json).responses as Json)) {
        const { node } = deref(raw, pointerOf('paths', path, method, 'responses', status))
        for (const [type, media] of Object.entries((node.content as Json | undefined) ?? {})) {
          visit(
            (media as Json).schema,
            pointerOf('paths', path, method, 'responses', status, 'content', type, 'schema'),
          )
        }
      }
    }
  }
  return found
}

/** Every object inside a value, with a copy of the value where that object gained an undeclared key. */
function withUndeclaredKey(value: unknown): { at: string; mutated: unknown }[] {
  const out: { at: string; mutated: unknown }[] = []
  const walk = (node: unknown, at: string, rebuild: (replacement: unknown) => unknown) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, `${at}/${i}`, (r) => rebuild(node.map((x, j) => (j === i ? r : x))))
      })
    } else if (isObject(node)) {
      out.push({ at: at || '(root)', mutated: rebuild({ ...node, clave_no_declarada: 'x' }) })
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`, (r) => rebuild({ ...node, [k]: r }))
    }
  }
  walk(value, '', (r) => r)
  return out
}

describe('a closed contract', () => {
  it('every object a response can carry is closed or declares the schema of its values', () => {
    const schemas = responseObjectSchemas()
    expect(schemas.length).toBeGreaterThan(30)
    const open = schemas
      .filter(({ schema }) => schema.additionalProperties !== false && !isObject(schema.additionalProperties))
      .map(({ pointer }) => pointer)
    expect(open).toEqual([])
    // A declared value schema of an open key set is itself not open-ended.
    for (const { pointer, schema } of schemas) {
      if (isObject(schema.additionalProperties))
        expect(Object.keys(schema.additionalProperties), pointer).not.toEqual([])
    }
  })

  it('an undeclared key anywhere in any response example fails validation', () => {
    let checked = 0
    for (const [path, item] of Object.entries(spec.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        for (const [status, raw] of Object.entries((op as Json).responses as Json)) {
          const { node } = deref(raw, '#')
          const content = (node.content as Json | undefined) ?? {}
          const type = ['application/json', 'application/problem+json'].find((t) => t in content)
          const media = type ? (content[type] as Json) : undefined
          if (!type || !media || path === '/openapi.json') continue
          const examples = [
            ...('example' in media ? [media.example] : []),
            ...Object.values((media.examples as Json | undefined) ?? {}).map((e) => deref(e, '#').node.value),
          ]
          for (const example of examples) {
            for (const { at, mutated } of withUndeclaredKey(example)) {
              const errors = responseErrors(method as 'get', path, Number(status), type, mutated)
              expect(errors.join(), `${method.toUpperCase()} ${path} → ${status}: clave_no_declarada at ${at}`).toMatch(
                /must NOT have additional properties \(clave_no_declarada\)|must match a schema in anyOf|propertyName/,
              )
              checked++
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100)
  })

  it('the diagnostics the runner wrote before issue 9 fail the contract now; the old open schema let them pass', () => {
    const detail = resolvePointer('#/components/examples/ExecutionDetailPartial/value') as Json
    const written = {
      failed_stores: 1,
      stores: [{ tienda_id: 'tienda_08', ip: '10.8.0.15', port: 80, code: 'UND_ERR_CONNECT_TIMEOUT' }],
    }
    const errors = errorsAt('#/components/schemas/ExecutionDetail', { ...detail, network_diagnostics: written })
    expect(errors.join('\n')).toMatch(/network_diagnostics must have required property 'ip'/)
    expect(errors.join('\n')).toMatch(/network_diagnostics\/stores\/0 must NOT have additional properties \(code\)/)

    // The schema openapi.yaml declared until then (NetworkDiagnostics: open, nothing required).
    const before = new Ajv2020({ strict: false }).compile({
      type: 'object',
      maxProperties: 20,
      properties: {
        ip: { type: 'string' },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        latency_ms: { type: ['number', 'null'], minimum: 0 },
        error_code: { type: ['string', 'null'] },
      },
      additionalProperties: true,
    })
    expect(before(written)).toBe(true)
  })
})
