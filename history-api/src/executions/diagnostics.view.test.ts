import { describe, expect, it } from 'vitest'
import { phaseMetrics, toExecutionNetwork, toTiendaNetwork, toTimeline } from './diagnostics.view.ts'

const span = (
  attempt: number,
  phase: string,
  from: string,
  to: string,
  seconds: number,
  records: number,
  errors = 0,
) => ({
  attempt,
  phase,
  started_at: `2026-11-02T10:00:${from}Z`,
  finished_at: `2026-11-02T10:00:${to}Z`,
  duration_seconds: seconds,
  records,
  errors,
  error_category: errors ? 'vpn_timeout' : null,
  error_code: errors ? 'UND_ERR_CONNECT_TIMEOUT' : null,
})

describe('diagnostics view', () => {
  it('serves only declared keys, with wrong-typed values as null', () => {
    expect(
      toTiendaNetwork({ ip: '10.0.0.1', port: 80, code: 'ECONNREFUSED', secret_extra: 'x', requests: -1 }),
    ).toEqual({
      ip: '10.0.0.1',
      port: 80,
      latency_ms: null,
      error_code: 'ECONNREFUSED',
    })
    expect(toTiendaNetwork('nope')).toBeNull()
    expect(
      toExecutionNetwork({
        ip: 1,
        port: 99999,
        failed_stores: 0,
        stores: [{ tienda_id: 'BAD ID' }, { tienda_id: 't1' }],
      }),
    ).toEqual({
      ip: null,
      port: null,
      tienda_id: null,
      latency_ms: null,
      error_code: null,
      failed_stores: 1,
      stores: [{ tienda_id: 't1', ip: null, port: null, latency_ms: null, error_code: null }],
    })
  })

  it('aggregates the timeline per phase (retry waits left out) and drops malformed spans', () => {
    const timeline = toTimeline([
      span(1, 'extract', '00', '10', 10, 0, 1),
      span(1, 'retry_wait', '10', '11', 1, 0),
      span(2, 'extract', '11', '12.5', 1.254, 120),
      span(2, 'transform', '12', '13', 0.2, 120),
      span(2, 'load', '13', '14', 0.5, 118),
      { attempt: 0, phase: 'load' },
      span(2, 'bogus', '13', '14', 1, 1),
    ])
    expect(timeline).toHaveLength(5)
    expect(phaseMetrics(timeline)).toEqual([
      {
        phase: 'extract',
        started_at: '2026-11-02T10:00:00.000Z',
        finished_at: '2026-11-02T10:00:12.500Z',
        duration_seconds: 11.25,
        records_processed: 120,
        errors_count: 1,
      },
      {
        phase: 'transform',
        started_at: '2026-11-02T10:00:12.000Z',
        finished_at: '2026-11-02T10:00:13.000Z',
        duration_seconds: 0.2,
        records_processed: 120,
        errors_count: 0,
      },
      {
        phase: 'load',
        started_at: '2026-11-02T10:00:13.000Z',
        finished_at: '2026-11-02T10:00:14.000Z',
        duration_seconds: 0.5,
        records_processed: 118,
        errors_count: 0,
      },
    ])
    expect(phaseMetrics(toTimeline(null))).toEqual([])
  })
})
