import { parseAlertFilters } from '#lib/alerts.ts'
import type { Schemas } from '#lib/api/schemas.ts'
import { api, guardAuth, must, reach } from '#lib/server/api.ts'
import type { PageServerLoad } from './$types'

const LIMITE = 50

// Open and resolved alerts, newest first, filtered by ?estado, ?tipo, ?etl and ?tienda (kept in the URL),
// each with its webhook deliveries.
export const load: PageServerLoad = async (event) => {
  const filtros = parseAlertFilters(event.url.searchParams)
  const client = api(event)
  const query = {
    limit: LIMITE,
    ...(filtros.estado ? { estado: filtros.estado } : {}),
    ...(filtros.tipo ? { tipo: filtros.tipo as Schemas['AlertTipo'] } : {}),
    ...(filtros.etl ? { etl_name: filtros.etl as Schemas['EtlName'] } : {}),
    ...(filtros.tienda ? { tienda: filtros.tienda } : {}),
  }
  const [alertas, tiendas] = await Promise.all([
    reach(client.GET('/api/etl/alerts', { params: { query } })),
    must(event, client.GET('/api/etl/tiendas')),
  ])
  guardAuth(event, alertas.response.status)
  const lista = alertas.data ?? []
  const entregas = await Promise.all(
    lista.map((a) =>
      reach(client.GET('/api/etl/alerts/{id}/deliveries', { params: { path: { id: a.id } } })).then(
        (r) => [a.id, r.data ?? []] as const,
      ),
    ),
  )
  return {
    filtros,
    alertas: alertas.data ?? null,
    // An unknown store in a shared link is a 422 from the API: said, not shown as "no alerts".
    problema: alertas.data ? null : alertas.response.status === 422 ? 'tienda' : 'api',
    entregas: Object.fromEntries(entregas) as Record<number, Schemas['AlertDelivery'][]>,
    tiendas: tiendas.data.map((t) => ({ id: t.id, nombre: t.nombre })),
    limite: LIMITE,
  }
}
