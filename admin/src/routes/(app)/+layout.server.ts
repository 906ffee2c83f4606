import { api, attempt, guardAuth } from '#lib/server/api.ts'
import type { LayoutServerLoad } from './$types'

// Active alerts (plan §8.3) are shown on every page. This call also proves the session: a 401
// sends the user to /login before any page renders. Other failures (the API down included) only
// hide the banner, so the layout, with its navigation, still frames the page's own error.
// Alerts name stores by id (a network incident, in its detalle); their names come from the store
// list, read only when needed.
// The API's configuration gives the chain's time zone, in which every instant is shown.
export const load: LayoutServerLoad = async (event) => {
  const client = api(event)
  const [result, config] = await Promise.all([
    attempt(client.GET('/api/etl/alerts', { params: { query: { estado: 'activa' } } })),
    attempt(client.GET('/api/etl/config')),
  ])
  if (result) guardAuth(event, result.response.status)
  const alertas = result?.data ?? null
  let nombres: Record<string, string> = {}
  if (alertas?.some((a) => a.tienda_id || a.tipo === 'incidente_red')) {
    const tiendas = await attempt(client.GET('/api/etl/tiendas'))
    nombres = Object.fromEntries((tiendas?.data ?? []).map((t) => [t.id, t.nombre]))
  }
  return { alertas, nombres, zona: config?.data?.tz_tiendas ?? null }
}
