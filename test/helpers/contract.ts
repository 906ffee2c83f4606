// Validates HTTP responses against openapi.yaml with Ajv, independently of the zod schemas the
// API is built from: a handler and the contract cannot drift apart unnoticed. Every schema is
// compiled once per process and cached, so validating every response of a suite stays cheap.
import { readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'

type Json = Record<string, unknown>
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options'
export type HeaderBag = Headers | Record<string, string | null | undefined>

export const specUrl = new URL('../../openapi.yaml', import.meta.url)
export const spec: Json = parse(readFileSync(specUrl, 'utf8'))

// The whole document is registered as one schema so that its own `#/components/schemas/X`
// references resolve; OpenAPI's top-level fields are declared as inert keywords so Ajv can stay
// in strict mode (a misspelt JSON Schema keyword in openapi.yaml is then an error, not a no-op).
const specId = 'https://contract.fluxion.test/openapi.yaml'
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats.default(ajv)
ajv.addVocabulary([
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
])
ajv.addSchema({ ...spec, $id: specId })

const escapeSegment = (segment: string) => encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'))
/** JSON pointer (`#/a/b`) of a location in openapi.yaml, from its path segments. */
export const pointerOf = (...segments: (string | number)[]) =>
  `#${segments.map((s) => `/${escapeSegment(String(s))}`).join('')}`

const validators = new Map<string, ValidateFunction>()
/** The compiled validator of the schema at `pointer` (e.g. `#/components/schemas/Problem`). */
export function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer)
  if (!validate) {
    validate = ajv.compile({ $ref: `${specId}${pointer}` })
    validators.set(pointer, validate)
  }
  return validate
}

export const formatErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : ''
    return `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${extra}`
  })

/** Errors of `value` against the schema at `pointer`; empty when valid. */
export function errorsAt(pointer: string, value: unknown): string[] {
  const validate = validatorAt(pointer)
  return validate(value) ? [] : formatErrors(validate.errors)
}

/** Errors of `value` against a component schema, e.g. `schemaErrors('TiendaEvent', data)`. */
export const schemaErrors = (name: string, value: unknown) => errorsAt(pointerOf('components', 'schemas', name), value)

/** Follows an OpenAPI `$ref` (responses, parameters, headers, examples) to the object and its pointer. */
export function deref(node: unknown, pointer: string): { node: Json; pointer: string } {
  let current = node as Json
  let at = pointer
  for (let hops = 0; typeof current?.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`$ref loop at ${pointer}`)
    at = current.$ref as string
    current = resolvePointer(at) as Json
  }
  return { node: current, pointer: at }
}

export function resolvePointer(pointer: string): unknown {
  if (!pointer.startsWith('#')) throw new Error(`only local references are supported: ${pointer}`)
  let node: unknown = spec
  for (const raw of pointer.slice(2).split('/')) {
    if (raw === '') continue
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    node = (node as Json | undefined)?.[key]
  }
  if (node === undefined) throw new Error(`openapi.yaml has nothing at ${pointer}`)
  return node
}

const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase()

function findResponse(method: HttpMethod, pathTemplate: string, status: number) {
  const operation = (spec.paths as Json)[pathTemplate] as Json | undefined
  if (!operation?.[method]) return { error: `${method.toUpperCase()} ${pathTemplate} is not in openapi.yaml` }
  const responses = (operation[method] as Json).responses as Json
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses)
  if (!key) return { error: `status ${status} is not declared for ${method.toUpperCase()} ${pathTemplate}` }
  return deref(responses[key], pointerOf('paths', pathTemplate, method, 'responses', key))
}

function headerValue(headers: HeaderBag, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name)
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? null : (headers[key] ?? null)
}

/**
 * Every way the response breaks the contract; empty when it conforms. `contentType` is the
 * response's Content-Type (parameters such as charset are ignored). When `headers` is given,
 * the declared response headers are checked too (presence of required ones, and their schema).
 */
export function responseErrors(
  method: HttpMethod,
  pathTemplate: string,
  status: number,
  contentType: string | null,
  body: unknown,
  headers?: HeaderBag,
): string[] {
  return check(method, pathTemplate, status, contentType, { body }, headers)
}

function check(
  method: HttpMethod,
  pathTemplate: string,
  status: number,
  contentType: string | null,
  payload: { body: unknown } | null,
  headers?: HeaderBag,
): string[] {
  const found = findResponse(method, pathTemplate, status)
  if ('error' in found) return [found.error]
  const where = `${method.toUpperCase()} ${pathTemplate} → ${status}`
  const errors: string[] = []
  const content = found.node.content as Json | undefined
  if (content) {
    const type = contentType ? mediaType(contentType) : ''
    if (!(type in content)) {
      errors.push(`${where}: content type ${type || '(none)'} is not declared (${Object.keys(content).join(', ')})`)
    } else if (payload) {
      const schemaPointer = `${found.pointer}/content/${escapeSegment(type)}/schema`
      errors.push(...errorsAt(schemaPointer, payload.body).map((e) => `${where}: body ${e}`))
    }
  }
  if (headers) {
    for (const [name, raw] of Object.entries((found.node.headers as Json | undefined) ?? {})) {
      const header = deref(raw, `${found.pointer}/headers/${escapeSegment(name)}`)
      const value = headerValue(headers, name)
      if (value === null) {
        if (header.node.required) errors.push(`${where}: required header ${name} is missing`)
        continue
      }
      const schema = header.node.schema as Json
      const parsed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value
      errors.push(...errorsAt(`${header.pointer}/schema`, parsed).map((e) => `${where}: header ${name} ${e}`))
    }
  }
  return errors
}

const fail = (errors: string[]) => {
  if (errors.length > 0) throw new Error(`response does not match openapi.yaml:\n  ${errors.join('\n  ')}`)
}

/** Throws, listing every mismatch, unless the response conforms to openapi.yaml. */
export function validateResponse(
  method: HttpMethod,
  pathTemplate: string,
  status: number,
  contentType: string | null,
  body: unknown,
  headers?: HeaderBag,
): void {
  fail(check(method, pathTemplate, status, contentType, { body }, headers))
}

/**
 * Validates a fetch/`app.request()` Response (status, content type, declared headers and body)
 * and returns its parsed body. An event stream's body is left unread (it never ends): validate
 * each event with `schemaErrors('StreamEvent', { event, data })`.
 */
export async function validateHttpResponse(method: HttpMethod, pathTemplate: string, res: Response): Promise<unknown> {
  const contentType = res.headers.get('content-type')
  const type = contentType ? mediaType(contentType) : ''
  if (type === 'text/event-stream') {
    fail(check(method, pathTemplate, res.status, contentType, null, res.headers))
    return undefined
  }
  const text = await res.clone().text()
  const json = type === 'application/json' || type.endsWith('+json')
  const body = json && text !== '' ? JSON.parse(text) : json ? undefined : text
  fail(check(method, pathTemplate, res.status, contentType, { body }, res.headers))
  return body
}
