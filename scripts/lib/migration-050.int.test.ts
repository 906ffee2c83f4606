// Migration 050 on data: rows the runner wrote in its earlier diagnostics shapes become the
// contract's shapes (and the API serves them), DOWN restores the earlier shapes exactly, and
// up → down → up gives the same rows again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApi } from '../../test/helpers/api.ts'
import { schemaErrors } from '../../test/helpers/contract.ts'
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.ts'
import { migrateDown, migrateUp } from './migrations.ts'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
  await migrateDown(database.sql, '050')
})
afterAll(() => database.drop())

const at = (s: number) => new Date(Date.UTC(2026, 10, 2, 10, 0, s))

// Today's (pre-050) shapes, as tracker.sql.ts and tienda-tracker.ts wrote them: nulls omitted.
const OLD_STORE = {
  tienda_02: { ip: '127.0.0.2', port: 18102, code: 'ECONNREFUSED', requests: 1, errors: 1, tcp_connected: false },
  tienda_03: {
    ip: '127.0.0.3',
    port: 18103,
    code: 'UND_ERR_CONNECT_TIMEOUT',
    requests: 1,
    errors: 1,
    failed_attempts: ['vpn_timeout:UND_ERR_CONNECT_TIMEOUT'],
  },
  tienda_04: {
    ip: '127.0.0.4',
    port: 18104,
    latency_ms: 0.4,
    code: 'HTTP_500',
    requests: 1,
    errors: 1,
    tcp_connected: true,
  },
  tienda_01: { ip: '127.0.0.1', port: 18101, latency_ms: 0.3, requests: 2, errors: 0, tcp_connected: true },
} as const

async function seedOldRows() {
  const db = database.sql
  await db`insert into tiendas (id, nombre, source_system, host, port)
    select t, upper(t), 'klk', '127.0.0.1', 18100 from unnest(${['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04']}::text[]) t`
  // Three failed stores, one category each (a tie): the dominant error is the earliest failure,
  // tienda_02 refused (vpn_unreachable), as the execution row records.
  const old = {
    failed_stores: 3,
    stores: [
      { tienda_id: 'tienda_02', ip: '127.0.0.2', port: 18102, code: 'ECONNREFUSED' },
      { tienda_id: 'tienda_03', ip: '127.0.0.3', port: 18103, code: 'UND_ERR_CONNECT_TIMEOUT' },
      { tienda_id: 'tienda_04', ip: '127.0.0.4', port: 18104, latency_ms: 0.4, code: 'HTTP_500' },
    ],
  }
  const [e] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, duration_seconds, triggered_by,
      tiendas_count, tiendas_exitosas, tiendas_fallidas, error_phase, error_category, network_diagnostics, tienda_ids)
    values ('ventas', 'manual', 'partial', ${at(0)}, ${at(9)}, 9, 'cli', 4, 1, 3, 'extract', 'vpn_unreachable',
      ${db.json(old)}, ${['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04']})
    returning id`
  const rows = [
    ['tienda_01', 'success', null, 5, '127.0.0.1', 18101, 0.3],
    ['tienda_02', 'failed', 'vpn_unreachable', 2, '127.0.0.2', 18102, null],
    ['tienda_03', 'failed', 'vpn_timeout', 3, '127.0.0.3', 18103, null],
    ['tienda_04', 'failed', 'api_error', 4, '127.0.0.4', 18104, 0.4],
  ] as const
  for (const [tienda, status, category, s, ip, port, latency] of rows) {
    await db`
      insert into etl_execution_details (execution_id, tienda_id, tienda_nombre, source_system, status, started_at,
        finished_at, error_phase, error_category, server_ip, server_port, connection_latency_ms, network_diagnostics, attempts)
      values (${e!.id}, ${tienda}, ${tienda.toUpperCase()}, 'klk', ${status}, ${at(0)}, ${at(s)},
        ${category ? 'extract' : null}, ${category}, ${ip}, ${port}, ${latency}, ${db.json(OLD_STORE[tienda])}, 1)`
  }
  // An execution whose store rows are gone (only its old summary is left).
  const [orphan] = await db<{ id: number }[]>`
    insert into etl_executions (etl_name, etl_type, status, started_at, finished_at, triggered_by, tiendas_count,
      tiendas_fallidas, error_category, network_diagnostics)
    values ('ventas', 'manual', 'failed', ${at(20)}, ${at(21)}, 'cli', 1, 1, 'vpn_timeout',
      ${db.json({ failed_stores: 1, stores: [{ tienda_id: 'tienda_09', ip: '10.8.0.19', port: 80, code: 'UND_ERR_CONNECT_TIMEOUT' }] })})
    returning id`
  return { id: e!.id, orphan: orphan!.id, old }
}

const snapshot = async () => ({
  executions: await database.sql`select id, network_diagnostics from etl_executions order by id`,
  stores:
    await database.sql`select execution_id, tienda_id, network_diagnostics from etl_execution_details order by execution_id, tienda_id`,
})

describe('migration 050 (network diagnostics shapes, store timeline)', () => {
  it('converts the earlier shapes, serves them, and survives up → down → up', async () => {
    const { id, orphan, old } = await seedOldRows()
    const before = await snapshot()

    await migrateUp(database.sql, { to: '050' })
    const up = await snapshot()
    const [execution] = up.executions.filter((e) => e.id === id)
    expect(execution!.network_diagnostics).toEqual({
      ip: '127.0.0.2',
      port: 18102,
      tienda_id: 'tienda_02',
      latency_ms: null,
      error_code: 'ECONNREFUSED',
      failed_stores: 3,
      stores: [
        { tienda_id: 'tienda_02', ip: '127.0.0.2', port: 18102, latency_ms: null, error_code: 'ECONNREFUSED' },
        {
          tienda_id: 'tienda_03',
          ip: '127.0.0.3',
          port: 18103,
          latency_ms: null,
          error_code: 'UND_ERR_CONNECT_TIMEOUT',
        },
        { tienda_id: 'tienda_04', ip: '127.0.0.4', port: 18104, latency_ms: 0.4, error_code: 'HTTP_500' },
      ],
    })
    expect(up.executions.find((e) => e.id === orphan)!.network_diagnostics).toEqual({
      ip: '10.8.0.19',
      port: 80,
      tienda_id: 'tienda_09',
      latency_ms: null,
      error_code: 'UND_ERR_CONNECT_TIMEOUT',
      failed_stores: 1,
      stores: [
        { tienda_id: 'tienda_09', ip: '10.8.0.19', port: 80, latency_ms: null, error_code: 'UND_ERR_CONNECT_TIMEOUT' },
      ],
    })
    for (const e of up.executions)
      expect(schemaErrors('ExecutionNetworkDiagnostics', e.network_diagnostics)).toEqual([])
    for (const s of up.stores) expect(schemaErrors('TiendaNetworkDiagnostics', s.network_diagnostics)).toEqual([])
    expect(up.stores.find((s) => s.tienda_id === 'tienda_03')!.network_diagnostics).toEqual({
      ip: '127.0.0.3',
      port: 18103,
      latency_ms: null,
      error_code: 'UND_ERR_CONNECT_TIMEOUT',
      requests: 1,
      errors: 1,
      failed_attempts: ['vpn_timeout:UND_ERR_CONNECT_TIMEOUT'],
    })
    expect(up.stores.find((s) => s.tienda_id === 'tienda_01')!.network_diagnostics).toMatchObject({ error_code: null })

    // The API serves the converted rows, each store with its own address and driver error code
    // (every response of testApi is validated against openapi.yaml).
    await migrateUp(database.sql)
    const api = await testApi({ db: database.sql })
    const detail = (await api.call('get', `/api/etl/history/${id}`)).body as {
      network_diagnostics: unknown
      tiendas_detail: { tienda_id: string; error_code: string | null; timeline: unknown[] }[]
    }
    expect(detail.network_diagnostics).toEqual(execution!.network_diagnostics)
    expect(detail.tiendas_detail.map((t) => [t.tienda_id, t.error_code])).toEqual([
      ['tienda_01', null],
      ['tienda_02', 'ECONNREFUSED'],
      ['tienda_03', 'UND_ERR_CONNECT_TIMEOUT'],
      ['tienda_04', 'HTTP_500'],
    ])
    expect(detail.tiendas_detail.every((t) => t.timeline.length === 0)).toBe(true)
    await api.close()

    await migrateDown(database.sql, '050')
    expect(await snapshot()).toEqual(before)
    expect(before.executions.find((e) => e.id === id)!.network_diagnostics).toEqual(old)

    await migrateUp(database.sql, { to: '050' })
    expect(await snapshot()).toEqual(up)
  })
})
