// Runs once per `vitest run`: picks the PostgreSQL server (test-server.ts), migrates a template
// database (reused while the migrations are unchanged; template.ts), holds it as in use until the
// run ends, and removes databases left behind by test runs that died. The server's URL reaches every test file through provide/inject.
import type postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { adminSql, templateName, useTestServer } from './pg-admin.ts'
import { dropUnlessInUse, ensureTemplate, holdTemplate } from './template.ts'
import { chooseTestServer } from './test-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string
    runId: string
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function unusedFor(tx: postgres.TransactionSql, datname: string) {
  const [row] = await tx<{ made: string | null }[]>`
    select shobj_description(oid, 'pg_database') as made from pg_database where datname = ${datname}`
  return Date.now() - Number(row?.made ?? 0) > 15 * 60_000
}

export default async function setup(project: TestProject) {
  const server = await chooseTestServer()
  useTestServer(server.url)
  let release: () => Promise<void>
  try {
    release = await prepareTemplate(project, server.url)
  } catch (error) {
    await server.stop()
    throw error
  }
  project.provide('pgServerUrl', server.url)
  return async () => {
    await release()
    await server.stop()
  }
}

async function prepareTemplate(project: TestProject, serverUrl: string): Promise<() => Promise<void>> {
  const admin = adminSql()
  const template = await templateName()
  // Held before it is built or swept: no other run may drop it from here on.
  const holder = await holdTemplate(serverUrl, template)
  try {
    await admin.begin(async (tx) => {
      // The sweep runs under the build lock, so no template is being built while it looks.
      await tx`select pg_advisory_xact_lock(88033)`
      for (const { datname } of await tx<{ datname: string }[]>`
        select datname from pg_database where datname like 'fluxion\_test\_%' or datname like 'fluxion\_tpl\_%'`) {
        const pid = Number(/^fluxion_test_(\d+)_/.exec(datname)?.[1])
        if (pid && !alive(pid)) await admin.unsafe(`drop database if exists "${datname}" with (force)`)
        // Another checkout's (or an older) template: only when nobody has cloned from it for a while.
        if (datname.startsWith('fluxion_tpl_') && datname !== template && (await unusedFor(tx, datname))) {
          await dropUnlessInUse(admin, datname)
        }
      }
    })
    await ensureTemplate(admin, template)
  } catch (error) {
    await holder.end()
    throw error
  } finally {
    await admin.end()
  }
  project.provide('templateDatabase', template)
  project.provide('runId', String(process.pid))
  return () => holder.end()
}
