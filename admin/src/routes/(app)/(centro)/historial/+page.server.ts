import { pageCount, parseFilters, totalFrom } from '#lib/filters.ts'
import { describeProblem } from '#lib/problem.ts'
import { api, guardAuth, must, reach } from '#lib/server/api.ts'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async (event) => {
  const filtros = parseFilters(event.url.searchParams)
  const client = api(event)
  const [lista, tiendas] = await Promise.all([
    reach(client.GET('/api/etl/history', { params: { query: filtros.query } })),
    must(event, client.GET('/api/etl/tiendas')),
  ])
  guardAuth(event, lista.response.status)
  const ejecuciones = lista.data ?? []
  // A filter the API refuses (a window upside down, an unknown store) is shown beside the
  // filters rather than as an error page, so the user can fix it where it was typed.
  const problema = lista.data ? null : describeProblem(lista.error, lista.response.status, { valores: filtros.query })
  const total = totalFrom(lista.response.headers.get('x-total-count'), ejecuciones.length)
  return {
    ejecuciones,
    total,
    paginas: pageCount(total),
    pagina: filtros.page,
    filtros: filtros.values,
    hayFiltros: filtros.hasFilters,
    ignorados: filtros.ignored,
    problema,
    tiendas: tiendas.data.map((t) => ({ id: t.id, nombre: t.nombre })),
  }
}
