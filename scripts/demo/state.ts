// The demo's secrets and login, made once and kept in .data/demo.json so that every start can
// print the same login (DESIGN §12) and the services keep verifying the tokens they issued.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

export type DemoState = {
  jwtSecret: string
  klkToken: string
  stellarPassword: string
  email: string
  password: string
}

export async function demoState(dataDir: string): Promise<DemoState> {
  const file = path.join(dataDir, 'demo.json')
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DemoState
  const state: DemoState = {
    jwtSecret: randomBytes(32).toString('base64url'),
    klkToken: randomBytes(16).toString('hex'),
    stellarPassword: randomBytes(12).toString('base64url'),
    email: 'admin@fluxion.local',
    password: randomBytes(9).toString('base64url'),
  }
  await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 })
  return state
}
