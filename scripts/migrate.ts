// npm run migrate            → apply pending migrations
// npm run migrate -- down 033 → roll back every applied migration ≥ 033, newest first
// npm run migrate -- status   → list applied and pending
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { databaseUrl, describeUrl } from './lib/database-url.ts'
import { appliedMigrations, loadMigrations, MigrationError, migrateDown, migrateUp } from './lib/migrations.ts'

const usage = 'usage: npm run migrate [-- up | down <NNN> | status]'

async function main() {
  const { positionals } = parseArgs({ allowPositionals: true, strict: true })
  const [command = 'up', arg, ...rest] = positionals
  if (rest.length > 0 || !['up', 'down', 'status'].includes(command)) throw new MigrationError(usage)
  if (command === 'down' && !arg) throw new MigrationError(`down needs a migration number. ${usage}`)
  if (command !== 'down' && arg) throw new MigrationError(`unexpected argument "${arg}". ${usage}`)

  const url = databaseUrl()
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await sql`select 1`.catch((error: Error) => {
      throw new MigrationError(`cannot reach PostgreSQL at ${describeUrl(url)}: ${error.message}. Set DATABASE_URL.`)
    })
    const log = (line: string) => console.log(line)
    if (command === 'up') {
      const done = await migrateUp(sql, { log })
      console.log(done.length ? `${done.length} migration(s) applied` : 'database is up to date')
    } else if (command === 'down') {
      const done = await migrateDown(sql, arg!, { log })
      console.log(done.length ? `${done.length} migration(s) rolled back` : `nothing applied at or after ${arg}`)
    } else {
      const applied = new Map((await appliedMigrations(sql)).map((a) => [a.version, a]))
      for (const m of await loadMigrations()) {
        const a = applied.get(m.version)
        console.log(`${m.version}_${m.name}  ${a ? `applied ${a.applied_at.toISOString()}` : 'pending'}`)
      }
    }
  } finally {
    await sql.end()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof MigrationError ? `migrate: ${error.message}` : error)
  process.exit(1)
})
