// Turns the API's problem+json into Spanish for the operator. The API words `detail` and
// `reason` in English; the panel leads with a Spanish sentence per status and names each
// offending field by its form label, keeping the API's reason so nothing is lost.
import type { Schemas } from './api/schemas.ts'

export const ROL = 'Se requiere rol super_admin'

export type ProblemView = { message: string; fields: { name: string; label: string; reason: string }[] }

const porEstado: Record<number, string> = {
  400: 'La solicitud tiene valores inválidos.',
  401: 'La sesión expiró; inicie sesión de nuevo.',
  403: 'Se requiere rol super_admin.',
  404: 'No existe.',
  409: 'Ya hay una ejecución en cola o en curso que incluye esas tiendas.',
  413: 'La solicitud es demasiado grande.',
  422: 'La solicitud no se puede atender.',
  429: 'Demasiados intentos; espere un momento y vuelva a intentar.',
}

/** Spanish form labels of request fields; `tienda_ids[3]` is labelled through `tienda_ids`. */
export const etiquetasCampo: Record<string, string> = {
  etl_name: 'ETL',
  tienda_ids: 'Tiendas',
  fecha_inicio: 'Fecha inicio',
  fecha_fin: 'Fecha fin',
  fecha_desde: 'Desde',
  fecha_hasta: 'Hasta',
  tienda: 'Tienda',
  status: 'Estado',
  triggered_by: 'Origen',
  error_phase: 'Fase',
  error_category: 'Categoría',
  dias: 'Días',
  limit: 'Tamaño de página',
  offset: 'Página',
  email: 'Correo',
  password: 'Contraseña',
}

export function fieldLabel(name: string): string {
  const base = name.replace(/\[\d+\]$/, '')
  const label = etiquetasCampo[base]
  if (!label) return name
  return base === name ? label : `${label} (${name})`
}

export function isProblem(value: unknown): value is Schemas['Problem'] {
  return typeof value === 'object' && value !== null && 'status' in value && 'title' in value
}

export function describeProblem(problem: unknown, status: number): ProblemView {
  const p = isProblem(problem) ? problem : null
  const lead = porEstado[status] ?? `Error ${status} de la API de historial.`
  const fields = (p?.['invalid-params'] ?? []).map((param) => ({
    name: param.name,
    label: fieldLabel(param.name),
    reason: param.reason,
  }))
  if (fields.length > 0) {
    const named = fields.map((f) => `${f.label}: ${f.reason}`).join('; ')
    return { message: `${lead} ${named}`, fields }
  }
  return { message: p?.detail ? `${lead} ${p.detail}` : lead, fields }
}
