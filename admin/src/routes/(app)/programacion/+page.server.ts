import { fail } from '@sveltejs/kit'
import type { Schemas } from '#lib/api/schemas.ts'
import { etlNombre, isKeyOf } from '#lib/labels.ts'
import { describeProblem } from '#lib/problem.ts'
import { api, guardAuth, must, reach } from '#lib/server/api.ts'
import type { Actions, PageServerLoad, RequestEvent } from './$types'

// The ventas and inventario schedules: cron, zone, last and next run, and pause/resume — recorded in
// the database, so every runner honours it and every operator sees it.
export const load: PageServerLoad = async (event) => {
  const { data } = await must(event, api(event).GET('/api/etl/schedules'))
  return { programas: data }
}

async function cambiar(event: RequestEvent, accion: 'pause' | 'resume') {
  const form = await event.request.formData()
  const etl = String(form.get('etl') ?? '')
  if (!isKeyOf(etlNombre, etl)) return fail(400, { problema: 'ETL desconocido.' })
  const path = accion === 'pause' ? '/api/etl/schedules/{etl}/pause' : '/api/etl/schedules/{etl}/resume'
  const result = await reach(api(event).POST(path, { params: { path: { etl: etl as Schemas['EtlName'] } } }))
  if (result.data) return { etl, pausado: result.data.paused }
  guardAuth(event, result.response.status)
  return fail(result.response.status, { problema: describeProblem(result.error, result.response.status).message })
}

export const actions = {
  pausar: (event) => cambiar(event, 'pause'),
  reanudar: (event) => cambiar(event, 'resume'),
} satisfies Actions
