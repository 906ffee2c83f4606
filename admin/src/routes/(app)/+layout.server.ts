import { api, guardAuth, reach } from '#lib/server/api.ts'
import type { LayoutServerLoad } from './$types'

// Active alerts (plan §8.3) are shown on every page. This call also proves the session: a 401
// sends the user to /login before any page renders. Other failures only hide the banner.
export const load: LayoutServerLoad = async (event) => {
  const result = await reach(api(event).GET('/api/etl/alerts', { params: { query: { estado: 'activa' } } }))
  guardAuth(event, result.response.status)
  return { alertas: result.data ?? null }
}
