// Maps real driver errors (undici, mssql/tedious, postgres.js, zod, TextDecoder, JSON.parse) to the
// plan's taxonomy (§1.3) exactly as the table in DESIGN §5 gives it. Never throws: an error the
// table does not name is `unknown` with its message kept.
import type { components } from '../generated/openapi.ts'

type Schemas = components['schemas']
export type Phase = Schemas['Phase']
export type ErrorCategory = Schemas['ErrorCategory']
export type ErrorSource = Schemas['ErrorSource']
export type SourceSystem = Schemas['SourceSystem']

export type ClassifiedError = {
  phase: Phase
  category: ErrorCategory
  source: ErrorSource
  message: string
  /** The most specific code seen: an errno, an undici/mssql code, a SQLSTATE, `HTTP_503`, a zod issue code. */
  code: string | null
}

const TRANSFORM: ReadonlySet<ErrorCategory> = new Set([
  'data_validation',
  'data_format',
  'missing_fields',
  'encoding_error',
])
const LOAD: ReadonlySet<ErrorCategory> = new Set([
  'pg_connection',
  'pg_timeout',
  'constraint_violation',
  'disk_full',
  'deadlock',
])

// postgres.js's own connection errors (not SQLSTATEs).
const PG_CLIENT_CONNECTION = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN'])
const UNDICI_SOCKET = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
])

type Signal = { category: ErrorCategory; code: string | null }
type ErrorLike = Record<string, unknown>

export function classifyError(error: unknown, phase: Phase, sourceSystem: SourceSystem): ClassifiedError {
  try {
    const chain = causeChain(error)
    const signal = findSignal(chain, phase, sourceSystem, probeResult(chain))
    const category = signal?.category ?? 'unknown'
    const errorPhase = TRANSFORM.has(category)
      ? 'transform'
      : LOAD.has(category)
        ? 'load'
        : isExtract(category)
          ? 'extract'
          : phase
    const source: ErrorSource =
      errorPhase === 'load' ? 'postgresql' : sourceSystem === 'stellar' ? 'stellar_db' : 'klk_api'
    return { phase: errorPhase, category, source, message: messageOf(error), code: signal?.code ?? codeOf(chain) }
  } catch {
    return {
      phase,
      category: 'unknown',
      source: phase === 'load' ? 'postgresql' : 'klk_api',
      message: 'unreadable error',
      code: null,
    }
  }
}

/** Stellar only: whether the TCP probe a source attached to its error (`tcpProbe`) reached host:port. */
function probeResult(chain: ErrorLike[]): boolean | undefined {
  for (const e of chain) {
    const probe = e.tcpProbe as { connected?: unknown } | undefined
    if (typeof probe?.connected === 'boolean') return probe.connected
  }
  return undefined
}

const isExtract = (c: ErrorCategory) => c !== 'unknown' && c !== 'worker_lost' && !TRANSFORM.has(c) && !LOAD.has(c)

/** The error and its causes, outermost first (undici and our own wrappers put the real error in `cause`). */
function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = []
  let current: unknown = error
  while (current && typeof current === 'object' && chain.length < 8 && !chain.includes(current as ErrorLike)) {
    chain.push(current as ErrorLike)
    const e = current as ErrorLike
    // mssql keeps tedious's error in `originalError`; AggregateError (happy-eyeballs connect
    // attempts) carries the errno in its first member.
    current = e.cause ?? e.originalError ?? (Array.isArray(e.errors) ? e.errors[0] : undefined)
  }
  return chain
}

function findSignal(
  chain: ErrorLike[],
  phase: Phase,
  system: SourceSystem,
  tcpConnected?: boolean,
): Signal | undefined {
  for (const [i, e] of chain.entries()) {
    const code = typeof e.code === 'string' ? e.code : null
    if (e.name === 'ZodError' && Array.isArray(e.issues)) return zodSignal(e.issues as ZodIssueLike[])
    if (e instanceof SyntaxError) return { category: 'data_format', code: 'JSON_SYNTAX' }
    if (code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return { category: 'encoding_error', code }
    if (e.name === 'PostgresError' && code) return { category: sqlstateCategory(code), code }
    if (code && PG_CLIENT_CONNECTION.has(code)) return { category: 'pg_connection', code }
    if (code === 'CONNECT_TIMEOUT') return { category: 'pg_timeout', code }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400) {
      const category = e.statusCode === 401 || e.statusCode === 403 ? 'api_auth' : 'api_error'
      return { category, code: `HTTP_${e.statusCode}` }
    }
    const kind = kindOf(e)
    if (kind === 'ConnectionError' || kind === 'RequestError') {
      const signal = mssqlSignal(kind, code, chain.slice(i + 1), tcpConnected)
      if (signal) return signal
    }
    if (code && phase === 'load') {
      const category = loadSocketCategory(code, e)
      if (category) return { category, code }
    }
    if (code && phase !== 'load') {
      const category = system === 'stellar' ? stellarSocketCategory(code, e) : klkSocketCategory(code, e)
      if (category) return { category, code }
    }
  }
  return undefined
}

function sqlstateCategory(code: string): ErrorCategory {
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: the server ended or refused the session.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'pg_connection'
  if (code === '57014') return 'pg_timeout'
  if (code.startsWith('23')) return 'constraint_violation'
  if (code === '53100') return 'disk_full'
  if (code === '40P01') return 'deadlock'
  return 'unknown'
}

// tedious's error classes leave `name` as 'Error'; mssql's set it. Either way the class tells.
const kindOf = (e: ErrorLike) =>
  e.name && e.name !== 'Error' ? e.name : (e.constructor as { name?: string } | undefined)?.name

const isSystemError = (e: ErrorLike) => typeof e.syscall === 'string'

function loadSocketCategory(code: string, e: ErrorLike): ErrorCategory | undefined {
  if (code === 'ETIMEDOUT') return 'pg_timeout'
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || UNREACHABLE.has(code))
    return 'pg_connection'
  return isSystemError(e) ? 'pg_connection' : undefined
}

function klkSocketCategory(code: string, e: ErrorLike): ErrorCategory | undefined {
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'vpn_timeout'
  if (code === 'ECONNREFUSED' || UNREACHABLE.has(code)) return 'vpn_unreachable'
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'api_timeout'
  if (UNDICI_SOCKET.has(code) || isSystemError(e) || code === 'ECONNRESET' || code === 'ENOTFOUND')
    return 'network_error'
  return undefined
}

function stellarSocketCategory(code: string, e: ErrorLike): ErrorCategory | undefined {
  if (code === 'ETIMEDOUT') return 'vpn_timeout'
  if (UNREACHABLE.has(code)) return 'vpn_unreachable'
  return isSystemError(e) || code === 'ECONNREFUSED' || code === 'ECONNRESET' ? 'db_connection' : undefined
}

function mssqlSignal(
  name: string,
  code: string | null,
  causes: ErrorLike[],
  tcpConnected?: boolean,
): Signal | undefined {
  if (name === 'RequestError') {
    if (code === 'ETIMEOUT') return { category: 'db_timeout', code }
    if (code === 'EREQUEST') return { category: 'db_error', code }
    return undefined
  }
  if (code === 'ELOGIN') return { category: 'db_connection', code }
  // tedious reports both "TCP never connected" and "login never answered" as ETIMEOUT; only a TCP
  // probe tells them apart. Without a probe result the connect-timeout reading (first table row) wins.
  if (code === 'ETIMEOUT') return { category: tcpConnected ? 'db_connection' : 'vpn_timeout', code }
  if (code === 'ESOCKET') {
    // mssql → tedious (same ESOCKET) → the socket's errno.
    const inner = causes.map((c) => c.code).find((c): c is string => typeof c === 'string' && c !== 'ESOCKET')
    if (inner && UNREACHABLE.has(inner)) return { category: 'vpn_unreachable', code: inner }
    if (inner === 'ETIMEDOUT') return { category: 'vpn_timeout', code: inner }
    return { category: 'db_connection', code: inner ?? code }
  }
  return code ? { category: 'db_connection', code } : undefined
}

type ZodIssueLike = { code?: string; message?: string; path?: PropertyKey[]; input?: unknown }

const isMissing = (i: ZodIssueLike) =>
  i.code === 'invalid_type' &&
  ('input' in i ? i.input === undefined || i.input === null : /received (undefined|null)$/.test(i.message ?? ''))
const FORMAT_CODES = new Set([
  'invalid_type',
  'invalid_format',
  'invalid_union',
  'invalid_key',
  'invalid_element',
  'unrecognized_keys',
])

// One page can break several rules at once: an absent field is the most actionable finding, then a
// wrong type, then a value out of range.
function zodSignal(issues: ZodIssueLike[]): Signal {
  if (issues.some(isMissing)) return { category: 'missing_fields', code: 'invalid_type' }
  const format = issues.find((i) => FORMAT_CODES.has(i.code ?? ''))
  if (format) return { category: 'data_format', code: format.code ?? null }
  return { category: 'data_validation', code: issues[0]?.code ?? null }
}

/** zod's own message is a JSON dump of every issue; keep a readable summary instead. */
export function summarizeZodIssues(issues: ZodIssueLike[], max = 3): string {
  const where = (path: PropertyKey[]) => {
    const [first, ...rest] = path.map(String)
    const field = typeof path[0] === 'number' ? [`row ${first}`, rest.join('.')] : [first, ...rest].join('.')
    return (Array.isArray(field) ? field.filter(Boolean).join(' ') : field) || '(root)'
  }
  const shown = issues.slice(0, max).map((i) => `${where(i.path ?? [])}: ${i.message}`)
  const more = issues.length > max ? ` (+${issues.length - max} more)` : ''
  return `invalid data: ${shown.join('; ')}${more}`
}

function messageOf(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as ErrorLike
    if (e.name === 'ZodError' && Array.isArray(e.issues)) return summarizeZodIssues(e.issues as ZodIssueLike[])
    if (typeof e.message === 'string' && e.message) return e.message
    if (typeof e.code === 'string') return e.code
  }
  try {
    return String(error)
  } catch {
    return 'unreadable error'
  }
}

function codeOf(chain: ErrorLike[]): string | null {
  const code = chain.map((e) => e.code).find((c) => typeof c === 'string')
  return typeof code === 'string' ? code : null
}

/** Stack traces of the error and its causes, for error_detail (redacted by the tracker before storing). */
// The bound only keeps a runaway cause chain out of memory: it is 8× what the tracker stores
// (DETAIL_MAX), and the tracker redacts before it cuts, so no secret is ever cut in half where it
// would escape redaction.
export function errorDetail(error: unknown, maxChars = 64_000): string {
  const parts = causeChain(error).map((e, i) => {
    const text = typeof e.stack === 'string' ? e.stack : messageOf(e)
    return i === 0 ? text : `Caused by: ${text}`
  })
  const detail = parts.length ? parts.join('\n') : messageOf(error)
  return detail.length > maxChars ? `${detail.slice(0, maxChars)}…` : detail
}
