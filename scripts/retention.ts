// npm run retention -- --keep-months N [--dry-run]
// Drops the months of etl_executions / etl_execution_details older than the newest N (the current
// month counts as one) as whole partitions, and prints each month it drops with its rows. The runner
// does the same daily when RETENTION_MONTHS is set; the statistics rollups keep the dropped months.
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { applyRetention } from '../runner/src/history/partitions.sql.ts'
import { databaseUrl, describeUrl } from './lib/database-url.ts'

const usage = 'usage: npm run retention -- --keep-months N [--dry-run]   (N ≥ 1: the newest N months are kept)'

class UsageError extends Error {}

function keepMonthsOf(raw: string | undefined): number {
  if (raw === undefined) throw new UsageError(`--keep-months is required. ${usage}`)
  const n = Number(raw)
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--keep-months must be a whole number of months, got "${raw}". ${usage}`)
  }
  if (n < 1) {
    throw new UsageError(
      `--keep-months must be at least 1, got ${n}: the current month is always kept (nothing was dropped). ${usage}`,
    )
  }
  return n
}

async function main() {
  const { values } = parseArgs({
    options: { 'keep-months': { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
  })
  const keepMonths = keepMonthsOf(values['keep-months'])
  const url = databaseUrl()
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 })
  try {
    await sql`select 1`.catch((error: Error) => {
      throw new UsageError(`cannot reach PostgreSQL at ${describeUrl(url)}: ${error.message}. Set DATABASE_URL.`)
    })
    const dropped = await applyRetention(sql, keepMonths, { dryRun: values['dry-run'] })
    const verb = values['dry-run'] ? 'would drop' : 'dropped'
    for (const d of dropped) {
      console.log(`${verb} ${d.partition_month}: ${d.executions} executions, ${d.store_rows} store rows`)
    }
    const total = dropped.reduce((n, d) => n + d.executions, 0)
    console.log(
      dropped.length
        ? `${verb} ${dropped.length} month(s), ${total} executions; kept the newest ${keepMonths} month(s)`
        : `nothing to drop: no month is older than the newest ${keepMonths}`,
    )
  } finally {
    await sql.end()
  }
}

main().catch((error: unknown) => {
  // node:util parseArgs rejects unknown options with a TypeError whose code is ERR_PARSE_ARGS_*
  const badArgs = error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')
  if (error instanceof UsageError || badArgs) {
    console.error(`retention: ${(error as Error).message}${badArgs ? `. ${usage}` : ''}`)
    process.exit(2)
  }
  console.error(error)
  process.exit(1)
})
