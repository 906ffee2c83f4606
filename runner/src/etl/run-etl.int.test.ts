// runEtl end to end: KLK simulator stores on loopback, real undici, real PostgreSQL. The plan's
// manual tests 1, 4, 5, 6 (§6.1), the status roll-up, exact duplicate counts, live visibility of a
// running execution, shutdown, queued runs, bad requests and secrets.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect } from 'vitest'
import { inventoryFor, salesFor } from '../../../test/fakes/sales-data.ts'
import { startStellarStore } from '../../../test/fakes/tds-server.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addStore, etlDeps, fastConfig, registerStore, runVentas, WINDOW } from '../../../test/helpers/etl-kit.ts'
import { expectStoresAccountedFor } from '../../../test/helpers/invariants.ts'
import { detectTriggeredBy } from '../tracker/triggered-by.ts'
import { runEtl } from './run-etl.ts'

const lines = (id: string, w = WINDOW) => salesFor(id, w.desde, w.hasta).length

/** Polls until `fn` returns a non-empty list (10 s at most). */
async function waitUntil<T>(fn: () => Promise<T[]>): Promise<T[]> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    const rows = await fn()
    if (rows.length) return rows
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('timed out')
}

describe('runEtl', () => {
  pgTest(
    'plan tests 1 and 6: a CLI run records triggered_by cli and a detail row per store',
    async ({ db, database }) => {
      const stores = await Promise.all(
        ['tienda_01', 'tienda_02', 'tienda_03'].map((id) => addStore(db, { tiendaId: id })),
      )
      try {
        const run = await runVentas(db, fastConfig(database.url), ['tienda_01', 'tienda_02', 'tienda_03'], {
          triggeredBy: detectTriggeredBy({}, {}),
        })
        const [row] = await db`select triggered_by, status, tiendas_count, tiendas_exitosas, source_system, fecha_desde,
        records_loaded, records_extracted, api_requests_count from etl_executions where id = ${run.id}`
        const total = lines('tienda_01') + lines('tienda_02') + lines('tienda_03')
        expect(row).toEqual({
          triggered_by: 'cli',
          status: 'success',
          tiendas_count: 3,
          tiendas_exitosas: 3,
          source_system: 'klk',
          fecha_desde: WINDOW.desde,
          records_loaded: total,
          records_extracted: total,
          api_requests_count: 3,
        })
        const details = await db`select tienda_id, tienda_nombre, source_system, status, records_loaded, attempts,
        extract_duration_seconds is not null as timed from etl_execution_details where execution_id = ${run.id} order by 1`
        expect(details).toEqual(
          ['tienda_01', 'tienda_02', 'tienda_03'].map((id) => ({
            tienda_id: id,
            tienda_nombre: id.toUpperCase(),
            source_system: 'klk',
            status: 'success',
            records_loaded: lines(id),
            attempts: 1,
            timed: true,
          })),
        )
        await expectStoresAccountedFor(db, run.id)
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    },
  )

  pgTest('plan test 4: a store behind a dead VPN is extract/vpn_timeout, the others load', async ({ db, database }) => {
    const ok = await addStore(db, { tiendaId: 'tienda_04' })
    const vpn = await addStore(db, { tiendaId: 'tienda_08', fault: 'slow_connect' })
    try {
      const run = await runVentas(db, fastConfig(database.url), ['tienda_04', 'tienda_08'])
      expect(run).toMatchObject({ status: 'partial', error_phase: 'extract', error_category: 'vpn_timeout' })
      expect(run.error_message).toMatch(/Connect Timeout/)
      await expectStoresAccountedFor(db, run.id)
    } finally {
      await Promise.all([ok.close(), vpn.close()])
    }
  })

  pgTest('status roll-up: all ok → success, mixed → partial, all failed → failed', async ({ db, database }) => {
    const a = await addStore(db, { tiendaId: 'tienda_ra' })
    const b = await addStore(db, { tiendaId: 'tienda_rb' })
    const config = fastConfig(database.url)
    try {
      expect((await runVentas(db, config, ['tienda_ra', 'tienda_rb'])).status).toBe('success')
      await b.setFault('http_500')
      expect((await runVentas(db, config, ['tienda_ra', 'tienda_rb'])).status).toBe('partial')
      await a.setFault('missing_fields')
      const failed = await runVentas(db, config, ['tienda_ra', 'tienda_rb'])
      expect(failed).toMatchObject({ status: 'failed', tiendas_exitosas: 0, tiendas_fallidas: 2 })
      await expectStoresAccountedFor(db, failed.id)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  pgTest(
    'KLK and Stellar stores in one run: source_system mixed, each store classified by its source',
    async ({ db, database }) => {
      const klk = await addStore(db, { tiendaId: 'tienda_k1' })
      const stellar = await Promise.all([
        startStellarStore({ tiendaId: 'tienda_s_ok' }),
        startStellarStore({ tiendaId: 'tienda_s_login', fault: 'login_failed' }),
      ])
      for (const s of stellar)
        await registerStore(db, { id: s.tiendaId, host: s.host, port: s.port, sourceSystem: 'stellar' })
      try {
        const run = await runVentas(db, fastConfig(database.url, { SOURCE_CONNECT_TIMEOUT_MS: '2000' }), [
          'tienda_k1',
          'tienda_s_ok',
          'tienda_s_login',
        ])
        expect(run).toMatchObject({ status: 'partial', source_system: 'mixed', error_category: 'db_connection' })
        const byId = Object.fromEntries(run.tiendas_detail.map((d) => [d.tienda_id, d]))
        expect(byId.tienda_s_ok).toMatchObject({
          status: 'success',
          source_system: 'stellar',
          records_loaded: lines('tienda_s_ok'),
        })
        expect(byId.tienda_s_login).toMatchObject({
          status: 'failed',
          error_phase: 'extract',
          error_category: 'db_connection',
          error_source: 'stellar_db',
        })
        expect(byId.tienda_k1).toMatchObject({ status: 'success', source_system: 'klk' })
      } finally {
        await Promise.all([klk.close(), ...stellar.map((s) => s.close())])
      }
    },
  )

  pgTest('re-running a window counts duplicates exactly and loads nothing twice', async ({ db, database }) => {
    const store = await addStore(db, { tiendaId: 'tienda_dup' })
    const config = fastConfig(database.url)
    const wider = { desde: WINDOW.desde, hasta: new Date(WINDOW.hasta.getTime() + 15 * 60_000) }
    try {
      const first = await runVentas(db, config, ['tienda_dup'])
      const n = lines('tienda_dup')
      expect(first).toMatchObject({ records_extracted: n, records_loaded: n, duplicates_skipped: 0 })
      const again = await runVentas(db, config, ['tienda_dup'])
      expect(again).toMatchObject({ status: 'success', records_extracted: n, records_loaded: 0, duplicates_skipped: n })
      const overlap = await runVentas(db, config, ['tienda_dup'], wider)
      const m = lines('tienda_dup', wider)
      expect(overlap).toMatchObject({ records_extracted: m, records_loaded: m - n, duplicates_skipped: n })
      const [{ count }] =
        (await db`select count(*)::int as count from ventas where tienda_id = 'tienda_dup'`) as unknown as [
          { count: number },
        ]
      expect(count).toBe(m)
    } finally {
      await store.close()
    }
  })

  pgTest('inventario upserts current stock: a second identical run changes nothing', async ({ db, database }) => {
    const store = await addStore(db, { tiendaId: 'tienda_inv' })
    const deps = etlDeps(db, fastConfig(database.url)).deps
    const request = {
      etlName: 'inventario',
      tiendaIds: ['tienda_inv'],
      triggeredBy: 'scheduler',
      etlType: 'scheduled',
    } as const
    try {
      const items = inventoryFor('tienda_inv')
      const first = await runEtl(deps, request)
      expect(first).toMatchObject({ status: 'success', records_loaded: items.length, fecha_desde: null })
      await db`update inventario set existencia = existencia + 1 where codigo_producto = ${items[0]!.codigo_producto}`
      const second = await runEtl(deps, request)
      expect(second).toMatchObject({ records_loaded: 1, duplicates_skipped: items.length - 1 })
      const [row] =
        await db`select existencia::float8 as existencia from inventario where codigo_producto = ${items[0]!.codigo_producto}`
      expect(row!.existencia).toBe(items[0]!.existencia)
    } finally {
      await store.close()
    }
  })

  pgTest('a running execution is visible with its stores so far', async ({ db, database }) => {
    const fast = await addStore(db, { tiendaId: 'tienda_fast' })
    const slow = await addStore(db, { tiendaId: 'tienda_slow', fault: 'stall_headers', faultDelayMs: 1500 })
    try {
      const config = fastConfig(database.url, { SOURCE_REQUEST_TIMEOUT_MS: '5000' })
      // Read before the run starts: read after, the run's own row may already be the largest id.
      const [{ last }] = (await db`select coalesce(max(id), 0) as last from etl_executions`) as unknown as [
        { last: number },
      ]
      const running = runVentas(db, config, ['tienda_fast', 'tienda_slow'])
      await expect
        .poll(
          async () => {
            const rows = await db`select e.status as run, d.tienda_id, d.status, d.current_phase
              from etl_executions e join etl_execution_details d on d.execution_id = e.id
              where e.id > ${last} order by d.tienda_id`
            return rows.map((r) => `${r.run}/${r.tienda_id}:${r.status}:${r.current_phase}`)
          },
          { timeout: 5000, interval: 50 },
        )
        .toEqual(['running/tienda_fast:success:null', 'running/tienda_slow:running:extract'])
      const [live] = await db`select status, tiendas_exitosas, records_loaded, heartbeat_at is not null as beating
        from etl_executions where id > ${last}`
      expect(live).toEqual({
        status: 'running',
        tiendas_exitosas: 1,
        records_loaded: lines('tienda_fast'),
        beating: true,
      })
      expect((await running).status).toBe('success')
    } finally {
      await Promise.all([fast.close(), slow.close()])
    }
  })

  pgTest('on abort no new store starts, the one in flight finishes, the rest are skipped', async ({ db, database }) => {
    const first = await addStore(db, { tiendaId: 'tienda_s1', fault: 'stall_headers', faultDelayMs: 400 })
    const others = await Promise.all(['tienda_s2', 'tienda_s3'].map((id) => addStore(db, { tiendaId: id })))
    const abort = new AbortController()
    try {
      const config = fastConfig(database.url, { ETL_CONCURRENCY: '1', SOURCE_REQUEST_TIMEOUT_MS: '3000' })
      const run = await runVentas(db, config, ['tienda_s1', 'tienda_s2', 'tienda_s3'], {
        signal: abort.signal,
        onProgress: (e) => e.kind === 'tienda_started' && abort.abort(),
      })
      expect(run.tiendas_detail.map((d) => `${d.tienda_id}:${d.status}`)).toEqual([
        'tienda_s1:success',
        'tienda_s2:skipped',
        'tienda_s3:skipped',
      ])
      // The two never started are skipped, counted apart: tiendas_count = exitosas + fallidas + skipped.
      expect(run).toMatchObject({ status: 'partial', tiendas_count: 3, tiendas_exitosas: 1, tiendas_fallidas: 0 })
      expect(run.error_message).toMatch(/before 2 store\(s\) started: tienda_s2, tienda_s3/)
      expect(others.every((s) => s.requests === 0)).toBe(true)
    } finally {
      await Promise.all([first.close(), ...others.map((s) => s.close())])
    }
  })

  pgTest('a queued execution from the history API is claimed and keeps its trigger', async ({ db, database }) => {
    const store = await addStore(db, { tiendaId: 'tienda_q' })
    try {
      const [queued] = await db<{ id: number }[]>`
        insert into etl_executions (etl_name, etl_type, status, started_at, triggered_by, tienda_ids, tiendas_count,
          fecha_desde, fecha_hasta)
        values ('ventas', 'manual', 'queued', null, 'fluxion_admin', '{tienda_q}', 1, ${WINDOW.desde}, ${WINDOW.hasta})
        returning id`
      const run = await runVentas(
        db,
        fastConfig(database.url),
        ['tienda_q'],
        { executionId: queued!.id },
        { workerId: 'worker-7' },
      )
      expect(run).toMatchObject({
        id: queued!.id,
        status: 'success',
        triggered_by: 'fluxion_admin',
        worker_id: 'worker-7',
      })
      expect(run.started_at).toBeInstanceOf(Date)
    } finally {
      await store.close()
    }
  })

  pgTest('unknown or inactive stores are rejected by name before anything is written', async ({ db, database }) => {
    await registerStore(db, { id: 'tienda_off', host: '127.0.0.1', port: 1, active: false })
    const config = fastConfig(database.url)
    const [{ before }] = (await db`select count(*)::int as before from etl_executions`) as unknown as [
      { before: number },
    ]
    await expect(runVentas(db, config, ['tienda_nope', 'tienda_off'])).rejects.toThrow(
      'cannot run ventas: unknown store(s): tienda_nope; inactive store(s): tienda_off',
    )
    await expect(runVentas(db, config, [], { desde: WINDOW.hasta, hasta: WINDOW.desde })).rejects.toThrow(
      /is after hasta/,
    )
    const [{ after }] = (await db`select count(*)::int as after from etl_executions`) as unknown as [{ after: number }]
    expect(after).toBe(before)
  })

  pgTest('a secret in a source error never reaches a stored column or a log line', async ({ db, database }) => {
    const token = 'sk_live_7Hq2Z9xW4pL0'
    const dbPassword = 'pg-S3cr3t-pass'
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.k7s9d8f7g6h5j4k3l2'
    // A store API that echoes credentials into its 500 body, as misbehaving servers do.
    const server = createServer((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          error: `upstream failed for ${req.headers.authorization} via postgres://etl:${dbPassword}@10.0.0.5/pos token=${jwt} Password=${dbPassword};`,
        }),
      )
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    await registerStore(db, { id: 'tienda_leak', host: '127.0.0.1', port: (server.address() as AddressInfo).port })
    try {
      const url = new URL(database.url)
      url.password = dbPassword
      const config = { ...fastConfig(database.url, { KLK_API_TOKEN: token }), DATABASE_URL: url.toString() }
      const { deps, logs } = etlDeps(db, config)
      const run = await runEtl(deps, {
        etlName: 'ventas',
        tiendaIds: ['tienda_leak'],
        ...WINDOW,
        triggeredBy: 'cli',
        etlType: 'manual',
      })
      expect(run).toMatchObject({ status: 'failed', error_category: 'api_error' })
      expect(run.error_message).toMatch(/upstream failed/)
      const stored = JSON.stringify([
        await db`select * from etl_executions where id = ${run.id}`,
        await db`select * from etl_execution_details where execution_id = ${run.id}`,
      ])
      for (const secret of [token, dbPassword, jwt]) {
        expect(stored).not.toContain(secret)
        expect(logs.join('\n')).not.toContain(secret)
      }
      expect(logs.some((l) => l.includes('"tienda_id":"tienda_leak"') && l.includes(`"execution_id":${run.id}`))).toBe(
        true,
      )
    } finally {
      await new Promise((r) => server.close(r))
    }
  })

  pgTest(
    'a stop asked of an in-process (CLI) run: the heartbeat reads it, stores stop at a page, the run is cancelled',
    async ({ db, database }) => {
      const ids = ['tienda_01', 'tienda_02', 'tienda_03']
      // Each store ~20 pages of 1,000 lines, 200 ms apart: seconds per store, one store at a time.
      const stores = await Promise.all(
        ids.map((tiendaId) => addStore(db, { tiendaId, invoicesPerHour: 300, link: { rttMs: 200 } })),
      )
      try {
        const config = fastConfig(database.url, {
          ETL_CONCURRENCY: '1',
          RUNNER_HEARTBEAT_S: '1',
          SOURCE_REQUEST_TIMEOUT_MS: '10000',
        })
        const window = { desde: new Date('2026-11-02T00:00:00Z'), hasta: new Date('2026-11-02T23:59:59Z') }
        const running = runVentas(db, config, ids, window)
        const [started] = await waitUntil(
          async () =>
            db<{ id: number }[]>`select execution_id as id from etl_execution_details where status = 'running'`,
        )
        // What POST /api/etl/executions/{id}/cancel writes for a running run.
        await db`update etl_executions set cancel_requested_at = now(), cancel_requested_by = 'test' where id = ${started!.id}`
        const run = await running
        expect(run.status).toBe('cancelled')
        await expectStoresAccountedFor(db, run.id)
        const details =
          await db`select tienda_id, status from etl_execution_details where execution_id = ${run.id} order by 1`
        expect(details).toEqual(ids.map((tienda_id) => ({ tienda_id, status: 'skipped' })))
        // The file's tests share a database: count only what this run loaded.
        expect(await db`select count(*)::int as n from ventas where execution_id = ${run.id}`).toEqual([{ n: 0 }])
        const [row] = await db`select error_message from etl_executions where id = ${run.id}`
        expect(row!.error_message).toMatch(/stopped \(cancel requested\) before 2 store\(s\) started/)
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    },
  )
})
