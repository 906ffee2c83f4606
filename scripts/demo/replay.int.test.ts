// The demo's month of history (issue 14), made by the real runner against the stand-ins and read
// back through the history API: ≥ 25 days, every story of story.ts in the store rows, statistics
// equal to the plan's SQL after the timestamps were moved, no second replay, an interrupted one
// resumed without duplicates, and a replayed gap recovered from the panel by a real runner.
import type { PgBoss } from 'pg-boss'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestBoss, type TestApi, testApi } from '../../test/helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { planNumbers } from '../../test/helpers/plan-stats.ts'
import { rollupsMatchRebuild } from '../../test/helpers/rollups.ts'
import { KLK_TOKEN, waitFor } from '../../test/helpers/runner-kit.ts'
import { startRunnerProcess } from '../../test/helpers/runner-process.ts'
import { replayDemoHistory } from './replay.ts'
import { DEMO_STORES, type RunningStandIns, startStandIns } from './stores.ts'
import { localDate, STORIES } from './story.ts'

const TZ = 'America/Caracas'
const ENV = { KLK_API_TOKEN: KLK_TOKEN, STELLAR_USER: 'etl_reader', STELLAR_PASSWORD: 'demo', TZ_TIENDAS: TZ }

type Execution = { id: number; started_at: string; finished_at: string; status: string; triggered_by: string }
type Detail = { tienda_id: string; status: string; error_category: string | null; records_extracted: number }

async function demoDatabase(live: RunningStandIns) {
  const database = await createTestDatabase()
  for (const s of DEMO_STORES) {
    await database.sql`insert into tiendas (id, nombre, source_system, host, port)
      values (${s.id}, ${s.nombre}, ${s.source_system}, ${live.host}, ${live.ports.get(s.id)!})`
  }
  return database
}

let live: RunningStandIns
beforeAll(async () => {
  live = await startStandIns({ klkToken: KLK_TOKEN })
})
afterAll(() => live?.close())

describe('first start: a month of history replayed through the runner', () => {
  let database: TestDatabase
  let api: TestApi
  let boss: PgBoss
  const anchor = new Date()
  const lines: string[] = []
  let firstRuns = 0

  beforeAll(async () => {
    database = await demoDatabase(live)
    boss = await startTestBoss(database.url)
    api = await testApi({ db: database.sql, boss, clock: () => anchor, tz: TZ })
    const result = await replayDemoHistory({ databaseUrl: database.url, env: ENV, anchor, log: (l) => lines.push(l) })
    expect(result).toMatchObject({ outcome: 'replayed', runs: 120 })
    firstRuns = result.runs
    // Not an assertion (DESIGN: timings are measured, not tested): what the replay took here.
    console.log(`replay: ${result.runs} runs in ${result.seconds} s`)
  }, 300_000)
  afterAll(async () => {
    await boss?.stop({ graceful: false })
    await database?.drop()
  })

  const history = async () => {
    const r = await api.call('get', '/api/etl/history?limit=200')
    expect(r.status).toBe(200)
    return r.body as Execution[]
  }

  test('progress is logged, and ≥ 25 days of scheduled runs are in the history, all in the past', async () => {
    expect(lines[0]).toMatch(/replaying 30 days of history: 120 runs/)
    expect(lines.filter((l) => /^history: \d+\/120 runs/.test(l)).length).toBeGreaterThanOrEqual(5)
    const executions = await history()
    expect(executions).toHaveLength(firstRuns)
    const days = new Set(executions.map((e) => localDate(new Date(e.started_at), TZ)))
    expect(days.size).toBeGreaterThanOrEqual(25)
    for (const e of executions) {
      expect(e.triggered_by).toBe('scheduler')
      // Replayed days end yesterday (the chain's day): at 00:30 there, yesterday's 20:00 run is 4.5 h ago.
      expect(localDate(new Date(e.started_at), TZ) < localDate(anchor, TZ), e.started_at).toBe(true)
      expect(new Date(e.finished_at).getTime() - new Date(e.started_at).getTime()).toBeLessThan(60_000)
    }
  })

  test('every story is in the store rows; most runs simply succeed', async () => {
    const seen = new Set<string>()
    let zeroRows = 0
    let stores = 0
    let failed = 0
    for (const e of await history()) {
      const r = await api.call('get', `/api/etl/history/${e.id}`)
      const detail = r.body as Execution & { tiendas_detail: Detail[] }
      for (const d of detail.tiendas_detail) {
        stores++
        if (d.status === 'failed') {
          failed++
          seen.add(`${d.tienda_id}:${d.error_category}`)
        }
        if (d.tienda_id === 'tienda_16' && d.status === 'success' && d.records_extracted === 0) zeroRows++
      }
    }
    for (const story of STORIES.filter((s) => s.category !== 'tienda_sin_datos')) {
      expect(seen, `${story.tiendaId}: ${story.says}`).toContain(`${story.tiendaId}:${story.category}`)
    }
    // The silent store: successful runs with nothing in them.
    expect(zeroRows).toBeGreaterThan(0)
    // Nothing failed that no story tells of.
    const told = new Set(STORIES.map((s) => `${s.tiendaId}:${s.category}`))
    expect([...seen].filter((s) => !told.has(s))).toEqual([])
    expect(failed / stores).toBeLessThan(0.1)
  })

  test('the statistics are not empty and equal the plan’s SQL; the rollups followed the moved timestamps', async () => {
    const month = await api.call('get', '/api/etl/stats?dias=30')
    const stats = month.body as {
      total_executions: number
      tendencia_diaria: unknown[]
      mapa_fallos: unknown[]
      tiendas_con_mas_fallos: { tienda_id: string }[]
    }
    // dias=30 is rolling (anchor − 30 × 24 h): the first day's morning runs fall just outside it.
    expect(stats.total_executions).toBeGreaterThanOrEqual(firstRuns - 4)
    expect(stats.tendencia_diaria.length).toBeGreaterThanOrEqual(25)
    expect(stats.mapa_fallos.length).toBeGreaterThan(0)
    expect(stats.tiendas_con_mas_fallos[0]?.tienda_id).toBe('tienda_05')
    for (const dias of [7, 30]) {
      for (const etl of [null, 'ventas', 'inventario']) {
        const r = await api.call('get', `/api/etl/stats?dias=${dias}${etl ? `&etl_name=${etl}` : ''}`)
        expect(r.body, `dias=${dias} ${etl}`).toEqual(await planNumbers(database.sql, anchor, dias, etl, TZ))
      }
    }
    await rollupsMatchRebuild(database.sql)
  })

  test('second start: nothing is replayed again', async () => {
    const again = await replayDemoHistory({ databaseUrl: database.url, env: ENV, log: () => {} })
    expect(again).toMatchObject({ outcome: 'already-replayed', runs: 0 })
    expect(await history()).toHaveLength(firstRuns)
  })

  test('a replayed gap is recovered from the panel: a real runner re-extracts it from the live store', async () => {
    const gaps = (await api.call('get', '/api/etl/gaps?estado=pendiente&tienda=tienda_05&etl_name=ventas')).body as {
      id: number
    }[]
    expect(gaps.length).toBeGreaterThan(0)
    const accepted = await api.call('post', `/api/etl/gaps/${gaps[0]!.id}/recover`)
    expect(accepted.status).toBe(202)
    const executionId = (accepted.body as { execution_id: number }).execution_id
    const cleanups: (() => Promise<unknown>)[] = []
    try {
      await startRunnerProcess(database.url, cleanups, { STELLAR_USER: 'etl_reader', STELLAR_PASSWORD: 'demo' })
      const done = await waitFor(
        'the recovery run to finish',
        async () => {
          const [row] = await database.sql`select status from etl_executions where id = ${executionId}`
          return row && !['queued', 'running'].includes(row.status as string) ? (row.status as string) : null
        },
        60_000,
      )
      expect(done).toBe('success')
    } finally {
      for (const c of cleanups.reverse()) await c()
    }
    const after = (await api.call('get', '/api/etl/gaps?tienda=tienda_05&etl_name=ventas')).body as {
      id: number
      recovered_by_execution_id: number | null
    }[]
    expect(after.find((g) => g.id === gaps[0]!.id)?.recovered_by_execution_id).toBe(executionId)
  }, 120_000)
})

describe('an interrupted replay', () => {
  test('resumes at the next start with the runs it had not made, and duplicates none', async () => {
    const database = await demoDatabase(live)
    try {
      const stop = new AbortController()
      const first = await replayDemoHistory({
        databaseUrl: database.url,
        env: ENV,
        days: 3,
        signal: stop.signal,
        log: (l) => {
          if (/^history: [1-9]/.test(l)) stop.abort()
        },
      })
      expect(first.outcome).toBe('aborted')
      expect(first.runs).toBeGreaterThan(0)
      expect(first.runs).toBeLessThan(12)
      const second = await replayDemoHistory({ databaseUrl: database.url, env: ENV, days: 3, log: () => {} })
      expect(second.outcome).toBe('replayed')
      expect(first.runs + second.runs).toBe(12)
      const [counts] = await database.sql`
        select count(*)::int as runs, count(distinct (etl_name, started_at))::int as distinct_runs,
          count(*) filter (where status in ('queued', 'running'))::int as unfinished
        from etl_executions`
      expect(counts).toEqual({ runs: 12, distinct_runs: 12, unfinished: 0 })
    } finally {
      await database.drop()
    }
  }, 120_000)
})
