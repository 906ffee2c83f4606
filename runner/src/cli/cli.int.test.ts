// `npm run etl` as a user runs it: a child process against the KLK stand-ins and a test database.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import type { KlkStore } from '../../../test/fakes/klk-simulator.ts'
import { pgTest } from '../../../test/helpers/db.ts'
import { addKlkStores, ROOT, spawnTs, testEnv } from '../../../test/helpers/runner-kit.ts'

const WINDOW = ['--desde', '2026-11-02T08:00:00-04:00', '--hasta', '2026-11-02T10:00:00-04:00']
let stores: KlkStore[] = []

async function etl(url: string, args: string[], env: Record<string, string> = {}) {
  const child = spawnTs('runner/src/cli/main.ts', args, testEnv(url, env))
  const code = await child.exited
  return { code, output: child.output() }
}

describe('npm run etl', () => {
  beforeAll(() => {
    stores = []
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  pgTest('bad arguments: one line naming the argument, the usage, exit 2', async ({ db, database }) => {
    stores.push(...(await addKlkStores(db, [{ tiendaId: 'tienda_01' }, { tiendaId: 'tienda_02' }])))
    const cases: [string[], RegExp][] = [
      [['compras'], /unknown ETL 'compras'/],
      [['ventas', '--tienda', 'tienda_01'], /Unknown option '--tienda'/],
      [['ventas', '--tiendas', 'Tienda 1'], /--tiendas: 'Tienda 1' is not a store id/],
      [['ventas', '--desde', 'ayer'], /--desde: 'ayer' is not a date/],
      [['ventas', '--desde', '2026-11-03', '--hasta', '2026-11-02'], /--desde 2026-11-03 is after --hasta 2026-11-02/],
      [['ventas', 'extra'], /unexpected argument 'extra'/],
      [['ventas', '--tiendas', 'tienda_99'], /--tiendas: tienda_99 is not an active store/],
    ]
    const results = await Promise.all(cases.map(([args]) => etl(database.url, args)))
    results.forEach(({ code, output }, i) => {
      expect(output).toMatch(cases[i]![1])
      expect(output).toMatch(/usage: npm run etl -- <ventas\|inventario>/)
      expect(code, output).toBe(2)
    })
    expect(await db`select id from etl_executions`).toEqual([])
  })

  pgTest('--recovery-mode with no gap writes nothing and exits 0', async ({ db, database }) => {
    const { code, output } = await etl(database.url, ['ventas', '--recovery-mode'])
    expect(output).toMatch(/no hay gaps de ventas que recuperar \(no gaps to recover\)/)
    expect(code).toBe(0)
    expect(await db`select id from etl_executions`).toEqual([])
  })

  pgTest('npm run etl records triggered_by cli and prints the summary', async ({ db, database }) => {
    const child = spawn(
      'npm',
      ['run', '--silent', 'etl', '--', 'ventas', '--tiendas', 'tienda_01,tienda_02', ...WINDOW],
      {
        cwd: ROOT,
        env: { ...process.env, ...testEnv(database.url) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout.on('data', (b: Buffer) => (output += b))
    child.stderr.on('data', (b: Buffer) => (output += b))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code, output).toBe(0)
    const [row] = await db`select * from etl_executions order by id desc limit 1`
    expect(row).toMatchObject({ triggered_by: 'cli', etl_type: 'manual', status: 'success', tiendas_count: 2 })
    expect(row?.fecha_desde).toEqual(new Date('2026-11-02T12:00:00Z'))
    expect(output).toContain(`Ejecución #${row!.id} ventas (cli) — Éxito`)
    expect(output).toMatch(/tienda\s+estado\s+registros\s+duplicados\s+error \(fase\/categoría\)\s+duración/)
    expect(output).toMatch(/tienda_01\s+Éxito\s+\d+\s+0/)
    // Not a terminal: plain progress lines, one per store event.
    expect(output).toMatch(/tienda_02 {2}Éxito {2}\d+ registros/)
  })

  pgTest('FLUXION_ADMIN=true → fluxion_admin; AWS_EXECUTION_ENV → eventbridge', async ({ db, database }) => {
    const admin = await etl(database.url, ['ventas', '--tiendas', 'tienda_01', ...WINDOW], { FLUXION_ADMIN: 'true' })
    const aws = await etl(database.url, ['inventario', '--tiendas', 'tienda_01'], {
      AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
    })
    expect([admin.code, aws.code]).toEqual([0, 0])
    const rows = await db`select etl_name, triggered_by from etl_executions order by id desc limit 2`
    expect(rows).toEqual([
      { etl_name: 'inventario', triggered_by: 'eventbridge' },
      { etl_name: 'ventas', triggered_by: 'fluxion_admin' },
    ])
  })

  pgTest(
    'a failed store: partial exits 0 and says so; all failed exits 1; --recovery-mode recovers the gap',
    async ({ db, database }) => {
      const broken = stores.find((s) => s.tiendaId === 'tienda_02')!
      await broken.setFault('http_500')
      const partial = await etl(database.url, ['ventas', '--tiendas', 'tienda_01,tienda_02', ...WINDOW])
      expect(partial.code, partial.output).toBe(0)
      expect(partial.output).toMatch(/Parcial: 1 tienda\(s\) fallaron/)
      expect(partial.output).toMatch(/tienda_02\s+Fallido\s+0\s+0\s+extract\/api_error/)
      const [failedRun] = await db`select id, status from etl_executions order by id desc limit 1`
      expect(failedRun?.status).toBe('partial')

      const failed = await etl(database.url, ['ventas', '--tiendas', 'tienda_02', ...WINDOW])
      expect(failed.code, failed.output).toBe(1)
      expect(failed.output).toMatch(/Fallida: extract\/api_error/)

      await broken.setFault(null)
      const before = (await db`select count(*)::int as n from etl_executions`)[0]!.n as number
      const recovery = await etl(database.url, ['ventas', '--recovery-mode', '--tiendas', 'tienda_02'])
      expect(recovery.code, recovery.output).toBe(0)
      // Two failed executions left tienda_02 gaps over the same window: the first recovery run
      // loads it, which closes the second gap too, so one execution is written.
      const runs = await db`select * from etl_executions where is_recovery order by id`
      expect((await db`select count(*)::int as n from etl_executions`)[0]!.n).toBe(before + 1)
      expect(recovery.output).toMatch(/ya recuperado/)
      expect(runs).toHaveLength(1)
      expect(runs[0]).toMatchObject({
        triggered_by: 'recovery',
        etl_type: 'recovery',
        is_recovery: true,
        recovered_gap_id: failedRun!.id,
        status: 'success',
        gaps_recovered: 1,
        tienda_ids: ['tienda_02'],
      })
      // Loaded now: nothing left to recover.
      const again = await etl(database.url, ['ventas', '--recovery-mode'])
      expect(again.output).toMatch(/no gaps to recover/)
    },
  )
})
