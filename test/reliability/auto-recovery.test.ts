// Gaps that heal themselves (issue 11 item 4), with nobody asking: a real runner (in this process) whose
// RECOVERY_CRON schedule fires through pg-boss's own cron pass, stores that are KLK simulators on
// loopback whose port really refuses connections while "down", real PostgreSQL.
//  - the store comes back → the cron's pass probes it, queues a `recovery` run for the gap, the runner
//    works it, the gap reads as recovered by that run; paused, passes do nothing;
//  - the store stays down → each pass the gap is due in costs it one attempt, the attempts are spaced
//    by the exponential backoff, and after the last one the gap is given up on with a
//    `gap_sin_recuperar` alert for its store — and no execution is ever written for the probes.
import pino from 'pino'
import type { Sql } from 'postgres'
import { afterEach, describe, expect } from 'vitest'
import type { RunnerConfig } from '../../runner/src/config.ts'
import { RECOVERY_QUEUE } from '../../runner/src/jobs/boss.ts'
import { type Runner, startRunner } from '../../runner/src/runner.ts'
import type { KlkStore } from '../fakes/klk-simulator.ts'
import { salesFor } from '../fakes/sales-data.ts'
import { pgTest } from '../helpers/db.ts'
import { addStore, fastConfig, runVentas, WINDOW } from '../helpers/etl-kit.ts'
import { waitFor } from '../helpers/runner-kit.ts'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {})
})

/**
 * A pass every minute (pg-boss's cron resolution), its cron pass and cron worker at their 1 s minimum: the
 * occurrence of the current minute is due as soon as the runner starts. Tests that need several passes
 * in a few seconds also send the pass's job themselves (`tick`), exactly the job the cron sends.
 */
function recoveryConfig(url: string, extra: Record<string, string> = {}): RunnerConfig {
  return fastConfig(url, {
    VENTAS_CRON: 'off',
    INVENTARIO_CRON: 'off',
    RECOVERY_CRON: '* * * * *',
    RECOVERY_PROBE_TIMEOUT_MS: '500',
    LOG_LEVEL: 'warn',
    ...extra,
  })
}

async function runner(db: Sql, config: RunnerConfig, opts: { cron?: boolean } = {}): Promise<Runner> {
  const r = await startRunner({
    config,
    logger: pino({ level: 'silent' }),
    db,
    bossTiming: { schedule: opts.cron ?? true, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
    workerId: 'recovery-test-runner',
  })
  cleanups.push(async () => {
    await r.boss.unschedule(RECOVERY_QUEUE)
    await r.stop('test done')
  })
  return r
}

async function downStore(db: Sql, tiendaId: string): Promise<KlkStore> {
  const store = await addStore(db, { tiendaId, fault: 'refuse' })
  cleanups.push(() => store.close())
  return store
}

/** One more pass, worked by the runner like the cron's: sends the job and waits for it to complete. */
async function tick(db: Sql, r: Runner) {
  const id = await r.boss.send(RECOVERY_QUEUE, { triggered_by: 'scheduler' })
  return waitFor('the pass to complete', async () => {
    const [job] = await db`select output from pgboss.job where id = ${id} and state = 'completed'`
    return job?.output as { paused: boolean; queued: number; unanswered: number } | undefined
  })
}

const recoveryRow = (db: Sql, gapId: number, tiendaId: string) =>
  db`select attempts, last_attempt_at, next_attempt_at, last_outcome, last_execution_id, exhausted_at
     from etl_gap_recovery where gap_id = ${gapId} and tienda_id = ${tiendaId}`.then((r) => r[0])

describe('automatic gap recovery', () => {
  pgTest(
    'a failed window, then the store answers again: one pass later a recovery run loads it, nobody asking',
    async ({ db, database }) => {
      const config = recoveryConfig(database.url)
      const store = await downStore(db, 'tienda_h1')
      const failed = await runVentas(db, config, ['tienda_h1'])
      expect(failed).toMatchObject({ status: 'failed', error_category: 'vpn_unreachable' })

      // The store answers again; a runner starts: its cron's first occurrence is due at once.
      await store.setFault(null)
      const r = await runner(db, config)
      const recovered = await waitFor(
        'the recovery run to finish',
        async () => {
          const [row] = await db`
            select * from etl_executions where triggered_by = 'recovery' and status not in ('queued', 'running')`
          return row
        },
        30_000,
      )
      // The cron's job did it, nobody sent one.
      const [cronJob] = await db`select output from pgboss.job where name = ${RECOVERY_QUEUE} and state = 'completed'`
      expect(cronJob?.output).toMatchObject({ paused: false, queued: 1 })
      expect(recovered).toMatchObject({
        status: 'success',
        etl_type: 'recovery',
        triggered_by: 'recovery',
        is_recovery: true,
        recovered_gap_id: failed.id,
        gaps_recovered: 1,
        tienda_ids: ['tienda_h1'],
        fecha_desde: WINDOW.desde,
        fecha_hasta: WINDOW.hasta,
        worker_id: r.workerId,
      })
      const [loaded] = await db<{ n: number }[]>`select count(*)::int as n from ventas where tienda_id = 'tienda_h1'`
      expect(loaded!.n).toBe(salesFor('tienda_h1', WINDOW.desde, WINDOW.hasta).length)
      const [gap] = await db`select recovered_by_execution_id from etl_gaps where id = ${failed.id}`
      expect(gap).toEqual({ recovered_by_execution_id: recovered.id })
      // One attempt did it; later passes leave the recovered gap alone and queue nothing more.
      expect(await recoveryRow(db, failed.id, 'tienda_h1')).toMatchObject({
        attempts: 1,
        last_outcome: 'encolada',
        last_execution_id: recovered.id,
        exhausted_at: null,
      })
      expect(await tick(db, r)).toMatchObject({ queued: 0 })
      expect(await db`select id from etl_executions where triggered_by = 'recovery'`).toHaveLength(1)

      // Paused by an operator: passes do nothing while another gap's store is back; resumed, the next does it.
      await store.setFault('refuse')
      const again = await runVentas(db, config, ['tienda_h1'], {
        desde: new Date('2026-11-02T11:00:00Z'),
        hasta: new Date('2026-11-02T11:30:00Z'),
      })
      expect(again.status).toBe('failed')
      await store.setFault(null)
      await db`update etl_recovery_settings set paused = true, updated_by = 'test'`
      for (let i = 0; i < 2; i++) expect(await tick(db, r)).toMatchObject({ paused: true, queued: 0 })
      expect(await recoveryRow(db, again.id, 'tienda_h1')).toBeUndefined()
      const [resumed] = await db`update etl_recovery_settings set paused = false returning now() as at`
      expect(await tick(db, r)).toMatchObject({ paused: false })
      await waitFor('the second recovery to finish', async () => {
        const [row] = await db`
          select id from etl_executions where recovered_gap_id = ${again.id} and status = 'success'`
        return row
      })
      // Queued by exactly one pass since: this one, or the cron's when its minute came first.
      const passes = await db`
        select output from pgboss.job where name = ${RECOVERY_QUEUE} and state = 'completed'
          and completed_on >= ${resumed!.at}`
      expect(passes.reduce((n, p) => n + (p.output as { queued: number }).queued, 0)).toBe(1)
    },
    90_000,
  )

  pgTest(
    'a store still down: attempts counted, spaced by the backoff, gap_sin_recuperar after the last one',
    async ({ db, database }) => {
      await db`delete from etl_executions`
      const config = recoveryConfig(database.url, {
        RECOVERY_MAX_ATTEMPTS: '3',
        RECOVERY_BACKOFF_BASE_S: '2',
        RECOVERY_BACKOFF_MAX_S: '60',
      })
      await downStore(db, 'tienda_h2')
      const failed = await runVentas(db, config, ['tienda_h2'])
      expect(failed.status).toBe('failed')
      const r = await runner(db, config, { cron: false })

      // A pass every ~250 ms; every attempt as it lands: (attempts, last_attempt_at).
      const seen = new Map<number, Date>()
      const started = Date.now()
      let row: Awaited<ReturnType<typeof recoveryRow>>
      for (;;) {
        await tick(db, r)
        row = await recoveryRow(db, failed.id, 'tienda_h2')
        if (row && !seen.has(row.attempts)) seen.set(row.attempts, row.last_attempt_at)
        if (row?.exhausted_at) break
        if (Date.now() - started > 30_000) throw new Error(`not given up on after 30 s: ${JSON.stringify(row)}`)
        await new Promise((res) => setTimeout(res, 250))
      }
      expect(row).toMatchObject({ attempts: 3, last_outcome: 'sin_respuesta', next_attempt_at: null })
      expect([...seen.keys()]).toEqual([1, 2, 3])
      // Backoff 2 s after the first attempt, 4 s after the second (base × 2^(attempts−1)).
      const gap12 = seen.get(2)!.getTime() - seen.get(1)!.getTime()
      const gap23 = seen.get(3)!.getTime() - seen.get(2)!.getTime()
      expect(gap12).toBeGreaterThanOrEqual(2000)
      expect(gap23).toBeGreaterThanOrEqual(4000)
      expect(gap23).toBeLessThan(4000 + 3000)

      const alerts = await db`
        select tipo, etl_name, tienda_id, valor::float8 as valor, umbral::float8 as umbral, resuelta_at
        from etl_alerts where tipo = 'gap_sin_recuperar'`
      expect(alerts).toEqual([
        {
          tipo: 'gap_sin_recuperar',
          etl_name: 'ventas',
          tienda_id: 'tienda_h2',
          valor: 1,
          umbral: 3,
          resuelta_at: null,
        },
      ])
      // The probes never wrote an execution; nothing more is tried once given up on.
      expect(await db`select id from etl_executions where triggered_by = 'recovery'`).toEqual([])
      for (let i = 0; i < 2; i++) await tick(db, r)
      expect(await recoveryRow(db, failed.id, 'tienda_h2')).toMatchObject({ attempts: 3 })

      // The store's data loaded by a later run (a manual recovery, say): the alert resolves.
      const store = await addStore(db, { tiendaId: 'tienda_h2' })
      cleanups.push(() => store.close())
      expect((await runVentas(db, config, ['tienda_h2'])).status).toBe('success')
      // gap_sin_recuperar follows the given-up gaps in the recovery pass (not after every run).
      await tick(db, r)
      await waitFor('the alert to resolve', async () => {
        const [a] =
          await db`select resuelta_at from etl_alerts where tipo = 'gap_sin_recuperar' and resuelta_at is not null`
        return a
      })
    },
  )
})
