// The panel as its daily user meets it (issue 13), in Chromium against the real history API and
// PostgreSQL: focus comes back after the detail closes; with the API down every page keeps its
// navigation and says so in Spanish with a retry; API errors read in Spanish; nothing is wider
// than a phone; axe-core finds nothing at desktop and phone widths; the list sorts, takes
// several states and an id, and its CSV export is the filtered list; the running/queued tile
// follows the live stream.
import { readFile } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestBoss } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import {
  axeViolations,
  buildAdmin,
  DESKTOP,
  EMAIL,
  explained,
  heldPort,
  horizontalOverflow,
  hydrated,
  launchChromium,
  openSession,
  PHONE,
  poll,
  type Service,
  seedPanel,
  startAdmin,
  startApi,
  stopService,
  submitLogin,
} from './panel-kit.ts'

/** English the API words its problems with; none of it may reach the screen. */
const ENGLISH = /\b(must|does not|already includes|is not a|Execution \d|not later|at most)\b/

describe('the panel an operator lives in', () => {
  let database: TestDatabase
  let api: Service | undefined
  let admin: Service | undefined
  let adminDown: Service | undefined
  let browser: Browser | undefined
  let base = ''
  let baseDown = ''
  let ids: Awaited<ReturnType<typeof seedPanel>>

  beforeAll(async () => {
    await buildAdmin()
    database = await createTestDatabase()
    const boss = await startTestBoss(database.url)
    await boss.stop({ graceful: false })
    ids = await seedPanel(database.sql)
    const [apiPort, adminPort, adminDownPort, closedPort] = [
      await heldPort(),
      await heldPort(),
      await heldPort(),
      await heldPort(),
    ]
    api = await startApi(database.url, apiPort)
    admin = await startAdmin(`http://127.0.0.1:${apiPort}`, adminPort)
    // The API down: a panel whose API address is a port nothing listens on (connections refused).
    adminDown = await startAdmin(`http://127.0.0.1:${closedPort}`, adminDownPort)
    base = `http://127.0.0.1:${adminPort}`
    baseDown = `http://127.0.0.1:${adminDownPort}`
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await stopService(adminDown)
    await stopService(admin)
    await stopService(api)
    await database?.drop()
  })

  const session = (viewport = DESKTOP) => openSession({ browser: browser!, base }, { viewport, acceptDownloads: true })

  const focusedLabel = (page: Page) =>
    page.evaluate(
      () =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
        ).document.activeElement?.getAttribute('aria-label') ?? null,
    )

  test('focus returns to the element that opened the detail: Escape, ✕, Back, backdrop', async () => {
    const { context, page, errors } = await session()
    await page.goto(`${base}/historial`)
    await hydrated(page)
    const label = `Ver detalle de la ejecución #${ids.failed}`
    const opener = page.getByRole('link', { name: label })
    const dialog = page.getByRole('dialog')
    const open = async () => {
      await opener.focus()
      await page.keyboard.press('Enter')
      await explained(page, errors, dialog.waitFor())
      await poll(() => dialog.textContent()).toContain('Detalle por Tienda')
    }
    const closes: [string, () => Promise<unknown>][] = [
      ['Escape', () => page.keyboard.press('Escape')],
      ['✕', () => dialog.getByRole('button', { name: 'Cerrar detalle' }).click()],
      ['Back', () => page.goBack()],
      ['backdrop', () => page.mouse.click(8, 8)],
    ]
    for (const [how, close] of closes) {
      await open()
      await close()
      await poll(() => dialog.count()).toBe(0)
      await poll(() => focusedLabel(page), 3_000).toBe(label)
      expect(new URL(page.url()).pathname, how).toBe('/historial')
    }
    // The next Tab continues after the link, not at "Saltar al contenido".
    await page.keyboard.press('Tab')
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement
            .textContent,
      ),
    ).not.toContain('Saltar al contenido')
    expect(errors).toEqual([])
    await context.close()
  })

  test('a detail opened while a live reload of the list is in flight stays open when the reload lands', async () => {
    const { context, page, errors } = await session()
    await page.goto(`${base}/historial`)
    await page.locator('.live.conectado').waitFor()
    // The list's page data reload is held in the network until the detail is open.
    const isReload = (url: URL) => url.pathname === '/historial/__data.json'
    const gate = Promise.withResolvers<void>()
    const reloadRequested = Promise.withResolvers<void>()
    const reloads: string[] = []
    page.on('response', (response) => {
      if (isReload(new URL(response.url()))) reloads.push(response.url())
    })
    await page.route(isReload, async (route) => {
      reloadRequested.resolve()
      await gate.promise
      await route.continue()
    })
    // A finished execution on screen announced by the stream: the list reloads its data.
    await database.sql`select pg_notify('etl_events', ${JSON.stringify({ execution_id: ids.failed })})`
    await reloadRequested.promise

    await page.getByRole('link', { name: `Ver detalle de la ejecución #${ids.failed}` }).click()
    const dialog = page.getByRole('dialog')
    await explained(page, errors, dialog.waitFor())
    gate.resolve()
    // The held reload lands, then the one asked for again; the detail stays open over the list.
    const settle = () => page.evaluate(() => new Promise((resolve) => globalThis.setTimeout(resolve, 1_000)))
    for (const landed of [1, 2]) {
      await poll(() => reloads.length, 15_000).toBeGreaterThanOrEqual(landed)
      await settle()
      expect(await dialog.count(), `after reload ${landed}`).toBe(1)
    }
    expect(new URL(page.url()).pathname).toBe(`/historial/${ids.failed}`)
    await poll(() => dialog.textContent()).toContain('Detalle por Tienda')
    expect(errors).toEqual([])
    await context.close()
  })

  test('API down: every page keeps the navigation, says so in Spanish with a retry, shows no internal URL', async () => {
    const context = await browser!.newContext({ viewport: DESKTOP, locale: 'es-VE' })
    await context.addCookies([{ name: 'fluxion_sesion', value: 'token-de-una-sesion', url: baseDown }])
    const page = await context.newPage()
    for (const path of [
      '/historial',
      `/historial/${ids.failed}`,
      '/ventas',
      '/inventario',
      '/estadisticas',
      '/programacion',
      '/alertas',
      '/cierres',
    ]) {
      await page.goto(`${baseDown}${path}`)
      const text = (await page.locator('body').textContent()) ?? ''
      expect(text, path).toContain('La API de historial no responde')
      expect(text, path).not.toMatch(/127\.0\.0\.1|https?:\/\//)
      await expect(page.getByRole('navigation', { name: 'Secciones' }).getByRole('link').count()).resolves.toBe(5)
      expect(await page.getByRole('link', { name: 'Reintentar' }).getAttribute('href'), path).toBe(path)
      expect(await axeViolations(page), path).toEqual([])
    }
    // The login says it on the form, whose button becomes the retry.
    await context.clearCookies()
    await page.goto(`${baseDown}/login`)
    await submitLogin(page, { email: 'operador@fluxion.test', password: 'lo-que-sea' })
    await poll(() => page.getByRole('alert').textContent()).toContain('La API de historial no responde')
    expect(await page.getByRole('banner').count()).toBe(1)
    expect(await page.getByRole('button', { name: 'Reintentar' }).count()).toBe(1)
    expect((await page.locator('body').textContent()) ?? '').not.toMatch(/127\.0\.0\.1|https?:\/\//)
    await context.close()
  })

  test('an unknown address is a Spanish 404 inside the layout', async () => {
    const { context, page } = await session()
    const res = await page.goto(`${base}/nada`)
    expect(res?.status()).toBe(404)
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Página no encontrada')
    expect(await page.locator('body').textContent()).not.toMatch(/Not Found/)
    expect(await page.getByRole('navigation', { name: 'Secciones' }).getByRole('link').count()).toBe(5)
    await context.close()
  })

  test('every foreseeable API error reads in Spanish, naming fields by their labels and stores by name', async () => {
    const { context, page, errors } = await session()
    const alert = () => page.getByRole('alert').first().textContent()
    const run = async (tiendas: string[], inicio = '', fin = '') => {
      await page.goto(`${base}/ventas`)
      await hydrated(page)
      for (const t of tiendas) await page.getByLabel(t).check()
      if (inicio) await page.getByLabel('Fecha inicio').fill(inicio)
      if (fin) await page.getByLabel('Fecha fin').fill(fin)
      await page.getByRole('button', { name: 'Ejecutar ETL de Ventas' }).click()
    }
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => run(['CATIA'], '2026-01-26T10:00:00', '2026-01-25T10:00:00'),
        'Fecha inicio: no puede ser posterior a Fecha fin.',
      ],
      [
        () => run(['CATIA'], '2026-01-01T00:00:00', '2026-03-01T00:00:00'),
        'Fecha fin: el período no puede superar 31 días desde Fecha inicio.',
      ],
      [() => run(['CATIA'], '2026-01-01T00:00:00'), 'Indique Fecha fin'],
      [
        () => page.goto(`${base}/historial?desde=2026-02-01&hasta=2026-01-01`),
        'Desde: no puede ser posterior a Hasta.',
      ],
      [() => page.goto(`${base}/historial/99999`), 'La ejecución #99999 no existe.'],
    ]
    for (const [act, spanish] of cases) {
      await act()
      await poll(alert).toContain(spanish)
      expect(await alert()).not.toMatch(ENGLISH)
    }
    // A run overlapping a queued one names the execution and the store by its name.
    await run(['EL TIGRE'])
    await poll(alert).toContain(`la #${ids.running} de Ventas (en curso) ya incluye EL TIGRE`)
    await run(['PERIFERICO', 'PARAISO'])
    await poll(() => page.getByRole('status').filter({ hasText: 'en cola' }).textContent()).toMatch(
      /Ejecución #\d+ en cola/,
    )
    const queuedId = Number(
      /#(\d+)/.exec((await page.getByRole('status').filter({ hasText: 'en cola' }).textContent()) ?? '')![1],
    )
    await run(['PARAISO'])
    await poll(alert).toContain(`la #${queuedId} de Ventas (en cola) ya incluye PARAISO`)
    expect(await alert()).not.toMatch(ENGLISH)
    // Recovering a gap whose stores a queued recovery already holds.
    await page.goto(`${base}/ventas`)
    const recover = page.getByRole('button', { name: `Recuperar datos de la ejecución #${ids.failed}` })
    await recover.click()
    await poll(() => page.getByRole('status').filter({ hasText: 'Recuperación' }).count()).toBe(1)
    await page.getByRole('button', { name: `Recuperar datos de la ejecución #${ids.failed}` }).click()
    await poll(alert).toContain(`No se pudo recuperar la ejecución #${ids.failed}: Ya hay una ejecución en cola`)
    expect(await alert()).toContain('VALLE FRIO')
    expect(await alert()).not.toMatch(ENGLISH)
    expect(errors).toEqual([])
    await context.close()
  })

  test('finish: ranges, plurals, one number style, Spanish labels, names, zones, ?etl= answered', async () => {
    const { context, page } = await session()
    await page.goto(`${base}/historial?pagina=99`)
    await poll(() => page.getByRole('navigation', { name: 'Paginación' }).textContent()).toContain(
      'Página 99 fuera de rango',
    )
    expect(await page.getByRole('navigation', { name: 'Paginación' }).textContent()).not.toMatch(/–-|-1/)
    const banner = (await page.getByRole('complementary', { name: 'Alertas activas' }).textContent()) ?? ''
    expect(banner).toContain('VALLE FRIO falló 6 veces seguidas en Ventas')
    expect(banner).not.toContain('tienda_08')
    expect(banner).toContain('0 % (umbral 80 %)')
    expect(banner).toContain('America/Caracas')
    // The alert history: filtered by store in the URL, the store by name, a link to the runs behind it.
    await page.goto(`${base}/alertas?tienda=tienda_08`)
    const fila = page.getByRole('row').filter({ hasText: 'VALLE FRIO' })
    await expect(fila.count()).resolves.toBe(1)
    expect(await fila.textContent()).toContain('Activa')
    expect(await axeViolations(page)).toEqual([])
    const ver = fila.getByRole('link', { name: /^Ver ejecuciones de la alerta/ })
    expect(await ver.getAttribute('href')).toMatch(
      /^\/historial\?tipo=ventas&estado=failed%2Cpartial&desde=.*tienda=tienda_08$/,
    )
    await ver.click()
    await poll(() => page.locator(`tr[data-id="${ids.failed}"]`).count()).toBe(1)
    await page.goto(`${base}/historial`)
    const categorias = await page.getByLabel('Categoría').locator('option').allTextContents()
    expect(categorias).toContain('VPN no responde (timeout de conexión)')
    expect(categorias).not.toContain('vpn_timeout')
    await page.goto(`${base}/historial`)
    const partial = (await page.locator(`tr[data-id="${ids.partial}"]`).textContent()) ?? ''
    expect(partial).toContain('45,2s')
    expect(partial).toContain('2.172')
    expect(partial).toMatch(/hace 1 hora/)
    expect(await page.locator('main').textContent()).toContain('Fecha/Hora en hora de las tiendas (America/Caracas)')
    await page.goto(`${base}/estadisticas?etl=xx&dias=7`)
    await poll(() => page.getByRole('status').filter({ hasText: 'No existe el ETL' }).textContent()).toContain('«xx»')
    const tiles = (await page.getByRole('region', { name: 'Resumen del período' }).textContent()) ?? ''
    expect(tiles).toContain('33,33 %')
    expect(tiles).toContain('1 exitosa')
    expect(tiles).toContain('1 parcial')
    expect(tiles).toContain('1 fallida')
    expect(tiles).not.toMatch(/\b1 (parciales|fallidas)\b/)
    // The run form: select all / none, every label whole.
    await page.goto(`${base}/ventas`)
    await hydrated(page)
    await page.getByRole('button', { name: 'Marcar todas', exact: true }).click()
    expect(await page.locator('input[name="tienda_ids"]:checked').count()).toBe(18)
    await page.getByRole('button', { name: 'Desmarcar todas' }).click()
    expect(await page.locator('input[name="tienda_ids"]:checked').count()).toBe(0)
    const cut = await page.evaluate(
      `[...document.querySelectorAll('fieldset label')].filter((l) => l.scrollWidth > l.clientWidth + 1 || l.scrollHeight > l.clientHeight + 1).length`,
    )
    expect(cut).toBe(0)
    await context.close()
  })

  test('the Ejecutando / en cola tile follows the stream when a run is queued and when it starts', async () => {
    const { context, page } = await session()
    await page.goto(`${base}/ventas`)
    const tile = page.locator('.tile').filter({ hasText: 'Ejecutando / en cola' }).locator('strong')
    // Connected, not just rendered: "Sin conexión en vivo" also contains "en vivo".
    await page.locator('.live.conectado').waitFor()
    const before = (await tile.textContent())!.split(' / ').map(Number)
    await page.evaluate(() => {
      ;(globalThis as unknown as { sinRecarga: boolean }).sinRecarga = true
    })
    const [row] = await database.sql<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, triggered_by, tiendas_count, tienda_ids)
      values ('ventas', 'manual', 'queued', 'fluxion_admin', 1, '{tienda_12}') returning id`
    await database.sql`select pg_notify('etl_events', ${JSON.stringify({ execution_id: row!.id })})`
    await poll(() => tile.textContent(), 15_000).toBe(`${before[0]} / ${before[1]! + 1}`)
    await database.sql`update etl_executions set status = 'running', started_at = now(), heartbeat_at = now() where id = ${row!.id}`
    await database.sql`select pg_notify('etl_events', ${JSON.stringify({ execution_id: row!.id })})`
    await poll(() => tile.textContent(), 15_000).toBe(`${before[0]! + 1} / ${before[1]}`)
    expect(await page.evaluate(() => (globalThis as unknown as { sinRecarga?: boolean }).sinRecarga)).toBe(true)
    await context.close()
  })

  test('automatic recovery: a gap shows its attempts and next try; pause and resume from Datos pendientes', async () => {
    await database.sql`
      insert into etl_gap_recovery (gap_id, tienda_id, attempts, last_attempt_at, next_attempt_at, last_outcome)
      values (${ids.partial}, 'tienda_17', 2, now() - interval '10 minutes', now() + interval '30 minutes', 'sin_respuesta')
      on conflict (gap_id, tienda_id) do update set attempts = 2, next_attempt_at = excluded.next_attempt_at`
    const paused = async () => (await database.sql`select paused, updated_by from etl_recovery_settings`)[0]
    const { context, page, errors } = await session()
    await page.goto(`${base}/ventas`)
    await hydrated(page)
    const fila = page
      .getByRole('region', { name: 'Tabla de datos pendientes' })
      .getByRole('row')
      .filter({ hasText: 'CUMANA' })
    await poll(() => fila.textContent()).toContain('2 intentos; próximo')
    const estado = page.getByText('Recuperación automática:')
    expect(await estado.textContent()).toContain('activa')
    await page.getByRole('button', { name: 'Pausar recuperación automática' }).click()
    await poll(() => estado.textContent()).toContain('en pausa')
    expect(await estado.textContent()).toContain(`pausada por ${EMAIL}`)
    expect(await paused()).toEqual({ paused: true, updated_by: EMAIL })
    // Kept across a reload: it is the runners' setting, not the page's.
    await page.reload()
    await poll(() => page.getByText('Recuperación automática:').textContent()).toContain('en pausa')
    await page.getByRole('button', { name: 'Reanudar recuperación automática' }).click()
    await poll(() => page.getByText('Recuperación automática:').textContent()).toContain('activa')
    expect((await paused())?.paused).toBe(false)
    expect(errors).toEqual([])
    await context.close()
  })

  test('sort by a column, several states, search by id; the CSV export is the filtered list', async () => {
    const { context, page } = await session()
    await page.goto(`${base}/historial`)
    await hydrated(page)
    await page.getByRole('link', { name: /^Duración/ }).click()
    await page.waitForURL(/orden=-duration_seconds/)
    const rowIds = () =>
      page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))))
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain('Duración')
    await page.getByRole('checkbox', { name: 'Parcial' }).check()
    await page.getByRole('checkbox', { name: 'Fallido' }).check()
    await page.getByRole('button', { name: 'Filtrar' }).click()
    await page.waitForURL(/estado=partial%2Cfailed|estado=partial,failed/)
    expect(new URL(page.url()).searchParams.get('orden')).toBe('-duration_seconds')
    await poll(rowIds).toEqual([ids.partial, ids.failed])
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Exportar CSV' }).click(),
    ])
    const csv = await readFile((await download.path())!, 'utf8')
    const [header, ...lines] = csv.trimEnd().split('\r\n')
    expect(header!.split(',')[0]).toBe('id')
    const csvRows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header!.split(',')[i], v])))
    expect(csvRows.map((r) => Number(r.id))).toEqual(await rowIds())
    const statuses = await page
      .locator('tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))
    expect(csvRows.map((r) => r.status)).toEqual(statuses)
    expect(csvRows.map((r) => Number(r.duration_seconds))).toEqual([45.2, 11.9])
    await page.getByLabel('N.º de ejecución').fill(String(ids.failed))
    await page.getByRole('button', { name: 'Filtrar' }).click()
    await page.waitForURL(new RegExp(`ejecucion=${ids.failed}`))
    await poll(rowIds).toEqual([ids.failed])
    await context.close()
  })

  test('per-store freshness: stale stores first, each with its lag, streak and own history', async () => {
    const { context, page } = await session()
    await page.goto(`${base}/tiendas?etl=ventas`)
    const rows = page.locator('tbody tr')
    await rows.first().waitFor()
    const flags = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-atrasada')))
    // Every stale row comes before every fresh one.
    expect(flags.indexOf('false') === -1 || flags.lastIndexOf('true') < flags.indexOf('false')).toBe(true)
    const valle = page.locator('tr[data-tienda="tienda_08"][data-etl="ventas"]')
    expect(await valle.textContent()).toContain('Nunca cargó')
    expect(await valle.textContent()).toContain('1 fallo')
    expect(await valle.getAttribute('data-atrasada')).toBe('true')
    const periferico = page.locator('tr[data-tienda="tienda_01"][data-etl="ventas"]')
    expect(await periferico.textContent()).toMatch(/hace 1 hora/)
    await valle.getByRole('link', { name: /^Historial/ }).click()
    await page.waitForURL(/tienda=tienda_08/)
    expect(new URL(page.url()).searchParams.get('tipo')).toBe('ventas')
    await poll(() => page.locator('tbody tr').count()).toBeGreaterThan(0)
    // The control center shows the stores that are behind before anything else.
    await page.goto(`${base}/ventas`)
    const firstSection = await page.locator('main section').first().getAttribute('aria-labelledby')
    expect(firstSection).toBe('frescura-titulo')
    expect(
      await page.locator('section[aria-labelledby="frescura-titulo"] tbody tr[data-atrasada="false"]').count(),
    ).toBe(0)
    await context.close()
  })

  // One test per width: each visits every page (and axe takes a while per page on a loaded machine).
  test.each([
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const)(
    '%s: no page wider than the viewport, and axe-core finds nothing on any page',
    async (_, viewport) => {
      const pages = [
        '/historial',
        '/historial?estado=failed,partial&orden=-records_loaded',
        `/historial/${ids.failed}`,
        `/historial/${ids.partial}`,
        '/ventas',
        '/inventario',
        '/estadisticas',
        '/estadisticas?etl=xx&dias=30',
        '/historial?pagina=99',
        '/tiendas',
        '/tiendas?etl=inventario',
        '/programacion',
        '/nada',
      ]
      const found: string[] = []
      {
        const { context, page } = await session(viewport)
        const check = async (what: string) => {
          const overflow = await horizontalOverflow(page)
          if (viewport === PHONE && overflow.over > 0)
            found.push(`${what} @390: ${overflow.over}px wider (${overflow.culprits.join(', ')})`)
          for (const v of await axeViolations(page)) {
            found.push(
              `${what} @${viewport.width}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
            )
          }
        }
        for (const path of pages) {
          await page.goto(`${base}${path}`)
          await hydrated(page)
          await check(path)
        }
        // The detail as a modal over the list, and the technical detail opened.
        await page.goto(`${base}/historial`)
        await hydrated(page)
        await page.getByRole('link', { name: `Ver detalle de la ejecución #${ids.failed}` }).click()
        await poll(() => page.getByRole('dialog').textContent()).toContain('Detalle por Tienda')
        await page.getByText('Detalle técnico').click()
        await check('modal')
        const detail = (await page.getByRole('dialog').locator('details pre').textContent()) ?? ''
        expect(detail).toContain('klk.ts:88')
        expect(detail).not.toMatch(/\/srv\/|node_modules/)
        await context.close()
        const anonymous = await browser!.newContext({ viewport, locale: 'es-VE' })
        const loginPage = await anonymous.newPage()
        await loginPage.goto(`${base}/login`)
        const overflow = await horizontalOverflow(loginPage)
        if (viewport === PHONE && overflow.over > 0) found.push(`/login @390: ${overflow.over}px wider`)
        for (const v of await axeViolations(loginPage)) found.push(`/login @${viewport.width}: ${v.id}`)
        await anonymous.close()
      }
      expect(found).toEqual([])
    },
    240_000,
  )
})
