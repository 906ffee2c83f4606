// The response cache's rules with a change feed driven by the test (the integration test,
// response-cache.int.test.ts, drives it with PostgreSQL's notifications).
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { type ChangeFeed, createResponseCache } from './response-cache.ts'

function feed() {
  const calls = { change: () => {}, listen: () => {}, stops: 0, starts: 0 }
  const changeFeed: ChangeFeed = async (onChange, onListen) => {
    calls.starts++
    calls.change = onChange
    calls.listen = onListen
    onListen()
    return async () => {
      calls.stops++
    }
  }
  return { changeFeed, calls }
}

const page = (body: string) => ({ body, headers: { 'Content-Type': 'application/json' } })

async function counts(registry: Registry) {
  const metric = await registry.getSingleMetric('history_api_response_cache_total')!.get()
  return Object.fromEntries(metric.values.map((v) => [v.labels.result, v.value]))
}

describe('response cache', () => {
  it('reads once and answers from memory until a change arrives', async () => {
    const { changeFeed, calls } = feed()
    const registry = new Registry()
    const cache = createResponseCache(changeFeed, { maxBytes: 1 << 20, registry })
    await cache.ready
    let reads = 0
    const read = async () => page(`v${++reads}`)
    expect((await cache.get('k', read)).body).toBe('v1')
    expect((await cache.get('k', read)).body).toBe('v1')
    expect((await cache.get('other', read)).body).toBe('v2')
    calls.change()
    expect((await cache.get('k', read)).body).toBe('v3')
    expect(await counts(registry)).toEqual({ read: 3, hit: 1 })
    await cache.close()
    expect(calls.stops).toBe(1)
  })

  it('does not keep what was read while a change arrived, and a later request does not join that read', async () => {
    const { changeFeed, calls } = feed()
    const cache = createResponseCache(changeFeed, { maxBytes: 1 << 20 })
    await cache.ready
    const gate = Promise.withResolvers<void>()
    const before = cache.get('k', async () => {
      await gate.promise
      return page('before the change')
    })
    const joined = cache.get('k', async () => page('never read: joins the first'))
    calls.change()
    const after = cache.get('k', async () => page('after the change'))
    gate.resolve()
    expect((await before).body).toBe('before the change')
    expect((await joined).body).toBe('before the change')
    expect((await after).body).toBe('after the change')
    expect((await cache.get('k', async () => page('read again'))).body).toBe('after the change')
    await cache.close()
  })

  it('keeps only responses: a refusal or a missing execution is read each time', async () => {
    const { changeFeed } = feed()
    const cache = createResponseCache(changeFeed, { maxBytes: 1 << 20 })
    await cache.ready
    let reads = 0
    const missing = async () => {
      reads++
      return undefined
    }
    await cache.get('k', missing)
    await cache.get('k', missing)
    expect(reads).toBe(2)
    await cache.close()
  })

  it('reads through until listening, and drops everything when listening starts again', async () => {
    const { changeFeed, calls } = feed()
    let listen = () => {}
    const delayed: ChangeFeed = async (onChange, onListen) => {
      listen = onListen
      return changeFeed(onChange, () => {})
    }
    const cache = createResponseCache(delayed, { maxBytes: 1 << 20 })
    let reads = 0
    const read = async () => page(`v${++reads}`)
    await cache.get('k', read)
    await cache.get('k', read)
    expect(reads).toBe(2)
    listen()
    await cache.get('k', read)
    await cache.get('k', read)
    expect(reads).toBe(3)
    listen() // a reconnection: notifications may have been missed meanwhile
    expect((await cache.get('k', read)).body).toBe('v4')
    expect(calls.starts).toBe(1)
    await cache.close()
  })

  it('tries LISTEN again when it fails', async () => {
    let attempts = 0
    const { changeFeed } = feed()
    const flaky: ChangeFeed = async (onChange, onListen) => {
      if (++attempts < 3) throw new Error('connection refused')
      return changeFeed(onChange, onListen)
    }
    const cache = createResponseCache(flaky, { maxBytes: 1 << 20, retryMs: 10 })
    await cache.ready
    expect(attempts).toBe(3)
    await cache.close()
  })

  it('re-reads a response older than maxAgeMs, and evicts beyond maxBytes', async () => {
    const { changeFeed } = feed()
    const cache = createResponseCache(changeFeed, { maxBytes: 4096, maxAgeMs: 40 })
    await cache.ready
    let reads = 0
    const read = async () => page(`v${++reads}`)
    await cache.get('k', read)
    await cache.get('k', read)
    expect(reads).toBe(1)
    await new Promise((r) => setTimeout(r, 60))
    await cache.get('k', read)
    expect(reads).toBe(2)
    const big = async () => page('x'.repeat(3000))
    await cache.get('big1', big)
    await cache.get('big2', big) // evicts big1 and k: 4096 bytes hold one
    await cache.get('k', read)
    expect(reads).toBe(3)
    await cache.close()
  })
})
