import { json } from '@sveltejs/kit'
import { API_CAIDA, describeProblem } from '#lib/problem.ts'
import { apiClient } from '#lib/server/api.ts'
import { SESSION_COOKIE } from '#lib/server/session.ts'
import type { RequestHandler } from './$types'

// The detail modal over the history list fetches the execution here (shallow routing keeps the
// list on screen); the server calls the API with the session token. Errors come back as JSON
// with a Spanish message; 401 tells the page to go to /login.
export const GET: RequestHandler = async ({ cookies, params }) => {
  const token = cookies.get(SESSION_COOKIE)
  if (!token) return json({ message: 'Sin sesión' }, { status: 401 })
  const id = Number(params.id)
  if (!Number.isInteger(id) || id < 1) return json({ message: 'Identificador de ejecución inválido' }, { status: 400 })
  try {
    const { data, error, response } = await apiClient(token).GET('/api/etl/history/{id}', {
      params: { path: { id } },
    })
    if (data) return json(data, { headers: { 'cache-control': 'no-store' } })
    const status = response.status
    const message = describeProblem(error, status, { ejecucion: id }).message
    return json({ message }, { status })
  } catch {
    return json({ message: API_CAIDA }, { status: 502 })
  }
}
