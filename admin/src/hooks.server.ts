import { redirect } from '@sveltejs/kit'
import type { Handle, HandleServerError } from '@sveltejs/kit/hooks'
import { spanishError } from '#lib/errors.ts'
import { loginRedirect, SESSION_COOKIE } from '#lib/server/session.ts'

// Pages of the (app) group need a session; /login and the relay endpoints (which answer 401
// themselves, as an EventSource or fetch cannot follow a redirect to a form) do not.
export const handle: Handle = async ({ event, resolve }) => {
  event.locals.token = event.cookies.get(SESSION_COOKIE) ?? null
  if (!event.locals.token && event.route.id?.startsWith('/(app)')) {
    redirect(303, loginRedirect(event.url))
  }
  return resolve(event)
}

// SvelteKit's own errors and unexpected exceptions get a Spanish message; the exception itself
// goes to the server log, never to the page.
export const handleError: HandleServerError = (input) => {
  if (input.kind === 'unknown') console.error('admin: unexpected error', input.error)
  return spanishError(input.kind, input.kind === 'unknown' || input.kind === 'app' ? 500 : input.error.status)
}
