import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestBoss } from '../helpers/api.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts'
import { addExecution } from '../helpers/history-seed.ts'
import { buildAdmin, hydrated, openSession, type Panel, poll, seedPanel, startPanel } from './panel-kit.ts'

describe('alert banners', () => {
  let database: TestDatabase
  let panel: Panel | undefined
  let base = ''

  beforeAll(async () => {
    await buildAdmin()
    database = await createTestDatabase()
    const boss = await startTestBoss(database.url)
    await boss.stop({ graceful: false })
    const db = database.sql
    await seedPanel(db)
    const stores = await db<{ id: string; nombre: string }[]>`select id, nombre from tiendas where active order by id`
    // A run in which six of the 18 active stores timed out (33 %, over the 30 % default) and the rest
    // loaded; then the runner's own evaluation.
    await addExecution(
      db,
      { status: 'partial' },
      stores.map((t, i) =>
        i < 6
          ? {
              tienda_id: t.id,
              tienda_nombre: t.nombre,
              status: 'failed',
              error_phase: 'extract',
              error_category: 'vpn_timeout',
            }
          : { tienda_id: t.id, tienda_nombre: t.nombre, status: 'success', records_loaded: 100 },
      ),
    )
    await db`select * from etl_evaluate_alerts()`
    // A silent-data-loss alert as the evaluation writes it (its baseline needs weeks of history).
    await db`
      insert into etl_alerts (tipo, etl_name, tienda_id, mensaje, valor, umbral, detalle)
      values ('tienda_sin_datos', 'ventas', ${stores[10]!.id}, 'La tienda cargó 0 filas', 0, 200.6,
        ${db.json({ esperado: 1003, actual: 0, fraccion: 0.2, semanas: 8, muestras: 8 })})`
    panel = await startPanel(database.url)
    base = panel.base
  })

  afterAll(async () => {
    await panel?.close()
    await database?.drop()
  })

  test('a network incident is one banner listing its stores by name; the other alerts stay in their own', async () => {
    const db = database.sql
    const down = await db<{ id: string; nombre: string }[]>`
      select id, nombre from tiendas where active order by id limit 6`
    const { context, page } = await openSession(panel!)
    try {
      await page.goto(`${base}/historial`)
      await hydrated(page)
      const incident = page.getByRole('complementary', { name: 'Incidente de red' })
      await poll(() => incident.count()).toBe(1)
      const text = (await incident.textContent()) ?? ''
      const [active] = await db<{ n: number }[]>`select count(*)::int as n from tiendas where active`
      expect(text).toContain(`Incidente de red en Ventas: 6 de ${active!.n} tiendas sin conexión (`)
      expect(text).toContain('% de la cadena)')
      const listed = await incident.getByRole('list', { name: 'Tiendas sin conexión' }).locator('li').allTextContents()
      expect(listed).toEqual(down.map((t) => t.nombre))
      for (const t of down) expect(text).not.toContain(t.id)
      const others = (await page.getByRole('complementary', { name: 'Alertas activas' }).textContent()) ?? ''
      expect(others).not.toContain('Incidente')
      const [sinDatos] = await db<{ nombre: string }[]>`
        select t.nombre from etl_alerts a join tiendas t on t.id = a.tienda_id where a.tipo = 'tienda_sin_datos'`
      expect(others).toContain(`${sinDatos!.nombre} cargó 0 filas en Ventas; lo normal ese día y hora: 1.003`)
    } finally {
      await context.close()
    }
  })
})
