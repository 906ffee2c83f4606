// The Inventario and Ventas tabs: the ETL's latest executions, its 7-day statistics, the manual
// run form and its pending gaps. Both tabs run this with their etl_name.
import { fail, type RequestEvent } from '@sveltejs/kit'
import type { Schemas } from '../api/schemas.ts'
import { toStoreDateTime } from '../format.ts'
import { describeProblem } from '../problem.ts'
import { api, attempt, guardAuth, must, reach } from './api.ts'

type Etl = Schemas['EtlName']

export const ULTIMAS = 10
/**
 * Pending gaps of the last 90 days, the newest 200: the API decides "recovered?" per failed store as
 * it reads it, so the tab asks for a window whose cost does not grow with the history (and one more
 * than it shows, to say when there are more).
 */
export const GAPS_DIAS = 90
export const GAPS_MAX = 200

export async function loadEtlTab(event: RequestEvent, etl: Etl) {
  const client = api(event)
  const [ultimas, stats, tiendas, gaps, frescura, auto] = await Promise.all([
    must(event, client.GET('/api/etl/history', { params: { query: { etl_name: etl, limit: ULTIMAS } } })),
    must(event, client.GET('/api/etl/stats', { params: { query: { etl_name: etl, dias: 7 } } })),
    must(event, client.GET('/api/etl/tiendas')),
    reach(
      client.GET('/api/etl/gaps', {
        params: { query: { etl_name: etl, estado: 'pendiente', dias: GAPS_DIAS, limit: GAPS_MAX + 1 } },
      }),
    ),
    reach(client.GET('/api/etl/freshness', { params: { query: { etl_name: etl } } })),
    reach(client.GET('/api/etl/gaps/auto-recovery')),
  ])
  // Gaps and freshness are aids, not the tab's purpose: if they cannot be read the rest still shows.
  guardAuth(event, gaps.response.status)
  guardAuth(event, frescura.response.status)
  return {
    etl,
    ultimas: ultimas.data,
    stats: stats.data,
    tiendas: tiendas.data,
    gaps: gaps.data?.slice(0, GAPS_MAX) ?? null,
    gapsMas: (gaps.data?.length ?? 0) > GAPS_MAX,
    gapsDias: GAPS_DIAS,
    frescura: frescura.data ?? null,
    autoRecuperacion: auto.data ?? null,
  }
}

/** Store names, so an error can say "VALLE FRIO" where the API names tienda_08 ({} if unreachable). */
async function nombresTiendas(event: RequestEvent): Promise<Record<string, string>> {
  const tiendas = await attempt(api(event).GET('/api/etl/tiendas'))
  return Object.fromEntries((tiendas?.data ?? []).map((t) => [t.id, t.nombre]))
}

export type RunFormValues = { tienda_ids: string[]; fecha_inicio: string; fecha_fin: string }

export async function runEtl(event: RequestEvent, etl: Etl) {
  const form = await event.request.formData()
  const valores: RunFormValues = {
    tienda_ids: form.getAll('tienda_ids').map(String),
    fecha_inicio: String(form.get('fecha_inicio') ?? ''),
    fecha_fin: String(form.get('fecha_fin') ?? ''),
  }
  const inicio = toStoreDateTime(valores.fecha_inicio)
  const fin = toStoreDateTime(valores.fecha_fin)
  if (Boolean(inicio) !== Boolean(fin)) {
    const falta = inicio ? 'fecha_fin' : 'fecha_inicio'
    return fail(400, {
      accion: 'ejecutar' as const,
      problema: `Indique ${inicio ? 'Fecha fin' : 'Fecha inicio'}: las dos fechas van juntas, o ninguna (hoy hasta ahora).`,
      campos: [falta],
      valores,
    })
  }
  const body: Schemas['RunRequest'] = {
    etl_name: etl,
    ...(valores.tienda_ids.length > 0 ? { tienda_ids: valores.tienda_ids } : {}),
    ...(inicio && fin ? { fecha_inicio: inicio, fecha_fin: fin } : {}),
  }
  const result = await reach(api(event).POST('/api/etl/run', { body }))
  if (result.data) {
    return { accion: 'ejecutar' as const, ejecucion: result.data.execution_id, tiendas: result.data.tienda_ids.length }
  }
  guardAuth(event, result.response.status)
  const nombres = await nombresTiendas(event)
  const problema = describeProblem(result.error, result.response.status, { valores: body, nombres })
  return fail(result.response.status, {
    accion: 'ejecutar' as const,
    problema: problema.message,
    campos: problema.fields.map((f) => f.name.replace(/\[\d+\]$/, '')),
    valores,
  })
}

export async function recoverGap(event: RequestEvent) {
  const form = await event.request.formData()
  const id = Number(form.get('gap'))
  if (!Number.isInteger(id) || id < 1) return fail(400, { accion: 'recuperar' as const, problema: 'Hueco inválido.' })
  const result = await reach(api(event).POST('/api/etl/gaps/{id}/recover', { params: { path: { id } } }))
  if (result.data) return { accion: 'recuperar' as const, ejecucion: result.data.execution_id, gap: id }
  guardAuth(event, result.response.status)
  const problema = describeProblem(result.error, result.response.status, {
    ejecucion: id,
    nombres: await nombresTiendas(event),
  })
  return fail(result.response.status, { accion: 'recuperar' as const, problema: problema.message, gap: id })
}

/** Pauses or resumes automatic gap recovery for every runner (PUT /api/etl/gaps/auto-recovery). */
export async function toggleAutoRecovery(event: RequestEvent) {
  const form = await event.request.formData()
  const paused = form.get('paused') === 'true'
  const result = await reach(api(event).PUT('/api/etl/gaps/auto-recovery', { body: { paused } }))
  if (result.data) return { accion: 'autorecuperacion' as const, pausada: result.data.paused }
  guardAuth(event, result.response.status)
  const problema = describeProblem(result.error, result.response.status, {})
  return fail(result.response.status, { accion: 'autorecuperacion' as const, problema: problema.message })
}
