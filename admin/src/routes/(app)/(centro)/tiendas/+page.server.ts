import { etlNombre, isKeyOf } from '#lib/labels.ts'
import { api, must } from '#lib/server/api.ts'
import type { PageServerLoad } from './$types'

// ?etl=ventas|inventario narrows the view; anything else shows both and says so.
export const load: PageServerLoad = async (event) => {
  const raw = event.url.searchParams.get('etl')
  const etl = isKeyOf(etlNombre, raw) ? raw : null
  const { data } = await must(
    event,
    api(event).GET('/api/etl/freshness', { params: { query: etl ? { etl_name: etl } : {} } }),
  )
  return { frescura: data, etl, etlInvalido: raw && !etl ? raw : null }
}
