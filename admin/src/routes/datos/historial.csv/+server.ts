import { parseFilters } from '#lib/filters.ts'
import { API_CAIDA, describeProblem } from '#lib/problem.ts'
import { apiClient } from '#lib/server/api.ts'
import { SESSION_COOKIE } from '#lib/server/session.ts'
import type { RequestHandler } from './$types'

// The CSV export of the history as filtered on screen (every page): the API's stream passed
// through with the session token, so any number of rows reaches the browser without being
// held here. Failures come back as a short Spanish text (the link opens it like a download).
export const GET: RequestHandler = async ({ cookies, url, request }) => {
  const token = cookies.get(SESSION_COOKIE)
  if (!token) return text(401, 'Sin sesión: inicie sesión de nuevo para exportar.')
  const { query } = parseFilters(url.searchParams)
  const { limit: _limit, offset: _offset, ...filtros } = query
  try {
    const { response, error } = await apiClient(token).GET('/api/etl/history.csv', {
      params: { query: filtros },
      parseAs: 'stream',
      signal: request.signal,
    })
    if (!response.ok || !response.body) {
      await response.body?.cancel()
      return text(response.status, describeProblem(error, response.status).message)
    }
    return new Response(response.body, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': response.headers.get('content-disposition') ?? 'attachment; filename="historial.csv"',
        'cache-control': 'no-store',
      },
    })
  } catch {
    return text(502, API_CAIDA)
  }
}

function text(status: number, body: string) {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
