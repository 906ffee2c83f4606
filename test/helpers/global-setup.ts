// Runs once per `vitest run`: picks the PostgreSQL server (test-server.ts), migrates a template
// database (reused while the migrations are unchanged) and removes databases left behind by test
// runs that died. The server's URL reaches every test file through provide/inject.
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { migrateUp } from '../../scripts/lib/migrations.ts'
import { adminSql, templateName, urlFor, useTestServer } from './pg-admin.ts'
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
  try {
    await prepareTemplate(project)
  } catch (error) {
    await server.stop()
    throw error
  }
  project.provide('pgServerUrl', server.url)
  return () => server.stop()
}

async function prepareTemplate(project: TestProject) {
  const admin = adminSql()
  const template = await templateName()
  try {
    // Several vitest runs may start at once: one of them builds the template, the others wait.
    await admin.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(88033)`
      for (const { datname } of await tx<{ datname: string }[]>`
        select datname from pg_database where datname like 'fluxion\_test\_%' or datname like 'fluxion\_tpl\_%'`) {
        const pid = Number(/^fluxion_test_(\d+)_/.exec(datname)?.[1])
        // A stale template may still be in use by a run that started before a migration changed.
        const staleTemplate =
          datname.startsWith('fluxion_tpl_') && datname !== template && (await unusedFor(tx, datname))
        if (staleTemplate || (pid && !alive(pid))) {
          await admin.unsafe(`drop database if exists "${datname}" with (force)`)
        }
      }
      const [exists] = await tx`select 1 from pg_database where datname = ${template}`
      if (exists) return
      await admin.unsafe(`create database "${template}"`)
      await admin.unsafe(`comment on database "${template}" is '${Date.now()}'`)
      const sql = postgres(urlFor(template), { max: 1, onnotice: () => {} })
      try {
        await migrateUp(sql)
      } catch (error) {
        await sql.end()
        await admin.unsafe(`drop database if exists "${template}" with (force)`)
        throw error
      }
      await sql.end()
    })
  } finally {
    await admin.end()
  }
  project.provide('templateDatabase', template)
  project.provide('runId', String(process.pid))
}
