// Starts the stand-in fleet in a child process (fleet-child.ts) and adds its stores to `tiendas`.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Sql } from 'postgres'
import type { FleetOptions } from '../../test/fakes/fleet.ts'
import { onInterrupt } from './interrupt.ts'

export type BenchStore = { tiendaId: string; sourceSystem: 'klk' | 'stellar'; host: string; port: number }

export async function startFleetProcess(options: FleetOptions) {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fleet-child.ts'), JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const kill = () => {
    child.stdin!.end()
    setTimeout(() => child.kill('SIGKILL'), 2000).unref()
  }
  const unregister = onInterrupt(kill)
  const first = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the stand-in fleet exited with ${code} before it listened`)))
    createInterface({ input: child.stdout! }).once('line', resolve)
  })
  const stores = JSON.parse(first) as BenchStore[]
  return {
    stores,
    stop() {
      unregister()
      kill()
    },
  }
}

/** One statement for any number of stores. */
export async function insertStores(sql: Sql, stores: BenchStore[]) {
  await sql`
    insert into tiendas (id, nombre, source_system, host, port)
    select * from unnest(${stores.map((s) => s.tiendaId)}::text[], ${stores.map((s) => s.tiendaId.toUpperCase())}::text[],
      ${stores.map((s) => s.sourceSystem)}::text[], ${stores.map((s) => s.host)}::text[], ${stores.map((s) => s.port)}::int[])`
}
