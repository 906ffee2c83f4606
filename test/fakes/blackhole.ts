// A TCP address where connect() never completes, produced by the kernel rather than by a fake
// error: Linux drops an incoming SYN (counted as ListenOverflows) while the listening socket's
// accept queue is full, so the client keeps retransmitting SYNs until its own timeout fires.
//
// How the queue gets full and stays full:
// - Node accepts on its event loop as soon as the socket is readable, so the listener lives in
//   a worker thread that, once listening, blocks in Atomics.wait: its event loop never runs
//   again and nothing is ever accepted.
// - listen(backlog = 1) queues at most backlog + 1 = 2 established connections (the kernel's
//   check is `queued > backlog`). The parent opens those 2 filler connections, then a probe
//   that must NOT complete within PROBE_MS: blackholeListener() never hands out an address
//   that still connects (a probe that connects is kept as one more filler, up to MAX_FILLERS).
//   Measured here (kernel 6.18, somaxconn 4096, tcp_syncookies 1): backlog 1 → 2 fillers,
//   backlog 2 → 3. backlog 0 does NOT work: Node treats 0 as "unset" and listens with 511.
// - A SYN arriving while the queue is full is dropped before any SYN-ACK, so the client sits in
//   SYN_SENT: undici reports UND_ERR_CONNECT_TIMEOUT, net.connect a 'timeout' event.
//
// The listener can take a fixed port (SO_REUSEADDR is set by libuv), which lets the KLK
// simulator swap a store's HTTP server for a blackhole without changing its address.
import net from 'node:net'
import { Worker } from 'node:worker_threads'

const BACKLOG = 1
const MAX_FILLERS = 8
// Loopback handshakes complete in well under a millisecond; 200 ms without one is a dropped SYN.
const PROBE_MS = 200

export type Blackhole = { host: string; port: number; close(): Promise<void> }

// Plain JS run with eval: the worker must not depend on the TypeScript loader of its parent
// (vitest or node's type stripping), and it only needs `net`.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const net = require('node:net')
const { host, port, backlog, signal } = workerData
const flag = new Int32Array(signal)
const server = net.createServer()
server.on('error', (error) => parentPort.postMessage({ error: error.message, code: error.code }))
server.listen({ host, port, backlog, exclusive: true }, () => {
  parentPort.postMessage({ port: server.address().port })
  // Blocks this thread's event loop until close() stores 1 and notifies: nothing is accepted.
  Atomics.wait(flag, 0, 0)
  server.close()
  parentPort.close()
})
`

export async function blackholeListener(host = '127.0.0.1', port = 0): Promise<Blackhole> {
  const signal = new SharedArrayBuffer(4)
  const flag = new Int32Array(signal)
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { host, port, backlog: BACKLOG, signal } })
  const release = async () => {
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    await worker.terminate()
  }

  let boundPort: number
  try {
    boundPort = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port?: number; error?: string; code?: string }) => {
        if (m.port !== undefined) resolve(m.port)
        else
          reject(Object.assign(new Error(`blackhole listen on ${host}:${port} failed: ${m.error}`), { code: m.code }))
      })
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`blackhole worker exited early (${code})`)))
    })
  } catch (error) {
    await release()
    throw error
  }

  const fillers: net.Socket[] = []
  const destroyFillers = () => {
    for (const socket of fillers) socket.destroy()
  }
  try {
    // The first BACKLOG + 1 fillers must connect (the queue has room for them); a probe that then
    // still connects means this kernel queues more than that, so it becomes a filler too.
    for (let i = 0; i <= BACKLOG; i++) fillers.push(await connectFiller(host, boundPort))
    for (;;) {
      const probe = await probeConnect(host, boundPort, PROBE_MS)
      if (!probe) break
      fillers.push(probe)
      if (fillers.length > MAX_FILLERS) {
        throw new Error(
          `blackhole on ${host}:${boundPort}: ${MAX_FILLERS} fillers connected; the accept queue never filled`,
        )
      }
    }
  } catch (error) {
    destroyFillers()
    await release()
    throw error
  }

  let closed: Promise<void> | undefined
  return {
    host,
    port: boundPort,
    close() {
      closed ??= (async () => {
        destroyFillers()
        await release()
      })()
      return closed
    },
  }
}

function connectFiller(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    socket.once('connect', () => {
      // A queued filler is never read by anyone; the RST it gets on close() must not crash the parent.
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', (error) => {
      socket.destroy()
      reject(new Error(`blackhole filler to ${host}:${port} failed: ${error.message}`, { cause: error }))
    })
  })
}

/** The connected socket, or undefined when the handshake did not complete in time (the SYN was dropped). */
async function probeConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket | undefined> {
  const socket = net.connect({ host, port })
  const connected = await new Promise<boolean>((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve(true)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`blackhole probe to ${host}:${port} failed: ${error.message}`, { cause: error }))
    })
  })
  if (connected) {
    socket.on('error', () => {})
    return socket
  }
  socket.destroy()
  return undefined
}
