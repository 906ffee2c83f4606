// The body every webhook delivery posts (alerts/deliveries.ts stores it per delivery).
import type { AlertChange } from './alerts.sql.ts'

/** What the webhook receives: the alert as GET /api/etl/alerts shows it, plus a line for chat tools. */
export type AlertWebhookPayload = {
  source: 'fluxion-etl'
  cambio: AlertChange['cambio']
  text: string
  alert: Omit<AlertChange, 'cambio' | 'detectada_at' | 'resuelta_at'> & {
    detectada_at: string
    resuelta_at: string | null
  }
}

export function webhookPayload(change: AlertChange): AlertWebhookPayload {
  const { cambio, detectada_at, resuelta_at, ...alert } = change
  const prefix = cambio === 'abierta' ? 'Alerta abierta' : 'Alerta resuelta'
  return {
    source: 'fluxion-etl',
    cambio,
    text: `[Fluxion ETL] ${prefix}: ${change.mensaje}`,
    alert: { ...alert, detectada_at: detectada_at.toISOString(), resuelta_at: resuelta_at?.toISOString() ?? null },
  }
}
