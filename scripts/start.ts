// npm start — the whole product on one machine: PostgreSQL (embedded in .data/pg unless
// DATABASE_URL is set), migrations, the demo chain (19 stores on loopback stand-ins; with
// DATABASE_URL only with --demo), then runner, history-api and admin. Their logs go to
// .data/logs/ (live with --verbose or LOG_LEVEL); once everything answers it prints, together:
//   Admin: <url>
//   API docs: <url>
//   Login: <email> / <password>
//   DATABASE_URL=<url>
// Ctrl-C, or SIGTERM to npm or to this process, stops everything and exits 0. Any problem of the
// environment (a port taken, .data/ not writable, no disk space, binaries that cannot run) stops
// it within seconds with one line saying what to do.
import { appendFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import { type Child, startChild, stopChildren } from './demo/children.ts'
import { replayDemoHistory } from './demo/replay.ts'
import { setUpDemo } from './demo/setup.ts'
import { type DemoState, demoState } from './demo/state.ts'
import type { RunningStandIns } from './demo/stores.ts'
import { describeUrl, EMBEDDED_PG_PORT } from './lib/database-url.ts'
import { type EmbeddedPg, startEmbeddedPostgres } from './lib/embedded-pg.ts'
import { migrateUp } from './lib/migrations.ts'
import { type ReservedPort, reservePort } from './lib/reserved-port.ts'
import { StartupError } from './lib/startup-error.ts'
import { parseStartArgs, USAGE } from './start/cli.ts'
import { openServiceLog } from './start/service-logs.ts'

const root = path.join(import.meta.dirname, '..')
const dataDir = path.join(root, '.data')
const logsDir = path.join(dataDir, 'logs')
const env = process.env
const say = (line: string) => process.stdout.write(`[start] ${line}\n`)

let pg: EmbeddedPg | undefined
let standIns: RunningStandIns | undefined
let children: Child[] = []
const held: ReservedPort[] = []
let stopping: Promise<void> | undefined
/** The demo's month of history being replayed; a stop waits for the run in progress to finish. */
let demoHistory: Promise<unknown> | undefined
const replayStop = new AbortController()
let replaying = false
/** Set once every service answers: an exit after that stops the demo (before it, start-up fails). */
let ready = false

function stop(code: number) {
  // npm forwards the signal to us and the terminal sends it too: the second one joins the first.
  stopping ??= (async () => {
    say('stopping…')
    replayStop.abort()
    await demoHistory
    await stopChildren(children)
    await Promise.all(children.map((c) => c.log.close()))
    await standIns?.close()
    await pg?.stop().catch(() => {})
    for (const p of held) p.release()
    say('stopped')
    process.exit(code)
  })()
  return stopping
}

/** One line for the person at the terminal; the whole error in .data/logs/start.log when there is one. */
function fail(error: unknown) {
  const known = error instanceof StartupError
  const message = error instanceof Error ? error.message : String(error)
  try {
    appendFileSync(
      path.join(logsDir, 'start.log'),
      `${new Date().toISOString()} ${(error as Error)?.stack ?? message}\n`,
    )
  } catch {}
  process.stderr.write(`npm start: ${message}${known ? '' : ' (details in .data/logs/start.log)'}\n`)
  void stop(1)
}

function watchForOrphaning() {
  // `kill -TERM <npm>` used to leave this process and every service running without a parent
  // (npm's shell died and did not pass the signal on). The script now execs node, so the signal
  // arrives here; should the parent die some other way (SIGKILL), being re-parented stops us too.
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      say('the parent process is gone; stopping')
      void stop(0)
    }
  }, 1000).unref()
}

async function holdPort(variable: string, port: number) {
  try {
    held.push(await reservePort('127.0.0.1', port))
  } catch {
    throw new StartupError(`port ${port} is taken: set ${variable} to a free port`)
  }
}

function makeDir(dir: string) {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new StartupError(
      `cannot create ${dir} (${code}): make ${path.dirname(dir)} writable, or start from a copy you own`,
    )
  }
}

async function waitFor(url: string, child: Child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (stopping) return
    if (child.process.exitCode !== null) {
      const why = child.log.last().at(-1) ?? `exit code ${child.process.exitCode}`
      throw new StartupError(
        `the ${child.name} stopped during start-up: ${why} (its log: .data/logs/${child.name}.log)`,
      )
    }
    const ok = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status < 500,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 300))
  }
  throw new StartupError(
    `the ${child.name} did not answer at ${url} within ${timeoutMs / 1000} s (its log: .data/logs/${child.name}.log)`,
  )
}

async function main() {
  const options = parseStartArgs(process.argv.slice(2), env)
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  watchForOrphaning()
  makeDir(logsDir)
  const apiPort = Number(env.HISTORY_API_PORT ?? 8787)
  const adminPort = Number(env.ADMIN_PORT ?? 3000)
  // Checked before anything starts, and held until the service binds it: nothing else can take it.
  await holdPort('HISTORY_API_PORT', apiPort)
  await holdPort('ADMIN_PORT', adminPort)
  if (!env.DATABASE_URL) await holdPort('EMBEDDED_PG_PORT', EMBEDDED_PG_PORT)
  let state: DemoState
  try {
    state = await demoState(dataDir)
  } catch (error) {
    throw new StartupError(
      `cannot keep the demo login in ${dataDir}/demo.json (${(error as NodeJS.ErrnoException).code})`,
    )
  }

  if (!env.DATABASE_URL) {
    pg = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pg'),
      port: EMBEDDED_PG_PORT,
      portVariable: 'EMBEDDED_PG_PORT',
      logFile: path.join(logsDir, 'postgres.log'),
      log: say,
    })
  }
  const databaseUrl = env.DATABASE_URL || pg!.url
  say(`PostgreSQL at ${describeUrl(databaseUrl)}`)

  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connect_timeout: 10 })
  let users = 0
  try {
    const applied = await migrateUp(sql, { log: say }).catch((error: Error & { code?: string }) => {
      throw new StartupError(`cannot migrate ${describeUrl(databaseUrl)}: ${error.message}`)
    })
    say(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date')
    if (options.demo) {
      standIns = await setUpDemo(sql, {
        root,
        databaseUrl,
        state,
        portBase: Number(env.DEMO_PORT_BASE ?? 18100),
        log: say,
      })
    }
    const [row] = await sql<{ users: number }[]>`select count(*)::int as users from admin_users`
    users = row?.users ?? 0
  } finally {
    await sql.end()
  }

  const live = options.verbose
  const demoEnv: NodeJS.ProcessEnv = options.demo
    ? {
        KLK_API_TOKEN: env.KLK_API_TOKEN ?? state.klkToken,
        STELLAR_USER: env.STELLAR_USER ?? 'etl_reader',
        STELLAR_PASSWORD: env.STELLAR_PASSWORD ?? state.stellarPassword,
        STELLAR_DATABASE: env.STELLAR_DATABASE ?? 'stellar',
        // Demo stores answer on loopback at once; a shorter connect timeout keeps the dead-VPN store quick.
        SOURCE_CONNECT_TIMEOUT_MS: env.SOURCE_CONNECT_TIMEOUT_MS ?? '3000',
      }
    : {}
  const serviceEnv: NodeJS.ProcessEnv = {
    ...env,
    ...demoEnv,
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: env.AUTH_JWT_SECRET ?? state.jwtSecret,
    HISTORY_API_PORT: String(apiPort),
    HISTORY_API_URL: env.HISTORY_API_URL ?? `http://127.0.0.1:${apiPort}`,
    ADMIN_PORT: String(adminPort),
  }
  const service = (name: string, args: string[]) =>
    startChild(name, args, serviceEnv, openServiceLog(logsDir, name, live))
  say(`starting runner, history-api and admin (service logs in .data/logs/)`)
  const api = service('api', ['history-api/src/main.ts'])
  const admin = service('admin', ['scripts/start-admin.ts'])
  children = [service('runner', ['runner/src/main.ts']), api, admin]
  for (const c of children) {
    void c.exited.then((code) => {
      if (!stopping && ready) {
        say(
          `${c.name} exited with code ${code}: ${c.log.last().at(-1) ?? ''} — stopping (its log: .data/logs/${c.name}.log)`,
        )
        void stop(1)
      }
    })
  }
  await waitFor(`http://127.0.0.1:${apiPort}/healthz`, api)
  // The first start builds the panel (about a minute).
  await waitFor(`http://127.0.0.1:${adminPort}/login`, admin, 240_000)
  if (stopping) return
  ready = true

  if (options.demo) {
    // The first start of the demo replays a month of the chain's life through the real runner code
    // (scripts/demo/replay.ts); the panel is usable meanwhile, later starts keep it (or resume it).
    // Its progress goes to .data/logs/replay.log (live with --verbose): nothing scrolls away the
    // start-up lines printed below; the executions appear in the panel as they are written.
    const replayLog = openServiceLog(logsDir, 'replay', live)
    demoHistory = replayDemoHistory({ databaseUrl, env: serviceEnv, log: replayLog.write, signal: replayStop.signal })
      .then((r) => replayLog.write(`${r.outcome}: ${r.runs} runs in ${r.seconds} s`))
      .catch((error: Error) => replayLog.write(`demo history failed: ${error.message}`))
      .finally(() => replayLog.close())
    // A later start answers at once (the month is there); only a replay in progress is announced.
    replaying = await Promise.race([
      demoHistory.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 2000)),
    ])
    // The first runs are children too: a stop waits for them before PostgreSQL goes away.
    const etlLog = openServiceLog(logsDir, 'etl', live)
    const first = startChild('etl', ['runner/src/cli/main.ts', 'ventas'], serviceEnv, etlLog)
    children.push(first)
    void first.exited.then(() => {
      if (!stopping) children.push(startChild('etl', ['runner/src/cli/main.ts', 'inventario'], serviceEnv, etlLog))
    })
  }

  const login = options.demo
    ? `${state.email} / ${state.password}`
    : users > 0
      ? 'the users of this database (npm run user:add -- <email> --role super_admin adds one)'
      : 'no user yet: npm run user:add -- <email> --role super_admin'
  say(`service logs: .data/logs/ (npm start -- --verbose shows them here); Ctrl-C stops everything`)
  if (replaying) {
    say('a month of demo history is being made by the runner (about a minute; .data/logs/replay.log)')
  }
  process.stdout.write(
    [
      '',
      `Admin: http://127.0.0.1:${adminPort}`,
      `API docs: http://127.0.0.1:${apiPort}/docs`,
      `Login: ${login}`,
      // The embedded database's real URL (psql works with it); a DATABASE_URL of yours keeps its password hidden.
      `DATABASE_URL=${pg ? pg.url : describeUrl(databaseUrl)}`,
      '',
    ].join('\n'),
  )
}

process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))
process.on('SIGHUP', () => void stop(0))
process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
