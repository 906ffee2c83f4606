import { error } from '@sveltejs/kit'
import { api, must } from '#lib/server/api.ts'
import type { PageServerLoad } from './$types'

// The full-page detail: what a shared /historial/{id} link or a reload of the modal shows.
export const load: PageServerLoad = async (event) => {
  const id = Number(event.params.id)
  if (!Number.isInteger(id) || id < 1 || id > 2147483647) error(404, `La ejecución «${event.params.id}» no existe.`)
  const { data } = await must(event, api(event).GET('/api/etl/history/{id}', { params: { path: { id } } }), {
    ejecucion: id,
  })
  return { ejecucion: data }
}
