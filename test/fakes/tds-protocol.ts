// TDS 7.4 byte layouts for the SQL Server stand-in (tds-server.ts): packet framing, the few
// server tokens tedious needs, and parsers for the client messages it sends. Layouts follow
// MS-TDS §2.2; every multi-byte integer is little-endian except the packet header and the
// LOGINACK version, which the spec makes big-endian.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'

export const PacketType = {
  sqlBatch: 0x01,
  rpc: 0x03,
  tabularResult: 0x04,
  attention: 0x06,
  login7: 0x10,
  prelogin: 0x12,
} as const

const HEADER = 8
const EOM = 0x01
// A server process id in every header; tedious only shows it in debug output.
const SPID = 0x0037

const Token = {
  colMetadata: 0x81,
  error: 0xaa,
  loginAck: 0xad,
  row: 0xd1,
  envChange: 0xe3,
  returnStatus: 0x79,
  done: 0xfd,
  doneProc: 0xfe,
  doneInProc: 0xff,
} as const

export const DoneStatus = { final: 0x00, more: 0x01, error: 0x02, count: 0x10, attention: 0x20 } as const
// curCmd is informational for clients; SQL Server reports SELECT as 0xC1.
const CMD_SELECT = 0xc1

// Latin1_General_CI_AS as SQL Server sends it: LCID 0x0409 with its sort flags, sort id 0.
const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34])

// ---------------------------------------------------------------------------------------
// Framing

/** Reassembles client packets into messages; an ATTENTION is a message of its own. */
export function messageReader(onMessage: (type: number, payload: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0)
  let parts: Buffer[] = []
  return (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= HEADER) {
      const length = pending.readUInt16BE(2)
      if (pending.length < length) return
      const type = pending[0]!
      const status = pending[1]!
      parts.push(pending.subarray(HEADER, length))
      pending = pending.subarray(length)
      if (status & EOM) {
        const payload = Buffer.concat(parts)
        parts = []
        onMessage(type, payload)
      }
    }
  }
}

/**
 * Writes one server message as packets of the negotiated size. Tokens are appended as they
 * are produced and a packet leaves as soon as it is full, so a large rowset streams instead
 * of being built in memory; only the last packet carries EOM.
 */
export class MessageWriter {
  #socket: Socket
  #packetSize: number
  #buffered: Buffer[] = []
  #bufferedBytes = 0
  #packetId = 1
  #pace: ((bytes: number) => Promise<void>) | undefined
  packetsSent = 0

  /** `pace` (a link's transmit) is awaited before each full packet leaves: the store's bandwidth. */
  constructor(socket: Socket, packetSize: number, pace?: (bytes: number) => Promise<void>) {
    this.#socket = socket
    this.#packetSize = packetSize
    this.#pace = pace
  }

  /** Appends a token; resolves once the socket can take more (backpressure). */
  async write(token: Buffer): Promise<void> {
    this.#buffered.push(token)
    this.#bufferedBytes += token.length
    const room = this.#packetSize - HEADER
    // Strictly greater: the final packet must never be empty, it carries EOM.
    if (this.#bufferedBytes <= room) return
    let data = Buffer.concat(this.#buffered)
    this.#buffered = []
    this.#bufferedBytes = 0
    let flushed = true
    while (data.length > room) {
      if (this.#pace) await this.#pace(this.#packetSize)
      flushed = this.#send(data.subarray(0, room), false)
      data = data.subarray(room)
    }
    this.#buffered = [data]
    this.#bufferedBytes = data.length
    if (!flushed) await drained(this.#socket)
  }

  /** Sends what is buffered as a non-final packet: the client sees the rows, not the end. */
  flushPartial(): void {
    if (this.#bufferedBytes === 0) return
    this.#send(Buffer.concat(this.#buffered), false)
    this.#buffered = []
    this.#bufferedBytes = 0
  }

  end(): void {
    assert(this.#bufferedBytes > 0, 'a TDS message needs at least one token')
    // The last packet is not waited for, but it books the link: the next message waits for it.
    if (this.#pace) void this.#pace(this.#bufferedBytes + HEADER)
    this.#send(Buffer.concat(this.#buffered), true)
    this.#buffered = []
    this.#bufferedBytes = 0
  }

  #send(data: Buffer, last: boolean): boolean {
    if (this.#socket.destroyed) return true
    const header = Buffer.alloc(HEADER)
    header.writeUInt8(PacketType.tabularResult, 0)
    header.writeUInt8(last ? EOM : 0, 1)
    header.writeUInt16BE(HEADER + data.length, 2)
    header.writeUInt16BE(SPID, 4)
    header.writeUInt8(this.#packetId++ % 256, 6)
    this.packetsSent++
    return this.#socket.write(Buffer.concat([header, data]))
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

// ---------------------------------------------------------------------------------------
// Small encoders

const ucs2 = (text: string) => Buffer.from(text, 'ucs2')

function bVarChar(text: string): Buffer {
  return Buffer.concat([Buffer.from([text.length]), ucs2(text)])
}

function usVarChar(text: string): Buffer {
  const length = Buffer.alloc(2)
  length.writeUInt16LE(text.length)
  return Buffer.concat([length, ucs2(text)])
}

/** Token type, USHORT length, body: the shape of every variable-length token we send. */
function withLength(tokenType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3)
  head.writeUInt8(tokenType, 0)
  head.writeUInt16LE(body.length, 1)
  return Buffer.concat([head, body])
}

// ---------------------------------------------------------------------------------------
// Server tokens

/** PRELOGIN answer: version, ENCRYPT_NOT_SUP (so tedious skips TLS), no instance, no MARS. */
export function preloginResponse(): Buffer {
  const options: Array<[number, Buffer]> = [
    [0x00, Buffer.from([16, 0, 0x10, 0x00, 0, 0])],
    [0x01, Buffer.from([0x02])],
    [0x02, Buffer.from([0x00])],
    [0x03, Buffer.alloc(0)],
    [0x04, Buffer.from([0x00])],
  ]
  let dataOffset = options.length * 5 + 1
  const table: Buffer[] = []
  for (const [option, data] of options) {
    const entry = Buffer.alloc(5)
    entry.writeUInt8(option, 0)
    entry.writeUInt16BE(dataOffset, 1)
    entry.writeUInt16BE(data.length, 3)
    table.push(entry)
    dataOffset += data.length
  }
  return Buffer.concat([...table, Buffer.from([0xff]), ...options.map(([, data]) => data)])
}

export function loginAck(): Buffer {
  const version = Buffer.alloc(5)
  version.writeUInt8(1, 0) // interface SQL_TSQL
  version.writeUInt32BE(0x74000004, 1) // TDS 7.4
  return withLength(
    Token.loginAck,
    Buffer.concat([version, bVarChar('Microsoft SQL Server'), Buffer.from([16, 0, 0x10, 0x00])]),
  )
}

const EnvType = { database: 1, packetSize: 4, collation: 7 } as const

export function envDatabase(name: string): Buffer {
  return withLength(
    Token.envChange,
    Buffer.concat([Buffer.from([EnvType.database]), bVarChar(name), bVarChar('master')]),
  )
}

export function envPacketSize(size: number): Buffer {
  const value = bVarChar(String(size))
  return withLength(Token.envChange, Buffer.concat([Buffer.from([EnvType.packetSize]), value, value]))
}

export function envCollation(): Buffer {
  return withLength(
    Token.envChange,
    Buffer.concat([Buffer.from([EnvType.collation, COLLATION.length]), COLLATION, Buffer.from([0])]),
  )
}

export function errorToken(e: { number: number; message: string; state?: number; severity?: number }): Buffer {
  const head = Buffer.alloc(6)
  head.writeInt32LE(e.number, 0)
  head.writeUInt8(e.state ?? 1, 4)
  head.writeUInt8(e.severity ?? 16, 5)
  const line = Buffer.alloc(4)
  line.writeInt32LE(1)
  return withLength(Token.error, Buffer.concat([head, usVarChar(e.message), bVarChar('STELLAR'), bVarChar(''), line]))
}

type DoneKind = 'done' | 'doneProc' | 'doneInProc'

export function done(kind: DoneKind, status: number, rowCount = 0): Buffer {
  const token = Buffer.alloc(13)
  token.writeUInt8(Token[kind], 0)
  token.writeUInt16LE(status, 1)
  token.writeUInt16LE(rowCount > 0 || status & DoneStatus.count ? CMD_SELECT : 0, 3)
  token.writeBigUInt64LE(BigInt(rowCount), 5)
  return token
}

export function returnStatus(value: number): Buffer {
  const token = Buffer.alloc(5)
  token.writeUInt8(Token.returnStatus, 0)
  token.writeInt32LE(value, 1)
  return token
}

// ---------------------------------------------------------------------------------------
// Rowsets: only the column types the Stellar query returns

export type Column =
  | { name: string; type: 'nvarchar'; length: number }
  | { name: string; type: 'int' }
  | { name: string; type: 'datetime2'; scale: number }
  | { name: string; type: 'decimal'; precision: number; scale: number }

export type CellValue = string | number | Date | null

const TypeId = {
  intN: 0x26,
  bitN: 0x68,
  date: 0x28,
  datetime2: 0x2a,
  datetimeOffset: 0x2b,
  datetimeN: 0x6f,
  decimalN: 0x6a,
  numericN: 0x6c,
  varchar: 0xa7,
  nvarchar: 0xe7,
} as const

const DAYS_TO_1970 = 719_162 // days from 0001-01-01 to 1970-01-01
const DAYS_1900_TO_1970 = 25_567
const DAY_MS = 86_400_000
const NULLABLE = 0x0001

function decimalBytes(precision: number): number {
  assert(precision <= 19, 'decimals wider than 19 digits are not encoded by this fake')
  return precision <= 9 ? 4 : 8
}

function typeInfo(column: Column): Buffer {
  switch (column.type) {
    case 'nvarchar': {
      const info = Buffer.alloc(3)
      info.writeUInt8(TypeId.nvarchar, 0)
      info.writeUInt16LE(column.length * 2, 1)
      return Buffer.concat([info, COLLATION])
    }
    case 'int':
      return Buffer.from([TypeId.intN, 4])
    case 'datetime2':
      return Buffer.from([TypeId.datetime2, column.scale])
    case 'decimal':
      return Buffer.from([TypeId.decimalN, 1 + decimalBytes(column.precision), column.precision, column.scale])
  }
}

export function colMetadata(columns: readonly Column[]): Buffer {
  const head = Buffer.alloc(3)
  head.writeUInt8(Token.colMetadata, 0)
  head.writeUInt16LE(columns.length, 1)
  const parts = columns.map((column) => {
    const userTypeAndFlags = Buffer.alloc(6)
    userTypeAndFlags.writeUInt16LE(NULLABLE, 4)
    return Buffer.concat([userTypeAndFlags, typeInfo(column), bVarChar(column.name)])
  })
  return Buffer.concat([head, ...parts])
}

function cell(column: Column, value: CellValue): Buffer {
  if (value === null) return column.type === 'nvarchar' ? Buffer.from([0xff, 0xff]) : Buffer.from([0])
  switch (column.type) {
    case 'nvarchar': {
      const text = ucs2(String(value))
      const length = Buffer.alloc(2)
      length.writeUInt16LE(text.length)
      return Buffer.concat([length, text])
    }
    case 'int': {
      const out = Buffer.alloc(5)
      out.writeUInt8(4, 0)
      out.writeInt32LE(Number(value), 1)
      return out
    }
    case 'datetime2': {
      assert(value instanceof Date)
      const ms = value.getTime()
      const days = Math.floor(ms / DAY_MS)
      const timeBytes = column.scale <= 2 ? 3 : column.scale <= 4 ? 4 : 5
      const ticks = Math.round(((ms - days * DAY_MS) / 1000) * 10 ** column.scale)
      const out = Buffer.alloc(1 + timeBytes + 3)
      out.writeUInt8(timeBytes + 3, 0)
      out.writeUIntLE(ticks, 1, timeBytes)
      out.writeUIntLE(days + DAYS_TO_1970, 1 + timeBytes, 3)
      return out
    }
    case 'decimal': {
      const scaled = Math.round(Number(value) * 10 ** column.scale)
      const bytes = decimalBytes(column.precision)
      const out = Buffer.alloc(2 + bytes)
      out.writeUInt8(1 + bytes, 0)
      out.writeUInt8(scaled < 0 ? 0 : 1, 1)
      if (bytes === 4) out.writeUInt32LE(Math.abs(scaled), 2)
      else out.writeBigUInt64LE(BigInt(Math.abs(scaled)), 2)
      return out
    }
  }
}

export function row(columns: readonly Column[], values: readonly CellValue[]): Buffer {
  return Buffer.concat([Buffer.from([Token.row]), ...columns.map((column, i) => cell(column, values[i] ?? null))])
}

// ---------------------------------------------------------------------------------------
// Client messages

export type Login = { userName: string; database: string; packetSize: number }

/** LOGIN7 fixed part: offsets/lengths (in UCS-2 characters) into the variable part. */
export function parseLogin7(payload: Buffer): Login {
  const text = (at: number) => {
    const offset = payload.readUInt16LE(at)
    const chars = payload.readUInt16LE(at + 2)
    return payload.toString('ucs2', offset, offset + chars * 2)
  }
  return { packetSize: payload.readUInt32LE(8), userName: text(40), database: text(68) }
}

/** SQL batch and RPC bodies start with ALL_HEADERS (TDS 7.2+), prefixed by its total length. */
function skipAllHeaders(payload: Buffer): number {
  return payload.readUInt32LE(0)
}

export function parseSqlBatch(payload: Buffer): string {
  return payload.toString('ucs2', skipAllHeaders(payload))
}

export type ParamValue = string | number | boolean | Date | null
export type RpcCall = { procedure: number | string; params: Array<{ name: string; value: ParamValue }> }

export function parseRpc(payload: Buffer): RpcCall {
  let at = skipAllHeaders(payload)
  const nameLength = payload.readUInt16LE(at)
  at += 2
  let procedure: number | string
  if (nameLength === 0xffff) {
    procedure = payload.readUInt16LE(at)
    at += 2
  } else {
    procedure = payload.toString('ucs2', at, at + nameLength * 2)
    at += nameLength * 2
  }
  at += 2 // option flags
  const params: RpcCall['params'] = []
  while (at < payload.length) {
    const chars = payload.readUInt8(at)
    const name = payload.toString('ucs2', at + 1, at + 1 + chars * 2)
    at += 1 + chars * 2 + 1 // name, status flags
    const { value, next } = readParamValue(payload, at)
    params.push({ name, value })
    at = next
  }
  return { procedure, params }
}

/** Parameter TYPE_INFO + value for the types mssql sends for strings, numbers, flags and dates. */
function readParamValue(buf: Buffer, at: number): { value: ParamValue; next: number } {
  const type = buf.readUInt8(at)
  switch (type) {
    case TypeId.intN:
    case TypeId.bitN: {
      const length = buf.readUInt8(at + 2)
      if (length === 0) return { value: null, next: at + 3 }
      const raw = buf.readIntLE(at + 3, Math.min(length, 6))
      return { value: type === TypeId.bitN ? raw !== 0 : raw, next: at + 3 + length }
    }
    case TypeId.nvarchar:
    case TypeId.varchar: {
      const maxLength = buf.readUInt16LE(at + 1)
      const start = at + 3 + 5 // max length, collation
      const encoding = type === TypeId.nvarchar ? 'ucs2' : 'latin1'
      if (maxLength === 0xffff) return readPlp(buf, start, encoding)
      const length = buf.readUInt16LE(start)
      if (length === 0xffff) return { value: null, next: start + 2 }
      return { value: buf.toString(encoding, start + 2, start + 2 + length), next: start + 2 + length }
    }
    case TypeId.datetimeN: {
      const length = buf.readUInt8(at + 2)
      if (length === 0) return { value: null, next: at + 3 }
      assert.equal(length, 8, 'smalldatetime parameters are not parsed by this fake')
      const days = buf.readInt32LE(at + 3)
      const ticks = buf.readUInt32LE(at + 7) // 1/300 s
      const ms = (days - DAYS_1900_TO_1970) * DAY_MS + Math.round((ticks * 10) / 3)
      return { value: new Date(ms), next: at + 11 }
    }
    case TypeId.date: {
      const length = buf.readUInt8(at + 1)
      if (length === 0) return { value: null, next: at + 2 }
      const days = buf.readUIntLE(at + 2, 3)
      return { value: new Date((days - DAYS_TO_1970) * DAY_MS), next: at + 5 }
    }
    case TypeId.datetime2:
    case TypeId.datetimeOffset: {
      const scale = buf.readUInt8(at + 1)
      const length = buf.readUInt8(at + 2)
      if (length === 0) return { value: null, next: at + 3 }
      // datetimeoffset carries the UTC instant plus a 2-byte offset that does not change it.
      const timeBytes = length - 3 - (type === TypeId.datetimeOffset ? 2 : 0)
      const ticks = buf.readUIntLE(at + 3, timeBytes)
      const days = buf.readUIntLE(at + 3 + timeBytes, 3)
      const ms = (days - DAYS_TO_1970) * DAY_MS + Math.round(ticks / 10 ** (scale - 3))
      return { value: new Date(ms), next: at + 3 + length }
    }
    default:
      throw new Error(`the TDS stand-in does not parse parameters of type 0x${type.toString(16)}`)
  }
}

/** PLP (nvarchar(max)): total length, then length-prefixed chunks up to a zero terminator. */
function readPlp(buf: Buffer, at: number, encoding: 'ucs2' | 'latin1'): { value: string | null; next: number } {
  if (buf.readBigUInt64LE(at) === 0xffffffffffffffffn) return { value: null, next: at + 8 }
  const chunks: Buffer[] = []
  let next = at + 8
  for (let size = buf.readUInt32LE(next); size > 0; size = buf.readUInt32LE(next)) {
    chunks.push(buf.subarray(next + 4, next + 4 + size))
    next += 4 + size
  }
  return { value: Buffer.concat(chunks).toString(encoding), next: next + 4 }
}
