import { apiClient } from '#lib/server/api.ts'
import { SESSION_COOKIE } from '#lib/server/session.ts'
import type { RequestHandler } from './$types'

// Relays the API's text/event-stream to the browser. The browser's EventSource cannot send an
// Authorization header, and the token must not reach browser JavaScript, so the server side
// subscribes with the session cookie's token and passes the bytes through unchanged. The
// upstream request is aborted when the browser goes away (request.signal).
export const GET: RequestHandler = async ({ cookies, request }) => {
  const token = cookies.get(SESSION_COOKIE)
  if (!token) return text(401, 'Sin sesión')
  let result: Awaited<ReturnType<typeof subscribe>>
  try {
    result = await subscribe(token, request.signal)
  } catch {
    return text(502, 'La API de historial no responde')
  }
  const { data, response } = result
  if (!response.ok || !data) {
    await response.body?.cancel()
    return text(response.status === 401 || response.status === 403 ? response.status : 502, 'Sin flujo de eventos')
  }
  return new Response(data, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  })
}

function subscribe(token: string, signal: AbortSignal) {
  return apiClient(token).GET('/api/etl/events', {
    parseAs: 'stream',
    signal,
    headers: { accept: 'text/event-stream' },
  })
}

function text(status: number, body: string) {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
