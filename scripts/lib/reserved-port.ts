// A TCP port that is ours for as long as we hold it, whether or not anything listens on it.
//
// Closing a listener and binding its port again (a store that goes down and comes back, a
// port handed to a child process) races with every other process on the machine: in between,
// an ephemeral bind(0) or the source port of any outgoing connect() may take it (seen as
// EADDRINUSE in the simulator tests). The holder is a connected client socket whose local
// address is host:port, bound with SO_REUSEADDR (libuv sets it on every TCP bind):
// - nobody listens on it, so a connect() there is refused (ECONNREFUSED), as a closed port;
// - Linux never hands it out as an ephemeral port, to bind(0) nor to connect() (measured here:
//   0 of 10,000 ephemeral binds and connects landed on 300 held ports, ~100 expected without);
// - a listener that sets SO_REUSEADDR (Node, PostgreSQL) may still bind it explicitly, since
//   the holder is not listening: that is how the owner (or its child process) takes it.
// The holder connects to an anchor listener of this process; both are unref'd. Every loopback
// address shares the anchor of 127.0.0.1: an anchor of its own, on an address whose port is asked
// for, could be handed that very port by bind(0) (seen once: the 50-address fleet test, EADDRINUSE).
import net from 'node:net'

export type ReservedPort = { host: string; port: number; release(): void }

const anchors = new Map<string, Promise<net.Server>>()

function anchorFor(host: string): Promise<net.Server> {
  let anchor = anchors.get(host)
  if (!anchor) {
    anchor = new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer((socket) => {
        socket.on('error', () => {})
        socket.unref()
      })
      server.once('error', reject)
      server.listen(0, host, () => {
        server.unref()
        resolve(server)
      })
    })
    anchors.set(host, anchor)
    anchor.catch(() => anchors.delete(host))
  }
  return anchor
}

/** Holds host:port (port 0: one the kernel picks) until release(); fails if something listens there. */
export async function reservePort(host = '127.0.0.1', port = 0): Promise<ReservedPort> {
  const anchorHost = net.isIPv4(host) && host.startsWith('127.') ? '127.0.0.1' : host
  const anchor = await anchorFor(anchorHost)
  const { port: anchorPort } = anchor.address() as net.AddressInfo
  const holder = await new Promise<net.Socket>((resolve, reject) => {
    // localAddress makes Node bind() before connect(): with SO_REUSEADDR, unlike connect()'s autobind.
    const socket = net.connect({ host: anchorHost, port: anchorPort, localAddress: host, localPort: port || undefined })
    socket.once('connect', () => resolve(socket))
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy()
      const why = error.code === 'EADDRINUSE' ? 'something already listens there' : error.message
      reject(new Error(`cannot reserve ${host}:${port || 'an ephemeral port'}: ${why}`, { cause: error }))
    })
  })
  holder.on('error', () => {})
  holder.unref()
  return { host, port: holder.localPort!, release: () => void holder.destroy() }
}

/** A loopback port nothing listens on, held for the life of this process: connect() gets ECONNREFUSED. */
export async function refusingPort(host = '127.0.0.1'): Promise<number> {
  return (await reservePort(host)).port
}
