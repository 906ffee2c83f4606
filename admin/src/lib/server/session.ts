// The history-API token lives only in this httpOnly cookie: browser JavaScript never sees it,
// and every API call is made from the server with it.
import type { Cookies } from '@sveltejs/kit'

export const SESSION_COOKIE = 'fluxion_sesion'

export function setSession(cookies: Cookies, url: URL, token: string, expiresAt: string) {
  const expires = new Date(expiresAt)
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: url.protocol === 'https:',
    ...(Number.isNaN(expires.getTime()) ? {} : { expires }),
  })
}

export function clearSession(cookies: Cookies) {
  cookies.delete(SESSION_COOKIE, { path: '/' })
}

/** A same-origin path to return to after logging in; anything else falls back to the home page. */
export function safeReturn(target: string | null): string {
  return target && /^\/(?![/\\])/.test(target) && !target.startsWith('/login') ? target : '/'
}

export function loginRedirect(url: URL, reason?: 'expirada'): string {
  const params = new URLSearchParams()
  if (reason) params.set('motivo', reason)
  const back = url.pathname + url.search
  if (back !== '/') params.set('volver', back)
  const search = params.toString()
  return search ? `/login?${search}` : '/login'
}
