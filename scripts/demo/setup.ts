// The demo chain on a database: 19 stores on loopback stand-ins registered in `tiendas` (host and
// port updated on every start), and the demo login (.data/demo.json) as a super_admin user.
import { spawnSync } from 'node:child_process'
import type { Sql } from 'postgres'
import { createCierre } from '../../history-api/src/closures/closures.sql.ts'
import { StartupError } from '../lib/startup-error.ts'
import type { DemoState } from './state.ts'
import { DEMO_STORES, type RunningStandIns, startStandIns } from './stores.ts'

export async function setUpDemo(
  sql: Sql,
  o: { root: string; databaseUrl: string; state: DemoState; portBase: number; log: (line: string) => void },
): Promise<RunningStandIns> {
  const standIns = await startStandIns({ portBase: o.portBase, klkToken: o.state.klkToken })
  try {
    for (const store of DEMO_STORES) {
      await sql`
        insert into tiendas (id, nombre, source_system, host, port)
        values (${store.id}, ${store.nombre}, ${store.source_system}, '127.0.0.1', ${standIns.ports.get(store.id)!})
        on conflict (id) do update set host = excluded.host, port = excluded.port, updated_at = now()`
    }
    o.log(`${DEMO_STORES.length} demo stores listening on loopback`)
    await addExampleClosure(sql)
    const [user] = await sql`select 1 from admin_users where lower(email) = ${o.state.email}`
    if (!user) {
      // The same command an operator uses, so the demo user is made exactly as a real one.
      const r = spawnSync(process.execPath, ['scripts/user-add.ts', o.state.email, '--role', 'super_admin'], {
        cwd: o.root,
        env: { ...process.env, DATABASE_URL: o.databaseUrl, ADMIN_PASSWORD: o.state.password },
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new StartupError(`could not create the demo user: ${(r.stderr || r.stdout).trim()}`)
    }
  } catch (error) {
    await standIns.close()
    throw error
  }
  return standIns
}

/**
 * The store calendar is not empty in a new demo: one store closed for the coming Christmas (its runs
 * on those days will show it "Cerrada"). Only on a fresh database (no execution yet, before the
 * replay), so a closure the user removed does not come back at the next start.
 */
async function addExampleClosure(sql: Sql) {
  const [fresh] = await sql<{ fresh: boolean }[]>`
    select not exists (select 1 from etl_executions) and not exists (select 1 from tienda_cierres) as fresh`
  if (!fresh?.fresh) return
  const [today] = await sql<{ year: number; past: boolean }[]>`
    select extract(year from now() at time zone cfg.tz)::int as year,
      (now() at time zone cfg.tz)::date > make_date(extract(year from now() at time zone cfg.tz)::int, 12, 25) as past
    from etl_stats_config cfg`
  const year = today!.year + (today!.past ? 1 : 0)
  await createCierre(sql, {
    tiendaId: 'tienda_11',
    fechaDesde: `${year}-12-24`,
    fechaHasta: `${year}-12-25`,
    motivo: 'feriado',
    nota: 'Navidad (ejemplo del demo)',
    creadoPor: 'demo',
  })
}
