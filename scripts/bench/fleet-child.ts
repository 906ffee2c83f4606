// The stand-in stores of a benchmark, in their own process so that serving them does not share
// the measured runner's event loop (or its RSS). argv[2] is the FleetOptions as JSON; prints one
// JSON line with the stores, then serves until stdin closes (the parent exiting or killing it).
import { type FleetOptions, startFleet } from '../../test/fakes/fleet.ts'

const fleet = await startFleet(JSON.parse(process.argv[2] ?? '{}') as FleetOptions)
const stores = fleet.stores.map(({ tiendaId, sourceSystem, host, port }) => ({ tiendaId, sourceSystem, host, port }))
process.stdout.write(`${JSON.stringify(stores)}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void fleet.close().then(() => process.exit(0))
})
