// The admin panel's production build for the tests that run it (scripts/start-admin.ts serves
// admin/build). A build is made when the sources changed since the last one, never otherwise:
// `vite build` first empties admin/build, so two test files (or two test runs) building at once
// would pull the build from under a panel another one is serving. Builds are serialised by an
// advisory lock on the test PostgreSQL (released by the server if this process dies), and the
// build records the hash of what it was made from.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { adminSql } from './pg-admin.ts'

const ROOT = path.join(import.meta.dirname, '..', '..')
const ADMIN = path.join(ROOT, 'admin')
const STAMP = path.join(ADMIN, 'build', '.source-hash')
const BUILD_LOCK = 88_034

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256')
  const sources = (await readdir(path.join(ADMIN, 'src'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
  const config = ['package.json', 'vite.config.ts', 'tsconfig.json'].map((f) => path.join(ADMIN, f))
  for (const file of [...sources, ...config, path.join(ROOT, 'package-lock.json')]) {
    hash.update(path.relative(ROOT, file)).update(await readFile(file))
  }
  return hash.digest('hex')
}

async function built(hash: string) {
  return existsSync(path.join(ADMIN, 'build', 'index.js')) && (await readFile(STAMP, 'utf8').catch(() => '')) === hash
}

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`admin build failed:\n${output}`))))
  })
}

/** Makes sure admin/build is the build of the current sources. */
export async function ensureAdminBuild(): Promise<void> {
  const hash = await sourceHash()
  if (await built(hash)) return
  const sql = adminSql()
  try {
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${BUILD_LOCK})`
      if (await built(hash)) return
      await build()
      await writeFile(STAMP, hash)
    })
  } finally {
    await sql.end()
  }
}
