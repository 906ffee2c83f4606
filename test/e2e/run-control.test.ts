// Issue 13, Deliver 1–3 in Chromium against the real history API, admin and PostgreSQL: re-run the
// failed stores of a run from its detail and cancel the new run; the timeline of a run whose stores
// retried; pause the ventas schedule and see that the cron's fire starts no run (a real runner with
// pg-boss cron in this process). axe-core finds nothing and nothing is wider than a phone on the
// detail (with its actions and timeline) and on /programacion.
import pino from 'pino'
import type { Page } from 'playwright-core'
import type { Sql } from 'postgres'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connect } from '../../runner/src/db.ts'
import { QUEUES } from '../../runner/src/jobs/boss.ts'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import { startTestBoss } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { testConfig, waitFor } from '../helpers/runner-kit.ts'
import {
  axeViolations,
  buildAdmin,
  DESKTOP,
  EMAIL,
  horizontalOverflow,
  hydrated,
  openSession,
  type Panel,
  PHONE,
  poll,
  seedPanel,
  startPanel,
} from './panel-kit.ts'

/** The page's text as it reads (rendered whitespace, one space between words). */
const texto = async (page: Page) => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ')

const T0 = Date.parse('2026-11-02T10:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString()
type Span = [attempt: number, phase: string, from: number, to: number, error?: string]
const timeline = (spans: Span[]) =>
  spans.map(([attempt, phase, from, to, error]) => ({
    attempt,
    phase,
    started_at: at(from),
    finished_at: at(to),
    duration_seconds: to - from,
    records: error || phase === 'retry_wait' ? 0 : 1000,
    errors: error ? 1 : 0,
    error_category: error ?? null,
    error_code: error ? 'UND_ERR_CONNECT_TIMEOUT' : null,
  }))

/**
 * A partial ventas run whose stores retried, as the tracker records it: VALLE FRIO failed after three
 * attempts (vpn_timeout, 2 retry waits), LA GUAIRA loaded on its second attempt, PERIFERICO at once.
 */
async function seedRetriedRun(db: Sql): Promise<number> {
  const [e] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, triggered_by, started_at, finished_at, duration_seconds,
      fecha_desde, fecha_hasta, tienda_ids, tiendas_count, tiendas_exitosas, tiendas_fallidas, records_extracted,
      records_loaded, error_phase, error_category, error_source, error_message, source_system)
    values ('ventas', 'scheduled', 'partial', 'scheduler', ${at(0)}, ${at(40)}, 40, ${at(-3600)}, ${at(0)},
      ${['tienda_01', 'tienda_02', 'tienda_08']}::text[], 3, 2, 1, 6000, 6000, 'extract', 'vpn_timeout', 'klk_api',
      'Connect Timeout Error', 'klk')
    returning id`
  const store = (id: string, nombre: string, status: string, attempts: number, spans: Span[], finish: number) => db`
    insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
      finished_at, attempts, records_extracted, records_loaded, error_phase, error_category, timeline)
    values (${e!.id}, ${id}, ${nombre}, 'klk', ${status}, ${at(0)}, ${at(finish)}, ${attempts},
      ${status === 'success' ? 3000 : 0}, ${status === 'success' ? 3000 : 0},
      ${status === 'failed' ? 'extract' : null}, ${status === 'failed' ? 'vpn_timeout' : null},
      ${db.json(timeline(spans))})`
  await store(
    'tienda_01',
    'PERIFERICO',
    'success',
    1,
    [
      [1, 'extract', 0, 6],
      [1, 'transform', 1, 6],
      [1, 'load', 1, 8],
    ],
    8,
  )
  await store(
    'tienda_02',
    'LA GUAIRA',
    'success',
    2,
    [
      [1, 'extract', 0, 3, 'vpn_timeout'],
      [1, 'retry_wait', 3, 4],
      [2, 'extract', 4, 10],
      [2, 'transform', 5, 10],
      [2, 'load', 5, 12],
    ],
    12,
  )
  await store(
    'tienda_08',
    'VALLE FRIO',
    'failed',
    3,
    [
      [1, 'extract', 0, 10, 'vpn_timeout'],
      [1, 'retry_wait', 10, 11],
      [2, 'extract', 11, 21, 'vpn_timeout'],
      [2, 'retry_wait', 21, 23],
      [3, 'extract', 23, 33, 'vpn_timeout'],
    ],
    33,
  )
  return e!.id
}

describe('re-run, cancel, timeline and schedules in the panel', () => {
  let database: TestDatabase
  let panel: Panel | undefined
  let runner: Runner | undefined
  let runnerDb: Sql | undefined
  let base = ''
  let origin = 0

  beforeAll(async () => {
    await buildAdmin()
    database = await createTestDatabase()
    const boss = await startTestBoss(database.url)
    await boss.stop({ graceful: false })
    await seedPanel(database.sql)
    origin = await seedRetriedRun(database.sql)
    panel = await startPanel(database.url)
    base = panel.base
  })

  afterAll(async () => {
    await runner?.stop('test over')
    await runnerDb?.end({ timeout: 2 })
    await panel?.close()
    await database?.drop()
  })

  const session = (viewport = DESKTOP) => openSession(panel!, { viewport })

  test('re-run the failed stores from the detail, then cancel the new run from its detail', async () => {
    const { context, page, errors } = await session()
    try {
      await page.goto(`${base}/historial`)
      await hydrated(page)
      await page.getByRole('link', { name: `Ver detalle de la ejecución #${origin}` }).click()
      const dialog = page.getByRole('dialog')
      await poll(() => dialog.textContent()).toContain('Línea de tiempo')
      await dialog.getByRole('button', { name: 'Reintentar tiendas fallidas' }).click()

      await page.waitForURL(/\/historial\/\d+\?nueva=failed$/)
      const nueva = Number(/\/historial\/(\d+)/.exec(page.url())![1])
      expect(nueva).toBeGreaterThan(origin)
      const status = page.getByRole('status').filter({ hasText: 'Nueva ejecución en cola' })
      await expect.poll(() => status.textContent()).toContain(`la ejecución #${origin}`)
      await poll(() => texto(page)).toContain(`Repite la ejecución #${origin} (solo las tiendas fallidas)`)
      const [row] = await database.sql`select status, rerun_of, rerun_scope, tienda_ids, etl_type, triggered_by
        from etl_executions where id = ${nueva}`
      expect(row).toEqual({
        status: 'queued',
        rerun_of: origin,
        rerun_scope: 'failed',
        tienda_ids: ['tienda_08'],
        etl_type: 'manual',
        triggered_by: 'fluxion_admin',
      })
      expect(
        await database.sql`select 1 from pgboss.job where data @> ${database.sql.json({ execution_id: nueva })}`,
      ).toHaveLength(1)

      await hydrated(page)
      await page.getByRole('button', { name: 'Cancelar', exact: true }).click()
      await poll(() => page.getByRole('status').allTextContents()).toContainEqual(
        'Ejecución cancelada: ninguna tienda se ejecutó.',
      )
      await poll(() => page.locator('.resumen').textContent()).toContain('Cancelado')
      const [closed] = await database.sql`select status, tiendas_count from etl_executions where id = ${nueva}`
      expect(closed).toEqual({ status: 'cancelled', tiendas_count: 1 })
      expect(
        await database.sql`select 1 from pgboss.job where data @> ${database.sql.json({ execution_id: nueva })}`,
      ).toHaveLength(0)

      // The origin names its re-run, and the re-run its origin: both links are there.
      await page
        .getByRole('link', { name: `#${origin}` })
        .first()
        .click()
      await page.waitForURL(`${base}/historial/${origin}`)
      await poll(() => texto(page)).toContain(`Repetida en: #${nueva} (cancelado, solo las tiendas fallidas)`)
      // From the history row too: the cancelled run can be repeated from the list.
      await page.goto(`${base}/historial`)
      await hydrated(page)
      await page.getByRole('button', { name: `Repetir la ejecución #${nueva}` }).click()
      await page.waitForURL(/\/historial\/\d+\?nueva=all$/)
      await poll(() => texto(page)).toContain(`Repite la ejecución #${nueva} (todas las tiendas)`)
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the timeline of a run whose stores retried: bars per phase per attempt, retry waits, a table', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const { context, page, errors } = await session(viewport)
      try {
        await page.goto(`${base}/historial/${origin}`)
        await hydrated(page)
        const chart = page.getByRole('region', { name: 'Línea de tiempo por tienda (gráfico)' })
        await chart.waitFor()
        const valle = chart.locator('.fila[data-tienda="tienda_08"]')
        await poll(() => valle.textContent()).toContain('3 intentos')
        expect(await valle.locator('.barra').count()).toBe(5)
        expect(await valle.locator('.barra.retry_wait').count()).toBe(2)
        expect(await valle.locator('.barra.con-error').count()).toBe(3)
        expect(await chart.locator('.fila[data-tienda="tienda_02"] .barra[data-intento="2"]').count()).toBe(3)
        // Bars follow the clock: VALLE FRIO's third attempt starts after its second retry wait ends.
        const box = async (sel: string) => (await valle.locator(sel).boundingBox())!
        const wait2 = await box('.barra.retry_wait >> nth=1')
        const third = await box('.barra[data-intento="3"]')
        expect(third.x).toBeGreaterThanOrEqual(wait2.x + wait2.width - 1)

        await page.getByText('Ver la línea de tiempo como tabla').click()
        const table = page.getByRole('region', { name: 'Línea de tiempo por tienda (tabla)' })
        const rows = await table.locator('tbody tr').allTextContents()
        expect(rows.filter((r) => r.includes('VALLE FRIO'))).toHaveLength(5)
        expect(rows.filter((r) => r.includes('Espera de reintento'))).toHaveLength(3)
        expect(rows.join('\n')).toContain('Falló: VPN no responde')

        expect(await axeViolations(page), `axe at ${viewport.width}`).toEqual([])
        const overflow = await horizontalOverflow(page)
        expect(overflow.over, `overflow at ${viewport.width}: ${overflow.culprits.join(', ')}`).toBeLessThanOrEqual(0)
        if (viewport === PHONE) {
          // The chart is wider than a phone: it scrolls inside its region, which takes a tab stop.
          expect(await chart.getAttribute('tabindex')).toBe('0')
        }
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    }
  })

  test('pause the ventas schedule: the cron fires and no scheduled run starts; resume shows the next run', async () => {
    const { context, page, errors } = await session()
    try {
      await page.goto(`${base}/programacion`)
      await hydrated(page)
      const ventas = page.getByRole('region', { name: 'Ventas' })
      await poll(() => ventas.textContent()).toContain('Ningún runner registró una programación')
      await ventas.getByRole('button', { name: 'Pausar ventas' }).click()
      await poll(() => page.getByRole('status').allTextContents()).toContainEqual('Programación de Ventas pausada.')
      await poll(() => ventas.textContent()).toContain(`por ${EMAIL}`)

      const scheduled = () =>
        database.sql`select count(*)::int as n from etl_executions where triggered_by = 'scheduler'`
      const before = await scheduled()
      // A runner whose ventas cron fires every minute (pg-boss's passes at 1 s: due at once).
      runnerDb = connect(database.url, { max: 6 })
      runner = await startRunner({
        config: testConfig(database.url, { VENTAS_CRON: '* * * * *', INVENTARIO_CRON: 'off' }),
        logger: pino({ level: 'silent' }),
        db: runnerDb,
        bossTiming: { schedule: true, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
      })
      const job = await waitFor('the cron job to be worked', async () => {
        const [j] = await database.sql<{ output: { status: string } }[]>`
          select output from pgboss.job where name = ${QUEUES.ventas} and state = 'completed'
            and data @> '{"triggered_by": "scheduler"}'`
        return j
      })
      expect(job.output.status).toBe('paused')
      expect(await scheduled()).toEqual(before)
      // Stopped before the resume below, so that no later minute's fire runs the seeded stores.
      await runner.stop('test over')
      runner = undefined

      await page.reload()
      await hydrated(page)
      const text = (await ventas.textContent()) ?? ''
      expect(text).toContain('Cada minuto')
      expect(text).toContain('* * * * *')
      expect(text).toContain('Ninguna mientras esté pausada')
      expect(await axeViolations(page)).toEqual([])

      await ventas.getByRole('button', { name: 'Reanudar ventas' }).click()
      await poll(() => page.getByRole('status').allTextContents()).toContainEqual('Programación de Ventas reanudada.')
      await poll(() => ventas.textContent()).not.toContain('Ninguna mientras esté pausada')
      await poll(() => ventas.locator('.cabecera').textContent()).toContain('Activa')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
    const phone = await session(PHONE)
    try {
      await phone.page.goto(`${base}/programacion`)
      await hydrated(phone.page)
      expect(await axeViolations(phone.page), 'axe at 390').toEqual([])
      const overflow = await horizontalOverflow(phone.page)
      expect(overflow.over, overflow.culprits.join(', ')).toBeLessThanOrEqual(0)
    } finally {
      await phone.context.close()
    }
  })
})
