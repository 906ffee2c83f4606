// The admin panel in a real browser against the real history API and PostgreSQL: the built
// SvelteKit server (scripts/start-admin.ts) and `node history-api/src/main.ts` as child
// processes on free ports, a super_admin user and a few executions seeded with SQL, then
// Chromium (playwright-core) logs in, reads the Spanish history table,
// filters it through the URL, opens and closes the detail modal and sees a running execution
// finish without a reload (API LISTEN/NOTIFY → API SSE → the panel's /eventos relay). The browser
// is the system Chromium, else the one npm installs (test/helpers/browser.ts).
import path from 'node:path'
import { DateTime } from 'luxon'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { hashPassword } from '../../history-api/src/login/passwords.ts'
import { type ReservedPort, reservePort } from '../../scripts/lib/reserved-port.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { ensureAdminBuild } from '../helpers/admin-build.ts'
import { startTestBoss } from '../helpers/api.ts'
import { launchBrowser } from '../helpers/browser.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addKlkStores, spawnTs, testEnv } from '../helpers/runner-kit.ts'
import {
  explained,
  login,
  poll,
  type Service,
  startService,
  stopService,
  submitLogin,
  waitForHttp,
} from './panel-kit.ts'

const EMAIL = 'operador@fluxion.test'
const PASSWORD = 'clave-de-prueba-e2e'
const SHOTS = process.env.E2E_SCREENSHOTS ?? '/tmp'

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000)

/** Three stores and four executions covering the labels the table must show. */
async function seed(db: TestDatabase['sql']) {
  await db`
    insert into tiendas (id, nombre, source_system, host, port, active) values
      ('tienda_01', 'PERIFERICO', 'klk', '127.0.0.1', 18101, true),
      ('tienda_08', 'VALLE FRIO', 'klk', '127.0.0.1', 18108, true),
      ('tienda_17', 'CUMANA', 'stellar', '127.0.0.1', 18117, true)`
  await db`
    insert into admin_users (email, password_hash, role)
    values (${EMAIL}, ${await hashPassword(PASSWORD)}, 'super_admin')`

  const [ok] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
      records_extracted, records_loaded, duplicates_skipped, tiendas_count, tiendas_exitosas, tiendas_fallidas,
      source_system, extract_duration_seconds, transform_duration_seconds, load_duration_seconds, tienda_ids)
    values ('inventario', 'scheduled', 'success', ${minutesAgo(180)}, ${minutesAgo(177.5)}, 150, 'scheduler',
      5400, 5400, 0, 3, 3, 0, 'mixed', 100, 20, 30, '{tienda_01,tienda_08,tienda_17}')
    returning id`
  const [failed] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
      records_extracted, records_loaded, tiendas_count, tiendas_exitosas, tiendas_fallidas, source_system,
      extract_duration_seconds, error_phase, error_category, error_source, error_message, tienda_ids)
    values ('ventas', 'scheduled', 'failed', ${minutesAgo(120)}, ${minutesAgo(119)}, 45.2, 'eventbridge',
      0, 0, 1, 0, 1, 'klk', 45.2, 'extract', 'vpn_timeout', 'klk_api',
      'Connection timeout after 10s to 127.0.0.1:18108', '{tienda_08}')
    returning id`
  await db`
    insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
      finished_at, duration_seconds, records_extracted, records_loaded, error_phase, error_category, error_message,
      attempts)
    values (${failed!.id}, 'tienda_08', 'VALLE FRIO', 'klk', 'failed', ${minutesAgo(120)}, ${minutesAgo(119)}, 45.2,
      0, 0, 'extract', 'vpn_timeout', 'Connection timeout after 10s', 3)`
  const [running] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, triggered_by, tiendas_count,
      tiendas_exitosas, source_system, current_phase, heartbeat_at, tienda_ids)
    values ('ventas', 'manual', 'running', ${minutesAgo(1)}, 'cli', 2, 1, 'klk', 'extract', now(),
      '{tienda_01,tienda_08}')
    returning id`
  await db`
    insert into etl_executions (etl_name, etl_type, status, triggered_by, tiendas_count, tienda_ids)
    values ('ventas', 'manual', 'queued', 'fluxion_admin', 1, '{tienda_17}')`
  return { ok: ok!.id, failed: failed!.id, running: running!.id }
}

// Server round trips (a cold API, scrypt on login) can take longer than expect.poll's 1 s default.

const tableRow = (page: Page, id: number) => page.locator(`tr[data-id="${id}"]`)

describe('admin panel in Chromium', () => {
  let database: TestDatabase
  let api: Service | undefined
  let admin: Service | undefined
  let browser: Browser | undefined
  let base = ''
  let ids: Awaited<ReturnType<typeof seed>>
  let ports: ReservedPort[] = []

  beforeAll(async () => {
    // Built when the sources changed since the last build (a build of older sources would test old code).
    await ensureAdminBuild()

    database = await createTestDatabase()
    const boss = await startTestBoss(database.url) // pg-boss's schema, which the runner would install
    await boss.stop({ graceful: false })
    ids = await seed(database.sql)

    // Held until the end (reserved-port.ts): each service binds its port with nothing able to take it first.
    ports = [await reservePort(), await reservePort()]
    const [apiPort, adminPort] = ports.map((p) => p.port)
    api = startService('history-api', 'history-api/src/main.ts', {
      DATABASE_URL: database.url,
      AUTH_JWT_SECRET: 'e2e-secret-long-enough-for-hs256-0123456789abcdef',
      HISTORY_API_PORT: String(apiPort),
      HISTORY_API_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    })
    await waitForHttp(api, `http://127.0.0.1:${apiPort}/healthz`)
    admin = startService('admin', 'scripts/start-admin.ts', {
      ADMIN_PORT: String(adminPort),
      HISTORY_API_URL: `http://127.0.0.1:${apiPort}`,
    })
    base = `http://127.0.0.1:${adminPort}`
    await waitForHttp(admin, `${base}/login`)

    browser = await launchBrowser()
  })

  afterAll(async () => {
    await browser?.close()
    await stopService(admin)
    await stopService(api)
    await database?.drop()
    for (const p of ports) p.release()
  })

  test('log in, read the history in Spanish, filter by URL, open and close the detail, see live status', async () => {
    const page = await browser!.newPage({ viewport: { width: 1366, height: 900 }, locale: 'es-VE' })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))

    // Unauthenticated → /login; wrong password → a Spanish error; right one → back to the history.
    await page.goto(`${base}/historial`)
    await poll(() => new URL(page.url()).pathname).toBe('/login')
    await submitLogin(page, { email: EMAIL, password: 'equivocada' })
    await poll(() => page.getByRole('alert').textContent()).toContain('Correo o contraseña incorrectos')
    await page.getByLabel('Contraseña').fill(PASSWORD)
    await page.getByRole('button', { name: 'Entrar' }).click()
    await page.waitForURL(`${base}/historial`)
    const cookies = await page.context().cookies()
    expect(cookies.find((c) => c.name === 'fluxion_sesion')).toMatchObject({ httpOnly: true, sameSite: 'Lax' })

    // The table: queued first, then newest; the plan's columns and Spanish labels.
    await tableRow(page, ids.failed).waitFor()
    const ok = tableRow(page, ids.ok)
    await poll(() => ok.textContent()).toContain('Éxito')
    expect(await ok.textContent()).toContain('2m 30s')
    expect(await ok.textContent()).toContain('3 ✓ / 0 ✗ / 3 total')
    expect(await ok.textContent()).toContain('5.400')
    expect(await ok.textContent()).toContain('Programado')
    const failedText = await tableRow(page, ids.failed).textContent()
    expect(failedText).toContain('Fallido')
    expect(failedText).toContain('45,2s')
    expect(failedText).toContain('vpn_timeout')
    expect(failedText).toContain('AWS')
    expect(await tableRow(page, ids.running).textContent()).toContain('Ejecutando')
    expect(await page.locator('tbody tr').first().textContent()).toContain('En cola')
    await poll(() => page.getByRole('status').filter({ hasText: 'En vivo' }).count()).toBe(1)
    await page.screenshot({ path: path.join(SHOTS, 'admin-historial.png'), fullPage: true })

    // Live: the running execution finishes in the database; its row changes without a reload.
    await page.evaluate(() => {
      ;(globalThis as unknown as { sinRecarga: boolean }).sinRecarga = true
    })
    await database.sql`
      update etl_executions set status = 'success', finished_at = now(), duration_seconds = 61,
        tiendas_exitosas = 2, records_loaded = 2500, current_phase = null
      where id = ${ids.running}`
    await database.sql`select pg_notify('etl_events', ${JSON.stringify({ execution_id: ids.running })})`
    await poll(() => tableRow(page, ids.running).textContent(), 15_000).toContain('Éxito')
    expect(await page.evaluate(() => (globalThis as unknown as { sinRecarga?: boolean }).sinRecarga)).toBe(true)

    // Filter by estado: the URL carries it, only failed executions remain.
    await page.getByRole('checkbox', { name: 'Fallido' }).check()
    await page.getByRole('button', { name: 'Filtrar' }).click()
    await page.waitForURL(/estado=failed/)
    await poll(() => page.locator('tbody tr').count()).toBe(1)
    expect(await page.locator('tbody tr').first().getAttribute('data-id')).toBe(String(ids.failed))

    // The detail opens as a modal over the list, at /historial/{id}; Esc closes it.
    await page.getByRole('link', { name: `Ver detalle de la ejecución #${ids.failed}` }).click()
    const dialog = page.getByRole('dialog')
    await explained(page, errors, dialog.waitFor())
    await poll(() => new URL(page.url()).pathname).toBe(`/historial/${ids.failed}`)
    await poll(() => dialog.getByRole('heading', { level: 2 }).textContent()).toContain(`Ejecución #${ids.failed}`)
    // The detail arrives by a fetch through the panel's server to the API: on a 2-core machine running
    // two test files beside other work it once took longer than the default 10 s.
    await poll(() => dialog.textContent(), 30_000).toContain('Detalle por Tienda')
    const text = (await dialog.textContent()) ?? ''
    for (const part of ['Ventas', 'Duración Total', 'Registros Cargados', 'Duplicados Omitidos', 'Sistema Origen']) {
      expect(text).toContain(part)
    }
    for (const part of ['Extracción', 'Transformación', 'Carga', 'Error en Extracción', 'API KLK', 'VALLE FRIO']) {
      expect(text).toContain(part)
    }
    expect(await dialog.locator('pre').first().textContent()).toContain(
      'Connection timeout after 10s to 127.0.0.1:18108',
    )
    expect(await dialog.locator('tr.con-error').count()).toBe(1)
    await page.screenshot({ path: path.join(SHOTS, 'admin-detalle-modal.png') })
    await page.keyboard.press('Escape')
    await poll(() => page.getByRole('dialog').count()).toBe(0)
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/historial?estado=failed')

    // The same detail is a page of its own when the URL is opened directly.
    await page.goto(`${base}/historial/${ids.failed}`)
    await poll(() => page.getByRole('heading', { level: 2 }).first().textContent()).toContain(
      `Ejecución #${ids.failed} - Ventas`,
    )

    // A filter that matches nothing says so, naming the filters as the reason.
    await page.goto(`${base}/historial?estado=partial`)
    await poll(() => page.getByText('Ninguna ejecución coincide con los filtros activos').count()).toBe(1)

    // Manual run from the Ventas tab: 202 → "Ejecución #N en cola"; the same store again → 409;
    // a window upside down → 422 naming the field by its Spanish label.
    await page.goto(`${base}/ventas`)
    await page.getByLabel('PERIFERICO').check()
    await page.getByRole('button', { name: 'Ejecutar ETL de Ventas' }).click()
    await poll(() => page.getByRole('status').filter({ hasText: 'en cola' }).textContent()).toMatch(
      /Ejecución #\d+ en cola \(1 tienda\)/,
    )
    const [queued] = await database.sql<{ status: string; triggered_by: string }[]>`
      select status, triggered_by from etl_executions where tienda_ids = '{tienda_01}' and status = 'queued'`
    expect(queued).toEqual({ status: 'queued', triggered_by: 'fluxion_admin' })
    await page.getByLabel('PERIFERICO').check()
    await page.getByRole('button', { name: 'Ejecutar ETL de Ventas' }).click()
    await poll(() => page.getByRole('alert').textContent()).toContain('Ya hay una ejecución en cola o en curso')
    await page.getByLabel('CUMANA').check()
    await page.getByLabel('Fecha inicio').fill('2026-01-26T10:00:00')
    await page.getByLabel('Fecha fin').fill('2026-01-25T10:00:00')
    await page.getByRole('button', { name: 'Ejecutar ETL de Ventas' }).click()
    await poll(() => page.getByRole('alert').textContent()).toContain('Fecha inicio')
    await page.screenshot({ path: path.join(SHOTS, 'admin-ventas.png'), fullPage: true })

    // Statistics render their charts; a phone-sized viewport turns the table into cards.
    await page.goto(`${base}/estadisticas?dias=7`)
    await poll(() => page.locator('canvas').count()).toBeGreaterThan(0)
    await page.screenshot({ path: path.join(SHOTS, 'admin-estadisticas.png'), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${base}/historial`)
    await tableRow(page, ids.failed).waitFor()
    await page.screenshot({ path: path.join(SHOTS, 'admin-movil.png') })

    expect(errors).toEqual([])
    await page.close()
  })
  // Issue 9: a run that fails over the VPN shows which store failed at which address, how.
  test('the diagnosis of a run through npm run etl: each failed store’s ip:port, row click and Enter, KLK-only inventario, TZ_TIENDAS', async () => {
    const stores: KlkStore[] = await addKlkStores(database.sql, [
      { tiendaId: 'tienda_41', host: '127.0.0.41' },
      { tiendaId: 'tienda_42', host: '127.0.0.42', fault: 'refuse' },
      { tiendaId: 'tienda_43', host: '127.0.0.43', fault: 'slow_connect' },
      { tiendaId: 'tienda_44', host: '127.0.0.44', fault: 'http_500' },
    ])
    const extra: Service[] = []
    try {
      const cli = spawnTs(
        'runner/src/cli/main.ts',
        [
          'ventas',
          '--tiendas',
          stores.map((s) => s.tiendaId).join(','),
          '--desde',
          '2026-11-02T08:00:00-04:00',
          '--hasta',
          '2026-11-02T09:00:00-04:00',
        ],
        testEnv(database.url, { SOURCE_CONNECT_TIMEOUT_MS: '1000' }),
      )
      expect(await cli.exited, cli.output()).toBe(0)
      const [run] = await database.sql<{ id: number }[]>`select id from etl_executions order by id desc limit 1`

      const page = await browser!.newPage({ viewport: { width: 1366, height: 900 }, locale: 'es-VE' })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await login(page, base, { email: EMAIL, password: PASSWORD })

      // A click anywhere on the row (not its link) opens the detail; each failed store's address is there.
      await tableRow(page, run!.id).locator('td').nth(2).click()
      const dialog = page.getByRole('dialog')
      await explained(page, errors, dialog.waitFor())
      await poll(() => dialog.textContent()).toContain('Detalle por Tienda')
      const text = (await dialog.textContent()) ?? ''
      for (const s of stores.slice(1)) expect(text, s.tiendaId).toContain(`${s.host}:${s.port}`)
      expect(text).toContain('Red')
      expect(text).toContain('Solicitudes')
      expect(text).toContain('Insertados/actualizados')
      await page.screenshot({ path: path.join(SHOTS, 'admin-diagnostico.png'), fullPage: true })
      await page.keyboard.press('Escape')
      await poll(() => page.getByRole('dialog').count()).toBe(0)

      // Enter on the focused row opens it too.
      await tableRow(page, run!.id).focus()
      await page.keyboard.press('Enter')
      await explained(page, errors, page.getByRole('dialog').waitFor())
      await poll(() => new URL(page.url()).pathname).toBe(`/historial/${run!.id}`)
      await page.keyboard.press('Escape')

      // Inventario offers only the stores it can read (KLK) and counts only those.
      const [{ klk }] = (await database.sql`
        select count(*)::int as klk from tiendas where active and source_system = 'klk'`) as unknown as [
        { klk: number },
      ]
      await page.goto(`${base}/inventario`)
      await poll(() => page.getByText(`las ${klk} tiendas KLK activas`).count()).toBe(1)
      expect(await page.getByLabel('CUMANA').count()).toBe(0)
      expect(await page.getByLabel('PERIFERICO').count()).toBe(1)

      // Dates follow the API's TZ_TIENDAS: the same history through an API configured for Kolkata.
      const kolkataPorts = [await reservePort(), await reservePort()]
      ports.push(...kolkataPorts)
      const [apiPort, adminPort] = kolkataPorts.map((p) => p.port)
      extra.push(
        startService('history-api (Asia/Kolkata)', 'history-api/src/main.ts', {
          DATABASE_URL: database.url,
          AUTH_JWT_SECRET: 'e2e-secret-long-enough-for-hs256-0123456789abcdef',
          HISTORY_API_PORT: String(apiPort),
          HISTORY_API_HOST: '127.0.0.1',
          TZ_TIENDAS: 'Asia/Kolkata',
          LOG_LEVEL: 'warn',
        }),
      )
      await waitForHttp(extra[0]!, `http://127.0.0.1:${apiPort}/healthz`)
      extra.push(
        startService('admin (Asia/Kolkata)', 'scripts/start-admin.ts', {
          ADMIN_PORT: String(adminPort),
          HISTORY_API_URL: `http://127.0.0.1:${apiPort}`,
        }),
      )
      const kolkata = `http://127.0.0.1:${adminPort}`
      await waitForHttp(extra[1]!, `${kolkata}/login`)
      // Cookies are per host, not per port: the session (same token secret) carries over.
      await page.goto(`${kolkata}/historial`)
      const [ok] = await database.sql<
        { started_at: Date }[]
      >`select started_at from etl_executions where id = ${ids.ok}`
      await poll(() => tableRow(page, ids.ok).textContent()).toContain(
        DateTime.fromJSDate(ok!.started_at, { zone: 'Asia/Kolkata' }).toFormat('dd/MM/yyyy HH:mm:ss'),
      )
      await page.goto(`${kolkata}/ventas`)
      // Every list names the zone its times are in: the configured one, never the built-in default.
      await poll(() => page.getByText('hora de las tiendas (Asia/Kolkata)', { exact: false }).count()).toBeGreaterThan(
        0,
      )
      expect(await page.getByText('America/Caracas', { exact: false }).count()).toBe(0)
      expect(errors).toEqual([])
      await page.close()
    } finally {
      for (const service of extra) await stopService(service)
      await Promise.all(stores.map((s) => s.close()))
    }
  })
})
