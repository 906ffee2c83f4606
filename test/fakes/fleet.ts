// A chain of stand-in stores for benchmarks and tests: every store on its own loopback address
// (Linux routes the whole of 127.0.0.0/8 to `lo`, nothing to configure) and all of them at ONE
// port, so a thousand stores need no thousand ports. Each store has its own VPN link (RTT and
// bandwidth, test/fakes/link.ts); every `stellarEvery`-th store runs Stellar (the TDS stand-in).
import { type KlkStore, startKlkStore } from './klk-simulator.ts'
import type { LinkOptions } from './link.ts'
import { type StellarStore, startStellarStore } from './tds-server.ts'

export type FleetOptions = {
  count: number
  /** The first store's address; store i listens on this address + i. */
  addressBase?: string
  /** 0 or unset: the first store picks a free port and the others take the same one. */
  port?: number
  token: string
  link?: LinkOptions
  /** Every n-th store (n, 2n, …) is a Stellar store; 0 or unset: KLK only. */
  stellarEvery?: number
  invoicesPerHour?: number
}

export type FleetStore = {
  tiendaId: string
  sourceSystem: 'klk' | 'stellar'
  host: string
  port: number
  handle: KlkStore | StellarStore
}

export type Fleet = { stores: FleetStore[]; port: number; close(): Promise<void> }

export const DEFAULT_ADDRESS_BASE = '127.58.0.1'

/** `base` + `offset` as an IPv4 address, refused outside 127.0.0.1–127.255.255.254. */
export function loopbackAddress(base: string, offset: number): string {
  const octets = base.split('.').map(Number)
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || octets[0] !== 127) {
    throw new Error(`address base ${base} is not an IPv4 loopback address (127.x.y.z)`)
  }
  const value = ((octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) + offset
  if (value < 1 || value > 0xfffffe) throw new Error(`${base} + ${offset} leaves 127.0.0.1–127.255.255.254`)
  return `127.${(value >> 16) & 255}.${(value >> 8) & 255}.${value & 255}`
}

export const tiendaIdFor = (i: number, count: number) =>
  `tienda_${String(i + 1).padStart(Math.max(2, String(count).length), '0')}`

const isAddressInUse = (error: unknown) => (error as { code?: string })?.code === 'EADDRINUSE'

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const base = options.addressBase ?? DEFAULT_ADDRESS_BASE
  // A picked port is free on the first address only; another process may hold it on a later one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, base)
    } catch (error) {
      if (options.port || !isAddressInUse(error) || attempt >= 5) throw error
    }
  }
}

async function startOnce(options: FleetOptions, base: string): Promise<Fleet> {
  const started: FleetStore[] = []
  const close = async () => void (await Promise.allSettled(started.map((s) => s.handle.close())))
  const startStore = async (i: number, port: number): Promise<FleetStore> => {
    const tiendaId = tiendaIdFor(i, options.count)
    const host = loopbackAddress(base, i)
    const stellar = options.stellarEvery ? (i + 1) % options.stellarEvery === 0 : false
    const common = { tiendaId, host, port, link: options.link, invoicesPerHour: options.invoicesPerHour }
    const handle = stellar ? await startStellarStore(common) : await startKlkStore({ ...common, token: options.token })
    const store: FleetStore = { tiendaId, sourceSystem: stellar ? 'stellar' : 'klk', host, port: handle.port, handle }
    started.push(store)
    return store
  }
  try {
    if (options.count < 1) throw new Error('a fleet needs at least one store')
    const first = await startStore(0, options.port ?? 0)
    // Batches keep a thousand listen() calls from piling up at once.
    for (let from = 1; from < options.count; from += 100) {
      const batch = Array.from({ length: Math.min(100, options.count - from) }, (_, k) => from + k)
      await Promise.all(batch.map((i) => startStore(i, first.port)))
    }
    started.sort((a, b) => a.tiendaId.localeCompare(b.tiendaId))
    return { stores: started, port: first.port, close }
  } catch (error) {
    await close()
    throw error
  }
}
