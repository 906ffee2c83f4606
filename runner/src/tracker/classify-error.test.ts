// Unit checks of the mapping table with error instances built by the real libraries. The
// integration suites (runner/src/etl/*.int.test.ts) produce the same errors through real sockets,
// servers and SQLSTATEs.
import net from 'node:net'
import sql from 'mssql'
import postgres from 'postgres'
import { errors as undiciErrors } from 'undici'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { refusingPort } from '../../../scripts/lib/reserved-port.ts'
import { classifyError, errorDetail, type Phase, type SourceSystem } from './classify-error.ts'

const pick = (error: unknown, phase: Phase = 'extract', system: SourceSystem = 'klk') => {
  const c = classifyError(error, phase, system)
  return `${c.phase}/${c.category}/${c.source}`
}

// A port held with nothing listening (never released and bound again, so no other process can take it).
const refused = async () => {
  const port = await refusingPort()
  return new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').on('error', resolve))
}

const pgError = (code: string) => {
  const e = new postgres.PostgresError('server said no')
  Object.assign(e, { code })
  return e
}

describe('classifyError, KLK', () => {
  it('maps undici connect/headers/body timeouts', () => {
    expect(pick(new undiciErrors.ConnectTimeoutError())).toBe('extract/vpn_timeout/klk_api')
    expect(pick(new undiciErrors.HeadersTimeoutError())).toBe('extract/api_timeout/klk_api')
    expect(pick(new undiciErrors.BodyTimeoutError())).toBe('extract/api_timeout/klk_api')
    expect(pick(new undiciErrors.SocketError('other side closed'))).toBe('extract/network_error/klk_api')
  })

  it('maps refused and other socket errors, walking the cause chain', async () => {
    const e = await refused()
    expect(pick(e)).toBe('extract/vpn_unreachable/klk_api')
    expect(pick(new TypeError('fetch failed', { cause: e }))).toBe('extract/vpn_unreachable/klk_api')
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' })
    expect(pick(reset)).toBe('extract/network_error/klk_api')
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), {
      code: 'ENOTFOUND',
      syscall: 'getaddrinfo',
    })
    expect(pick(dns)).toBe('extract/network_error/klk_api')
    const unreach = Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH', syscall: 'connect' })
    expect(pick(unreach)).toBe('extract/vpn_unreachable/klk_api')
  })

  it('maps HTTP statuses', () => {
    const http = (statusCode: number) => Object.assign(new Error(`HTTP ${statusCode}`), { statusCode })
    expect(pick(http(401))).toBe('extract/api_auth/klk_api')
    expect(pick(http(403))).toBe('extract/api_auth/klk_api')
    expect(pick(http(404))).toBe('extract/api_error/klk_api')
    expect(classifyError(http(503), 'extract', 'klk').code).toBe('HTTP_503')
  })

  it('maps transform failures whatever phase they surfaced in', () => {
    let utf8: unknown
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xc3, 0x28]))
    } catch (e) {
      utf8 = e
    }
    expect(pick(utf8)).toBe('transform/encoding_error/klk_api')
    let syntax: unknown
    try {
      JSON.parse('{"a": ')
    } catch (e) {
      syntax = e
    }
    expect(pick(syntax)).toBe('transform/data_format/klk_api')
  })

  it('tells missing fields, wrong types and out-of-range values apart in zod issues', () => {
    const schema = z.array(z.object({ id: z.string(), n: z.number().nonnegative() }))
    const fail = (v: unknown, reportInput = false) => schema.safeParse(v, { reportInput }).error
    expect(pick(fail([{ n: 1 }]), 'transform')).toBe('transform/missing_fields/klk_api')
    expect(pick(fail([{ id: null, n: 1 }], true), 'transform')).toBe('transform/missing_fields/klk_api')
    expect(pick(fail([{ id: 'a', n: 'two' }], true), 'transform')).toBe('transform/data_format/klk_api')
    expect(pick(fail([{ id: 'a', n: -1 }]), 'transform')).toBe('transform/data_validation/klk_api')
    const c = classifyError(fail([{ id: 'a', n: -1 }]), 'transform', 'klk')
    expect(c.message).toBe('invalid data: row 0 n: Too small: expected number to be >=0')
  })
})

describe('classifyError, Stellar', () => {
  const conn = (code: string, cause?: Error) =>
    new sql.ConnectionError(Object.assign(new Error('tedious'), { code, cause }))

  it('maps connection errors per the Stellar column', async () => {
    expect(pick(conn('ELOGIN'), 'extract', 'stellar')).toBe('extract/db_connection/stellar_db')
    expect(pick(conn('ESOCKET', await refused()), 'extract', 'stellar')).toBe('extract/db_connection/stellar_db')
    const unreach = Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH', syscall: 'connect' })
    expect(pick(conn('ESOCKET', unreach), 'extract', 'stellar')).toBe('extract/vpn_unreachable/stellar_db')
  })

  it('needs the TCP probe to split a connect timeout from an unanswered login', () => {
    // sources/stellar.ts attaches the probe's result to the error it throws.
    const probed = (connected: boolean) => Object.assign(conn('ETIMEOUT'), { tcpProbe: { connected } })
    expect(pick(probed(false), 'extract', 'stellar')).toBe('extract/vpn_timeout/stellar_db')
    expect(pick(probed(true), 'extract', 'stellar')).toBe('extract/db_connection/stellar_db')
    expect(pick(conn('ETIMEOUT'), 'extract', 'stellar')).toBe('extract/vpn_timeout/stellar_db')
  })

  it('maps request errors', () => {
    const req = (code: string) => new sql.RequestError(Object.assign(new Error('tedious'), { code }))
    expect(pick(req('ETIMEOUT'), 'extract', 'stellar')).toBe('extract/db_timeout/stellar_db')
    expect(pick(req('EREQUEST'), 'extract', 'stellar')).toBe('extract/db_error/stellar_db')
  })
})

describe('classifyError, load', () => {
  it('maps SQLSTATEs', () => {
    expect(pick(pgError('08006'), 'load')).toBe('load/pg_connection/postgresql')
    expect(pick(pgError('57P01'), 'load')).toBe('load/pg_connection/postgresql')
    expect(pick(pgError('57014'), 'load')).toBe('load/pg_timeout/postgresql')
    expect(pick(pgError('23505'), 'load')).toBe('load/constraint_violation/postgresql')
    expect(pick(pgError('23514'), 'load')).toBe('load/constraint_violation/postgresql')
    expect(pick(pgError('53100'), 'load')).toBe('load/disk_full/postgresql')
    expect(pick(pgError('40P01'), 'load')).toBe('load/deadlock/postgresql')
    expect(pick(pgError('42P01'), 'load')).toBe('load/unknown/postgresql')
  })

  it('maps client-side connection failures of the load connection', async () => {
    expect(pick(await refused(), 'load')).toBe('load/pg_connection/postgresql')
    const closed = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })
    expect(pick(closed, 'load')).toBe('load/pg_connection/postgresql')
    const timeout = Object.assign(new Error('write CONNECT_TIMEOUT'), { code: 'CONNECT_TIMEOUT' })
    expect(pick(timeout, 'load')).toBe('load/pg_timeout/postgresql')
  })
})

describe('classifyError, anything else', () => {
  it('is unknown with the message kept, and never throws', () => {
    expect(classifyError(new RangeError('boom'), 'transform', 'klk')).toMatchObject({
      phase: 'transform',
      category: 'unknown',
      source: 'klk_api',
      message: 'boom',
    })
    expect(classifyError('a string', 'load', 'klk')).toMatchObject({ category: 'unknown', message: 'a string' })
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no')
        },
      },
    )
    expect(classifyError(hostile, 'extract', 'klk').category).toBe('unknown')
    expect(classifyError(null, 'extract', 'klk').message).toBe('null')
  })

  it('renders the cause chain into the detail', () => {
    const detail = errorDetail(new Error('outer', { cause: new Error('inner') }))
    expect(detail).toMatch(/Error: outer[\s\S]*Caused by: Error: inner/)
  })
})
