// One error shape for the whole API: RFC 9457 problem details (`application/problem+json`),
// produced by the validation hook, the auth middleware, the handlers and the error handler
// alike. Nothing below ever puts a stack trace, SQL text or a secret into a response.
import type { Context, Next } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { allowedMethods } from './contract.ts'
import { InvalidParamCodeSchema } from './openapi.ts'

/**
 * Why a field was refused, as a stable token (openapi.yaml `InvalidParamCode`), so a client can
 * word it in its own language; `reason` is the English sentence for people reading raw responses.
 */
export type InvalidParamCode = z.infer<typeof InvalidParamCodeSchema>
export type InvalidParam = { name: string; reason: string; code: InvalidParamCode }

/**
 * Problem types beyond what the status says (openapi.yaml `ProblemType`). A `tag:` URI (RFC 4151)
 * identifies without pretending to be a page to fetch; clients compare it as a string.
 */
export const PROBLEM_TYPES = {
  executionNotFound: 'tag:fluxion.etl,2026:execution-not-found',
  runOverlap: 'tag:fluxion.etl,2026:run-overlap',
  noGap: 'tag:fluxion.etl,2026:no-gap',
  gapRecovered: 'tag:fluxion.etl,2026:gap-already-recovered',
  executionNotFinished: 'tag:fluxion.etl,2026:execution-not-finished',
  executionFinished: 'tag:fluxion.etl,2026:execution-finished',
} as const

/** Extension members of a run-overlap problem: which execution already holds which store. */
export type OverlapMembers = { execution_id: number; execution_status: string; etl_name: string; tienda_id: string }

export type Problem = {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  'invalid-params'?: InvalidParam[]
} & Partial<OverlapMembers>

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

const instanceOf = (c: Context) => {
  const url = new URL(c.req.url)
  return url.pathname + url.search
}

/** `name must …` reads as a sentence; any other reason is appended after a colon. */
export const describeParams = (params: InvalidParam[]) =>
  params.map((p) => (/^(must|is|are) /.test(p.reason) ? `${p.name} ${p.reason}` : `${p.name}: ${p.reason}`)).join('; ')

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  detail: string,
  extra: {
    invalidParams?: InvalidParam[]
    headers?: Record<string, string>
    type?: (typeof PROBLEM_TYPES)[keyof typeof PROBLEM_TYPES]
    members?: OverlapMembers
  } = {},
) {
  const body: Problem = {
    type: extra.type ?? 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: instanceOf(c),
    ...extra.members,
  }
  if (extra.invalidParams?.length) body['invalid-params'] = extra.invalidParams
  return c.body(JSON.stringify(body), status, { 'Content-Type': 'application/problem+json', ...extra.headers })
}

/** A problem naming fields: 400 for malformed input, 422 for input that cannot be honoured. */
export const invalid = (c: Context, status: 400 | 422, params: InvalidParam[]) =>
  problem(c, status, describeParams(params), { invalidParams: params })

/** `tienda_ids[1]`, `a.b`: the field as the client wrote it. */
export const fieldName = (path: readonly PropertyKey[]) =>
  path.reduce<string>((name, key) => {
    if (typeof key === 'number') return `${name}[${key}]`
    return name ? `${name}.${String(key)}` : String(key)
  }, '')

const UNKNOWN_KEY: Record<string, string> = {
  query: 'unknown query parameter',
  json: 'unknown field',
  param: 'unknown path parameter',
}

const valueAt = (input: unknown, path: readonly PropertyKey[]) =>
  path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  )

const isCode = (code: string): code is InvalidParamCode => InvalidParamCodeSchema.safeParse(code).success

/** The code of a zod issue: by its kind, or the `params.code` a custom check gave it. */
function codeOf(issue: z.core.$ZodIssue): InvalidParamCode {
  switch (issue.code) {
    case 'invalid_value':
      return 'one_of'
    case 'too_big':
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint' ? 'out_of_range' : 'size'
    case 'invalid_type':
      // The integer parameters are preprocessed strings: a non-number is out of their range too.
      return issue.expected === 'int' || issue.expected === 'number' ? 'out_of_range' : 'type'
    case 'invalid_format':
    case 'invalid_union':
      return 'format'
    case 'custom': {
      const code = String(issue.params?.code ?? '')
      return isCode(code) ? code : 'invalid'
    }
    default:
      return 'invalid'
  }
}

export function zodParams(error: z.ZodError, target: string, input?: unknown): InvalidParam[] {
  const params: InvalidParam[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        params.push({
          name: fieldName([...issue.path, key]),
          reason: UNKNOWN_KEY[target] ?? 'unknown field',
          code: 'unknown',
        })
      }
      continue
    }
    const name = fieldName(issue.path) || (target === 'json' ? 'body' : target)
    const missing = issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(input, issue.path) === undefined
    const reason = missing ? 'is required' : issue.message
    params.push({ name, reason, code: missing ? 'required' : codeOf(issue) })
  }
  // One entry per offending field (RFC 9457's example): keep the first reason of each.
  return params.filter((p, i) => params.findIndex((q) => q.name === p.name) === i)
}

type HookResult = { success: true } | { success: false; error: z.ZodError; target: string; data?: unknown }

/** `defaultHook` of every OpenAPIHono: a failed validation becomes a 400 naming the fields. */
export const validationHook = (result: HookResult, c: Context) => {
  if (!result.success) return invalid(c, 400, zodParams(result.error, result.target, result.data))
}

/** No route answered: 405 with `Allow` when the contract declares the path with other methods, else 404. */
export const notFound = (c: Context) => {
  const path = new URL(c.req.url).pathname
  const allow = allowedMethods(path)
  if (allow && !allow.includes(c.req.method)) {
    return problem(c, 405, `${path} does not answer ${c.req.method}; it answers ${allow.join(', ')}.`, {
      headers: { Allow: allow.join(', ') },
    })
  }
  return problem(c, 404, `There is no ${c.req.method} ${path}.`)
}

/** The `onError` of the app: expected HTTP errors keep their status, anything else is a logged 500. */
export function errorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode
      if (status === 400 && /json/i.test(err.message)) {
        return invalid(c, 400, [{ name: 'body', reason: 'is not valid JSON', code: 'format' }])
      }
      if (status === 415) {
        // A body that is not JSON is malformed input for these routes: 400 naming the header.
        return invalid(c, 400, [{ name: 'Content-Type', reason: 'must be application/json', code: 'format' }])
      }
      return problem(c, status, err.message || TITLES[status] || 'Error')
    }
    logger.error({ err, method: c.req.method, path: new URL(c.req.url).pathname }, 'unhandled error')
    return problem(c, 500, 'The request could not be completed; it has been logged.')
  }
}

/** For operations that declare no request body: one that is sent anyway is refused, like an unknown field. */
export async function refuseBody(c: Context, next: Next) {
  if ((await c.req.text()).length > 0) {
    return invalid(c, 400, [
      { name: 'body', reason: 'must be empty: this operation takes no request body', code: 'unknown' },
    ])
  }
  await next()
}
