// Spanish vocabulary of the panel. Each table is a Record over a contract enum, so a value added
// to openapi.yaml fails the type check here until it has a label; the keys double as the option
// lists of the filters (the generated types carry no runtime enum values).
import type { Schemas } from './api/schemas.ts'

type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted'

export const estadoEjecucion: Record<Schemas['ExecutionStatus'], { label: string; tone: Tone }> = {
  success: { label: 'Éxito', tone: 'ok' },
  partial: { label: 'Parcial', tone: 'warn' },
  failed: { label: 'Fallido', tone: 'bad' },
  running: { label: 'Ejecutando', tone: 'info' },
  queued: { label: 'En cola', tone: 'muted' },
  cancelled: { label: 'Cancelado', tone: 'muted' },
}

/** What a re-run repeats (ExecutionDetail.rerun_scope). */
export const alcanceRepeticion: Record<Schemas['RerunScope'], string> = {
  failed: 'solo las tiendas fallidas',
  all: 'todas las tiendas',
}

export const estadoTienda: Record<Schemas['TiendaStatus'], { label: string; tone: Tone }> = {
  success: { label: 'Éxito', tone: 'ok' },
  failed: { label: 'Fallido', tone: 'bad' },
  running: { label: 'Ejecutando', tone: 'info' },
  skipped: { label: 'Omitida', tone: 'muted' },
  closed: { label: 'Cerrada', tone: 'info' },
}

/** Why a store is closed (store calendar, GET /api/etl/closures). */
export const motivoCierre: Record<Schemas['CierreMotivo'], string> = {
  feriado: 'Feriado',
  inventario: 'Inventario',
  obras: 'Obras',
  otro: 'Otro',
}

export const etlNombre: Record<Schemas['EtlName'], string> = {
  ventas: 'Ventas',
  inventario: 'Inventario',
}

export const origen: Record<Schemas['TriggeredBy'], { label: string; title: string }> = {
  eventbridge: { label: 'AWS', title: 'AWS EventBridge (programado)' },
  fluxion_admin: { label: 'Admin', title: 'Panel administrador Fluxion' },
  cli: { label: 'CLI', title: 'Comando local' },
  recovery: { label: 'Recuperación', title: 'Recuperación de datos faltantes' },
  scheduler: { label: 'Programado', title: 'Programación interna (pg-boss)' },
}

export const fase: Record<Schemas['Phase'], { icon: string; label: string }> = {
  extract: { icon: '📥', label: 'Extracción' },
  transform: { icon: '🔄', label: 'Transformación' },
  load: { icon: '📤', label: 'Carga' },
}

export const categoria: Record<Schemas['ErrorCategory'], string> = {
  vpn_timeout: 'VPN no responde (timeout de conexión)',
  vpn_unreachable: 'VPN no alcanzable',
  api_timeout: 'API KLK excedió el tiempo de espera',
  api_error: 'API KLK respondió con error',
  api_auth: 'Autenticación con API KLK fallida',
  db_connection: 'Sin conexión a SQL Server (Stellar)',
  db_timeout: 'Consulta a Stellar excedió el tiempo',
  db_error: 'Error SQL en Stellar',
  network_error: 'Error de red',
  data_validation: 'Datos fuera de rango',
  data_format: 'Formato de datos inesperado',
  missing_fields: 'Campos requeridos faltantes',
  encoding_error: 'Error de codificación (UTF-8)',
  pg_connection: 'Sin conexión a PostgreSQL',
  pg_timeout: 'PostgreSQL excedió el tiempo',
  constraint_violation: 'Violación de restricción',
  disk_full: 'Disco lleno',
  deadlock: 'Deadlock en PostgreSQL',
  unknown: 'Error no clasificado',
  worker_lost: 'El proceso del runner se perdió',
}

export const fuenteError: Record<Schemas['ErrorSource'], string> = {
  klk_api: 'API KLK',
  stellar_db: 'BD Stellar',
  postgresql: 'PostgreSQL',
}

export const sistema: Record<Schemas['ExecutionSourceSystem'], string> = {
  klk: 'KLK',
  stellar: 'Stellar',
  mixed: 'Mixto',
}

export const keysOf = <K extends string>(record: Record<K, unknown>) => Object.keys(record) as K[]

export const isKeyOf = <K extends string>(record: Record<K, unknown>, value: string | null): value is K =>
  value !== null && Object.hasOwn(record, value)

export const terminal = (status: Schemas['ExecutionStatus']) => status !== 'running' && status !== 'queued'
