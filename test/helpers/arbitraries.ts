// fast-check arbitraries generated from openapi.yaml's own schemas (the subset of JSON Schema the
// contract uses): values a schema accepts, and values it rejects. The property test of the API
// (test/contract/fuzz.test.ts) builds its requests from these, so it tests what the contract says
// rather than what the handlers happen to do.
import fc from 'fast-check'
import { errorsAt, resolvePointer } from './contract.ts'

type Schema = Record<string, unknown>

/** The schema a `$ref` chain leads to, and the component name it ended on (if any). */
export function derefSchema(schema: Schema): { schema: Schema; name: string | null } {
  let s = schema
  let name: string | null = null
  for (let hops = 0; typeof s.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`$ref loop at ${String(s.$ref)}`)
    name = (s.$ref as string).split('/').at(-1) ?? null
    s = resolvePointer(s.$ref as string) as Schema
  }
  return { schema: s, name }
}

const INSTANTS = fc.date({
  min: new Date('2020-01-01T00:00:00Z'),
  max: new Date('2030-12-31T23:59:59Z'),
  noInvalidDate: true,
})
const pad = (n: number) => String(n).padStart(2, '0')

/**
 * Components whose rule a JSON Schema pattern cannot say whole: a calendar-impossible
 * `2026-02-30 00:00:00` matches StoreDateTime's pattern, and its description makes it a 400.
 * Valid values of those are real instants in either written form.
 */
const SEMANTIC: Record<string, fc.Arbitrary<unknown>> = {
  StoreDateTime: fc
    .tuple(INSTANTS, fc.boolean())
    .map(([d, plain]) =>
      plain
        ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
        : d.toISOString().replace('.000Z', '-04:00'),
    ),
}

function typesOf(s: Schema): string[] {
  if (Array.isArray(s.type)) return s.type as string[]
  if (typeof s.type === 'string') return [s.type]
  if (s.properties) return ['object']
  return []
}

/** Values the schema accepts. */
export function validValue(input: Schema): fc.Arbitrary<unknown> {
  const { schema: s, name } = derefSchema(input)
  if (name && SEMANTIC[name]) return SEMANTIC[name]
  if ('const' in s) return fc.constant(s.const)
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]))
  if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as Schema[]).map(validValue))
  if (Array.isArray(s.oneOf)) return fc.oneof(...(s.oneOf as Schema[]).map(validValue))
  const types = typesOf(s)
  if (types.length > 1) return fc.oneof(...types.map((type) => validValue({ ...s, type })))
  const min = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined)
  switch (types[0]) {
    case 'null':
      return fc.constant(null)
    case 'boolean':
      return fc.boolean()
    case 'integer':
      return fc.integer({ min: min('minimum') ?? -1_000_000, max: min('maximum') ?? 1_000_000 })
    case 'number':
      return fc.double({
        min: min('minimum') ?? -1e6,
        max: min('maximum') ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      })
    case 'string': {
      if (s.format === 'date-time') return INSTANTS.map((d) => d.toISOString())
      if (s.format === 'date') return INSTANTS.map((d) => d.toISOString().slice(0, 10))
      const lengths = { minLength: min('minLength') ?? 0, maxLength: min('maxLength') ?? 40 }
      const base =
        typeof s.pattern === 'string' ? fc.stringMatching(new RegExp(s.pattern as string)) : fc.string(lengths)
      return base.filter(
        (v) => v.length >= lengths.minLength && v.length <= (min('maxLength') ?? Number.MAX_SAFE_INTEGER),
      )
    }
    case 'array': {
      const items = validValue((s.items as Schema | undefined) ?? {})
      const minLength = min('minItems') ?? 0
      const maxLength = Math.min(min('maxItems') ?? 5, minLength + 5)
      return s.uniqueItems
        ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
        : fc.array(items, { minLength, maxLength })
    }
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, Schema>
      const required = (s.required ?? []) as string[]
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, validValue(v)])), {
        requiredKeys: required,
      }) as fc.Arbitrary<Record<string, unknown>>
      const dependent = (s.dependentRequired ?? {}) as Record<string, string[]>
      // Drop a key whose companions are absent (RunRequest: fecha_inicio and fecha_fin go together).
      return record.map((o) => {
        const out = { ...o }
        for (const [key, needs] of Object.entries(dependent))
          if (key in out && needs.some((n) => !(n in out))) delete out[key]
        return out
      })
    }
    default:
      return fc.jsonValue()
  }
}

/**
 * Values a query or path parameter must refuse, written as the strings a URL carries; `pointer`
 * locates its schema in openapi.yaml.
 */
export function invalidParam(pointer: string): fc.Arbitrary<string> {
  const { schema: s } = derefSchema(resolvePointer(pointer) as Schema)
  const options: fc.Arbitrary<string>[] = [fc.constant('')]
  if (typesOf(s).includes('integer')) {
    options.push(fc.constantFrom('abc', '1.5', '1e2', ' 7', '0x10', '--1'))
    if (typeof s.maximum === 'number')
      options.push(fc.integer({ min: s.maximum + 1, max: s.maximum + 1000 }).map(String))
    if (typeof s.minimum === 'number')
      options.push(fc.integer({ min: s.minimum - 1000, max: s.minimum - 1 }).map(String))
    return fc.oneof(...options)
  }
  const refused = (v: string) => errorsAt(pointer, v).length > 0
  options.push(fc.string({ minLength: 1, maxLength: 30 }).filter(refused))
  options.push(fc.constantFrom('bogus', 'NULL', "' OR 1=1 --", '2026-13-45', '2026-02-30', 'Tienda 1').filter(refused))
  return fc.oneof(...options)
}

/**
 * A JSON body the schema at `pointer` must refuse: an unknown field, a missing required one, a
 * wrong value or a wrong type (each checked to be refused by the contract itself).
 */
export function invalidBody(pointer: string): fc.Arbitrary<unknown> {
  const root = resolvePointer(pointer) as Schema
  const { schema: s } = derefSchema(root)
  const properties = (s.properties ?? {}) as Record<string, Schema>
  const required = (s.required ?? []) as string[]
  const valid = validValue(root) as fc.Arbitrary<Record<string, unknown>>
  const options: fc.Arbitrary<unknown>[] = [
    fc.constantFrom([], 'texto', 42, null, true),
    valid.map((o) => ({ ...o, campo_desconocido: 1 })),
  ]
  if (required.length > 0) {
    options.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([o, k]) => {
        const out = { ...o }
        delete out[k]
        return out
      }),
    )
  }
  const keys = Object.keys(properties)
  if (keys.length > 0) {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.string({ maxLength: 300 }),
      fc.constant({}),
      fc.constant(['x', 'x']),
    )
    options.push(fc.tuple(valid, fc.constantFrom(...keys), wrong).map(([o, k, v]) => ({ ...o, [k]: v })))
  }
  return fc.oneof(...options).filter((v) => errorsAt(pointer, v).length > 0)
}
