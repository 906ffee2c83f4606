import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { API_NODE_FLAGS } from './node-flags.ts'

const scripts = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).scripts

describe('the history API process flags', () => {
  it.each(['start:api', 'bench:api'])('npm run %s runs node with them', (name) => {
    expect(scripts[name]).toMatch(new RegExp(`\\bnode ${API_NODE_FLAGS.join(' ')} `))
  })
})
