// npm run user:add -- <email> --role <super_admin|viewer>
// Creates (or updates the password and role of) an admin panel user. The password comes from
// ADMIN_PASSWORD or a hidden prompt, never from the command line (it would land in the shell
// history and in `ps`). Stored as a scrypt hash (history-api/src/login/passwords.ts).
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { insertUser } from '../history-api/src/login/login.sql.ts'
import { hashPassword } from '../history-api/src/login/passwords.ts'
import { databaseUrl, describeUrl } from './lib/database-url.ts'

const USAGE = 'usage: npm run user:add -- <email> --role <super_admin|viewer>   (password: ADMIN_PASSWORD or a prompt)'
const MIN_PASSWORD = 8

function fail(message: string): never {
  process.stderr.write(`user:add: ${message}\n`)
  process.exit(1)
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    process.stderr.write(question)
    let value = ''
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    const done = (error?: Error) => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (error) reject(error)
      else resolve(value)
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new Error('cancelled'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD
  if (!process.stdin.isTTY) fail('set ADMIN_PASSWORD or run in a terminal to be prompted for the password')
  const first = await promptHidden('Password: ')
  const second = await promptHidden('Repeat password: ')
  if (first !== second) fail('the two passwords differ')
  return first
}

async function main() {
  if (process.argv.some((a) => a.startsWith('--password'))) {
    fail('the password is never an argument: set ADMIN_PASSWORD or answer the prompt')
  }
  let parsed: { values: { role?: string }; positionals: string[] }
  try {
    parsed = parseArgs({ options: { role: { type: 'string' } }, allowPositionals: true, strict: true })
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`)
  }
  const [email, ...extra] = parsed.positionals
  if (!email || extra.length) fail(USAGE)
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) fail(`${email} is not an email address`)
  const role = parsed.values.role
  if (role !== 'super_admin' && role !== 'viewer') fail(`--role must be super_admin or viewer\n${USAGE}`)
  const password = await readPassword()
  if (password.length < MIN_PASSWORD) fail(`the password must have at least ${MIN_PASSWORD} characters`)

  const url = databaseUrl()
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    const user = await insertUser(sql, { email, passwordHash: await hashPassword(password), role })
    process.stdout.write(`${user.created ? 'created' : 'updated'} ${email} (${role})\n`)
  } catch (error) {
    fail(`could not write the user to ${describeUrl(url)}: ${(error as Error).message}`)
  } finally {
    await sql.end()
  }
}

if (import.meta.main) await main()
