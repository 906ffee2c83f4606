// `npm start` as a new user runs it, in a copy of the repository (its own .data/) on ports this
// test holds: the first start on an empty .data/ prints the four start-up lines once everything
// answers, and nothing scrolls them away; the admin answers and the login works; the printed
// DATABASE_URL is usable as is; `kill -TERM <npm>` stops npm, node and every service (Issue 13:
// they were left running without a parent); the second start prints the same login. With the
// DATABASE_URL of a scratch database it migrates that database and adds no demo rows (unless
// --demo). From a 0700 directory as root it comes up (the postgres user cannot enter it).
import { randomBytes } from 'node:crypto'
import { lstatSync, readFileSync, readlinkSync } from 'node:fs'
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { type ReservedPort, reservePort } from '../../scripts/lib/reserved-port.ts'
import { type Command, npm, processGroup, stopAll } from '../helpers/commands.ts'
import { cleanEnv } from '../helpers/env.ts'
import { adminSql, urlFor } from '../helpers/pg-admin.ts'
import { copyRepo } from '../helpers/repo-copy.ts'

const held: ReservedPort[] = []
const cleanups: (() => Promise<unknown>)[] = []
let tmp: string

async function ports(...names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const p = await reservePort()
    held.push(p)
    out[name] = String(p.port)
  }
  return out
}

type Block = { admin: string; docs: string; login: string; email?: string; password?: string; databaseUrl: string }

/** The four start-up lines, exactly, together; resolves once they are printed. */
async function startupBlock(start: Command): Promise<Block> {
  const m = await start.waitForOutput(/^Admin: (\S+)\nAPI docs: (\S+)\nLogin: (.+)\nDATABASE_URL=(\S+)\n/m, 240_000)
  const [, admin, docs, login, databaseUrl] = m as unknown as [string, string, string, string, string]
  const [, email, password] = /^(\S+@\S+) \/ (\S+)$/.exec(login) ?? []
  return { admin, docs, login, email, password, databaseUrl }
}

/** Logs in through the panel's form as a browser would; returns the session cookie. */
async function logIn(block: Block): Promise<string> {
  const res = await fetch(`${block.admin}/login?/entrar`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: block.admin, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ email: block.email!, password: block.password!, volver: '/historial' }),
  })
  expect(res.status, await res.clone().text()).toBe(303)
  expect(res.headers.get('location')).toBe('/historial')
  const cookie = /fluxion_sesion=[^;]+/.exec(res.headers.get('set-cookie') ?? '')?.[0]
  expect(cookie).toBeTruthy()
  const page = await fetch(`${block.admin}/historial`, { headers: { cookie: cookie! }, redirect: 'manual' })
  expect(page.status).toBe(200)
  return cookie!
}

/**
 * `kill -TERM <pid of npm start>` (or Ctrl-C: SIGINT to the whole process group): npm, node
 * scripts/start.ts, every service and the embedded PostgreSQL must be gone, with exit code 0.
 */
async function terminate(start: Command, dataDir?: string, how: 'kill -TERM npm' | 'Ctrl-C' = 'kill -TERM npm') {
  const pgPid = dataDir ? Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]) : 0
  if (how === 'Ctrl-C') process.kill(-start.child.pid!, 'SIGINT')
  else process.kill(start.child.pid!, 'SIGTERM')
  const code = await Promise.race([start.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))])
  expect(code, start.output().slice(-3000)).toBe(0)
  // What used to outlive npm kept npm's process group: it must now be empty.
  const deadline = Date.now() + 5000
  while (processGroup(start.child.pid!).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200))
  expect(processGroup(start.child.pid!)).toEqual([])
  if (pgPid) expect(() => process.kill(pgPid, 0)).toThrow()
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fluxion-npm-start-'))
  await chmod(tmp, 0o755)
})

afterAll(async () => {
  await stopAll()
  for (const fn of cleanups.reverse()) await fn().catch(() => {})
  for (const p of held) p.release()
  await rm(tmp, { recursive: true, force: true })
})

describe.concurrent('npm start', () => {
  test('first start: the four lines, admin 200, login, psql-able DATABASE_URL; kill -TERM npm stops all; second start: same login; Ctrl-C stops all', async () => {
    const dir = await copyRepo(path.join(tmp, 'first'))
    const env = cleanEnv({
      ...(await ports('EMBEDDED_PG_PORT', 'HISTORY_API_PORT', 'ADMIN_PORT')),
      DEMO_PORT_BASE: '0',
    })
    const first = npm('npm start', ['start'], env, dir)
    const block = await startupBlock(first)
    expect(block.admin).toBe(`http://127.0.0.1:${env.ADMIN_PORT}`)
    expect(block.docs).toBe(`http://127.0.0.1:${env.HISTORY_API_PORT}/docs`)
    expect(block.email).toBe('admin@fluxion.local')
    expect(block.databaseUrl).toBe(`postgres://fluxion:fluxion@127.0.0.1:${env.EMBEDDED_PG_PORT}/fluxion`)
    expect((await fetch(block.admin)).status).toBeLessThan(400)
    expect((await fetch(`${block.admin}/login`)).status).toBe(200)
    expect((await fetch(block.docs)).status).toBe(200)
    await logIn(block)
    // The printed URL is the real one: a client connects with it as printed.
    const sql = postgres(block.databaseUrl, { max: 1, onnotice: () => {} })
    expect((await sql`select count(*)::int as n from tiendas`)[0]!.n).toBe(19)
    // The store calendar has its example: a store closed for the coming Christmas.
    expect(await sql`select tienda_id, to_char(fecha_hasta, 'MM-DD') as hasta, motivo from tienda_cierres`).toEqual([
      { tienda_id: 'tienda_11', hasta: '12-25', motivo: 'feriado' },
    ])
    await sql.end()
    // Service logs went to .data/logs/, one line said so, and none reached the terminal.
    expect(first.output()).toMatch(/service logs: \.data\/logs\//)
    expect((await readdir(path.join(dir, '.data', 'logs'))).sort()).toEqual(
      expect.arrayContaining(['admin.log', 'api.log', 'postgres.log', 'runner.log']),
    )
    expect(readFileSync(path.join(dir, '.data', 'logs', 'api.log'), 'utf8')).toMatch(/history-api listening/)
    await new Promise((r) => setTimeout(r, 2000))
    expect(first.output().split('DATABASE_URL=')[1]!.trim().split('\n')).toHaveLength(1)
    expect(first.output()).not.toMatch(/^\[(runner|api|admin|etl)\]|"level":/m)

    await terminate(first, path.join(dir, '.data'))

    const second = npm('npm start (again)', ['start'], env, dir)
    const again = await startupBlock(second)
    expect(again.login).toBe(block.login)
    await logIn(again)
    expect(second.output()).not.toMatch(/initialising embedded PostgreSQL/)
    await terminate(second, path.join(dir, '.data'), 'Ctrl-C')
  })

  test('with DATABASE_URL of a scratch database: migrated, no demo rows, services up; --demo adds the demo', async () => {
    const name = `fluxion_test_${inject('runId')}_scratch_${randomBytes(3).toString('hex')}`
    const admin = adminSql()
    await admin.unsafe(`create database "${name}"`)
    await admin.end()
    cleanups.push(async () => {
      const a = adminSql()
      await a.unsafe(`drop database if exists "${name}" with (force)`)
      await a.end()
    })
    const url = urlFor(name)
    const dir = await copyRepo(path.join(tmp, 'external'))
    const env = cleanEnv({ ...(await ports('HISTORY_API_PORT', 'ADMIN_PORT')), DATABASE_URL: url, DEMO_PORT_BASE: '0' })

    const plain = npm('npm start (DATABASE_URL)', ['start'], env, dir)
    const block = await startupBlock(plain)
    expect(block.login).toBe('no user yet: npm run user:add -- <email> --role super_admin')
    expect(block.databaseUrl).toBe(url.replace(/:[^:@/]+@/, ':***@'))
    expect(plain.output()).not.toMatch(/embedded PostgreSQL/)
    expect((await fetch(`http://127.0.0.1:${env.HISTORY_API_PORT}/healthz`)).status).toBe(200)
    expect((await fetch(`${block.admin}/login`)).status).toBe(200)
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    const migrations = (await readdir(path.join(dir, 'migrations'))).filter((f) => f.endsWith('_UP.sql')).length
    expect((await sql`select count(*)::int as n from schema_migrations`)[0]!.n).toBe(migrations)
    const counts = async () =>
      (
        await sql`select (select count(*)::int from tiendas) as tiendas, (select count(*)::int from admin_users) as users,
        (select count(*)::int from etl_executions) as runs`
      )[0]
    expect(await counts()).toEqual({ tiendas: 0, users: 0, runs: 0 })
    await terminate(plain)

    const demo = npm('npm start -- --demo', ['start', '--', '--demo'], env, dir)
    const demoBlock = await startupBlock(demo)
    expect(demoBlock.email).toBe('admin@fluxion.local')
    await logIn(demoBlock)
    expect(await counts()).toMatchObject({ tiendas: 19, users: 1 })
    await terminate(demo)
    await sql.end()
  })

  test('from a 0700 directory as root (binaries and cluster out of the postgres user’s reach): it comes up', async () => {
    const box = await mkdtemp(path.join(os.tmpdir(), 'fluxion-0700-'))
    cleanups.push(() => rm(box, { recursive: true, force: true }))
    await chmod(box, 0o700)
    const dir = await copyRepo(path.join(box, 'clone'), { copyPgBinaries: true })
    const pgLink = path.join(dir, '.data', 'pg')
    // As root the cluster is kept outside the box (linked from .data/pg): removed too, pass or fail.
    cleanups.push(async () => {
      if (lstatSync(pgLink, { throwIfNoEntry: false })?.isSymbolicLink()) {
        await rm(path.dirname(readlinkSync(pgLink)), { recursive: true, force: true })
      }
    })
    const env = cleanEnv({
      ...(await ports('EMBEDDED_PG_PORT', 'HISTORY_API_PORT', 'ADMIN_PORT')),
      DEMO_PORT_BASE: '0',
    })
    const start = npm('npm start (0700)', ['start'], env, dir)
    const block = await startupBlock(start)
    await logIn(block)
    const pgPid = Number(readFileSync(path.join(pgLink, 'postmaster.pid'), 'utf8').split('\n')[0])
    const exe = readlinkSync(`/proc/${pgPid}/exe`)
    if (process.getuid?.() === 0) {
      // The cluster lives outside the box, linked from .data/pg; the binaries run from a staged copy.
      expect(lstatSync(pgLink).isSymbolicLink()).toBe(true)
      const outside = path.dirname(readlinkSync(pgLink))
      expect(outside.startsWith(box)).toBe(false)
      expect(start.output()).toContain(`PostgreSQL's data is kept in ${outside}`)
      expect(exe.startsWith(box)).toBe(false)
    } else {
      expect(exe.startsWith(dir)).toBe(true)
    }
    await terminate(start, path.join(dir, '.data'))
  })
})
