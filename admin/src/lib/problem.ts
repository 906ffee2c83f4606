// Turns the API's problem+json into Spanish for the operator. The API words `detail` and
// `reason` in English for people reading raw responses; the panel never shows them. It words
// each error itself from what the contract makes machine-readable: the status, the problem
// `type` (with its extension members) and each invalid param's `name` and `code`.
import type { Schemas } from './api/schemas.ts'
import { etlNombre, isKeyOf } from './labels.ts'

export const ROL = 'Se requiere rol super_admin.'
export const API_CAIDA =
  'La API de historial no responde en este momento. Vuelva a intentarlo en unos segundos; si persiste, avise al equipo técnico.'

export type FieldProblem = { name: string; label: string; message: string }
export type ProblemView = { message: string; fields: FieldProblem[] }

/** What the caller knows that the problem does not carry: the values it sent, store names. */
export type ProblemContext = {
  valores?: Record<string, unknown>
  nombres?: Record<string, string>
  /** The execution the request was about (detail, recovery). */
  ejecucion?: number
  /** The request was about the store calendar (removing a closure: its id). */
  cierre?: { id?: number }
}

const porEstado: Record<number, string> = {
  400: 'La solicitud tiene valores inválidos.',
  401: 'La sesión expiró; inicie sesión de nuevo.',
  403: ROL,
  404: 'No existe lo que se buscaba.',
  409: 'La solicitud choca con el estado actual.',
  413: 'La solicitud es demasiado grande.',
  422: 'La solicitud no se puede atender.',
  429: 'Demasiados intentos; espere un momento y vuelva a intentar.',
  500: 'La API de historial tuvo un error interno (quedó registrado). Vuelva a intentarlo.',
  502: API_CAIDA,
  503: API_CAIDA,
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
  id: 'Ejecución',
  sort: 'Orden',
  dias: 'Días',
  limit: 'Tamaño de página',
  offset: 'Página',
  email: 'Correo',
  password: 'Contraseña',
  estado: 'Estado',
  body: 'Solicitud',
  'Content-Type': 'Tipo de contenido',
  scope: 'Alcance',
}

/** The store calendar's form speaks of whole days, under its own field labels. */
const etiquetasCierre: Record<string, string> = {
  tienda_id: 'Tienda',
  fecha_desde: 'Fecha desde',
  fecha_hasta: 'Fecha hasta',
  motivo: 'Motivo',
  nota: 'Nota',
}

/** A closure's own wording of a refused field, or null where the general wording fits. */
function cierreMessage(param: Schemas['InvalidParam'], ctx: ProblemContext): string | null {
  const label = etiquetasCierre[param.name]
  if (!label) return null
  switch (param.code) {
    case 'required':
      return `${label}: es obligatorio.`
    case 'format':
      return param.name.startsWith('fecha') ? `${label}: no es una fecha válida.` : null
    case 'after_end':
      return 'La fecha hasta no puede ser anterior a la fecha desde.'
    case 'window_too_long':
      return 'Un cierre abarca como máximo 366 días.'
    case 'size':
      return param.name === 'nota' ? 'Nota: admite como máximo 500 caracteres.' : null
    case 'one_of':
      return param.name === 'motivo' ? 'Motivo: elija Feriado, Inventario, Obras u Otro.' : null
    case 'unknown_store':
      return `${label}: la tienda ${tiendaDe(param.name, ctx)} no existe.`
    default:
      return null
  }
}

/** The other end of a window, for "no puede ser posterior a …". */
const finDe: Record<string, string> = { fecha_desde: 'fecha_hasta', fecha_inicio: 'fecha_fin' }

const base = (name: string) => name.replace(/\[\d+\]$/, '')

export function fieldLabel(name: string, ctx: ProblemContext = {}): string {
  return (ctx.cierre ? etiquetasCierre[name] : undefined) ?? etiquetasCampo[base(name)] ?? name
}

export function isProblem(value: unknown): value is Schemas['Problem'] {
  return typeof value === 'object' && value !== null && 'status' in value && 'title' in value
}

/** `tienda_ids[1]` → the store sent at that index, by name when known. */
function tiendaDe(name: string, ctx: ProblemContext): string {
  const index = /\[(\d+)\]$/.exec(name)?.[1]
  const sent = ctx.valores?.[base(name)]
  const id = index !== undefined && Array.isArray(sent) ? String(sent[Number(index)] ?? '') : String(sent ?? '')
  if (!id) return 'la tienda'
  const nombre = ctx.nombres?.[id]
  return nombre ? `${nombre} (${id})` : id
}

/** One sentence per refused field, from its code (InvalidParamCode in openapi.yaml). */
function fieldMessage(param: Schemas['InvalidParam'], ctx: ProblemContext): string {
  const propio = ctx.cierre ? cierreMessage(param, ctx) : null
  if (propio) return propio
  const label = fieldLabel(param.name, ctx)
  switch (param.code) {
    case 'required':
      return finDe[param.name] || Object.values(finDe).includes(param.name)
        ? `${label}: falta; las dos fechas van juntas, o ninguna.`
        : `${label}: es obligatorio.`
    case 'unknown':
      return `${label}: la API no reconoce este campo.`
    case 'one_of':
      return `${label}: no es un valor permitido.`
    case 'out_of_range':
      return `${label}: está fuera del rango permitido.`
    case 'type':
      return `${label}: tiene un tipo de valor incorrecto.`
    case 'format':
      return /fecha/.test(param.name)
        ? `${label}: no es una fecha y hora válida.`
        : param.name === 'email'
          ? `${label}: no es una dirección de correo válida.`
          : `${label}: tiene un formato inválido.`
    case 'size':
      return base(param.name) === 'tienda_ids'
        ? `${label}: elija entre 1 y 200 tiendas, o ninguna para todas las activas.`
        : `${label}: tiene un tamaño fuera de lo permitido.`
    case 'duplicate':
      return `${label}: ${tiendaDe(param.name, ctx)} está repetida.`
    case 'after_end': {
      const fin = finDe[param.name]
      return `${label}: no puede ser posterior a ${fin ? fieldLabel(fin) : 'la fecha final'}.`
    }
    case 'window_too_long':
      return `${label}: el período no puede superar 31 días desde ${fieldLabel('fecha_inicio')}.`
    case 'unknown_store':
      return `${label}: la tienda ${tiendaDe(param.name, ctx)} no existe.`
    case 'inactive_store':
      return `${label}: la tienda ${tiendaDe(param.name, ctx)} está inactiva.`
    case 'no_inventario_feed':
      return `${label}: ${tiendaDe(param.name, ctx)} usa Stellar, que no tiene ETL de inventario.`
    case 'no_active_store':
      return 'No hay tiendas activas que ejecutar.'
    case 'stores_unrunnable':
      return param.name === 'scope'
        ? 'Las tiendas de esta ejecución están inactivas o ya no existen; no se pueden volver a ejecutar.'
        : 'Las tiendas pendientes de esta ejecución están inactivas o ya no existen; no se pueden recuperar.'
    case 'no_failed_store':
      return 'Todas las tiendas de esta ejecución cargaron: no hay tiendas fallidas que reintentar.'
    default:
      return `${label}: valor inválido.`
  }
}

const estadoOcupado: Record<string, string> = { queued: 'en cola', running: 'en curso' }

/** Problems whose `type` says more than the status (openapi.yaml, Problem.type). */
function typeMessage(p: Schemas['Problem'], ctx: ProblemContext): string | null {
  const numero = ctx.ejecucion ? ` #${ctx.ejecucion}` : ''
  switch (p.type) {
    case 'tag:fluxion.etl,2026:run-overlap': {
      const etl = p.etl_name && isKeyOf(etlNombre, p.etl_name) ? ` de ${etlNombre[p.etl_name]}` : ''
      const estado = p.execution_status ? ` (${estadoOcupado[p.execution_status] ?? p.execution_status})` : ''
      const tienda = p.tienda_id ? (ctx.nombres?.[p.tienda_id] ?? p.tienda_id) : 'una de esas tiendas'
      const cual = p.execution_id ? `la #${p.execution_id}${etl}${estado}` : 'otra'
      return `Ya hay una ejecución en cola o en curso que incluye esas tiendas: ${cual} ya incluye ${tienda}. Espere a que termine o elija otras tiendas.`
    }
    case 'tag:fluxion.etl,2026:execution-not-found':
      return `La ejecución${numero} no existe.`
    case 'tag:fluxion.etl,2026:no-gap':
      return `La ejecución${numero} no tiene datos pendientes: ninguna de sus tiendas falló.`
    case 'tag:fluxion.etl,2026:gap-already-recovered':
      return `Los datos de la ejecución${numero} ya se recuperaron.`
    case 'tag:fluxion.etl,2026:execution-not-finished':
      return `La ejecución${numero} aún está en cola o en curso: podrá repetirse cuando termine.`
    case 'tag:fluxion.etl,2026:execution-finished':
      return `La ejecución${numero} ya terminó: no hay nada que cancelar.`
    default:
      return null
  }
}

export function describeProblem(problem: unknown, status: number, ctx: ProblemContext = {}): ProblemView {
  const p = isProblem(problem) ? problem : null
  const lead = porEstado[status] ?? (status >= 500 ? porEstado[500]! : `Error ${status} de la API de historial.`)
  const byType = p ? typeMessage(p, ctx) : null
  if (byType) return { message: byType, fields: [] }
  if (ctx.cierre?.id && status === 404 && !p?.['invalid-params']) {
    return { message: `El cierre #${ctx.cierre.id} ya no existe: quizás alguien más lo eliminó.`, fields: [] }
  }
  const fields = (p?.['invalid-params'] ?? []).map((param) => ({
    name: param.name,
    label: fieldLabel(param.name, ctx),
    message: fieldMessage(param, ctx),
  }))
  if (fields.length === 0) return { message: lead, fields }
  return { message: `${lead} ${fields.map((f) => f.message).join(' ')}`, fields }
}
