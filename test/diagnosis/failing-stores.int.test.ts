// Issue 9's end-to-end check of the diagnosis: `npm run etl` (the real CLI, a child process) runs
// ventas over four KLK stand-ins, three of which fail in the three ways a store fails over the VPN —
// connection refused, a connect that is never answered, an HTTP 500 — and the history API's detail
// (every response validated against openapi.yaml) says for each failed store at which address it
// failed, with which driver error code, and for the execution the plan's {ip, port} of its dominant
// error, with every failed store's address (shapes agreed with the runner: ExecutionNetworkDiagnostics).
import { afterAll, describe, expect } from 'vitest'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { testApi } from '../helpers/api.ts'
import { pgTest } from '../helpers/db.ts'
import { addKlkStores, spawnTs, testEnv } from '../helpers/runner-kit.ts'

type Detail = {
  id: number
  status: string
  error_category: string
  network_diagnostics: {
    ip: string | null
    port: number | null
    tienda_id: string | null
    error_code: string | null
    failed_stores: number
    stores: { tienda_id: string; ip: string | null; port: number | null; error_code: string | null }[]
  } | null
  tiendas_detail: {
    tienda_id: string
    status: string
    error_category: string | null
    server_ip: string | null
    server_port: number | null
    error_code: string | null
    network_diagnostics: { ip: string | null; port: number | null; error_code: string | null } | null
  }[]
}

// Distinct loopback addresses, as each store has its own address behind the VPN.
const STORES = [
  { tiendaId: 'tienda_31', host: '127.0.0.31' },
  { tiendaId: 'tienda_32', host: '127.0.0.32', fault: 'refuse' as const },
  { tiendaId: 'tienda_33', host: '127.0.0.33', fault: 'slow_connect' as const },
  { tiendaId: 'tienda_34', host: '127.0.0.34', fault: 'http_500' as const },
]
const EXPECTED = {
  tienda_32: { category: 'vpn_unreachable', code: 'ECONNREFUSED' },
  tienda_33: { category: 'vpn_timeout', code: 'UND_ERR_CONNECT_TIMEOUT' },
  tienda_34: { category: 'api_error', code: 'HTTP_500' },
} as const

describe('the three failing-store kinds through npm run etl', () => {
  let stores: KlkStore[] = []
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  pgTest(
    'the detail names each failed store’s address and code, and the execution’s {ip, port}',
    async ({ db, database }) => {
      stores = await addKlkStores(db, STORES)
      const address = Object.fromEntries(stores.map((s) => [s.tiendaId, { ip: s.host, port: s.port }]))
      const child = spawnTs(
        'runner/src/cli/main.ts',
        [
          'ventas',
          '--tiendas',
          STORES.map((s) => s.tiendaId).join(','),
          '--desde',
          '2026-11-02T08:00:00-04:00',
          '--hasta',
          '2026-11-02T09:00:00-04:00',
        ],
        testEnv(database.url, { SOURCE_CONNECT_TIMEOUT_MS: '1000' }),
      )
      const code = await child.exited
      expect(code, child.output()).toBe(0) // partial: one store loaded

      const [{ id }] = (await db`select id from etl_executions order by id desc limit 1`) as unknown as [{ id: number }]
      const api = await testApi({ db })
      try {
        const res = await api.call('get', `/api/etl/history/${id}`)
        expect(res.status).toBe(200)
        const detail = res.body as Detail
        expect(detail.status).toBe('partial')

        for (const [tiendaId, want] of Object.entries(EXPECTED)) {
          const t = detail.tiendas_detail.find((x) => x.tienda_id === tiendaId)!
          expect(t, tiendaId).toMatchObject({
            status: 'failed',
            error_category: want.category,
            server_ip: address[tiendaId]!.ip,
            server_port: address[tiendaId]!.port,
            error_code: want.code,
          })
          expect(t.network_diagnostics, tiendaId).toMatchObject({ ...address[tiendaId], error_code: want.code })
        }

        // The plan's {"ip", "port"}: the earliest-failing store of the dominant category (three
        // categories, one store each: a tie, so whichever failed first), and every failed store listed.
        const n = detail.network_diagnostics!
        expect(n).not.toBeNull()
        expect(
          n.tienda_id,
          `the execution's network_diagnostics names its dominant store: ${JSON.stringify(n)}`,
        ).not.toBeNull()
        const dominant = detail.tiendas_detail.find((t) => t.tienda_id === n.tienda_id)!
        expect(dominant.error_category).toBe(detail.error_category)
        expect({ ip: n.ip, port: n.port }).toEqual(address[dominant.tienda_id])
        expect(n.error_code).toBe(EXPECTED[dominant.tienda_id as keyof typeof EXPECTED].code)
        expect(n.failed_stores).toBe(3)
        expect(n.stores).toEqual(
          Object.entries(EXPECTED).map(([tiendaId, want]) => ({
            tienda_id: tiendaId,
            ...address[tiendaId],
            latency_ms: tiendaId === 'tienda_34' ? expect.any(Number) : null,
            error_code: want.code,
          })),
        )
      } finally {
        await api.close()
      }
    },
  )
})
