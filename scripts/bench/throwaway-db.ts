// A migrated database that exists only for one benchmark step, always dropped.
import { randomBytes } from 'node:crypto'
import postgres, { type Sql } from 'postgres'
import { migrateUp } from '../lib/migrations.ts'

export const SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

export type ThrowawayDb = { url: string; sql: Sql; drop: () => Promise<void> }

function urlFor(database: string) {
  const u = new URL(SERVER_URL)
  u.pathname = `/${database}`
  return u.toString()
}

export async function createThrowawayDb(label: string): Promise<ThrowawayDb> {
  const name = `fluxion_bench_${label}_${randomBytes(3).toString('hex')}`
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end()
  }
  const url = urlFor(name)
  const sql = postgres(url, { max: 8, onnotice: () => {} })
  const drop = async () => {
    await sql.end({ timeout: 5 })
    const a = postgres(SERVER_URL, { max: 1, onnotice: () => {} })
    try {
      await a.unsafe(`drop database if exists "${name}" with (force)`)
    } finally {
      await a.end()
    }
  }
  try {
    await migrateUp(sql)
  } catch (error) {
    await drop()
    throw error
  }
  return { url, sql, drop }
}
