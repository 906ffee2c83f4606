// `npm run bench -- [options]`: node:util parseArgs, scale presets, then the BENCH_* environment
// variables of earlier versions, then explicit options (each overrides the one before).
import { parseArgs } from 'node:util'
import { DEFAULT_ADDRESS_BASE } from '../../test/fakes/fleet.ts'

export const SECTIONS = ['load', 'run19', 'vpn', 'fanout', 'api', 'alerts', 'capacity', 'partitions'] as const
type Section = (typeof SECTIONS)[number]

export const USAGE = `npm run bench -- [options]

Measures the targets of DESIGN §10 and issue 12, each beside its baseline in the same run, in
throwaway databases on DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres).
Ctrl-C or SIGTERM drops them before exiting; a run killed outright is cleaned up at the next start.

  --scale small|full     small: a few minutes on 2 cores; full (default): the targets' sizes
  --only LIST            sections to run, comma-separated: ${SECTIONS.join(',')} (default: all)
                           load   ventas load path vs plain COPY vs row-by-row INSERT
                           run19  19 stores at loopback speed, ETL_CONCURRENCY 4 vs 1
                           vpn    stores behind a modelled VPN: wall vs ideal, rows/s, peak RSS
                           fanout one run worked by 1, 2, 4 runner processes: wall, CPU vs waiting
                           api    history API at scale (scripts/bench-api.ts, BENCH_API_* variables)
                           alerts cost of evaluating every alert kind after a run, two history lengths
                           capacity per store-run WAL, rows, bytes, runner CPU and connections, and
                             what 1,000 stores × the default schedules × 10 years need
                           partitions history API on monthly partitions vs plain tables (ratios), the
                             same history over 10 years and over 13 months; planning, partitions, locks
  --vpn-stores LIST      chain sizes of the vpn section (default 19,1000)
  --concurrency LIST     ETL_CONCURRENCY levels of the vpn section (default 1,4,8,19,50;
                           small scale: chains over 100 stores only at 19,50)
  --repeat N             measured runs per level, median reported (default 3 up to 100 stores, else 1)
  --rtt-ms N             round-trip time per store, ms (default 150)
  --bandwidth N          bytes per second per store (default 2000000)
  --window-min N         ventas window of the vpn runs, minutes (default 60, the scheduled run's: ~120 lines a store)
  --stellar-every N      every N-th store runs Stellar (SQL Server stand-in); 0: KLK only (default 10)
  --fanout-stores N      stores of the fanout section (default 1000; small scale 200)
  --fanout-runners LIST  runner processes of the fanout section (default 1,2,4)
  --fanout-concurrency N ETL_CONCURRENCY of each of those runners (default 8)
  --alert-rows LIST      history lengths of the alerts section in store rows, ascending (default
                           4000000,20000000; small scale 400000,2000000); every run reaches every store
  --alert-stores LIST    chain sizes of the alerts section (default 19,1000)
  --capacity-stores LIST chain sizes of the capacity section (default 19,200; small scale 19,100)
  --partition-executions N
                         executions of each layout of the partitions section, 20 store rows each
                           (default 200000; small scale 50000)
  --address-base IP      first loopback address of the stand-in stores (default ${DEFAULT_ADDRESS_BASE})
  -h, --help             this text

Environment (sizes that override --scale): BENCH_LINES, BENCH_ROW_BY_ROW_LINES, BENCH_RUN_LINES,
BENCH_API_EXECUTIONS, BENCH_API_ITERATIONS, BENCH_API_SECONDS and the rest in scripts/bench-api.ts.`

export type BenchArgs = {
  help: boolean
  scale: 'small' | 'full'
  sections: Set<Section>
  loadLines: number
  rowByRowLines: number
  run19Lines: number
  vpnStores: number[]
  vpnConcurrencyFor: (stores: number) => number[]
  vpnRepeatFor: (stores: number) => number
  rttMs: number
  bytesPerSecond: number
  windowMin: number
  addressBase: string
  stellarEvery: number
  fanoutStores: number
  fanoutRunners: number[]
  fanoutConcurrency: number
  /** Passed to bench-api.ts; variables already set in the environment win. */
  apiEnv: Record<string, string>
  alertRows: number[]
  alertStores: number[]
  capacityStores: number[]
  partitionExecutions: number
  partitionIterations: number
}

/** A usage error: the message names the option and what it accepts. */
export class UsageError extends Error {}

const positiveInt = (name: string, raw: string | undefined, fallback: number) => {
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`${name} must be a positive integer, got "${raw}"`)
  return Number(raw)
}

const intList = (name: string, raw: string | undefined, fallback: number[]) =>
  raw === undefined ? fallback : raw.split(',').map((v) => positiveInt(name, v.trim(), Number.NaN))

export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchArgs {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`)
  }
  const scale = values.scale ?? 'full'
  if (scale !== 'small' && scale !== 'full') throw new UsageError(`--scale must be small or full, got "${scale}"`)
  const small = scale === 'small'
  const sections = new Set(
    (values.only ?? SECTIONS.join(',')).split(',').map((s) => {
      const name = s.trim() as Section
      if (!SECTIONS.includes(name))
        throw new UsageError(`--only: unknown section "${s}" (one of ${SECTIONS.join(', ')})`)
      return name
    }),
  )
  const levels = intList('--concurrency', values.concurrency, [1, 4, 8, 19, 50])
  const addressBase = values['address-base'] ?? DEFAULT_ADDRESS_BASE
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addressBase)) {
    throw new UsageError(`--address-base must be a loopback address 127.x.y.z, got "${addressBase}"`)
  }
  return {
    help: values.help ?? false,
    scale,
    sections,
    loadLines: positiveInt('BENCH_LINES', env.BENCH_LINES, small ? 50_000 : 500_000),
    rowByRowLines: positiveInt('BENCH_ROW_BY_ROW_LINES', env.BENCH_ROW_BY_ROW_LINES, small ? 5_000 : 20_000),
    run19Lines: positiveInt('BENCH_RUN_LINES', env.BENCH_RUN_LINES, 12_500),
    vpnStores: intList('--vpn-stores', values['vpn-stores'], [19, 1000]),
    // Small scale: a big chain at low concurrency is minutes of waiting that shows nothing new.
    vpnConcurrencyFor: (stores) =>
      small && stores > 100 && values.concurrency === undefined ? levels.filter((c) => c >= 19) : levels,
    vpnRepeatFor: (stores) => positiveInt('--repeat', values.repeat, stores <= 100 ? 3 : 1),
    rttMs: positiveInt('--rtt-ms', values['rtt-ms'], 150),
    bytesPerSecond: positiveInt('--bandwidth', values.bandwidth, 2_000_000),
    windowMin: positiveInt('--window-min', values['window-min'], 60),
    addressBase,
    stellarEvery: values['stellar-every'] === '0' ? 0 : positiveInt('--stellar-every', values['stellar-every'], 10),
    fanoutStores: positiveInt('--fanout-stores', values['fanout-stores'], small ? 200 : 1000),
    fanoutRunners: intList('--fanout-runners', values['fanout-runners'], [1, 2, 4]),
    fanoutConcurrency: positiveInt('--fanout-concurrency', values['fanout-concurrency'], 8),
    alertRows: intList('--alert-rows', values['alert-rows'], small ? [400_000, 2_000_000] : [4_000_000, 20_000_000]),
    alertStores: intList('--alert-stores', values['alert-stores'], [19, 1000]),
    capacityStores: intList('--capacity-stores', values['capacity-stores'], small ? [19, 100] : [19, 200]),
    partitionExecutions: positiveInt(
      '--partition-executions',
      values['partition-executions'],
      small ? 50_000 : 200_000,
    ),
    partitionIterations: small ? 40 : 100,
    apiEnv: small ? { BENCH_API_EXECUTIONS: '20000', BENCH_API_ITERATIONS: '50', BENCH_API_SECONDS: '3' } : {},
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      scale: { type: 'string' },
      only: { type: 'string' },
      'vpn-stores': { type: 'string' },
      concurrency: { type: 'string' },
      repeat: { type: 'string' },
      'rtt-ms': { type: 'string' },
      bandwidth: { type: 'string' },
      'window-min': { type: 'string' },
      'address-base': { type: 'string' },
      'stellar-every': { type: 'string' },
      'fanout-stores': { type: 'string' },
      'fanout-runners': { type: 'string' },
      'fanout-concurrency': { type: 'string' },
      'alert-rows': { type: 'string' },
      'alert-stores': { type: 'string' },
      'capacity-stores': { type: 'string' },
      'partition-executions': { type: 'string' },
    },
  })
}
