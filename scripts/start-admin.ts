// npm run start:admin — the admin panel's production server: adapter-node's request handler
// (admin/build/handler.js, built first when missing) in a server of ours, so that a taken port or
// a broken build is one line, not a stack trace, and the bound address is logged (ADMIN_PORT=0
// picks a free port). ADMIN_PORT (3000) and ADMIN_HOST or HOST (127.0.0.1) choose where it
// listens; HISTORY_API_URL is read by the panel itself at start-up.
//
// Where the browser reaches the panel decides SvelteKit's CSRF check: a form POST is refused
// (403 "Cross-site POST form submissions are forbidden") unless its Origin header equals the
// origin of the request URL, which adapter-node builds from a protocol and a host.
// - ORIGIN (the URL the browser uses, e.g. https://panel.example behind a TLS proxy): every
//   request's URL is built from it. adapter-node 6 no longer reads ORIGIN (SvelteKit 3 moved it
//   to the build-time kit.paths.origin); it is applied here at run time instead.
// - PROTOCOL_HEADER / HOST_HEADER (/ PORT_HEADER), adapter-node's own variables: the protocol
//   and host come from the proxy's headers, e.g. x-forwarded-proto and x-forwarded-host.
// - neither: plain http, on whatever host name the browser used (adapter-node would assume https).
// The protocol and host are passed in headers this server overwrites on every request, so no
// client can choose them.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void

const root = path.join(import.meta.dirname, '..')
const build = path.join(root, 'admin', 'build')
const env = process.env
const OWN_PROTO = 'x-fluxion-proto'
const OWN_HOST = 'x-fluxion-host'

function fail(message: string): never {
  process.stderr.write(`admin: ${message}\n`)
  process.exit(1)
}

function parseOrigin(value: string | undefined): URL | undefined {
  if (!value) return undefined
  const url = URL.parse(value)
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== value.replace(/\/$/, '')) {
    fail(`ORIGIN must be the panel's public origin, such as https://panel.example.com (got ${value})`)
  }
  return url
}

const port = Number(env.ADMIN_PORT || 3000)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`ADMIN_PORT must be a port number (got ${env.ADMIN_PORT})`)
const host = env.ADMIN_HOST || env.HOST || '127.0.0.1'
const origin = parseOrigin(env.ORIGIN)
// adapter-node reads these when its handler is imported, below.
if (origin) {
  env.PROTOCOL_HEADER = OWN_PROTO
  env.HOST_HEADER = OWN_HOST
  delete env.PORT_HEADER
} else if (!env.PROTOCOL_HEADER) {
  env.PROTOCOL_HEADER = OWN_PROTO
}
const plainHttp = env.PROTOCOL_HEADER === OWN_PROTO && !origin

if (!existsSync(path.join(build, 'handler.js'))) {
  console.log('admin: no build found, running `npm run build` first…')
  const result = spawnSync('npm', ['run', '-w', 'admin', 'build'], { cwd: root, stdio: 'inherit', env })
  if (result.status !== 0) fail('the build failed; see the output above.')
}

let handler: Handler
try {
  ;({ handler } = (await import(pathToFileURL(path.join(build, 'handler.js')).href)) as { handler: Handler })
} catch (error) {
  fail(`the panel in ${build} cannot start: ${(error as Error).message} (rebuild it with \`npm run build\`)`)
}

const server = createServer((req, res) => {
  if (origin) {
    req.headers[OWN_PROTO] = origin.protocol.slice(0, -1)
    req.headers[OWN_HOST] = origin.host
  } else if (plainHttp) {
    req.headers[OWN_PROTO] = 'http'
  }
  handler(req, res, () => {
    res.statusCode = 404
    res.end()
  })
})

server.on('error', (error: NodeJS.ErrnoException) => {
  const where = `${host}:${port}`
  if (error.code === 'EADDRINUSE') fail(`port ${port} is taken on ${host}: set ADMIN_PORT to a free port`)
  if (error.code === 'EACCES') fail(`not allowed to listen on ${where}: set ADMIN_PORT to a port above 1023`)
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    fail(`${host} is not an address of this machine: set ADMIN_HOST`)
  }
  fail(`cannot listen on ${where}: ${error.message}`)
})

server.listen(port, host, () => {
  const bound = (server.address() as AddressInfo).port
  console.log(
    `admin listening on http://${host.includes(':') ? `[${host}]` : host}:${bound}${origin ? ` (public origin ${origin.origin})` : ''}`,
  )
})

// Live-status streams never end by themselves: after SHUTDOWN_TIMEOUT seconds (3) they are cut.
let stopping = false
function shutdown() {
  if (stopping) return // npm forwards the signal and the terminal sends it too
  stopping = true
  server.closeIdleConnections()
  server.close(() => process.exit(0))
  setTimeout(() => server.closeAllConnections(), Number(env.SHUTDOWN_TIMEOUT || 3) * 1000).unref()
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
