import { api, guardAuth, reach } from '#lib/server/api.ts'
import type { LayoutServerLoad } from './$types'

// Active alerts (plan §8.3) are shown on every page. This call also proves the session: a 401
// sends the user to /login before any page renders. Other failures only hide the banner.
// The API's configuration gives the chain's time zone, in which every instant is shown.
export const load: LayoutServerLoad = async (event) => {
  const client = api(event)
  const [result, config] = await Promise.all([
    reach(client.GET('/api/etl/alerts', { params: { query: { estado: 'activa' } } })),
    reach(client.GET('/api/etl/config')),
  ])
  guardAuth(event, result.response.status)
  return { alertas: result.data ?? null, zona: config.data?.tz_tiendas ?? null }
}
