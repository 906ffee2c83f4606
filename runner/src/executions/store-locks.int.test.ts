import postgres from 'postgres'
import { expect } from 'vitest'
import { pgTest } from '../../../test/helpers/db.ts'
import { acquireStoreLocks } from './store-locks.ts'

pgTest('a run waits for stores another run holds, and only for those of the same ETL', async ({ database }) => {
  const a = postgres(database.url, { max: 2, onnotice: () => {} })
  const b = postgres(database.url, { max: 2, onnotice: () => {} })
  try {
    const first = await acquireStoreLocks(a, 'ventas', ['tienda_01', 'tienda_02'])
    // Another ETL on the same store, or the same ETL on other stores, does not wait.
    await (await acquireStoreLocks(b, 'inventario', ['tienda_01'])).release()
    await (await acquireStoreLocks(b, 'ventas', ['tienda_03'])).release()

    const waitedFor: string[][] = []
    let acquired = false
    const second = acquireStoreLocks(b, 'ventas', ['tienda_02', 'tienda_03'], {
      pollMs: 50,
      onWait: (busy) => waitedFor.push(busy),
    }).then((locks) => {
      acquired = true
      return locks
    })
    await new Promise((r) => setTimeout(r, 300))
    expect(acquired).toBe(false)
    expect(waitedFor).toEqual([['tienda_02']])
    // While it waits it holds nothing (all or nothing), so tienda_03 is free for others.
    await (await acquireStoreLocks(a, 'ventas', ['tienda_03'])).release()

    await first.release()
    const locks = await second
    expect(locks.tiendaIds).toEqual(['tienda_02', 'tienda_03'])
    await locks.release()
  } finally {
    await a.end()
    await b.end()
  }
})

pgTest('a holder that dies (its connection gone) releases its stores at once', async ({ database }) => {
  const doomed = postgres(database.url, { max: 1, onnotice: () => {} })
  const other = postgres(database.url, { max: 2, onnotice: () => {} })
  try {
    await acquireStoreLocks(doomed, 'ventas', ['tienda_01'])
    const ac = new AbortController()
    const waiting = acquireStoreLocks(other, 'ventas', ['tienda_01'], { pollMs: 50, signal: ac.signal })
    await new Promise((r) => setTimeout(r, 150))
    // What kill -9 does to the session: the server ends it and drops its advisory locks.
    await other`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and pid in (select pid from pg_locks where locktype = 'advisory')`
    const locks = await waiting
    await locks.release()
    // An abort while waiting rejects instead of hanging.
    const holder = await acquireStoreLocks(other, 'ventas', ['tienda_09'])
    const third = postgres(database.url, { max: 1, onnotice: () => {} })
    const blocked = acquireStoreLocks(third, 'ventas', ['tienda_09'], { signal: ac.signal })
    ac.abort(new Error('shutdown'))
    await expect(blocked).rejects.toThrow('shutdown')
    await holder.release()
    await third.end()
  } finally {
    await doomed.end({ timeout: 1 }).catch(() => {})
    await other.end()
  }
})
