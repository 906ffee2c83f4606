// A bare TCP connect to a store's host:port, run beside the driver's own connect.
//
// tedious reports one and the same ConnectionError ETIMEOUT ("Failed to connect to h:p in N ms")
// whether the TCP handshake never completed (the VPN drops the SYN: extract/vpn_timeout) or the
// socket connected and SQL Server never answered the prelogin/login (extract/db_connection):
// DESIGN §5 tells them apart by this probe. It also yields the resolved ip and the connect
// latency for the store's network diagnostics, which the driver does not expose.
import net from 'node:net'

export type TcpProbe = {
  /** The handshake completed within the timeout. */
  connected: boolean
  /** Resolved address (the host itself when resolution failed or never happened). */
  ip: string
  port: number
  /** Handshake time, or the time spent until the probe gave up. */
  latencyMs: number
  /** `ETIMEDOUT` when the handshake did not complete in time, else the socket error's code. */
  errorCode: string | null
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<TcpProbe> {
  const started = performance.now()
  return new Promise((resolve) => {
    let ip = host
    const socket = net.connect({ host, port })
    const finish = (connected: boolean, errorCode: string | null) => {
      clearTimeout(timer)
      // Nothing is ever sent: the server sees a connection opened and closed, no login attempt.
      socket.destroy()
      resolve({ connected, ip, port, latencyMs: round(performance.now() - started), errorCode })
    }
    const timer = setTimeout(() => finish(false, 'ETIMEDOUT'), timeoutMs)
    socket.once('lookup', (_error, address) => {
      if (typeof address === 'string') ip = address
    })
    socket.once('connect', () => {
      if (socket.remoteAddress) ip = socket.remoteAddress
      finish(true, null)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => finish(false, error.code ?? 'ESOCKET'))
  })
}

const round = (ms: number) => Math.round(ms * 100) / 100
