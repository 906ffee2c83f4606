import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect } from 'vitest'
import { pgTest } from '../helpers/db.ts'

// The history API reads hundreds of rows per request. What a young-generation collection (a
// scavenge) finds alive it copies, so results the code has dropped must not be reachable any more.
// postgres.js 3.4.9 as published kept each resolved query reachable until the next full GC (its Query
// stored two arrow closures on itself): every scavenge copied the rows of every read since the last
// one — here a median of 1.8 MB and up to 16 MB; in the API 8–18 ms pauses.
// scripts/patches/postgres+3.4.9.patch (applied by `npm ci`) is postgres.js 4's own change; with it
// the median here is about 4 KB.
pgTest('results the code has dropped do not survive a young-generation GC', async ({ database }) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--trace-gc-nvp', 'test/helpers/result-retention-probe.ts', database.url],
    { maxBuffer: 64 * 1024 * 1024 },
  )
  const survived = stdout
    .split('\n')
    .filter((line) => / gc=s /.test(line))
    .map((line) => Number(/ new_space_survived=(\d+)/.exec(line)?.[1]))
    .sort((a, b) => a - b)
  expect(survived.length).toBeGreaterThanOrEqual(3)
  const median = survived[Math.floor(survived.length / 2)]!
  expect(median).toBeLessThan(256 * 1024)
})
