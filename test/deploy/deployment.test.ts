// README "Deployment", command by command, as an operator runs it (only ports and hosts are the
// test's): `npm run migrate` as the release step on an empty database, then `npm run start:api`,
// two `npm run start:runner` at once, `npm run build` + `npm run start:admin` with ORIGIN (the
// panel behind TLS), `npm run user:add` and `npm run token`. A run requested through the API is
// executed exactly once by one of the two runners; /healthz and /readyz say what the README says;
// the panel logs in with the ORIGIN the browser uses; every service stops cleanly on SIGTERM.
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, expect, inject, test } from 'vitest'
import { type ReservedPort, reservePort } from '../../scripts/lib/reserved-port.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { ensureAdminBuild } from '../helpers/admin-build.ts'
import { type Command, npm, stopAll, waitForHttp } from '../helpers/commands.ts'
import { cleanEnv } from '../helpers/env.ts'
import { adminSql, urlFor } from '../helpers/pg-admin.ts'
import { addKlkStores, KLK_TOKEN, waitFor } from '../helpers/runner-kit.ts'

const SECRET = randomBytes(24).toString('hex')
const ORIGIN = 'https://panel.fluxion.example'
const cleanups: (() => Promise<unknown>)[] = []
const held: ReservedPort[] = []

afterAll(async () => {
  await stopAll()
  for (const fn of cleanups.reverse()) await fn().catch(() => {})
  for (const p of held) p.release()
})

async function heldPort() {
  const p = await reservePort()
  held.push(p)
  return p.port
}

/** A command that runs to completion; its output when it succeeded. */
async function run(cmd: Command): Promise<string> {
  const code = await cmd.exited
  expect(code, cmd.output()).toBe(0)
  return cmd.output()
}

test('the README deployment: migrate, API, two runners, admin behind TLS, a user, a token, a run done once', async () => {
  const name = `fluxion_test_${inject('runId')}_deploy_${randomBytes(3).toString('hex')}`
  const admin = adminSql()
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  cleanups.push(async () => {
    const a = adminSql()
    await a.unsafe(`drop database if exists "${name}" with (force)`)
    await a.end()
  })
  const DATABASE_URL = urlFor(name)

  // Release step.
  await run(npm('migrate', ['run', 'migrate'], cleanEnv({ DATABASE_URL })))
  const db = postgres(DATABASE_URL, { max: 2, onnotice: () => {} })
  cleanups.push(() => db.end())
  const stores: KlkStore[] = await addKlkStores(db, [{ tiendaId: 'tienda_01' }, { tiendaId: 'tienda_02' }])
  cleanups.push(() => Promise.all(stores.map((s) => s.close())))

  // The history API.
  const apiPort = await heldPort()
  const api = npm(
    'start:api',
    ['run', 'start:api'],
    cleanEnv({
      DATABASE_URL,
      AUTH_JWT_SECRET: SECRET,
      HISTORY_API_HOST: '127.0.0.1',
      HISTORY_API_PORT: String(apiPort),
    }),
  )
  const apiUrl = `http://127.0.0.1:${apiPort}`
  await waitForHttp(api, `${apiUrl}/healthz`)
  expect(await (await fetch(`${apiUrl}/healthz`)).json()).toEqual({ status: 'ok' })
  const ready = await fetch(`${apiUrl}/readyz`)
  expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok', database: 'ok', schema: 'ok' }])

  // Two runners at once (cron off: only the requested run happens during the test).
  const runnerEnv = cleanEnv({
    DATABASE_URL,
    KLK_API_TOKEN: KLK_TOKEN,
    STELLAR_USER: 'etl_reader',
    STELLAR_PASSWORD: 'not-used-here',
    VENTAS_CRON: 'off',
    INVENTARIO_CRON: 'off',
  })
  const runners = [
    npm('runner 1', ['run', 'start:runner'], runnerEnv),
    npm('runner 2', ['run', 'start:runner'], runnerEnv),
  ]
  for (const r of runners) await r.waitForOutput(/runner started/)

  // The admin behind TLS: built, then started with the URL browsers use.
  await ensureAdminBuild() // `npm run build`, when the sources changed since the last build
  const adminPort = await heldPort()
  const panel = npm(
    'start:admin',
    ['run', 'start:admin'],
    cleanEnv({ HISTORY_API_URL: apiUrl, ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), ORIGIN }),
  )
  const panelUrl = `http://127.0.0.1:${adminPort}`
  await waitForHttp(panel, `${panelUrl}/login`)

  // The first user, and a token for scripts.
  await run(
    npm(
      'user:add',
      ['run', 'user:add', '--', 'ops@fluxion.example', '--role', 'super_admin'],
      cleanEnv({ DATABASE_URL, ADMIN_PASSWORD: 'una-clave-larga' }),
    ),
  )
  const tokenOutput = await run(
    npm('token', ['run', 'token', '--', '--role', 'super_admin'], cleanEnv({ AUTH_JWT_SECRET: SECRET })),
  )
  const token = tokenOutput.trim().split('\n').at(-1)!
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)

  // A run through the API: done once, by one of the two runners.
  const res = await fetch(`${apiUrl}/api/etl/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ etl_name: 'ventas', fecha_inicio: '2026-11-02 08:00:00', fecha_fin: '2026-11-02 10:00:00' }),
  })
  expect(res.status, await res.clone().text()).toBe(202)
  const { execution_id: id } = (await res.json()) as { execution_id: number }
  const done = await waitFor(
    'the run to finish',
    async () =>
      (
        await db`select status, tiendas_exitosas from etl_executions where id = ${id} and status not in ('queued', 'running')`
      )[0],
    60_000,
  )
  expect(done).toEqual({ status: 'success', tiendas_exitosas: 2 })
  expect(await db`select count(*)::int as n from etl_executions`).toEqual([{ n: 1 }])
  expect(stores.map((s) => s.requests > 0)).toEqual([true, true])

  // The panel: the login form with the Origin browsers send; the session cookie is Secure.
  const login = await fetch(`${panelUrl}/login?/entrar`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ email: 'ops@fluxion.example', password: 'una-clave-larga', volver: '/' }),
  })
  expect(login.status).toBe(303)
  expect(login.headers.get('set-cookie')).toMatch(/fluxion_sesion=.+; .*Secure/i)

  // SIGTERM stops each cleanly (what a process manager sends).
  for (const service of [panel, ...runners, api]) {
    process.kill(service.child.pid!, 'SIGTERM')
    expect(await service.exited, `${service.name}:\n${service.output().slice(-3000)}`).toBe(0)
  }
})
