// node --trace-gc-nvp test/helpers/result-retention-probe.ts <database url> — run by
// test/reliability/driver-results.test.ts. Reads 4,000 results of 200 rows through a postgres.js pool,
// two at a time, dropping each; V8 prints one line per garbage collection, with what each
// young-generation collection (gc=s) found still alive (new_space_survived).
import postgres from 'postgres'

const url = process.argv[2]
if (!url) throw new Error('usage: result-retention-probe.ts <database url>')
const sql = postgres(url, { max: 4, onnotice: () => {} })
const read = () => sql`select g as a, g::text as b, 'x' || g as c from generate_series(1, 200) g`
for (let i = 0; i < 2000; i++) await Promise.all([read(), read()])
await sql.end()
