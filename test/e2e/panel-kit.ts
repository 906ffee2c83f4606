// What the panel's browser tests share: the built admin and the history API as child processes
// on held ports over a per-file database, Chromium through playwright-core (test/helpers/browser.ts,
// as admin.test.ts), a seeded history a new user would recognise, and axe-core injected into pages.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Sql } from 'postgres'
import { expect } from 'vitest'
import { hashPassword } from '../../history-api/src/login/passwords.ts'
import { reservePort } from '../../scripts/lib/reserved-port.ts'
import { ensureAdminBuild } from '../helpers/admin-build.ts'
import { launchBrowser } from '../helpers/browser.ts'

/** Polls until the assertion holds, 10 s by default (pages hydrate and stream). */
export const poll = <T>(fn: () => T | Promise<T>, timeout = 10_000) => expect.poll(fn, { timeout })
export const DESKTOP = { width: 1440, height: 900 }
export const PHONE = { width: 390, height: 844 }

export const ROOT = path.join(import.meta.dirname, '..', '..')
export const EMAIL = 'operador@fluxion.test'
export const PASSWORD = 'clave-de-prueba-panel'
export const JWT_SECRET = 'panel-e2e-secret-long-enough-for-hs256-0123456789'

export type Service = { name: string; child: ChildProcess; output: () => string }

/** A port held by this process until it exits (reserved-port.ts): a child binds it, nothing else can. */
export async function heldPort(): Promise<number> {
  return (await reservePort()).port
}

export function startService(name: string, script: string, env: Record<string, string>): Service {
  const child = spawn(process.execPath, [path.join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { name, child, output: () => output }
}

export async function waitForHttp(service: Service, url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with ${service.child.exitCode}:\n${service.output()}`)
    }
    try {
      const res = await fetch(url, { redirect: 'manual' })
      if (res.status < 500) return
    } catch {}
    if (Date.now() > deadline) throw new Error(`${service.name} did not answer ${url}:\n${service.output()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function stopService(service: Service | undefined) {
  if (!service || service.child.exitCode !== null) return
  const exited = new Promise((r) => service.child.once('exit', r))
  service.child.kill('SIGTERM')
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 8_000)
  await exited
  clearTimeout(timer)
}

/** The admin build of the current sources (made only when they changed; serialised across runs). */
export const buildAdmin = ensureAdminBuild

export async function startApi(databaseUrl: string, port: number) {
  const api = startService('history-api', 'history-api/src/main.ts', {
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: JWT_SECRET,
    HISTORY_API_PORT: String(port),
    HISTORY_API_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  })
  await waitForHttp(api, `http://127.0.0.1:${port}/healthz`)
  return api
}

export async function startAdmin(apiUrl: string, port: number) {
  const admin = startService('admin', 'scripts/start-admin.ts', { ADMIN_PORT: String(port), HISTORY_API_URL: apiUrl })
  await waitForHttp(admin, `http://127.0.0.1:${port}/login`)
  return admin
}

/** The system Chromium when one runs, else the one npm installed (test/helpers/browser.ts). */
export const launchChromium = (): Promise<Browser> => launchBrowser()

export type Panel = { base: string; browser: Browser; api: Service; admin: Service; close: () => Promise<void> }

/** The history API and the built admin over `databaseUrl`, each on a held port, and Chromium. */
export async function startPanel(databaseUrl: string): Promise<Panel> {
  const [apiPort, adminPort] = [await heldPort(), await heldPort()]
  const api = await startApi(databaseUrl, apiPort)
  const admin = await startAdmin(`http://127.0.0.1:${apiPort}`, adminPort)
  const browser = await launchChromium()
  return {
    base: `http://127.0.0.1:${adminPort}`,
    browser,
    api,
    admin,
    async close() {
      await browser.close()
      await stopService(admin)
      await stopService(api)
    },
  }
}

export type Session = { context: BrowserContext; page: Page; errors: string[] }

/** A logged-in page of its own (Spanish locale), collecting the page's uncaught errors. */
export async function openSession(
  panel: Pick<Panel, 'browser' | 'base'>,
  o: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean; acceptDownloads?: boolean } = {},
): Promise<Session> {
  const context = await panel.browser.newContext({
    viewport: o.viewport ?? DESKTOP,
    locale: 'es-VE',
    javaScriptEnabled: o.javaScriptEnabled ?? true,
    acceptDownloads: o.acceptDownloads ?? false,
  })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await login(page, panel.base)
  return { context, page, errors }
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000)

const NOMBRES = [
  'PERIFERICO',
  'LA GUAIRA',
  'EL TIGRE',
  'PARAISO',
  'CENTRO',
  'BOLEITA',
  'SAN DIEGO',
  'VALLE FRIO',
  'CATIA',
  'GUARENAS',
  'LOS TEQUES',
  'MATURIN',
  'PUERTO ORDAZ',
  'BARCELONA',
  'CARUPANO',
  'MARGARITA',
  'CUMANA',
  'PUERTO LA CRUZ ORIENTE',
  'ALTAGRACIA DE ORITUCO',
]

export const TRACE = [
  'TypeError: fetch failed',
  '    at fetch (/srv/fluxion/node_modules/undici/index.js:120:13)',
  '    at async fetchPage (/srv/fluxion/runner/src/sources/klk.ts:88:19)',
  'Caused by: ConnectTimeoutError: Connect Timeout Error (attempted address: 127.0.0.1:18108, timeout: 10000ms)',
  '    at onConnectTimeout (/srv/fluxion/node_modules/undici/lib/core/connect.js:237:24)',
].join('\n')

/** The chain's 19 stores (tienda_17 on Stellar), a user, five executions, two active alerts. */
export async function seedPanel(db: Sql) {
  for (const [i, nombre] of NOMBRES.entries()) {
    const n = String(i + 1).padStart(2, '0')
    await db`
      insert into tiendas (id, nombre, source_system, host, port, active)
      values (${`tienda_${n}`}, ${nombre}, ${i + 1 === 17 ? 'stellar' : 'klk'}, '127.0.0.1', ${18100 + i + 1}, ${i + 1 !== 19})`
  }
  await db`
    insert into admin_users (email, password_hash, role)
    values (${EMAIL}, ${await hashPassword(PASSWORD)}, 'super_admin')`
  const insert = (row: Record<string, unknown>) =>
    db<{ id: number }[]>`insert into etl_executions ${db(row)} returning id`.then((r) => r[0]!.id)
  const ok = await insert({
    etl_name: 'inventario',
    etl_type: 'scheduled',
    status: 'success',
    started_at: minutesAgo(180),
    finished_at: minutesAgo(177.5),
    duration_seconds: 150,
    triggered_by: 'scheduler',
    records_extracted: 5400,
    records_loaded: 5400,
    tiendas_count: 3,
    tiendas_exitosas: 3,
    tiendas_fallidas: 0,
    source_system: 'klk',
    tienda_ids: db.array(['tienda_01', 'tienda_02', 'tienda_08']),
  })
  const failed = await insert({
    etl_name: 'ventas',
    etl_type: 'scheduled',
    status: 'failed',
    started_at: minutesAgo(120),
    finished_at: minutesAgo(119),
    duration_seconds: 11.9,
    triggered_by: 'eventbridge',
    records_extracted: 0,
    records_loaded: 0,
    tiendas_count: 1,
    tiendas_exitosas: 0,
    tiendas_fallidas: 1,
    source_system: 'klk',
    extract_duration_seconds: 11.9,
    error_phase: 'extract',
    error_category: 'vpn_timeout',
    error_source: 'klk_api',
    error_message: 'Connection timeout after 10s to 127.0.0.1:18108',
    error_detail: TRACE,
    fecha_desde: minutesAgo(24 * 60),
    fecha_hasta: minutesAgo(120),
    tienda_ids: db.array(['tienda_08']),
  })
  await db`
    insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
      finished_at, duration_seconds, records_extracted, records_loaded, error_phase, error_category, error_message,
      attempts, server_ip, server_port, connection_latency_ms)
    values (${failed}, 'tienda_08', 'VALLE FRIO', 'klk', 'failed', ${minutesAgo(120)}, ${minutesAgo(119)}, 11.9,
      0, 0, 'extract', 'vpn_timeout', 'Connection timeout after 10s to 127.0.0.1:18108 (attempt 3 of 3)', 3,
      '127.0.0.1', 18108, null)`
  const partial = await insert({
    etl_name: 'ventas',
    etl_type: 'manual',
    status: 'partial',
    started_at: minutesAgo(60),
    finished_at: minutesAgo(59),
    duration_seconds: 45.2,
    triggered_by: 'fluxion_admin',
    records_extracted: 2172,
    records_loaded: 2172,
    duplicates_skipped: 3,
    tiendas_count: 2,
    tiendas_exitosas: 1,
    tiendas_fallidas: 1,
    source_system: 'mixed',
    error_phase: 'load',
    error_category: 'pg_timeout',
    error_source: 'postgresql',
    fecha_desde: minutesAgo(24 * 60),
    fecha_hasta: minutesAgo(60),
    tienda_ids: db.array(['tienda_01', 'tienda_17']),
  })
  await db`
    insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
      finished_at, duration_seconds, records_extracted, records_loaded, duplicates_skipped, error_phase,
      error_category, error_message, attempts)
    values
      (${partial}, 'tienda_01', 'PERIFERICO', 'klk', 'success', ${minutesAgo(60)}, ${minutesAgo(59.5)}, 30, 2172, 2172, 3,
        null, null, null, 1),
      (${partial}, 'tienda_17', 'CUMANA', 'stellar', 'failed', ${minutesAgo(60)}, ${minutesAgo(59)}, 45.2, 0, 0, 0,
        'load', 'pg_timeout', 'canceling statement due to statement timeout', 2)`
  const running = await insert({
    etl_name: 'ventas',
    etl_type: 'manual',
    status: 'running',
    started_at: minutesAgo(1),
    triggered_by: 'cli',
    tiendas_count: 2,
    tiendas_exitosas: 1,
    source_system: 'klk',
    current_phase: 'extract',
    heartbeat_at: new Date(),
    tienda_ids: db.array(['tienda_02', 'tienda_03']),
  })
  const queued = await insert({
    etl_name: 'inventario',
    etl_type: 'manual',
    status: 'queued',
    triggered_by: 'fluxion_admin',
    tiendas_count: 1,
    tienda_ids: db.array(['tienda_05']),
  })
  await db`
    insert into etl_alerts (tipo, etl_name, tienda_id, mensaje, valor, umbral) values
      ('success_rate_low', 'ventas', null, 'Tasa de éxito de ventas en las últimas 24 h: 0.00 % (umbral 80.00 %)', 0, 80),
      ('tienda_consecutive_failures', 'ventas', 'tienda_08', 'La tienda tienda_08 falló 6 veces seguidas en ventas', 6, 5)`
  return { ok, failed, partial, running, queued }
}

/** Fills and sends the login form on the page shown, once it is hydrated. */
export async function submitLogin(page: Page, user: { email: string; password: string }) {
  // Typed before hydration, the fields would be reset by it (and `required` then blocks the submit).
  await page.waitForLoadState('networkidle')
  await page.getByLabel('Correo').fill(user.email)
  await page.getByLabel('Contraseña').fill(user.password)
  await page.getByRole('button', { name: 'Entrar' }).click()
}

export async function login(page: Page, base: string, user = { email: EMAIL, password: PASSWORD }) {
  await page.goto(`${base}/login`)
  await submitLogin(page, user)
  try {
    await page.waitForURL((url) => !url.pathname.startsWith('/login'), { timeout: 20_000 })
  } catch (error) {
    const body = await page
      .locator('body')
      .textContent()
      .catch(() => '')
    throw new Error(`login did not leave ${page.url()}: ${body?.slice(0, 300)}`, { cause: error })
  }
}

/**
 * Runs a browser step; when it fails, its error also names where the page was, its history state
 * and the errors the page threw (a flaky step in a loaded CI run leaves nothing else to read).
 */
export async function explained<T>(page: Page, errors: string[], step: Promise<T>): Promise<T> {
  try {
    return await step
  } catch (error) {
    const state = await page
      .evaluate(() => JSON.stringify((globalThis as unknown as { history: { state: unknown } }).history.state))
      .catch(() => '(unreadable)')
    const where = `page ${page.url()}; history.state ${state}; page errors: ${errors.join(' | ') || 'none'}`
    if (error instanceof Error) error.message += `\n${where}`
    throw error
  }
}

/**
 * Waits until an app page is hydrated (its live indicator leaves the server-rendered "Sin
 * conexión" state): what is typed or checked before hydration can be reset by it.
 */
export async function hydrated(page: Page) {
  await page.locator('.live:not(.apagado)').waitFor()
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/** axe-core's WCAG 2.x A/AA and best-practice rules on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.addScriptTag({ content: AXE })
  // Strings: the code runs in the page, whose DOM types this Node-typed project does not load.
  return page.evaluate(`(async () => {
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    })
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })),
    }))
  })()`)
}

/** How far the page is wider than the viewport (0 when it fits), naming the outermost culprits. */
export async function horizontalOverflow(page: Page): Promise<{ over: number; culprits: string[] }> {
  return page.evaluate(`(() => {
    const W = window.innerWidth
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > W + 0.5
        && (el.parentElement?.getBoundingClientRect().right ?? 0) <= W + 0.5)
      .slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + '.' + el.className + ' → ' + Math.round(el.getBoundingClientRect().right))
    return { over: document.documentElement.scrollWidth - W, culprits }
  })()`)
}
