import { fail } from '@sveltejs/kit'
import type { Schemas } from '#lib/api/schemas.ts'
import { mensajeCreado, mensajeEliminado, parseCierreFilters } from '#lib/cierres.ts'
import { describeProblem } from '#lib/problem.ts'
import { api, guardAuth, must, reach } from '#lib/server/api.ts'
import type { Actions, PageServerLoad, RequestEvent } from './$types'

// The store calendar: days a store is closed on purpose, newest first (the API's order), filtered
// by ?tienda (kept in the URL). Adding or removing a closure reclassifies past runs of the store in
// the API, which says how many; the page says it in Spanish.
export const load: PageServerLoad = async (event) => {
  const filtros = parseCierreFilters(event.url.searchParams)
  const client = api(event)
  const [cierres, tiendas] = await Promise.all([
    reach(client.GET('/api/etl/closures', { params: { query: filtros.tienda ? { tienda: filtros.tienda } : {} } })),
    must(event, client.GET('/api/etl/tiendas')),
  ])
  guardAuth(event, cierres.response.status)
  const conocida = !filtros.tienda || tiendas.data.some((t) => t.id === filtros.tienda)
  return {
    filtros,
    cierres: cierres.data ?? null,
    // A store in a shared link that does not exist is said, not shown as "no closures".
    problema: !conocida ? ('tienda' as const) : cierres.data ? null : ('api' as const),
    tiendas: tiendas.data.map((t) => ({ id: t.id, nombre: t.nombre, active: t.active })),
  }
}

type CierreFormValues = { tienda_id: string; fecha_desde: string; fecha_hasta: string; motivo: string; nota: string }

const obligatorios = [
  ['tienda_id', 'Tienda'],
  ['fecha_desde', 'Fecha desde'],
  ['fecha_hasta', 'Fecha hasta'],
  ['motivo', 'Motivo'],
] as const

async function nombresTiendas(event: RequestEvent): Promise<Record<string, string>> {
  const tiendas = await reach(api(event).GET('/api/etl/tiendas'))
  return Object.fromEntries((tiendas.data ?? []).map((t) => [t.id, t.nombre]))
}

async function crear(event: RequestEvent) {
  const form = await event.request.formData()
  const valores: CierreFormValues = {
    tienda_id: String(form.get('tienda_id') ?? ''),
    fecha_desde: String(form.get('fecha_desde') ?? ''),
    fecha_hasta: String(form.get('fecha_hasta') ?? ''),
    motivo: String(form.get('motivo') ?? ''),
    nota: String(form.get('nota') ?? '').trim(),
  }
  // The browser asks for these itself (required); without it, say which are missing before asking the API.
  const faltan = obligatorios.filter(([campo]) => !valores[campo])
  if (faltan.length > 0) {
    return fail(400, {
      accion: 'crear' as const,
      problema: `Complete ${faltan.map(([, label]) => label).join(', ')}.`,
      campos: faltan.map(([campo]) => campo as string),
      valores,
    })
  }
  const body: Schemas['CierreNuevo'] = {
    tienda_id: valores.tienda_id,
    fecha_desde: valores.fecha_desde,
    fecha_hasta: valores.fecha_hasta,
    // A motivo outside the list goes as sent: the API refuses it (one_of) and the page words that.
    motivo: valores.motivo as Schemas['CierreMotivo'],
    ...(valores.nota ? { nota: valores.nota } : {}),
  }
  const result = await reach(api(event).POST('/api/etl/closures', { body }))
  if (result.data) {
    const c = result.data.cierre
    return {
      accion: 'crear' as const,
      mensaje: mensajeCreado(result.data.tiendas_reclasificadas),
      creado: { id: c.id, tienda: c.tienda_nombre ?? c.tienda_id, desde: c.fecha_desde, hasta: c.fecha_hasta },
    }
  }
  guardAuth(event, result.response.status)
  const problema = describeProblem(result.error, result.response.status, {
    cierre: {},
    valores: body,
    nombres: await nombresTiendas(event),
  })
  return fail(result.response.status, {
    accion: 'crear' as const,
    problema: problema.message,
    campos: problema.fields.map((f) => f.name),
    valores,
  })
}

async function eliminar(event: RequestEvent) {
  const form = await event.request.formData()
  const id = Number(form.get('id'))
  if (!Number.isInteger(id) || id < 1) return fail(400, { accion: 'eliminar' as const, problema: 'Cierre inválido.' })
  // The page's script confirms in the browser and says so; without it, the first post only asks.
  if (form.get('confirmado') !== 'si') return { accion: 'eliminar' as const, confirmar: id }
  const result = await reach(api(event).DELETE('/api/etl/closures/{id}', { params: { path: { id } } }))
  if (result.data) {
    return { accion: 'eliminar' as const, mensaje: mensajeEliminado(result.data.tiendas_reclasificadas), id }
  }
  guardAuth(event, result.response.status)
  const problema = describeProblem(result.error, result.response.status, { cierre: { id } })
  return fail(result.response.status, { accion: 'eliminar' as const, problema: problema.message, id })
}

export const actions = {
  crear,
  eliminar,
} satisfies Actions
