// What the served document shares across routes: the problem+json schema and responses, the
// security scheme and the document header. Route schemas live beside their features.
import { type OpenAPIHono, z } from '@hono/zod-openapi'
import { loadContract } from './contract.ts'
import type { components } from './generated/openapi.ts'

type S = components['schemas']

export const InvalidParamCodeSchema = z
  .enum([
    'required',
    'unknown',
    'one_of',
    'out_of_range',
    'type',
    'format',
    'size',
    'duplicate',
    'after_end',
    'window_too_long',
    'unknown_store',
    'inactive_store',
    'no_inventario_feed',
    'no_active_store',
    'stores_unrunnable',
    'no_failed_store',
    'invalid',
  ])
  .openapi('InvalidParamCode') satisfies z.ZodType<S['InvalidParamCode']>

export const InvalidParamSchema = z
  .strictObject({ name: z.string(), reason: z.string(), code: InvalidParamCodeSchema })
  .openapi('InvalidParam') satisfies z.ZodType<S['InvalidParam']>

export const ProblemSchema = z
  .strictObject({
    type: z.string().openapi({ format: 'uri-reference', default: 'about:blank' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    instance: z.string().openapi({ format: 'uri-reference' }).optional(),
    'invalid-params': z.array(InvalidParamSchema).min(1).optional(),
    execution_id: z.int().min(1).optional(),
    execution_status: z.enum(['queued', 'running']).optional(),
    etl_name: z.enum(['ventas', 'inventario']).optional(),
    tienda_id: z.string().optional(),
  })
  .openapi('Problem') satisfies z.ZodType<S['Problem']>

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }
const header = (schema: Record<string, unknown>) => ({ required: true, schema })

const RESPONSES = {
  BadRequest: { description: 'A malformed, mistyped or out-of-bounds value; `invalid-params` names each one.' },
  Unauthorized: {
    description:
      'No bearer token, or one that is malformed, expired, badly signed, not HS256, or for another issuer or audience.',
    headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } },
  },
  InvalidCredentials: { description: 'Wrong email or password.' },
  Forbidden: { description: 'A valid token whose role is not `super_admin`.' },
  NotFound: { description: 'The addressed resource does not exist.' },
  Conflict: {
    description: 'The request conflicts with current state, e.g. a run overlapping a queued or running one.',
  },
  ContentTooLarge: { description: 'The request body is larger than 64 KiB.' },
  UnprocessableContent: {
    description: 'A well-formed request that cannot be honoured; `invalid-params` names the fields.',
  },
  TooManyRequests: {
    description: 'Too many requests from this client; retry after `Retry-After` seconds.',
    headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
  },
  InternalError: { description: 'An unexpected failure. The detail carries no SQL, stack trace or secret.' },
} as const

export const HEADERS = {
  'X-Total-Count': header({ type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' }),
  Link: header({ type: 'string' }),
  'Retry-After': header({ type: 'integer', minimum: 1 }),
  'WWW-Authenticate': header({ type: 'string' }),
}

const ref = (name: keyof typeof RESPONSES) => ({ $ref: `#/components/responses/${name}` })

/** The error responses every /api/etl/* operation declares (and 413 for those with a body). */
export const etlErrors = {
  400: ref('BadRequest'),
  401: ref('Unauthorized'),
  403: ref('Forbidden'),
  404: ref('NotFound'),
  409: ref('Conflict'),
  422: ref('UnprocessableContent'),
  429: ref('TooManyRequests'),
  500: ref('InternalError'),
} as const
export const bodyTooLarge = { 413: ref('ContentTooLarge') } as const
export const loginErrors = {
  400: ref('BadRequest'),
  401: ref('InvalidCredentials'),
  413: ref('ContentTooLarge'),
  429: ref('TooManyRequests'),
  500: ref('InternalError'),
} as const
export const internalError = { 500: ref('InternalError') } as const

/** A strict query schema for routes without parameters: an unknown parameter is a 400. */
export const NoQuery = z.strictObject({})

export function registerSharedComponents(app: OpenAPIHono) {
  const registry = app.openAPIRegistry
  // The document GET /openapi.json answers with is openapi.yaml itself; its schema is the contract's.
  const contractSchemas = (loadContract().components as { schemas: Record<string, object> }).schemas
  registry.registerComponent('schemas', 'OpenApiDocument', contractSchemas.OpenApiDocument!)
  registry.register('Problem', ProblemSchema)
  for (const [name, response] of Object.entries(RESPONSES)) {
    registry.registerComponent('responses', name, { ...response, content: problemContent })
  }
  for (const [name, h] of Object.entries(HEADERS)) registry.registerComponent('headers', name, h)
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      '`Authorization: Bearer <token>` with a JWT signed HS256 with `AUTH_JWT_SECRET` (algorithm pinned); ' +
      'claims sub, role (must be super_admin), exp, iss (AUTH_ISSUER), aud (AUTH_AUDIENCE).',
  })
}

export const documentHeader = {
  openapi: '3.1.0',
  info: {
    title: 'Fluxion ETL execution history',
    version: '1.0.0',
    summary: 'History, statistics and manual runs of the Fluxion ventas and inventario ETLs.',
    description:
      'Generated from the route definitions of the history API, for tests only: it must equal openapi.yaml ' +
      '(the hand-written contract, which GET /openapi.json serves).',
  },
  servers: [{ url: 'http://127.0.0.1:8787', description: 'Local history API (HISTORY_API_PORT, default 8787)' }],
  security: [{ bearerAuth: [] }],
}
