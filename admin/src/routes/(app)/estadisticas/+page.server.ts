import { etlNombre, isKeyOf } from '#lib/labels.ts'
import { api, must } from '#lib/server/api.ts'
import type { PageServerLoad } from './$types'

// ?dias=1..90 (default 7) and ?etl=ventas|inventario (default both), kept in the URL.
export const load: PageServerLoad = async (event) => {
  const rawDias = Number(event.url.searchParams.get('dias') ?? '7')
  const dias = Number.isInteger(rawDias) && rawDias >= 1 && rawDias <= 90 ? rawDias : 7
  const rawEtl = event.url.searchParams.get('etl')
  const etl = isKeyOf(etlNombre, rawEtl) ? rawEtl : null
  const client = api(event)
  const [stats, tiendas] = await Promise.all([
    must(event, client.GET('/api/etl/stats', { params: { query: { dias, ...(etl ? { etl_name: etl } : {}) } } })),
    must(event, client.GET('/api/etl/tiendas')),
  ])
  return {
    dias,
    etl,
    stats: stats.data,
    nombres: Object.fromEntries(tiendas.data.map((t) => [t.id, t.nombre])),
    ajustado: event.url.searchParams.has('dias') && String(dias) !== event.url.searchParams.get('dias'),
    // A link with an ETL that does not exist is said, not silently turned into "both ETLs".
    etlInvalido: rawEtl !== null && rawEtl !== '' && !etl ? rawEtl : null,
  }
}
