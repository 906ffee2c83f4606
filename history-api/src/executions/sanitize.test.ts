import { describe, expect, it } from 'vitest'
import { sanitizeStack, stripPaths } from './sanitize.ts'

// A real trace as the runner stores it: undici's connect timeout through the KLK source.
const TRACE = `TypeError: fetch failed
    at fetch (/work/app/node_modules/undici/index.js:120:13)
    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)
    at async fetchPage (/work/app/runner/src/sources/klk.ts:88:19)
    at async file:///work/app/runner/src/etl/run-tienda.ts:61:7
Caused by: ConnectTimeoutError: Connect Timeout Error (attempted address: 10.8.0.15:80, timeout: 10000ms)
    at onConnectTimeout (/work/app/node_modules/undici/lib/core/connect.js:237:24)
    at C:\\srv\\fluxion\\runner\\src\\x.ts:3:1
    at Timeout._onTimeout (/work/app/node_modules/undici/lib/util/timers.js:78:13)`

describe('sanitizeStack', () => {
  it('keeps messages, causes and frame names; drops server paths and internal frames', () => {
    expect(sanitizeStack(TRACE)).toBe(`TypeError: fetch failed
    … 2 internal frames omitted
    at async fetchPage (klk.ts:88)
    at async run-tienda.ts:61
Caused by: ConnectTimeoutError: Connect Timeout Error (attempted address: 10.8.0.15:80, timeout: 10000ms)
    … 1 internal frame omitted
    at x.ts:3
    … 1 internal frame omitted`)
  })

  it('leaves no absolute path behind', () => {
    expect(sanitizeStack(TRACE)).not.toMatch(/\/work\/|file:\/\/|C:\\\\|node_modules|node:internal/)
  })
})

describe('stripPaths', () => {
  it('shortens paths in messages but leaves URLs and addresses alone', () => {
    expect(stripPaths("ENOENT: no such file or directory, open '/etc/fluxion/klk.json'")).toBe(
      "ENOENT: no such file or directory, open 'klk.json'",
    )
    const url = 'GET http://10.8.0.15:80/api/ventas?desde=2026-01-25 answered 502'
    expect(stripPaths(url)).toBe(url)
    expect(stripPaths('Connection timeout after 90s to 10.8.0.15:80')).toBe(
      'Connection timeout after 90s to 10.8.0.15:80',
    )
  })
})
