// One test per category a KLK store can produce (plan §1.3, DESIGN §5), each through the real path:
// the KLK simulator on loopback sockets (faults are real: a full accept queue, a closed port, a TCP
// RST, stalled bytes, broken bodies), real undici, real zod, real PostgreSQL. Each asserts phase,
// category and source on both the execution row and the store's detail row.
import { describe, expect } from 'vitest'
import type { KlkFault } from '../../../test/fakes/klk-simulator.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import {
  addStore,
  closedPort,
  expectStoredError,
  fastConfig,
  registerStore,
  runVentas,
} from '../../../test/helpers/etl-kit.ts'

type Case = { name: string; fault: KlkFault; phase: string; category: string; config?: Record<string, string> }

const cases: Case[] = [
  { name: 'a dropped SYN (blackhole) → vpn_timeout', fault: 'slow_connect', phase: 'extract', category: 'vpn_timeout' },
  { name: 'a refused port → vpn_unreachable', fault: 'refuse', phase: 'extract', category: 'vpn_unreachable' },
  { name: 'headers never sent → api_timeout', fault: 'stall_headers', phase: 'extract', category: 'api_timeout' },
  { name: 'body stalls half-way → api_timeout', fault: 'stall_body', phase: 'extract', category: 'api_timeout' },
  { name: 'HTTP 401 → api_auth', fault: 'http_401', phase: 'extract', category: 'api_auth' },
  { name: 'HTTP 403 → api_auth', fault: 'http_403', phase: 'extract', category: 'api_auth' },
  { name: 'HTTP 500 → api_error', fault: 'http_500', phase: 'extract', category: 'api_error' },
  { name: 'a TCP reset → network_error', fault: 'reset', phase: 'extract', category: 'network_error' },
  { name: 'a body cut in half → data_format', fault: 'malformed_json', phase: 'transform', category: 'data_format' },
  {
    name: 'a string where a number goes → data_format',
    fault: 'wrong_type',
    phase: 'transform',
    category: 'data_format',
  },
  {
    name: 'numero_factura null → missing_fields',
    fault: 'missing_fields',
    phase: 'transform',
    category: 'missing_fields',
  },
  {
    name: 'a negative cantidad → data_validation',
    fault: 'out_of_range',
    phase: 'transform',
    category: 'data_validation',
  },
  {
    name: 'bytes that are not UTF-8 → encoding_error',
    fault: 'invalid_utf8',
    phase: 'transform',
    category: 'encoding_error',
  },
]

describe('KLK store errors, classified and stored', () => {
  for (const [i, c] of cases.entries()) {
    pgTest(c.name, async ({ db, database }) => {
      const id = `tienda_x${String(i).padStart(2, '0')}`
      const store = await addStore(db, { tiendaId: id, fault: c.fault })
      try {
        const run = await runVentas(db, fastConfig(database.url, c.config), [id])
        const { detail } = await expectStoredError(db, run.id, id, {
          phase: c.phase,
          category: c.category,
          source: 'klk_api',
        })
        expect(run).toMatchObject({ status: 'failed', error_category: c.category, tiendas_fallidas: 1 })
        expect(detail.error_message).not.toMatch(/^\s*$/)
        const [row] = await db`select server_ip, server_port, network_diagnostics from etl_execution_details
          where execution_id = ${run.id}`
        expect(row).toMatchObject({ server_ip: '127.0.0.1', server_port: store.port })
        expect(JSON.stringify(row!.network_diagnostics).length).toBeLessThan(1000)
      } finally {
        await store.close()
      }
    })
  }

  pgTest('plan test 5: a wrong token (bad credentials) → api_auth', async ({ db, database }) => {
    const store = await addStore(db, { tiendaId: 'tienda_badtoken', token: 'the-token-the-store-expects' })
    try {
      const run = await runVentas(db, fastConfig(database.url), ['tienda_badtoken'])
      await expectStoredError(db, run.id, 'tienda_badtoken', {
        phase: 'extract',
        category: 'api_auth',
        source: 'klk_api',
      })
      expect(run.tiendas_detail[0]!.error_message).toMatch(/HTTP 401/)
    } finally {
      await store.close()
    }
  })

  pgTest('an unresolvable host → network_error', async ({ db, database }) => {
    await registerStore(db, { id: 'tienda_nodns', host: 'nonexistent.invalid', port: 8080 })
    const run = await runVentas(db, fastConfig(database.url), ['tienda_nodns'])
    const { detail } = await expectStoredError(db, run.id, 'tienda_nodns', {
      phase: 'extract',
      category: 'network_error',
      source: 'klk_api',
    })
    expect(detail.error_message).toMatch(/ENOTFOUND|EAI_AGAIN/)
  })

  pgTest('connect diagnostics: the refused port is recorded with its error code', async ({ db, database }) => {
    const port = await closedPort()
    await registerStore(db, { id: 'tienda_closed', host: '127.0.0.1', port })
    const run = await runVentas(db, fastConfig(database.url), ['tienda_closed'])
    expect(run.tiendas_detail[0]).toMatchObject({
      server_ip: '127.0.0.1',
      server_port: port,
      error_category: 'vpn_unreachable',
      network_diagnostics: {
        ip: '127.0.0.1',
        port,
        latency_ms: null,
        error_code: 'ECONNREFUSED',
        requests: 1,
        errors: 1,
      },
    })
    expect(run).toMatchObject({ api_requests_count: 1, api_errors_count: 1 })
    // The plan's {"ip", "port"} of the dominant error's connection, and every failing store's address.
    expect(run.network_diagnostics).toEqual({
      ip: '127.0.0.1',
      port,
      tienda_id: 'tienda_closed',
      latency_ms: null,
      error_code: 'ECONNREFUSED',
      failed_stores: 1,
      stores: [{ tienda_id: 'tienda_closed', ip: '127.0.0.1', port, latency_ms: null, error_code: 'ECONNREFUSED' }],
    })
  })

  pgTest('transient errors are retried with backoff and the attempts recorded', async ({ db, database }) => {
    const down = await addStore(db, { tiendaId: 'tienda_down', fault: 'refuse' })
    const flaky = await addStore(db, { tiendaId: 'tienda_flaky', fault: 'http_503' })
    const auth = await addStore(db, { tiendaId: 'tienda_auth', fault: 'http_401' })
    try {
      const config = fastConfig(database.url, { SOURCE_RETRIES: '2', SOURCE_RETRY_BASE_MS: '200' })
      const running = runVentas(db, config, ['tienda_down', 'tienda_flaky', 'tienda_auth'])
      // The flaky store recovers while the run is backing off after its first 503.
      await expect.poll(() => flaky.requests, { timeout: 5000, interval: 10 }).toBeGreaterThan(0)
      await flaky.setFault(null)
      const run = await running
      const byId = Object.fromEntries(run.tiendas_detail.map((d) => [d.tienda_id, d]))
      expect(byId.tienda_down).toMatchObject({ status: 'failed', error_category: 'vpn_unreachable', attempts: 3 })
      expect(byId.tienda_flaky).toMatchObject({ status: 'success', attempts: 2 })
      expect(byId.tienda_flaky!.records_loaded).toBeGreaterThan(0)
      // 401 is not transient: one attempt only.
      expect(byId.tienda_auth).toMatchObject({ status: 'failed', error_category: 'api_auth', attempts: 1 })
      expect(auth.requests).toBe(1)
      expect(run.status).toBe('partial')
    } finally {
      await Promise.all([down.close(), flaky.close(), auth.close()])
    }
  })
})
