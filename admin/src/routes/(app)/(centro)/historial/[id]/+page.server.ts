import { error, fail, redirect } from '@sveltejs/kit'
import type { Schemas } from '#lib/api/schemas.ts'
import { describeProblem } from '#lib/problem.ts'
import { api, guardAuth, must, reach } from '#lib/server/api.ts'
import type { Actions, PageServerLoad, RequestEvent } from './$types'

const idOf = (raw: string) => {
  const id = Number(raw)
  if (!Number.isInteger(id) || id < 1 || id > 2147483647) error(404, `La ejecución «${raw}» no existe.`)
  return id
}

// The full-page detail: what a shared /historial/{id} link or a reload of the modal shows.
export const load: PageServerLoad = async (event) => {
  const id = idOf(event.params.id)
  const { data } = await must(event, api(event).GET('/api/etl/history/{id}', { params: { path: { id } } }), {
    ejecucion: id,
  })
  return { ejecucion: data }
}

/** "Reintentar tiendas fallidas" / "Repetir": the new run's page on success, the problem in Spanish otherwise. */
async function rerun(event: RequestEvent, scope: Schemas['RerunScope']) {
  const id = idOf(event.params.id)
  const result = await reach(
    api(event).POST('/api/etl/executions/{id}/rerun', { params: { path: { id } }, body: { scope } }),
  )
  if (result.data) redirect(303, `/historial/${result.data.execution_id}?nueva=${scope}`)
  guardAuth(event, result.response.status)
  const problema = describeProblem(result.error, result.response.status, { ejecucion: id })
  return fail(result.response.status, {
    accion: scope === 'failed' ? 'reintentar' : 'repetir',
    problema: problema.message,
  })
}

export const actions = {
  reintentar: (event) => rerun(event, 'failed'),
  repetir: (event) => rerun(event, 'all'),
  cancelar: async (event) => {
    const id = idOf(event.params.id)
    const result = await reach(api(event).POST('/api/etl/executions/{id}/cancel', { params: { path: { id } } }))
    if (result.data) return { accion: 'cancelar' as const, estado: result.data.status }
    guardAuth(event, result.response.status)
    const problema = describeProblem(result.error, result.response.status, { ejecucion: id })
    return fail(result.response.status, { accion: 'cancelar' as const, problema: problema.message })
  },
} satisfies Actions
