// The demo chain: 19 stores on loopback stand-ins. Most run KLK (HTTP simulator); two run
// Stellar (the SQL Server wire stand-in); one KLK store sits behind a "dead VPN" so the
// panel has a real failure to show from the first run.
import { type KlkFault, type KlkStore, startKlkStore } from '../../test/fakes/klk-simulator.ts'
import { type StellarStore, startStellarStore } from '../../test/fakes/tds-server.ts'
import { StartupError } from '../lib/startup-error.ts'

export type DemoStore = { id: string; nombre: string; source_system: 'klk' | 'stellar'; fault?: KlkFault }

export const DEMO_STORES: DemoStore[] = [
  { id: 'tienda_01', nombre: 'PERIFERICO', source_system: 'klk' },
  { id: 'tienda_02', nombre: 'AV. BOLIVAR', source_system: 'klk' },
  { id: 'tienda_03', nombre: 'MAÑONGO', source_system: 'klk' },
  { id: 'tienda_04', nombre: 'SAN DIEGO', source_system: 'klk' },
  { id: 'tienda_05', nombre: 'VIVIENDA', source_system: 'klk' },
  { id: 'tienda_06', nombre: 'NAGUANAGUA', source_system: 'klk' },
  { id: 'tienda_07', nombre: 'CENTRO', source_system: 'klk' },
  { id: 'tienda_08', nombre: 'VALLE FRIO', source_system: 'klk', fault: 'slow_connect' },
  { id: 'tienda_09', nombre: 'GUACARA', source_system: 'klk' },
  { id: 'tienda_10', nombre: 'LOS GUAYOS', source_system: 'klk' },
  { id: 'tienda_11', nombre: 'FLOR AMARILLO', source_system: 'klk' },
  { id: 'tienda_12', nombre: 'PARAPARAL', source_system: 'klk' },
  { id: 'tienda_13', nombre: 'NAGUANAGUA II', source_system: 'klk' },
  { id: 'tienda_14', nombre: 'ISABELICA', source_system: 'klk' },
  { id: 'tienda_15', nombre: 'TOCUYITO', source_system: 'klk' },
  { id: 'tienda_16', nombre: 'LA GRANJA', source_system: 'klk' },
  { id: 'tienda_17', nombre: 'TAZAJAL', source_system: 'klk' },
  { id: 'tienda_18', nombre: 'BEJUMA', source_system: 'stellar' },
  { id: 'tienda_19', nombre: 'MONTALBAN', source_system: 'stellar' },
]

export type RunningStandIns = { ports: Map<string, number>; close(): Promise<void> }

/**
 * Starts one stand-in per store on DEMO_PORT_BASE + n (ports stay stable across starts); a base
 * of 0 lets each take a free port (tests that run several demos at once).
 */
export async function startStandIns(opts: { portBase: number; klkToken: string }): Promise<RunningStandIns> {
  const handles: Array<KlkStore | StellarStore> = []
  const ports = new Map<string, number>()
  try {
    for (const [i, store] of DEMO_STORES.entries()) {
      const port = opts.portBase ? opts.portBase + i + 1 : 0
      const handle =
        store.source_system === 'klk'
          ? await startKlkStore({ tiendaId: store.id, port, token: opts.klkToken, fault: store.fault ?? null })
          : await startStellarStore({ tiendaId: store.id, port })
      handles.push(handle)
      ports.set(store.id, handle.port)
    }
  } catch (error) {
    await Promise.allSettled(handles.map((h) => h.close()))
    throw new StartupError(
      `could not start the demo stores on ports ${opts.portBase + 1}…${opts.portBase + DEMO_STORES.length}: ${(error as Error).message} (set DEMO_PORT_BASE)`,
    )
  }
  return { ports, close: async () => void (await Promise.allSettled(handles.map((h) => h.close()))) }
}
