import { describe, expect, it } from 'vitest'
import { cronStepMinutes, type Deployment, projectCapacity, type StoreRunCost } from './capacity-model.ts'

const cost = (over: Partial<StoreRunCost> = {}): StoreRunCost => ({
  wal_bytes: 50_000,
  row_writes: 75,
  commits: 6,
  history_bytes: 1_300,
  job_bytes: 500,
  rows_loaded: 60,
  bytes_per_loaded_row: 250,
  runner_cpu_s: 0.01,
  postgres_cpu_s: 0.02,
  ...over,
})

const deployment: Deployment = {
  stores: 1000,
  runsPerDay: { ventas: 48, inventario: 24 },
  years: 10,
  jobRetentionDays: 7,
  rollupRowsPerStoreDay: 25,
  rollupBytesPerRow: 300,
  etlConcurrency: 8,
  cadenceMin: 30,
  connectionsPerRunner: 24,
  connectionsPerApi: 12,
}

describe('projectCapacity', () => {
  const ventas = cost()
  const inventario = cost({ wal_bytes: 20_000, rows_loaded: 12, runner_cpu_s: 0.005, postgres_cpu_s: 0.01 })
  const p = projectCapacity({ ventas, inventario }, deployment)
  const days = 10 * 365.25

  it('counts executions and store rows over the years', () => {
    expect(p.executions_per_day).toBe(72)
    expect(p.executions_total).toBe(262_980)
    expect(p.detail_rows_total).toBe(72 * 1000 * days)
  })

  it('weights each ETL by its own runs a day', () => {
    expect(p.wal_bytes_per_day).toBe(48_000 * 50_000 + 24_000 * 20_000)
    expect(p.history_bytes_total).toBeCloseTo(72_000 * 1_300 * days)
    expect(p.ventas_rows_per_day).toBe(48_000 * 60)
    expect(p.ventas_bytes_total).toBeCloseTo(48_000 * 60 * days * 250)
  })

  it('keeps pg-boss jobs only for their retention, and rollups per store, ETL and day', () => {
    expect(p.job_bytes_steady).toBe(72_000 * 500 * 7)
    expect(p.rollup_bytes_total).toBeCloseTo(1000 * 2 * 25 * 300 * days)
  })

  it('sizes CPU per cadence: a ventas run plus half an inventario run', () => {
    expect(p.runner_cpu_s_per_ventas_run).toBeCloseTo(10)
    expect(p.runner_cores_busy).toBeCloseTo((10 + 0.5 * 5) / 1800)
    expect(p.postgres_cores_busy).toBeCloseTo((20 + 0.5 * 10) / 1800)
  })

  it('adds runners once the stores in flight exceed one runner’s concurrency', () => {
    expect(p.max_store_wall_s_one_runner).toBeCloseTo(14.4)
    expect(p.runners_for(14.4)).toBe(1)
    expect(p.runners_for(14.5)).toBe(2)
    expect(p.stores_in_flight_for(60)).toBe(34)
    expect(p.runners_for(60)).toBe(5)
    expect(p.connections_for(5, 2)).toBe(5 * 24 + 2 * 12)
  })
})

describe('cronStepMinutes', () => {
  it('reads the default schedules', () => {
    expect(cronStepMinutes('*/30 * * * *')).toBe(30)
    expect(cronStepMinutes('0 * * * *')).toBe(60)
  })

  it('gives up on any other shape', () => {
    expect(cronStepMinutes('0 6 * * *')).toBeNull()
    expect(cronStepMinutes('off')).toBeNull()
  })
})
