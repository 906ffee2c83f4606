// The KLK stand-ins for the 19-store benchmark, in their own process so that serving HTTP does not
// compete with the runner for the same event loop. Prints one JSON line with the ports, then serves
// until stdin closes (the parent exiting or killing it).
import { startKlkStores } from '../../test/fakes/klk-simulator.ts'

const count = Number(process.argv[2] ?? 19)
const token = process.argv[3] ?? 'bench-token'
const stores = await startKlkStores(
  Array.from({ length: count }, (_, i) => ({ tiendaId: `tienda_${String(i + 1).padStart(2, '0')}`, token })),
)
process.stdout.write(`${JSON.stringify(stores.map((s) => ({ tiendaId: s.tiendaId, port: s.port })))}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void Promise.all(stores.map((s) => s.close())).then(() => process.exit(0))
})
