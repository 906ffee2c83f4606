// The demo chain: 19 stores on loopback stand-ins. Most run KLK (HTTP simulator); two run Stellar
// (the SQL Server wire stand-in). Today every store answers; their month of trouble is history,
// replayed into an empty database on the first start (replay.ts, story.ts).
import { KLK_FAULTS, type KlkStore, startKlkStore } from '../../test/fakes/klk-simulator.ts'
import { type StellarStore, startStellarStore } from '../../test/fakes/tds-server.ts'
import { StartupError } from '../lib/startup-error.ts'
import type { StoryFault } from './story.ts'

export type DemoStore = { id: string; nombre: string; source_system: 'klk' | 'stellar' }

export const DEMO_STORES: DemoStore[] = [
  { id: 'tienda_01', nombre: 'PERIFERICO', source_system: 'klk' },
  { id: 'tienda_02', nombre: 'AV. BOLIVAR', source_system: 'klk' },
  { id: 'tienda_03', nombre: 'MAÑONGO', source_system: 'klk' },
  { id: 'tienda_04', nombre: 'SAN DIEGO', source_system: 'klk' },
  { id: 'tienda_05', nombre: 'VIVIENDA', source_system: 'klk' },
  { id: 'tienda_06', nombre: 'NAGUANAGUA', source_system: 'klk' },
  { id: 'tienda_07', nombre: 'CENTRO', source_system: 'klk' },
  { id: 'tienda_08', nombre: 'VALLE FRIO', source_system: 'klk' },
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

export type RunningStandIns = {
  ports: Map<string, number>
  host: string
  /** Puts a store into `fault` (null: healthy); a KLK fault on a Stellar store is refused, and vice versa. */
  setFault(tiendaId: string, fault: StoryFault | null): Promise<void>
  close(): Promise<void>
}

const STELLAR_FAULTS = new Set<string>([
  'refuse',
  'silent_prelogin',
  'login_failed',
  'sql_error',
  'stall_query',
  'drop_mid_rowset',
  'empty',
])

/**
 * Starts one stand-in per store on `host` (default 127.0.0.1): at DEMO_PORT_BASE + n when
 * `portBase` is given (ports stay stable across starts), else (or 0) on free ports.
 */
export async function startStandIns(opts: {
  portBase?: number
  host?: string
  klkToken: string
}): Promise<RunningStandIns> {
  const host = opts.host ?? '127.0.0.1'
  const handles = new Map<string, { system: DemoStore['source_system']; handle: KlkStore | StellarStore }>()
  const ports = new Map<string, number>()
  const closeAll = async () => void (await Promise.allSettled([...handles.values()].map((h) => h.handle.close())))
  try {
    for (const [i, store] of DEMO_STORES.entries()) {
      // DEMO_PORT_BASE=0 (or none given): each store takes a free port, held by the stand-in itself.
      const port = opts.portBase ? opts.portBase + i + 1 : 0
      const handle =
        store.source_system === 'klk'
          ? await startKlkStore({ tiendaId: store.id, host, port, token: opts.klkToken })
          : await startStellarStore({ tiendaId: store.id, host, port })
      handles.set(store.id, { system: store.source_system, handle })
      ports.set(store.id, handle.port)
    }
  } catch (error) {
    await closeAll()
    const where = opts.portBase ? `${host}:${opts.portBase + 1}…${opts.portBase + DEMO_STORES.length}` : host
    throw new StartupError(
      `could not start the demo stores on ${where}: ${(error as Error).message} (set DEMO_PORT_BASE)`,
    )
  }
  return {
    ports,
    host,
    async setFault(tiendaId, fault) {
      const h = handles.get(tiendaId)
      if (!h) throw new Error(`no demo store ${tiendaId}`)
      if (h.system === 'stellar') {
        if (fault && !STELLAR_FAULTS.has(fault))
          throw new Error(`${fault} is not a fault of a Stellar store (${tiendaId})`)
        await (h.handle as StellarStore).setFault(fault as Parameters<StellarStore['setFault']>[0])
      } else {
        if (fault && !(fault in KLK_FAULTS)) throw new Error(`${fault} is not a fault of a KLK store (${tiendaId})`)
        await (h.handle as KlkStore).setFault(fault as Parameters<KlkStore['setFault']>[0])
      }
    },
    close: closeAll,
  }
}
