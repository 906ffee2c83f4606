// SQL Server wire stand-in for the Stellar stores: one loopback TCP listener per store that
// the unmodified mssql/tedious driver logs into and queries, so the runner meets the real
// driver errors (ESOCKET, ETIMEOUT, ELOGIN, EREQUEST) produced by real sockets.
//
// Speaks (TDS 7.4, MS-TDS §2.2):
// - PRELOGIN, answered with ENCRYPT_NOT_SUP: clients must connect with `encrypt: false`.
// - LOGIN7 → LOGINACK + ENVCHANGE (database, packet size, collation) + DONE; any user and
//   password are accepted. The packet size the client asks for is granted.
// - SQL batch (tedious's connect-time `set ...` batch) → DONE.
// - RPC sp_executesql (what mssql sends for `request.query`) with parameter values of type
//   int, bit, nvarchar/varchar (incl. max), date, datetime, datetime2, datetimeoffset.
//   A statement naming `ventas_detalle` gets the Stellar rowset from
//   salesFor(tienda, @desde, @hasta) (both ends inclusive, whatever the WHERE clause says);
//   `SELECT 1` (mssql's pool validation) gets a one-cell rowset; anything else an empty DONEPROC.
// - ATTENTION (tedious's cancel on requestTimeout) → stop, then a DONE(ATTN) acknowledgement.
// Does not speak: TLS, MARS, SSPI/NTLM/federated auth, FEATUREEXTACK (tedious does not need
// it), transactions, prepared statements (sp_prepare/sp_execute), output parameters, bulk
// load, multiple result sets, and SQL itself: statements are recognised, never parsed.
//
// Faults (at start or any time through setFault; queries only fault on `ventas_detalle`, so
// mssql's pool validation `SELECT 1` still passes):
// - refuse: nothing listens on the port (open connections are cut), so connect gets ECONNREFUSED
// - silent_prelogin: TCP accepts, nothing is ever answered
// - login_failed: LOGIN7 gets error 18456 and DONE(ERROR)
// - sql_error: the query gets error 208 "Invalid object name 'dbo.ventas_detalle'."
// - stall_query: the query is never answered (until the client's ATTENTION)
// - drop_mid_rowset: COLMETADATA and a few packets of rows, then the socket is destroyed
// - empty: the query gets an empty rowset (a store that silently sends nothing)
//
// Network model (test/fakes/link.ts): with `link`, every answer to a client message waits one RTT
// (the first on a connection two: the handshake) and rowset packets leave at the store's bandwidth.
import { createServer, type Server, type Socket } from 'node:net'
import { reservePort } from '../../scripts/lib/reserved-port.ts'
import { createLink, type Link, type LinkOptions } from './link.ts'
import { salesFor } from './sales-data.ts'
import {
  type Column,
  colMetadata,
  DoneStatus,
  done,
  envCollation,
  envDatabase,
  envPacketSize,
  errorToken,
  loginAck,
  MessageWriter,
  messageReader,
  PacketType,
  type ParamValue,
  parseLogin7,
  parseRpc,
  parseSqlBatch,
  preloginResponse,
  returnStatus,
  row,
} from './tds-protocol.ts'

export type TdsFault =
  | 'refuse'
  | 'silent_prelogin'
  | 'login_failed'
  | 'sql_error'
  | 'stall_query'
  | 'drop_mid_rowset'
  | 'empty'

export type StellarStoreOptions = {
  tiendaId: string
  host?: string
  /** 0 picks a free port; the port is kept across `refuse` so the store comes back on it. */
  port?: number
  fault?: TdsFault | null
  invoicesPerHour?: number
  /** RTT and bandwidth of the store's VPN link. Unset: loopback speed. */
  link?: LinkOptions
}

/** A statement the store received, so tests can check the runner sends parameters, not text. */
export type ReceivedQuery = { statement: string; params: Record<string, ParamValue> }

export type StellarStore = {
  readonly tiendaId: string
  readonly host: string
  readonly port: number
  readonly fault: TdsFault | null
  readonly queries: readonly ReceivedQuery[]
  /** Bytes the store has written to its clients, over all connections so far. */
  readonly bytesSent: number
  /** Connections accepted and client messages handled (each answer is one round trip). */
  readonly connections: number
  readonly roundTrips: number
  setFault(fault: TdsFault | null): Promise<void>
  close(): Promise<void>
}

export const STELLAR_COLUMNS = [
  { name: 'numero_factura', type: 'nvarchar', length: 30 },
  { name: 'linea', type: 'int' },
  { name: 'fecha', type: 'datetime2', scale: 3 },
  { name: 'codigo_producto', type: 'nvarchar', length: 30 },
  { name: 'descripcion', type: 'nvarchar', length: 120 },
  { name: 'cantidad', type: 'decimal', precision: 12, scale: 3 },
  { name: 'precio_unitario', type: 'decimal', precision: 12, scale: 2 },
  { name: 'total', type: 'decimal', precision: 14, scale: 2 },
] as const satisfies readonly Column[]

const SP_EXECUTESQL = 10
// drop_mid_rowset sends this many full packets of rows before cutting the connection.
const PACKETS_BEFORE_DROP = 2

export async function startStellarStore(options: StellarStoreOptions): Promise<StellarStore> {
  const { tiendaId, host = '127.0.0.1', invoicesPerHour } = options
  let fault = options.fault ?? null
  // Held from start to close (reserved-port.ts): `refuse` closes the listener, and the port must
  // still be this store's when the fault is cleared.
  const reserved = await reservePort(host, options.port ?? 0)
  const port = reserved.port
  let server: Server | null = null
  const sockets = new Set<Socket>()
  const queries: ReceivedQuery[] = []
  const link = createLink(options.link)
  let closedBytes = 0
  const counters = { connections: 0, roundTrips: 0 }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((socket) => {
        sockets.add(socket)
        counters.connections++
        socket.on('close', () => {
          sockets.delete(socket)
          closedBytes += socket.bytesWritten
        })
        serveConnection(socket, { tiendaId, invoicesPerHour, fault: () => fault, queries, link, counters })
      })
      s.once('error', reject)
      s.listen(port, host, () => {
        server = s
        resolve()
      })
    })

  const stopListening = async () => {
    const s = server
    server = null
    for (const socket of sockets) socket.destroy()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  if (fault !== 'refuse') {
    await listen().catch((error: unknown) => {
      reserved.release()
      throw error
    })
  }

  return {
    tiendaId,
    host,
    get port() {
      return port
    },
    get fault() {
      return fault
    },
    queries,
    get connections() {
      return counters.connections
    },
    get roundTrips() {
      return counters.roundTrips
    },
    get bytesSent() {
      let open = 0
      for (const socket of sockets) open += socket.bytesWritten
      return closedBytes + open
    },
    async setFault(next) {
      fault = next ?? null
      if (fault === 'refuse' && server) await stopListening()
      else if (fault !== 'refuse' && !server) await listen()
    },
    async close() {
      fault = 'refuse'
      await stopListening()
      reserved.release()
    },
  }
}

/** Several stores at once, each on its own port, as the runner reaches them (host:port). */
export async function startTdsServer(options: {
  host?: string
  stores: Record<string, Omit<StellarStoreOptions, 'tiendaId' | 'host'>>
}): Promise<{ stores: Record<string, StellarStore>; close(): Promise<void> }> {
  const entries = await Promise.all(
    Object.entries(options.stores).map(
      async ([tiendaId, store]) =>
        [tiendaId, await startStellarStore({ ...store, tiendaId, host: options.host })] as const,
    ),
  )
  const stores = Object.fromEntries(entries)
  return {
    stores,
    async close() {
      await Promise.all(Object.values(stores).map((store) => store.close()))
    },
  }
}

const HOUR_MS = 3_600_000

// salesFor builds a whole window in memory before the first row could leave; an hour at a time
// keeps the first packet prompt (tedious's requestTimeout runs until it arrives) and memory flat.
// Sale times are whole milliseconds, so [from, from + 1 h - 1 ms] partitions the window exactly.
function* salesByHour(tiendaId: string, desde: Date, hasta: Date, invoicesPerHour: number | undefined) {
  for (let from = desde.getTime(); from <= hasta.getTime(); from += HOUR_MS) {
    const to = Math.min(from + HOUR_MS - 1, hasta.getTime())
    yield* salesFor(tiendaId, new Date(from), new Date(to), invoicesPerHour)
  }
}

type ConnectionContext = {
  tiendaId: string
  invoicesPerHour: number | undefined
  fault: () => TdsFault | null
  queries: ReceivedQuery[]
  link: Link
  counters: { roundTrips: number }
}

function serveConnection(socket: Socket, ctx: ConnectionContext) {
  let packetSize = 4096
  // Set by an ATTENTION: a streaming response stops at the next row, a stalled one wakes.
  let cancelled = false
  let wakeStalled: (() => void) | null = null
  // tedious sends one request at a time, but the next may arrive while we still write the
  // previous response, so requests run in order on this chain.
  let queue = Promise.resolve()

  socket.on('error', () => {}) // a client vanishing mid-response is routine here
  socket.on(
    'data',
    messageReader((type, payload) => {
      if (type === PacketType.attention) {
        cancelled = true
        wakeStalled?.()
        // The acknowledgement is a message of its own, after the in-flight request's (cut
        // short) response; also sent when nothing was in flight (the response won the race
        // against the client's timer). See tediousjs/tedious#1738.
        queue = queue.then(() => {
          if (cancelled) acknowledgeAttention()
        })
        return
      }
      // A message this fake cannot parse ends the connection loudly rather than hanging it.
      queue = queue
        .then(() => handle(type, payload))
        .catch(() => {
          socket.destroy()
        })
    }),
  )

  // For short responses: write() only waits for drain after it has queued its packets, so
  // not awaiting it keeps the order and lets the socket buffer absorb the message.
  const send = (...tokens: Buffer[]) => {
    const writer = new MessageWriter(socket, packetSize)
    for (const token of tokens) void writer.write(token)
    writer.end()
  }

  const acknowledgeAttention = () => {
    cancelled = false
    send(done('done', DoneStatus.attention))
  }

  async function handle(type: number, payload: Buffer): Promise<void> {
    ctx.counters.roundTrips++
    if (ctx.link.active) await ctx.link.rtt(socket)
    switch (type) {
      case PacketType.prelogin:
        if (ctx.fault() === 'silent_prelogin') return
        return send(preloginResponse())
      case PacketType.login7: {
        const login = parseLogin7(payload)
        if (ctx.fault() === 'login_failed') {
          send(
            errorToken({
              number: 18456,
              state: 1,
              severity: 14,
              message: `Login failed for user '${login.userName}'.`,
            }),
            done('done', DoneStatus.error),
          )
          socket.end()
          return
        }
        const granted = Math.min(Math.max(login.packetSize, 512), 32_767)
        send(
          envDatabase(login.database || 'master'),
          envCollation(),
          loginAck(),
          envPacketSize(granted),
          done('done', DoneStatus.final),
        )
        packetSize = granted
        return
      }
      case PacketType.sqlBatch:
        return answer(parseSqlBatch(payload), {}, false)
      case PacketType.rpc: {
        let call: ReturnType<typeof parseRpc>
        try {
          call = parseRpc(payload)
        } catch (error) {
          // Surfaces as a RequestError naming what this fake does not parse.
          return send(
            errorToken({ number: 8016, message: (error as Error).message }),
            done('doneProc', DoneStatus.error),
          )
        }
        if (call.procedure !== SP_EXECUTESQL && String(call.procedure).toLowerCase() !== 'sp_executesql') {
          return send(
            errorToken({ number: 2812, message: `Could not find stored procedure '${call.procedure}'.` }),
            done('doneProc', DoneStatus.error),
          )
        }
        const [statement, , ...rest] = call.params
        const params = Object.fromEntries(rest.map((p) => [p.name, p.value]))
        return answer(String(statement?.value ?? ''), params, true)
      }
      default:
        return send(
          errorToken({ number: 0, message: `packet type 0x${type.toString(16)} is not spoken here` }),
          done('done', DoneStatus.error),
        )
    }
  }

  async function answer(statement: string, params: Record<string, ParamValue>, rpc: boolean): Promise<void> {
    const end = (status: number, rowCount = 0) =>
      rpc
        ? [done('doneInProc', status, rowCount), returnStatus(0), done('doneProc', status & DoneStatus.error)]
        : [done('done', status, rowCount)]

    // A cancelled request still gets a (cut short) response message of its own: tedious
    // expects it before the separate acknowledgement message.
    const cutShort = () => send(done('done', DoneStatus.final))
    if (cancelled) return cutShort()
    if (!/ventas_detalle/i.test(statement)) {
      if (/^\s*select\s+1\s*;?\s*$/i.test(statement)) {
        const one = [{ name: '', type: 'int' }] as const
        return send(colMetadata(one), row(one, [1]), ...end(DoneStatus.count, 1))
      }
      return send(...end(DoneStatus.final))
    }

    ctx.queries.push({ statement, params })
    const fault = ctx.fault()
    if (fault === 'sql_error') {
      return send(
        errorToken({ number: 208, message: "Invalid object name 'dbo.ventas_detalle'." }),
        ...end(DoneStatus.error),
      )
    }
    if (fault === 'stall_query') {
      await new Promise<void>((resolve) => {
        wakeStalled = resolve
        socket.once('close', resolve)
      })
      wakeStalled = null
      if (!socket.destroyed) cutShort()
      return
    }
    const { '@desde': desde, '@hasta': hasta } = params
    if (!(desde instanceof Date) || !(hasta instanceof Date)) {
      return send(
        errorToken({ number: 137, message: 'Must declare the scalar variable "@desde".' }),
        ...end(DoneStatus.error),
      )
    }

    const writer = new MessageWriter(socket, packetSize, ctx.link.bytesPerSecond > 0 ? ctx.link.transmit : undefined)
    const rows = fault === 'empty' ? [] : salesByHour(ctx.tiendaId, desde, hasta, ctx.invoicesPerHour)
    const packetsBeforeDrop = fault === 'drop_mid_rowset' ? PACKETS_BEFORE_DROP : Number.POSITIVE_INFINITY
    await writer.write(colMetadata(STELLAR_COLUMNS))
    let sent = 0
    for (const line of rows) {
      if (cancelled || socket.destroyed) break
      await writer.write(
        row(
          STELLAR_COLUMNS,
          STELLAR_COLUMNS.map((column) => line[column.name]),
        ),
      )
      sent++
      if (writer.packetsSent >= packetsBeforeDrop) break
    }
    if (fault === 'drop_mid_rowset') {
      writer.flushPartial()
      socket.destroy()
      return
    }
    if (cancelled) {
      await writer.write(done('done', DoneStatus.final))
      return writer.end()
    }
    for (const token of end(DoneStatus.count, sent)) await writer.write(token)
    writer.end()
  }
}
