// The only way the panel reaches the history API: an openapi-fetch client typed by the
// generated contract, called from server code with the session's bearer token. 401 ends the
// session (back to /login), 403 is the Spanish role message, anything else a Spanish error page.
import { type Cookies, error, redirect } from '@sveltejs/kit'
import createClient from 'openapi-fetch'
import { HISTORY_API_URL } from '$app/env/private'
import type { paths } from '../api/generated/openapi.ts'
import { API_CAIDA, describeProblem, type ProblemContext, ROL } from '../problem.ts'
import { clearSession, loginRedirect } from './session.ts'

type Context = { locals: App.Locals; cookies: Cookies; url: URL }
type Result<D, E> = { data?: D; error?: E; response: Response }

export function apiClient(token: string | null) {
  return createClient<paths>({
    baseUrl: HISTORY_API_URL,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    // The contract's array parameters are comma-separated (`status=failed,partial`: style form, explode false).
    querySerializer: { array: { style: 'form', explode: false } },
  })
}

export function api(event: Context) {
  return apiClient(event.locals.token)
}

/** The API's address is for the server log only: the browser never sees an internal URL. */
function logUnreachable(cause: unknown) {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : ''
  console.error(`admin: history API at ${HISTORY_API_URL} unreachable${reason ? `: ${reason}` : ''}`)
}

/** A call, or null when the API cannot be reached (for what a page can do without). */
export async function attempt<D, E>(pending: Promise<Result<D, E>>): Promise<Result<D, E> | null> {
  try {
    return await pending
  } catch (cause) {
    logUnreachable(cause)
    return null
  }
}

/** Waits for a call; a network failure becomes a Spanish 503 page (with navigation and a retry). */
export async function reach<D, E>(pending: Promise<Result<D, E>>): Promise<Result<D, E>> {
  const result = await attempt(pending)
  if (!result) error(503, API_CAIDA)
  return result
}

/** Throws what 401 and 403 mean for the whole panel; other statuses are the caller's to handle. */
export function guardAuth(event: Context, status: number): void {
  if (status === 401) {
    clearSession(event.cookies)
    redirect(303, loginRedirect(event.url, 'expirada'))
  }
  if (status === 403) error(403, ROL)
}

/** The data of a successful call, or the error page that its failure deserves. */
export async function must<D, E>(event: Context, pending: Promise<Result<D, E>>, ctx?: ProblemContext) {
  const result = await reach(pending)
  if (result.response.ok && result.data !== undefined) return { data: result.data, response: result.response }
  guardAuth(event, result.response.status)
  const status = result.response.status
  error(status >= 500 ? 502 : status, describeProblem(result.error, status, ctx).message)
}
