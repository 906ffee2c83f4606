// The store calendar (issue 11, item 7) in Chromium against the real history API, admin and
// PostgreSQL: a closure added from /cierres is listed and turns the store's failed run of those days
// into "Cerrada"; hasta before desde is refused in Spanish; removing it (after a confirmation, with or
// without the page's script) brings the failure back; the list filters by store; axe-core finds
// nothing and nothing is wider than the viewport at desktop and phone widths.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestBoss } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
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

/** English the API words its problems with; none of it may reach the screen. */
const ENGLISH = /\b(must|not later|at most|is not a|does not exist|Closure)\b/

/** The page's text as it reads (rendered whitespace, one space between words). */
const texto = async (page: Page) => ((await page.locator('main').textContent()) ?? '').replace(/\s+/g, ' ')

/** A UTC calendar day `days` from today; ±3 days covers "now" in any store time zone. */
const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10)
const dmy = (iso: string) => iso.split('-').reverse().join('/')

describe('store calendar', () => {
  let database: TestDatabase
  let panel: Panel | undefined
  let base = ''
  let ids: Awaited<ReturnType<typeof seedPanel>>
  let conCerrada = 0

  beforeAll(async () => {
    await buildAdmin()
    database = await createTestDatabase()
    const boss = await startTestBoss(database.url)
    await boss.stop({ graceful: false })
    const db = database.sql
    ids = await seedPanel(db)
    // An inventario run that, as the runner records it, left CATIA out for a closure of that day.
    const [row] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, triggered_by, started_at, finished_at, duration_seconds,
        tienda_ids, tiendas_count, tiendas_exitosas, tiendas_fallidas, tiendas_cerradas, records_extracted,
        records_loaded, source_system)
      values ('inventario', 'scheduled', 'success', 'scheduler', now() - interval '5 hours',
        now() - interval '5 hours' + interval '90 seconds', 90, ${['tienda_01', 'tienda_09']}::text[], 2, 1, 0, 1, 1800,
        1800, 'klk')
      returning id`
    conCerrada = row!.id
    // The closed row as the tracker writes it (insertTiendaRunning): at once, no attempt, its address kept.
    await db`
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        finished_at, duration_seconds, records_extracted, records_loaded, attempts, server_ip, server_port)
      values
        (${conCerrada}, 'tienda_01', 'PERIFERICO', 'klk', 'success', now() - interval '5 hours',
          now() - interval '5 hours' + interval '90 seconds', 90, 1800, 1800, 1, '127.0.0.1', 18101),
        (${conCerrada}, 'tienda_09', 'CATIA', 'klk', 'closed', now() - interval '5 hours', now() - interval '5 hours',
          0, 0, 0, 0, '127.0.0.1', 18109)`
    panel = await startPanel(database.url)
    base = panel.base
  })

  afterAll(async () => {
    await panel?.close()
    await database?.drop()
  })

  const session = (viewport = DESKTOP, javaScriptEnabled = true) => openSession(panel!, { viewport, javaScriptEnabled })

  const detailStatus = async (execution: number, tienda: string) => {
    const [row] = await database.sql<{ status: string }[]>`
      select status from etl_execution_details where execution_id = ${execution} and tienda_id = ${tienda}`
    return row?.status
  }

  test('add a closure, see it listed and the failed run of those days closed; remove it and the failure is back', async () => {
    const { context, page, errors } = await session()
    try {
      await page.goto(`${base}/cierres`)
      await hydrated(page)
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Calendario de tiendas')
      const nav = page.getByRole('navigation', { name: 'Secciones' })
      expect(await nav.getByRole('link', { name: 'Cierres' }).getAttribute('aria-current')).toBe('page')
      expect(await nav.getByRole('link', { name: 'Centro de control ETL' }).getAttribute('aria-current')).toBeNull()
      await poll(() => texto(page)).toContain('No hay cierres registrados.')

      // VALLE FRIO's seeded failed ventas run (its window: from 24 h to 2 h ago) lies inside these days.
      const [desde, hasta] = [day(-3), day(3)]
      const form = page.getByRole('region', { name: 'Registrar un cierre' })
      await form.getByLabel('Tienda').selectOption({ label: 'VALLE FRIO' })
      await form.getByLabel('Fecha desde').fill(desde)
      await form.getByLabel('Fecha hasta').fill(hasta)
      expect(await form.getByLabel('Motivo').locator('option').allTextContents()).toEqual([
        'Elija un motivo',
        'Feriado',
        'Inventario',
        'Obras',
        'Otro',
      ])
      await form.getByLabel('Motivo').selectOption({ label: 'Inventario' })
      await form.getByLabel('Nota (opcional)').fill('Conteo anual')
      await form.getByRole('button', { name: 'Registrar cierre' }).click()

      await poll(() => page.getByRole('status').allTextContents()).toContainEqual(
        expect.stringContaining('Cierre registrado. 1 ejecución pasada de la tienda quedó como cerrada.'),
      )
      const tabla = page.getByRole('region', { name: 'Tabla de cierres' })
      await poll(() => tabla.locator('tbody tr').count()).toBe(1)
      const fila = ((await tabla.locator('tbody tr').textContent()) ?? '').replace(/\s+/g, ' ')
      for (const parte of [
        'VALLE FRIO',
        `${dmy(desde)} – ${dmy(hasta)}`,
        '7 días',
        'Inventario',
        'Conteo anual',
        EMAIL,
      ]) {
        expect(fila).toContain(parte)
      }
      // The form is ready for the next one.
      expect(await form.getByLabel('Nota (opcional)').inputValue()).toBe('')
      const [cierre] = await database.sql<{ id: number; motivo: string }[]>`
        select id, motivo from tienda_cierres where tienda_id = 'tienda_08'`
      expect(cierre?.motivo).toBe('inventario')
      expect(await detailStatus(ids.failed, 'tienda_08')).toBe('closed')

      await page.goto(`${base}/historial/${ids.failed}`)
      await hydrated(page)
      const tiendas = page.getByRole('region', { name: 'Detalle por tienda' })
      await poll(() => tiendas.locator('tbody tr').textContent()).toContain('Cerrada')
      await poll(() => texto(page)).toContain('0 ✓ / 0 ✗ / 1 cerrada / 1 total')

      // Hasta before desde: the API refuses it, the page says so in Spanish and keeps what was typed.
      await page.goto(`${base}/cierres`)
      await hydrated(page)
      await form.getByLabel('Tienda').selectOption({ label: 'PERIFERICO' })
      await form.getByLabel('Fecha desde').fill('2026-12-25')
      await form.getByLabel('Fecha hasta').fill('2026-12-24')
      await form.getByLabel('Motivo').selectOption({ label: 'Feriado' })
      await form.getByRole('button', { name: 'Registrar cierre' }).click()
      const alerta = page.getByRole('alert').filter({ hasText: 'fecha' })
      await poll(() => alerta.textContent()).toContain('La fecha hasta no puede ser anterior a la fecha desde')
      expect((await alerta.textContent()) ?? '').not.toMatch(ENGLISH)
      expect(await form.getByLabel('Fecha desde').inputValue()).toBe('2026-12-25')
      expect(await form.getByLabel('Fecha desde').getAttribute('aria-invalid')).toBe('true')
      expect(await database.sql`select 1 from tienda_cierres where tienda_id = 'tienda_01'`).toHaveLength(0)

      // Removing asks first: declining keeps it.
      const eliminar = tabla.getByRole('button', {
        name: `Eliminar el cierre de VALLE FRIO, ${dmy(desde)} – ${dmy(hasta)}`,
      })
      const preguntas: string[] = []
      page.once('dialog', (d) => {
        preguntas.push(d.message())
        void d.dismiss()
      })
      await eliminar.click()
      await poll(() => preguntas.length).toBe(1)
      expect(preguntas[0]).toContain(`¿Eliminar el cierre de VALLE FRIO, ${dmy(desde)} – ${dmy(hasta)}?`)
      expect(await database.sql`select 1 from tienda_cierres where id = ${cierre!.id}`).toHaveLength(1)

      page.once('dialog', (d) => void d.accept())
      await eliminar.click()
      await poll(() => page.getByRole('status').allTextContents()).toContainEqual(
        'Cierre eliminado. 1 ejecución pasada de la tienda volvió a su estado anterior (fallida u omitida).',
      )
      await poll(() => texto(page)).toContain('No hay cierres registrados.')
      expect(await tabla.count()).toBe(0)
      expect(await database.sql`select 1 from tienda_cierres where id = ${cierre!.id}`).toHaveLength(0)
      expect(await detailStatus(ids.failed, 'tienda_08')).toBe('failed')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('a run that left a store out for its closure shows it "Cerrada", counted apart', async () => {
    const { context, page, errors } = await session()
    try {
      await page.goto(`${base}/historial/${conCerrada}`)
      await hydrated(page)
      const tiendas = page.getByRole('region', { name: 'Detalle por tienda' })
      const catia = tiendas.locator('tbody tr').filter({ hasText: 'CATIA' })
      await poll(() => catia.textContent()).toContain('Cerrada')
      // Never contacted: no connection failure to report.
      expect(await catia.textContent()).not.toContain('sin conexión')
      expect(await tiendas.locator('tbody tr').filter({ hasText: 'PERIFERICO' }).textContent()).toContain('Éxito')
      expect(await texto(page)).toContain('1 ✓ / 0 ✗ / 1 cerrada / 2 total')
      // Nothing to retry: the one store that did not load was closed.
      expect(await page.getByRole('button', { name: 'Reintentar tiendas fallidas' }).count()).toBe(0)
      // The history list counts it the same way.
      await page.goto(`${base}/historial`)
      await hydrated(page)
      await poll(() => page.locator('tbody').textContent()).toContain('1 ✓ / 0 ✗ / 1 cerrada / 2 total')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  test('the list filters by store in the URL; without the script, removing asks on the page', async () => {
    const db = database.sql
    const cierre = (tienda: string, desde: string, hasta: string, motivo: string, nota: string | null) => db`
      insert into tienda_cierres (tienda_id, fecha_desde, fecha_hasta, periodo, motivo, nota, creado_por)
      values (${tienda}, ${desde}::date, ${hasta}::date,
        tstzrange(${desde}::date::timestamp at time zone 'America/Caracas',
                  (${hasta}::date + 1)::timestamp at time zone 'America/Caracas'),
        ${motivo}, ${nota}, 'otra@fluxion.test')`
    await cierre('tienda_03', '2027-12-24', '2027-12-25', 'feriado', 'Navidad')
    await cierre('tienda_12', '2027-03-01', '2027-03-31', 'obras', null)
    const { context, page, errors } = await session()
    try {
      await page.goto(`${base}/cierres`)
      await hydrated(page)
      const filas = page.getByRole('region', { name: 'Tabla de cierres' }).locator('tbody tr')
      // Newest first.
      await poll(() => filas.allTextContents()).toHaveLength(2)
      const todas = await filas.allTextContents()
      expect(todas[0]).toContain('EL TIGRE')
      expect(todas[0]).toContain('Feriado')
      expect(todas[1]).toContain('MATURIN')
      expect(todas[1]).toContain('01/03/2027 – 31/03/2027')
      expect(todas[1]).toContain('31 días')

      const filtro = page.getByRole('form', { name: 'Filtro de cierres' })
      await filtro.getByLabel('Tienda').selectOption({ label: 'MATURIN' })
      await filtro.getByRole('button', { name: 'Filtrar' }).click()
      await page.waitForURL(`${base}/cierres?tienda=tienda_12`)
      await poll(() => filas.allTextContents()).toHaveLength(1)
      expect(await filas.first().textContent()).toContain('Obras')
      expect(await filas.first().textContent()).toContain('—')
      await page.goto(`${base}/cierres?tienda=tienda_05`)
      await poll(() => texto(page)).toContain('CENTRO no tiene cierres registrados.')
      await page.goto(`${base}/cierres?tienda=tienda_99`)
      await poll(() => page.getByRole('alert').textContent()).toContain('La tienda tienda_99 no existe.')
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }

    const sinScript = await session(DESKTOP, false)
    try {
      const { page } = sinScript
      await page.goto(`${base}/cierres?tienda=tienda_12`)
      await page.getByRole('button', { name: 'Eliminar el cierre de MATURIN, 01/03/2027 – 31/03/2027' }).click()
      const confirmar = page.getByRole('form', { name: 'Confirmar eliminación' })
      expect(await confirmar.textContent()).toContain('¿Eliminar el cierre de MATURIN, 01/03/2027 – 31/03/2027?')
      expect(await db`select 1 from tienda_cierres where tienda_id = 'tienda_12'`).toHaveLength(1)
      await confirmar.getByRole('button', { name: 'Sí, eliminar' }).click()
      await poll(() => page.getByRole('status').allTextContents()).toContainEqual(
        'Cierre eliminado. Ninguna ejecución pasada de la tienda cambió.',
      )
      expect(await db`select 1 from tienda_cierres where tienda_id = 'tienda_12'`).toHaveLength(0)
      // Still the filtered list.
      expect(await texto(page)).toContain('MATURIN no tiene cierres registrados.')
    } finally {
      await sinScript.context.close()
    }
  })

  test('axe finds nothing and nothing is wider than the viewport, at desktop and phone widths', async () => {
    const db = database.sql
    await db`
      insert into tienda_cierres (tienda_id, fecha_desde, fecha_hasta, periodo, motivo, nota, creado_por)
      values ('tienda_18', '2027-06-01', '2027-06-02',
        tstzrange('2027-06-01 00:00-04', '2027-06-03 00:00-04'), 'otro',
        'Fumigación del depósito y revisión de la planta eléctrica por el proveedor', 'operador@fluxion.test')`
    for (const viewport of [DESKTOP, PHONE]) {
      const { context, page, errors } = await session(viewport)
      try {
        await page.goto(`${base}/cierres`)
        await hydrated(page)
        await poll(() => texto(page)).toContain('PUERTO LA CRUZ ORIENTE')
        // With an error on screen too.
        const form = page.getByRole('region', { name: 'Registrar un cierre' })
        await form.getByLabel('Tienda').selectOption({ label: 'PUERTO LA CRUZ ORIENTE' })
        await form.getByLabel('Fecha desde').fill('2027-01-01')
        await form.getByLabel('Fecha hasta').fill('2028-06-01')
        await form.getByLabel('Motivo').selectOption({ label: 'Obras' })
        await form.getByRole('button', { name: 'Registrar cierre' }).click()
        await poll(() => page.getByRole('alert').allTextContents()).toContainEqual(
          expect.stringContaining('Un cierre abarca como máximo 366 días'),
        )
        expect(await axeViolations(page), `axe at ${viewport.width}`).toEqual([])
        const overflow = await horizontalOverflow(page)
        expect(overflow.over, `overflow at ${viewport.width}: ${overflow.culprits.join(', ')}`).toBeLessThanOrEqual(0)
        expect(errors).toEqual([])
      } finally {
        await context.close()
      }
    }
  })
})
