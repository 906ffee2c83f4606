// Badge props for the contract's enums, so every table labels them the same way.
import type { Schemas } from '../api/schemas.ts'
import { estadoEjecucion, estadoTienda, etlNombre, origen } from '../labels.ts'

export const statusBadge = (status: Schemas['ExecutionStatus']) => ({
  label: estadoEjecucion[status].label,
  tone: estadoEjecucion[status].tone,
  pulse: status === 'running',
})

export const tiendaBadge = (status: Schemas['TiendaStatus']) => ({
  label: estadoTienda[status].label,
  tone: estadoTienda[status].tone,
  pulse: status === 'running',
})

export const etlBadge = (etl: Schemas['EtlName']) => ({ label: etlNombre[etl], tone: etl })

export const origenBadge = (triggeredBy: Schemas['TriggeredBy']) => ({
  label: origen[triggeredBy].label,
  title: origen[triggeredBy].title,
  tone: 'neutral' as const,
})
