// The tracker against a real PostgreSQL: rows written as the run goes, the roll-up, notifications,
// heartbeats, claiming a queued execution, and its cost per store (DESIGN §10: ≤ 3 round trips).
import pino from 'pino'
import postgres from 'postgres'
import { describe, expect } from 'vitest'
import { pgTest } from '../../../test/helpers/db.ts'
import { selectDetails } from '../executions/execution-row.ts'
import type { ClassifiedError } from './classify-error.ts'
import { ExecutionTracker } from './execution-tracker.ts'

const logger = pino({ level: 'silent' })
const err = (category: ClassifiedError['category'], message: string = category): ClassifiedError => ({
  phase: 'extract',
  category,
  source: 'klk_api',
  message,
  code: null,
})
const store = (id: string, sourceSystem: 'klk' | 'stellar' = 'klk') => ({
  id,
  nombre: id.toUpperCase(),
  sourceSystem,
  host: '127.0.0.1',
  port: 18100,
})

describe('ExecutionTracker', () => {
  pgTest('writes as the run goes and rolls the stores up into the execution', async ({ db }) => {
    for (const id of ['t_a', 't_b', 't_c', 't_d', 't_e']) {
      await db`insert into tiendas (id, nombre, source_system, host, port) values (${id}, ${id}, ${id === 't_e' ? 'stellar' : 'klk'}, '127.0.0.1', 1)`
    }
    const tracker = new ExecutionTracker({ db, logger, heartbeatSeconds: 10, secrets: ['sekret-token'] })
    const started = await tracker.startExecution({
      etlName: 'ventas',
      etlType: 'manual',
      triggeredBy: 'cli',
      tiendaIds: ['t_a', 't_b', 't_c', 't_d', 't_e'],
    })
    expect(started).toMatchObject({ status: 'running', tiendas_count: 5, triggered_by: 'cli' })

    const a = (await tracker.startTienda(store('t_a')))!
    const b = (await tracker.startTienda(store('t_b')))!
    const e = (await tracker.startTienda(store('t_e', 'stellar')))!
    // Visible while running, with the stores so far.
    expect((await selectDetails(db, started.id)).map((d) => `${d.tienda_id}:${d.status}:${d.current_phase}`)).toEqual([
      't_a:running:extract',
      't_b:running:extract',
      't_e:running:extract',
    ])
    await a.time('transform', () => {})
    await a.markLoad()
    expect((await selectDetails(db, started.id))[0]!.current_phase).toBe('load')
    await a.finishSuccess({ extracted: 10, loaded: 8, duplicates: 2 })
    const c = (await tracker.startTienda(store('t_c')))!
    // Two network_error failures against one vpn_timeout that failed first: frequency wins.
    await e.finishError(err('vpn_timeout'))
    await b.finishError(err('network_error', 'reset by sekret-token peer'))
    await c.finishError(err('network_error', 'second'))
    const [live] =
      await db`select status, records_loaded, tiendas_exitosas, tiendas_fallidas from etl_executions where id = ${started.id}`
    expect(live).toEqual({ status: 'running', records_loaded: 8, tiendas_exitosas: 1, tiendas_fallidas: 3 })

    const done = await tracker.finishExecution()
    expect(done).toMatchObject({
      status: 'partial',
      records_extracted: 10,
      records_loaded: 8,
      duplicates_skipped: 2,
      // t_d never started: skipped, counted apart (tiendas_count = exitosas + fallidas + skipped).
      tiendas_count: 5,
      tiendas_exitosas: 1,
      tiendas_fallidas: 3,
      source_system: 'mixed',
      error_phase: 'extract',
      error_category: 'network_error',
      error_source: 'klk_api',
      error_message: 'reset by *** peer',
      current_phase: null,
    })
    expect(done.finished_at).toBeInstanceOf(Date)
    expect(done.extract_duration_seconds).toBeGreaterThanOrEqual(0)
    expect(JSON.stringify(done.network_diagnostics).length).toBeLessThan(1000)
    const details = await selectDetails(db, started.id)
    expect(details.map((d) => `${d.tienda_id}:${d.status}`)).toEqual([
      't_a:success',
      't_b:failed',
      't_c:failed',
      't_d:skipped',
      't_e:failed',
    ])
  })

  pgTest(
    'ties between categories go to the earliest failure; all ok is success, all failed is failed',
    async ({ db }) => {
      const run = async (outcomes: (ClassifiedError | null)[]) => {
        const tracker = new ExecutionTracker({ db, logger, heartbeatSeconds: 10 })
        const ids = outcomes.map((_, i) => `tie_${i}`)
        for (const id of ids) {
          await db`insert into tiendas (id, nombre, source_system, host, port) values (${id}, ${id}, 'klk', 'h', 1) on conflict do nothing`
        }
        await tracker.startExecution({
          etlName: 'inventario',
          etlType: 'scheduled',
          triggeredBy: 'scheduler',
          tiendaIds: ids,
        })
        for (const [i, outcome] of outcomes.entries()) {
          const t = (await tracker.startTienda(store(ids[i]!)))!
          if (outcome) await t.finishError(outcome)
          else await t.finishSuccess({ extracted: 1, loaded: 1, duplicates: 0 })
        }
        return tracker.finishExecution()
      }
      expect(await run([err('api_auth'), err('api_timeout')])).toMatchObject({
        status: 'failed',
        error_category: 'api_auth',
      })
      expect(await run([null, null])).toMatchObject({
        status: 'success',
        error_category: null,
        network_diagnostics: null,
      })
      expect(await run([null, err('api_error')])).toMatchObject({ status: 'partial', error_category: 'api_error' })
    },
  )

  pgTest('claims a queued execution, keeps its trigger, heartbeats while running', async ({ db }) => {
    await db`insert into tiendas (id, nombre, source_system, host, port) values ('q_1', 'Q', 'klk', 'h', 1) on conflict do nothing`
    const [queued] = await db<{ id: number }[]>`
      insert into etl_executions (etl_name, etl_type, status, started_at, triggered_by, tienda_ids, tiendas_count)
      values ('ventas', 'manual', 'queued', null, 'fluxion_admin', '{q_1}', 1) returning id`
    const tracker = new ExecutionTracker({ db, logger, heartbeatSeconds: 1 })
    const row = await tracker.startExecution({ executionId: queued!.id, workerId: 'w-1' })
    expect(row).toMatchObject({ id: queued!.id, status: 'running', triggered_by: 'fluxion_admin', worker_id: 'w-1' })
    const first = row.heartbeat_at!.getTime()
    await new Promise((r) => setTimeout(r, 1300))
    const [{ heartbeat_at }] = (await db`select heartbeat_at from etl_executions where id = ${row.id}`) as unknown as [
      { heartbeat_at: Date },
    ]
    expect(heartbeat_at.getTime()).toBeGreaterThan(first)
    const done = await tracker.finishExecution()
    // q_1 never started: a skipped row, so the run failed without a failed store.
    expect(done).toMatchObject({ status: 'failed', tiendas_count: 1, tiendas_fallidas: 0 })
    const again = new ExecutionTracker({ db, logger, heartbeatSeconds: 1 })
    await expect(again.startExecution({ executionId: row.id })).rejects.toThrow(/is failed, not queued/)
  })

  pgTest('notifies etl_events on every state change, payloads small', async ({ db, database }) => {
    const listener = postgres(database.url, { max: 1, onnotice: () => {} })
    const events: { execution_id: number; tienda_id?: string; kind: string }[] = []
    await listener.listen('etl_events', (payload) => events.push(JSON.parse(payload)))
    await db`insert into tiendas (id, nombre, source_system, host, port) values ('n_1', 'N', 'klk', 'h', 1) on conflict do nothing`
    const tracker = new ExecutionTracker({ db, logger, heartbeatSeconds: 10 })
    const { id } = await tracker.startExecution({
      etlName: 'ventas',
      etlType: 'manual',
      triggeredBy: 'cli',
      tiendaIds: ['n_1'],
    })
    const t = (await tracker.startTienda(store('n_1')))!
    await t.markLoad()
    await t.finishSuccess({ extracted: 0, loaded: 0, duplicates: 0 })
    await tracker.finishExecution()
    await expect.poll(() => events.length).toBe(5)
    await listener.end()
    expect(events.map((e) => `${e.kind}:${e.tienda_id ?? ''}`)).toEqual([
      'execution_started:',
      'tienda_started:n_1',
      'tienda_phase:n_1',
      'tienda_finished:n_1',
      'execution_finished:',
    ])
    expect(events.every((e) => e.execution_id === id)).toBe(true)
  })

  pgTest('costs at most three statements per store', async ({ database }) => {
    let statements = 0
    const counted = postgres(database.url, { max: 4, onnotice: () => {}, debug: () => void statements++ })
    const stores = Array.from({ length: 40 }, (_, i) => `rt_${i}`)
    await counted`insert into tiendas (id, nombre, source_system, host, port)
      select id, id, 'klk', 'h', 1 from unnest(${stores}::text[]) as id on conflict do nothing`
    const tracker = new ExecutionTracker({ db: counted, logger, heartbeatSeconds: 10 })
    await tracker.startExecution({ etlName: 'ventas', etlType: 'manual', triggeredBy: 'cli', tiendaIds: stores })
    statements = 0
    const t0 = performance.now()
    for (const id of stores) {
      const t = (await tracker.startTienda(store(id)))!
      await t.time('extract', () => {})
      await t.time('transform', () => {})
      await t.markLoad()
      await t.time('load', () => {})
      await t.finishSuccess({ extracted: 5, loaded: 5, duplicates: 0 })
    }
    const perStoreMs = (performance.now() - t0) / stores.length
    const perStore = statements / stores.length
    expect(perStore).toBeLessThanOrEqual(3)
    await tracker.finishExecution()
    await counted.end()
    console.info(`tracker: ${perStore} statements/store, ${perStoreMs.toFixed(2)} ms/store`)
  })

  pgTest(
    'a store that retried: its timeline (attempts, retry waits) is stored at the same three statements',
    async ({ database }) => {
      let statements = 0
      const counted = postgres(database.url, { max: 4, onnotice: () => {}, debug: () => void statements++ })
      const stores = Array.from({ length: 20 }, (_, i) => `rr_${i}`)
      await counted`insert into tiendas (id, nombre, source_system, host, port)
      select id, id, 'klk', 'h', 1 from unnest(${stores}::text[]) as id on conflict do nothing`
      const tracker = new ExecutionTracker({ db: counted, logger, heartbeatSeconds: 10 })
      const started = await tracker.startExecution({
        etlName: 'ventas',
        etlType: 'manual',
        triggeredBy: 'cli',
        tiendaIds: stores,
      })
      const timeout: ClassifiedError = {
        phase: 'extract',
        category: 'vpn_timeout',
        source: 'klk_api',
        message: 'Connect Timeout Error',
        code: 'UND_ERR_CONNECT_TIMEOUT',
      }
      statements = 0
      const t0 = performance.now()
      for (const id of stores) {
        // Two failed attempts in extract, each followed by its backoff, then a third that loads.
        const t = (await tracker.startTienda(store(id)))!
        for (let attempt = 1; attempt <= 2; attempt++) {
          await t.time('extract', () => Promise.reject(new Error('timeout'))).catch(() => {})
          await t.retry(timeout, 5)
        }
        await t.time(
          'extract',
          () => [1, 2, 3],
          (r) => r.length,
        )
        await t.time(
          'transform',
          () => [1, 2, 3],
          (r) => r.length,
        )
        await t.markLoad()
        await t.time(
          'load',
          () => 3,
          (n) => n,
        )
        await t.finishSuccess({ extracted: 3, loaded: 3, duplicates: 0 })
      }
      const perStoreMs = (performance.now() - t0) / stores.length
      const perStore = statements / stores.length
      expect(perStore).toBeLessThanOrEqual(3)
      await tracker.finishExecution()
      const [detail] = (await selectDetails(counted, started.id)).filter((d) => d.tienda_id === 'rr_0')
      expect(detail!.attempts).toBe(3)
      const spans = detail!.timeline as {
        attempt: number
        phase: string
        errors: number
        error_category: string | null
      }[]
      expect(spans.map((x) => [x.attempt, x.phase, x.errors, x.error_category])).toEqual([
        [1, 'extract', 1, 'vpn_timeout'],
        [1, 'retry_wait', 0, null],
        [2, 'extract', 1, 'vpn_timeout'],
        [2, 'retry_wait', 0, null],
        [3, 'extract', 0, null],
        [3, 'transform', 0, null],
        [3, 'load', 0, null],
      ])
      await counted.end()
      // Includes the two 5 ms backoffs per store.
      console.info(
        `tracker, retried stores (3 attempts): ${perStore} statements/store, ${perStoreMs.toFixed(2)} ms/store`,
      )
    },
  )
})

pgTest(
  'a store that finishes after the reaper closed its run does not rewrite the recorded outcome',
  async ({ db }) => {
    await db`insert into tiendas (id, nombre, source_system, host, port) values ('t_late', 'LATE', 'klk', '127.0.0.1', 1)`
    const tracker = new ExecutionTracker({ db, logger, heartbeatSeconds: 10, secrets: [] })
    const started = await tracker.startExecution({
      etlName: 'ventas',
      etlType: 'manual',
      triggeredBy: 'cli',
      tiendaIds: ['t_late'],
    })
    const late = (await tracker.startTienda(store('t_late')))!
    // What the reaper writes when this worker stops heartbeating (reaper.sql.ts).
    await db`update etl_execution_details set status = 'failed', error_category = 'worker_lost' where execution_id = ${started.id}`
    await db`
    update etl_executions set status = 'failed', error_category = 'worker_lost', finished_at = now(), tiendas_fallidas = 1
    where id = ${started.id}`
    await late.finishSuccess({ extracted: 10, loaded: 10, duplicates: 0 })
    tracker.stopHeartbeat()
    const [execution] = await db`
    select status, error_category, records_loaded, tiendas_exitosas, tiendas_fallidas from etl_executions where id = ${started.id}`
    expect(execution).toEqual({
      status: 'failed',
      error_category: 'worker_lost',
      records_loaded: 0,
      tiendas_exitosas: 0,
      tiendas_fallidas: 1,
    })
    expect(
      (await selectDetails(db, started.id)).map((d) => `${d.status}:${d.error_category}:${d.records_loaded}`),
    ).toEqual(['failed:worker_lost:0'])
  },
)
