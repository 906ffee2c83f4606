// A throwaway database per test file, cloned from the migrated template and always dropped.
import { randomBytes } from 'node:crypto'
import postgres, { type Sql } from 'postgres'
import { inject, test } from 'vitest'
import { adminSql, urlFor } from './pg-admin.ts'
import { ensureTemplate } from './template.ts'

export type TestDatabase = { name: string; url: string; sql: Sql; drop: () => Promise<void> }

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `fluxion_test_${inject('runId')}_${randomBytes(4).toString('hex')}`
  const admin = adminSql()
  try {
    // CREATE DATABASE … TEMPLATE fails while anyone is connected to the template; files
    // cloning at the same moment can collide, so retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${inject('templateDatabase')}"`)
        break
      } catch (error) {
        const code = (error as { code?: string }).code
        if (attempt >= 20 || (code !== '55006' && code !== '3D000')) throw error
        // 3D000: the template was dropped under this run by a sweep that ignores the in-use lock.
        if (code === '3D000') await ensureTemplate(admin, inject('templateDatabase'))
        else await new Promise((r) => setTimeout(r, 50 + Math.random() * 100))
      }
    }
  } finally {
    await admin.end()
  }
  const url = urlFor(name)
  const sql = postgres(url, { max: 10, onnotice: () => {} })
  return {
    name,
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 })
      const a = adminSql()
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`)
      } finally {
        await a.end()
      }
    },
  }
}

/** `pgTest('…', async ({ db }) => …)`: one database per test file, shared by its tests. */
export const pgTest = test.extend<{ database: TestDatabase; db: Sql }>({
  database: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from the destructuring
    async ({}, use) => {
      const database = await createTestDatabase()
      try {
        await use(database)
      } finally {
        await database.drop()
      }
    },
    { scope: 'file' },
  ],
  db: [async ({ database }, use) => use(database.sql), { scope: 'file' }],
})
