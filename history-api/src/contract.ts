// openapi.yaml, the hand-written contract, as the API serves it (GET /openapi.json) and as it
// answers methods a path does not declare (405 with Allow). Read once, at first use.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

type Json = Record<string, unknown>

export const CONTRACT_URL = new URL('../../openapi.yaml', import.meta.url)

let contract: Json | undefined
export function loadContract(): Json {
  contract ??= parse(readFileSync(CONTRACT_URL, 'utf8')) as Json
  return contract
}

/** The contract word for word, but `servers` names where it was fetched from. */
export function servedDocument(origin: string): Json {
  const doc = loadContract()
  return { ...doc, servers: [{ url: origin, description: 'This history API (where this document was served)' }] }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
let templates: { re: RegExp; allow: string[] }[] | undefined

/**
 * The methods a concrete path answers, per the contract (GET implies HEAD), or null when the
 * contract has no such path.
 */
export function allowedMethods(pathname: string): string[] | null {
  templates ??= Object.entries(loadContract().paths as Json).map(([template, item]) => {
    const declared = Object.keys(item as Json).filter((m) => METHODS.includes(m))
    const allow = declared.map((m) => m.toUpperCase())
    if (declared.includes('get') && !declared.includes('head')) allow.push('HEAD')
    const pattern = template
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')
    return { re: new RegExp(`^${pattern}$`), allow }
  })
  return templates.find((t) => t.re.test(pathname))?.allow ?? null
}
