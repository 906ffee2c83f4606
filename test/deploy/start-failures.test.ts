// Foreseeable problems of the environment stop `npm start` (and `npm run start:admin`) within
// seconds with one line that says what is wrong and what to do — never a raw stack trace: a port
// taken (each variable), an unknown flag, a DATABASE_URL nobody answers, a .data/ that cannot be
// written, a full disk (a 1 MB tmpfs over .data/ in a private mount namespace, as root), a demo
// store port taken. Each is made by the real mechanism (a listening socket, a full filesystem).
import { writeFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { refusingPort, reservePort } from '../../scripts/lib/reserved-port.ts'
import { type Command, npm, startCommand, stopAll } from '../helpers/commands.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { cleanEnv } from '../helpers/env.ts'
import { copyRepo } from '../helpers/repo-copy.ts'

let tmp: string
let shared: string
const cleanups: (() => Promise<unknown>)[] = []

/** A port something else listens on (this test), as another program would. */
async function takenPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((r) => server.close(r)))
  return (server.address() as net.AddressInfo).port
}

/** Free ports for the variables a case does not break, held so nothing else takes them. */
async function heldPorts(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of ['EMBEDDED_PG_PORT', 'HISTORY_API_PORT', 'ADMIN_PORT']) {
    const p = await reservePort()
    cleanups.push(async () => p.release())
    out[name] = String(p.port)
  }
  return out
}

/** Waits for the command to stop by itself; returns its one-line reason after checking its shape. */
async function oneLineFailure(cmd: Command, prefix: string): Promise<string> {
  const code = await Promise.race([
    cmd.exited,
    new Promise((r) => setTimeout(() => r('still running after 90 s'), 90_000)),
  ])
  const output = cmd.output()
  expect(code, output).toBe(1)
  expect(output, 'a stack trace').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  const lines = output.split('\n').filter((l) => l.startsWith(prefix))
  expect(lines, output).toHaveLength(1)
  return lines[0]!
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fluxion-start-failures-'))
  await chmod(tmp, 0o755)
  shared = await copyRepo(path.join(tmp, 'shared'))
})

afterAll(async () => {
  await stopAll()
  for (const fn of cleanups.reverse()) await fn().catch(() => {})
  await rm(tmp, { recursive: true, force: true })
})

describe.concurrent('npm start stops with one line', () => {
  test.for(['EMBEDDED_PG_PORT', 'HISTORY_API_PORT', 'ADMIN_PORT'])('%s taken', async (variable) => {
    const port = await takenPort()
    const start = npm('npm start', ['start'], cleanEnv({ ...(await heldPorts()), [variable]: String(port) }), shared)
    expect(await oneLineFailure(start, 'npm start:')).toBe(
      `npm start: port ${port} is taken: set ${variable} to a free port`,
    )
  })

  test('an unknown flag is named, with the usage', async () => {
    const start = npm('npm start', ['start', '--', '--bogus'], cleanEnv(await heldPorts()), shared)
    expect(await oneLineFailure(start, 'npm start:')).toMatch(/^npm start: Unknown option '--bogus'/)
    expect(start.output()).toContain('usage: npm start')
  })

  test('a DATABASE_URL nobody answers', async () => {
    const url = `postgres://fluxion:secreto@127.0.0.1:${await refusingPort()}/fluxion`
    const start = npm('npm start', ['start'], cleanEnv({ ...(await heldPorts()), DATABASE_URL: url }), shared)
    const line = await oneLineFailure(start, 'npm start:')
    expect(line).toMatch(
      /^npm start: cannot migrate postgres:\/\/fluxion:\*\*\*@127\.0\.0\.1:\d+\/fluxion: .*ECONNREFUSED/,
    )
    expect(start.output()).not.toContain('secreto')
  })

  test('.data/ that cannot be created', async () => {
    const dir = await copyRepo(path.join(tmp, 'no-data-dir'))
    writeFileSync(path.join(dir, '.data'), 'a file where the directory should be\n')
    const start = npm('npm start', ['start'], cleanEnv(await heldPorts()), dir)
    expect(await oneLineFailure(start, 'npm start:')).toBe(
      `npm start: cannot create ${dir}/.data/logs (ENOTDIR): make ${dir}/.data writable, or start from a copy you own`,
    )
  })

  test('a full disk under .data/ (as root: a 1 MB tmpfs; otherwise a read-only .data/)', async () => {
    const dir = await copyRepo(path.join(tmp, 'full-disk'))
    const data = path.join(dir, '.data')
    await mkdir(data)
    const env = cleanEnv(await heldPorts())
    if (process.getuid?.() === 0) {
      // A private mount namespace: the tmpfs exists for this command only and vanishes with it.
      const script = `mount -t tmpfs -o size=1m tmpfs "${data}" && exec npm start`
      const start = startCommand(
        'npm start (full disk)',
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', script],
        {
          env,
          cwd: dir,
        },
      )
      expect(await oneLineFailure(start, 'npm start:')).toMatch(
        new RegExp(`^npm start: no space left on the device of ${data}/pg: free some space$`),
      )
    } else {
      await chmod(data, 0o555)
      const start = npm('npm start', ['start'], env, dir)
      expect(await oneLineFailure(start, 'npm start:')).toMatch(/^npm start: cannot create .*\/\.data\/logs \(EACCES\)/)
    }
  })

  test('a demo store port taken (DEMO_PORT_BASE)', async () => {
    const database: TestDatabase = await createTestDatabase()
    cleanups.push(() => database.drop())
    const taken = await takenPort()
    const base = taken - 5
    const env = cleanEnv({ ...(await heldPorts()), DATABASE_URL: database.url, DEMO_PORT_BASE: String(base) })
    const start = npm('npm start -- --demo', ['start', '--', '--demo'], env, shared)
    expect(await oneLineFailure(start, 'npm start:')).toMatch(
      new RegExp(
        `^npm start: could not start the demo stores on 127\\.0\\.0\\.1:${base + 1}…${base + 19}: .* \\(set DEMO_PORT_BASE\\)$`,
      ),
    )
  })

  test('npm run start:admin with ADMIN_PORT taken', async () => {
    const port = await takenPort()
    const admin = npm('start:admin', ['run', 'start:admin'], cleanEnv({ ADMIN_PORT: String(port) }), shared)
    expect(await oneLineFailure(admin, 'admin:')).toBe(
      `admin: port ${port} is taken on 127.0.0.1: set ADMIN_PORT to a free port`,
    )
  })
})
