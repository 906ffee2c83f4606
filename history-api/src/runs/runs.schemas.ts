import { z } from '@hono/zod-openapi'
import { EtlName, ExecutionIdValue, TiendaId, TriggeredBy } from '../executions/executions.schemas.ts'
import type { components } from '../generated/openapi.ts'
import { isRealLocalDateTime } from '../time.ts'

type S = components['schemas']

const STORE_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2}|T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))$/
const STORE_DATE_TIME_RULE = 'must be YYYY-MM-DD HH:MM:SS (TZ_TIENDAS) or an RFC 3339 date-time with offset'
const rfc3339 = z.iso.datetime({ offset: true })

/** The plan's `2026-01-25 00:00:00` (read in TZ_TIENDAS) or RFC 3339 with an offset; a real calendar moment. */
export const StoreDateTime = z
  .string({ error: STORE_DATE_TIME_RULE })
  .regex(STORE_DATE_TIME, STORE_DATE_TIME_RULE)
  .refine((s) => (s.includes('T') ? rfc3339.safeParse(s).success : isRealLocalDateTime(s)), {
    message: 'is not a real calendar date and time',
    abort: true,
    params: { code: 'format' },
  })
  .openapi('StoreDateTime') satisfies z.ZodType<S['StoreDateTime']>

export const MAX_RUN_TIENDAS = 200

export const RunRequest = z
  .strictObject({
    etl_name: EtlName,
    tienda_ids: z
      .array(TiendaId, { error: 'must be an array of store ids' })
      .min(1, 'must name at least one store (omit it to run every active store)')
      .max(MAX_RUN_TIENDAS, `must name at most ${MAX_RUN_TIENDAS} stores`)
      .superRefine((ids, ctx) => {
        ids.forEach((id, i) => {
          if (ids.indexOf(id) !== i)
            ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${id}`, params: { code: 'duplicate' } })
        })
      })
      .openapi({ uniqueItems: true })
      .optional(),
    fecha_inicio: StoreDateTime.optional(),
    fecha_fin: StoreDateTime.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.fecha_inicio !== undefined && body.fecha_fin === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fecha_fin'],
        message: 'is required when fecha_inicio is given',
        params: { code: 'required' },
      })
    }
    if (body.fecha_fin !== undefined && body.fecha_inicio === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fecha_inicio'],
        message: 'is required when fecha_fin is given',
        params: { code: 'required' },
      })
    }
  })
  // JSON Schema 2020-12 keywords zod-to-openapi has no type for; the generator copies them through.
  .openapi('RunRequest', {
    dependentRequired: { fecha_inicio: ['fecha_fin'], fecha_fin: ['fecha_inicio'] },
  } as Record<never, never>) satisfies z.ZodType<S['RunRequest']>

export const RunAccepted = z
  .strictObject({
    message: z.string(),
    execution_id: ExecutionIdValue,
    etl_name: EtlName,
    tienda_ids: z.array(TiendaId).min(1),
    triggered_by: TriggeredBy,
    started_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('RunAccepted') satisfies z.ZodType<S['RunAccepted']>

export type RunRequest = z.infer<typeof RunRequest>
export type RunAccepted = z.infer<typeof RunAccepted>
