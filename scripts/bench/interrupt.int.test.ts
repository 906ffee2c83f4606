// An interrupted benchmark leaves no database behind: a real `npm run bench -- --scale small`
// process gets a real SIGINT (and SIGTERM) while its throwaway database exists, and must drop it
// before it exits; one killed outright (SIGKILL, nothing runs) is cleaned up by the next start.
import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { adminSql, testServerUrl } from '../../test/helpers/pg-admin.ts'
import { spawnTs, waitFor } from '../../test/helpers/runner-kit.ts'
import { reapLeftovers } from './throwaway-db.ts'

const admin = adminSql()
afterAll(() => admin.end())

const benchDatabases = async (pid: number) =>
  (
    await admin<{ datname: string }[]>`
      select datname from pg_database
      where datname like ${`fluxion\\_bench\\_%\\_${pid}\\_%`}
        -- labelled with its owner: the bench comments on its database right after creating it
        and shobj_description(oid, 'pg_database') is not null`
  ).map((r) => r.datname)

/** A bench process at small scale, and the name of its throwaway database once it exists. */
async function benchUntilItHasADatabase() {
  const child = spawnTs('scripts/bench.ts', ['--scale', 'small', '--only', 'load'], { DATABASE_URL: testServerUrl() })
  const pid = child.process.pid!
  const [name] = await waitFor(
    'the bench to create its database',
    async () => {
      if (child.process.exitCode !== null) throw new Error(`bench exited early: ${child.output()}`)
      const names = await benchDatabases(pid)
      return names.length ? names : null
    },
    60_000,
  )
  return { child, pid, name: name! }
}

describe('bench interrupted', () => {
  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: the throwaway database is dropped, exit %i', async (signal, code) => {
    const { child, pid, name } = await benchUntilItHasADatabase()
    expect(name).toMatch(/^fluxion_bench_load_\d+_[0-9a-f]{6}$/)
    child.process.kill(signal)
    expect(await child.exited, child.output()).toBe(code)
    expect(child.output()).toContain(`${signal} — cleaning up`)
    expect(await benchDatabases(pid)).toEqual([])
  })

  test('SIGKILL leaves the database; the next start drops it, and only databases of dead processes', async () => {
    const { child, pid, name } = await benchUntilItHasADatabase()
    child.process.kill('SIGKILL')
    await child.exited
    expect(await benchDatabases(pid)).toEqual([name])

    // Beside it: one of a live process (this one) and one kept on purpose; both must stay.
    const live = `fluxion_bench_probe_${process.pid}_abcdef`
    const kept = `fluxion_bench_probe_${pid}_fedcba`
    await admin.unsafe(`create database "${live}"`)
    await admin.unsafe(`comment on database "${live}" is '${JSON.stringify({ host: hostname(), pid: process.pid })}'`)
    await admin.unsafe(`create database "${kept}"`)
    await admin.unsafe(`comment on database "${kept}" is '${JSON.stringify({ host: hostname(), pid, keep: true })}'`)
    try {
      const dropped = await reapLeftovers(() => {}, testServerUrl())
      expect(dropped).toContain(name)
      expect(dropped).not.toContain(live)
      expect(dropped).not.toContain(kept)
      expect(await benchDatabases(pid)).toEqual([kept])
      expect(await benchDatabases(process.pid)).toEqual([live])
    } finally {
      await admin.unsafe(`drop database if exists "${live}"`)
      await admin.unsafe(`drop database if exists "${kept}"`)
    }
  })

  test('--help prints the options and exits 0; a bad option exits 2 naming it', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'bench.ts'), ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let out = ''
        p.stdout.on('data', (b: Buffer) => {
          out += b
        })
        p.stderr.on('data', (b: Buffer) => {
          out += b
        })
        p.once('exit', (code) => resolve({ code, out }))
      })
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('--scale small|full')
    const bad = await run(['--scale', 'huge'])
    expect(bad.code).toBe(2)
    expect(bad.out).toContain('--scale must be small or full, got "huge"')
  })
})
