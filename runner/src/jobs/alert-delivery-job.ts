// Queue `alert-delivery`: one webhook delivery per job (alerts/deliveries.ts), any runner. A post that
// fails throws so pg-boss retries the job with the queue's backoff (boss.ts deliveryQueueOptions); the
// delivery row records every attempt, so the history API shows how it went.
import type { Job, PgBoss } from 'pg-boss'
import { z } from 'zod'
import { type DeliveryDeps, deliverOnce } from '../alerts/deliveries.ts'
import type { components } from '../generated/openapi.ts'
import { ALERT_DELIVERY_QUEUE } from './boss.ts'

const deliveryJob = z.strictObject({
  delivery_id: z.number().int().positive(),
}) satisfies z.ZodType<components['schemas']['AlertDeliveryJob']>

export function workAlertDeliveries(boss: PgBoss, deps: Omit<DeliveryDeps, 'boss'>) {
  return boss.work(
    ALERT_DELIVERY_QUEUE,
    { batchSize: 1, localConcurrency: 4, pollingIntervalSeconds: 0.5 },
    async ([job]: Job<unknown>[]) => {
      if (!job) throw new Error('pg-boss handed an empty batch')
      const parsed = deliveryJob.safeParse(job.data)
      if (!parsed.success)
        throw new Error(`invalid ${ALERT_DELIVERY_QUEUE} job payload: ${z.prettifyError(parsed.error)}`)
      const logger = deps.logger.child({ job_id: job.id, attempt: job.retryCount })
      const outcome = await deliverOnce({ ...deps, logger }, parsed.data.delivery_id)
      if (outcome.kind === 'failed') {
        // The message carries no URL or secret (deliverOnce redacts); pg-boss keeps it as the job's output.
        throw new Error(`delivery ${parsed.data.delivery_id} attempt ${outcome.attempts} failed: ${outcome.error}`)
      }
      return outcome
    },
  )
}
