// Secrets must never reach the database or a log line (DESIGN §5, §11). Every message, detail,
// stack trace and diagnostics value goes through a redactor before it is stored or logged.
// Two layers: the configured secret values themselves (exact and URL-encoded), then patterns for
// credentials we were not told about (headers, key=value pairs, URL userinfo, JWTs).

const MASK = '***'
// Shorter "secrets" would mangle ordinary text (a token of "a" would erase every a).
const MIN_SECRET_LENGTH = 4

const PATTERNS: [RegExp, string][] = [
  // Authorization / Proxy-Authorization header values, in raw header, JSON or key=value form.
  [/((?:proxy-)?authorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+/gi, `$1${MASK}`],
  // "bearer token" in prose is not a credential: skip the words that follow the scheme in sentences.
  [/\b(bearer|basic)\s+(?!(?:tokens?|auth\w*|scheme|header|realm|credentials?)\b)[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`],
  // URL userinfo: scheme://user:password@host → scheme://user:***@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi, `$1:${MASK}@`],
  // password=…, Pwd=…; (ADO/mssql connection strings; the value may contain spaces, ends at ; or &).
  [/((?:^|[^a-z0-9])[\w-]*(?:password|passwd|pwd)\s*=\s*)[^;&\r\n"']*/gi, `$1${MASK}`],
  // "password": "…", token: …, KLK_API_TOKEN=…, api_key=…, client_secret=… (JSON, YAML, env, query).
  [/([\w-]*(?:password|passwd|pwd|secret|token|api[_-]?key)["']?\s*[:=]\s*["']?)(?!\*\*\*)[^\s"';&,}]+/gi, `$1${MASK}`],
  // JWTs: three base64url segments, the first one a JSON header (`{"` → eyJ).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, MASK],
]

export type Redactor = (text: string) => string

export function createRedactor(secrets: Iterable<string | null | undefined> = []): Redactor {
  const values = new Set<string>()
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_SECRET_LENGTH) continue
    values.add(secret)
    values.add(encodeURIComponent(secret))
  }
  // Longest first, so a secret that contains another is masked whole.
  const ordered = [...values].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const value of ordered) out = out.replaceAll(value, MASK)
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement)
    return out
  }
}

export function redact(text: string, secrets: Iterable<string | null | undefined> = []): string {
  return createRedactor(secrets)(text)
}

/** Redacts every string inside a JSON-like value (diagnostics objects), keys included. */
export function redactJson<T>(value: T, redactor: Redactor): T {
  if (typeof value === 'string') return redactor(value) as T
  if (Array.isArray(value)) return value.map((v) => redactJson(v, redactor)) as T
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactor(k), redactJson(v, redactor)])) as T
  }
  return value
}

/** The secrets a runner knows about: source credentials and the database password. */
export function configuredSecrets(config: {
  KLK_API_TOKEN?: string
  STELLAR_PASSWORD?: string
  DATABASE_URL?: string
}): string[] {
  const secrets = [config.KLK_API_TOKEN, config.STELLAR_PASSWORD]
  try {
    const password = config.DATABASE_URL ? new URL(config.DATABASE_URL).password : ''
    if (password) secrets.push(password, decodeURIComponent(password))
  } catch {
    // An unparsable URL has no password we could find; the userinfo pattern still masks it.
  }
  return secrets.filter((s): s is string => Boolean(s))
}
