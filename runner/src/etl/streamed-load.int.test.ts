// A store's window is staged page by page (load.sql.ts, migration 042), not held whole in memory:
// a large window loads exactly, a failure on a late page leaves nothing behind, and staged rows
// reach PostgreSQL while the source is still being read — observed from another connection, with
// a stalled page instead of a timing assumption.
import type { Sql } from 'postgres'
import { describe, expect } from 'vitest'
import { salesFor } from '../../../test/fakes/sales-data.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addStore, expectStoredError, fastConfig, runVentas, WINDOW } from '../../../test/helpers/etl-kit.ts'
import { StoreLoad } from './load.sql.ts'
import type { VentaLine } from './ventas.schema.ts'

// ~60k lines in WINDOW's half hour: 60 pages of the KLK source's 1000.
const BIG = 60_000
const PAGE = 1000

async function count(db: Sql, table: 'ventas' | 'ventas_staging', tiendaId: string) {
  const [{ n }] = (await db`
    select count(*)::int as n from ${db(table)} where tienda_id = ${tiendaId}`) as unknown as [{ n: number }]
  return n
}

const detailOf = (db: Sql, executionId: number, tiendaId: string) =>
  db`select status, error_phase, records_extracted, records_loaded, duplicates_skipped
     from etl_execution_details where execution_id = ${executionId} and tienda_id = ${tiendaId}`.then((r) => r[0]!)

describe('a window streamed through staging', () => {
  pgTest('a 60k-line window loads exactly: loaded + duplicates = the source’s lines', async ({ db, database }) => {
    const store = await addStore(db, { tiendaId: 'tienda_big', invoicesPerHour: BIG })
    const expected = salesFor('tienda_big', WINDOW.desde, WINDOW.hasta, BIG).length
    expect(expected).toBeGreaterThanOrEqual(50_000)
    try {
      const config = fastConfig(database.url, { LOAD_CHUNK_ROWS: '5000', SOURCE_REQUEST_TIMEOUT_MS: '10000' })
      const run = await runVentas(db, config, ['tienda_big'])
      const detail = await detailOf(db, run.id, 'tienda_big')
      expect(detail).toMatchObject({ status: 'success', records_extracted: expected, records_loaded: expected })
      expect(detail.records_loaded + detail.duplicates_skipped).toBe(expected)
      expect(await count(db, 'ventas', 'tienda_big')).toBe(expected)
      expect(await count(db, 'ventas_staging', 'tienda_big')).toBe(0)
    } finally {
      await store.close()
    }
  })

  pgTest('a page failing late in a 60k-line window leaves no rows, recorded as extract', async ({ db, database }) => {
    // Page 50 of 60: ~49k lines were already staged (9 chunks) when it fails.
    const store = await addStore(db, {
      tiendaId: 'tienda_late',
      invoicesPerHour: BIG,
      fault: 'fail_page_2',
      failFromPage: 50,
    })
    try {
      const config = fastConfig(database.url, { LOAD_CHUNK_ROWS: '5000', SOURCE_REQUEST_TIMEOUT_MS: '10000' })
      const run = await runVentas(db, config, ['tienda_late'])
      await expectStoredError(db, run.id, 'tienda_late', { phase: 'extract', category: 'api_error', source: 'klk_api' })
      expect(await detailOf(db, run.id, 'tienda_late')).toMatchObject({ records_extracted: 49 * PAGE })
      expect(await count(db, 'ventas', 'tienda_late')).toBe(0)
      expect(await count(db, 'ventas_staging', 'tienda_late')).toBe(0)
    } finally {
      await store.close()
    }
  })

  pgTest(
    'staged rows reach PostgreSQL before the source is exhausted; ventas only at the end',
    async ({ db, database }) => {
      // Every page's headers wait 800 ms: ~2800 lines → 3 pages; chunks of 500 stage after page 1.
      const store = await addStore(db, {
        tiendaId: 'tienda_slowpages',
        invoicesPerHour: 2800,
        fault: 'stall_headers',
        faultDelayMs: 800,
      })
      const expected = salesFor('tienda_slowpages', WINDOW.desde, WINDOW.hasta, 2800).length
      expect(expected).toBeGreaterThan(2 * PAGE)
      try {
        const config = fastConfig(database.url, { LOAD_CHUNK_ROWS: '500', SOURCE_REQUEST_TIMEOUT_MS: '5000' })
        let done = false
        const running = runVentas(db, config, ['tienda_slowpages']).finally(() => {
          done = true
        })
        let seen = { staged: 0, requests: 0, ventas: -1 }
        while (!done && seen.staged === 0) {
          const staged = await count(db, 'ventas_staging', 'tienda_slowpages')
          // Read after the staged count: if the source had been exhausted by then, requests says so.
          seen = { staged, requests: store.requests, ventas: await count(db, 'ventas', 'tienda_slowpages') }
          await new Promise((r) => setTimeout(r, 20))
        }
        const run = await running
        expect(seen.staged).toBeGreaterThanOrEqual(500)
        expect(seen.staged).toBeLessThan(expected)
        expect(seen.requests).toBeLessThan(Math.ceil(expected / PAGE))
        expect(seen.ventas).toBe(0)
        expect(await detailOf(db, run.id, 'tienda_slowpages')).toMatchObject({
          status: 'success',
          records_loaded: expected,
          duplicates_skipped: 0,
        })
        expect(await count(db, 'ventas_staging', 'tienda_slowpages')).toBe(0)
      } finally {
        await store.close()
      }
    },
  )

  pgTest('a line repeated across pages and chunks of one window counts once, then as a duplicate', async ({ db }) => {
    await db`insert into tiendas (id, nombre, source_system, host, port) values ('tienda_rep', 'R', 'klk', '127.0.0.1', 1)`
    const lines = salesFor('tienda_rep', WINDOW.desde, WINDOW.hasta)
    const load = new StoreLoad<VentaLine>(db, 'ventas', 'tienda_rep', 1, { chunkRows: 7, statementTimeoutMs: 0 })
    try {
      await load.append(lines)
      await load.append(lines.slice(0, 10))
      expect(await load.merge()).toEqual({ loaded: lines.length, duplicates: 10 })
    } finally {
      await load.discard()
    }
    expect(await count(db, 'ventas', 'tienda_rep')).toBe(lines.length)
    expect(await count(db, 'ventas_staging', 'tienda_rep')).toBe(0)
  })

  pgTest(
    'an attempt killed after staging leaves chunks; the attempt that takes the store over replaces them and loads exactly',
    async ({ db }) => {
      await db`insert into tiendas (id, nombre, source_system, host, port) values ('tienda_kill', 'K', 'klk', '127.0.0.1', 1)`
      const lines = salesFor('tienda_kill', WINDOW.desde, WINDOW.hasta)
      const options = { chunkRows: 7, statementTimeoutMs: 0 }
      // The dead attempt: chunks staged, then its runner is gone (kill -9: no merge, no discard).
      const dead = new StoreLoad<VentaLine>(db, 'ventas', 'tienda_kill', 2, options)
      await dead.append(lines.slice(0, 30))
      expect(await count(db, 'ventas_staging', 'tienda_kill')).toBe(28)
      // The part retried on another runner: same execution, same store, the same keys staged again.
      const takeover = new StoreLoad<VentaLine>(db, 'ventas', 'tienda_kill', 2, options)
      try {
        await takeover.append(lines)
        expect(await takeover.merge()).toEqual({ loaded: lines.length, duplicates: 0 })
      } finally {
        await takeover.discard()
      }
      expect(await count(db, 'ventas', 'tienda_kill')).toBe(lines.length)
      expect(await count(db, 'ventas_staging', 'tienda_kill')).toBe(0)
    },
  )
})
