import { expect } from 'vitest'
import { pgTest } from '../helpers/db.ts'

// Two files, each with its own database: run in parallel, neither sees the other's rows.
pgTest('file a sees only its own stores', async ({ db, database }) => {
  await db`insert into tiendas (id, nombre, source_system, host, port) values ('tienda_a', 'ONLY a', 'klk', '127.0.0.1', 1)`
  await new Promise((r) => setTimeout(r, 300))
  const rows = await db<{ id: string }[]>`select id from tiendas`
  expect(rows.map((r) => r.id)).toEqual(['tienda_a'])
  expect(database.name).toMatch(/^fluxion_test_\d+_[0-9a-f]{8}$/)
})
