// npm run start:admin — the admin panel's production server (SvelteKit adapter-node), built
// first when admin/build is missing. ADMIN_PORT (3000) and ADMIN_HOST or HOST (127.0.0.1)
// choose where it listens; HISTORY_API_URL is read by the panel itself at start-up.
//
// adapter-node assumes https when it cannot tell the protocol, so on plain http every form POST
// (login included) would fail SvelteKit's CSRF origin check. Unless ORIGIN or PROTOCOL_HEADER is
// configured (the deployment behind a TLS proxy), requests that carry no X-Forwarded-Proto are
// marked as http, which keeps the check strict for both 127.0.0.1 and localhost.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const root = path.join(import.meta.dirname, '..')
const buildIndex = path.join(root, 'admin', 'build', 'index.js')
const env = process.env

if (!existsSync(buildIndex)) {
  console.log('admin: no build found, running `npm run build` first…')
  const result = spawnSync('npm', ['run', '-w', 'admin', 'build'], { cwd: root, stdio: 'inherit', env })
  if (result.status !== 0) {
    console.error('admin: the build failed; see the output above.')
    process.exit(result.status ?? 1)
  }
}

env.PORT = env.ADMIN_PORT || '3000'
env.HOST = env.ADMIN_HOST || env.HOST || '127.0.0.1'
// Live-status streams never end by themselves; do not wait 30 s for them on Ctrl-C.
env.SHUTDOWN_TIMEOUT ||= '3'
const markPlainHttp = !env.ORIGIN && !env.PROTOCOL_HEADER
if (markPlainHttp) env.PROTOCOL_HEADER = 'x-forwarded-proto'

const { server }: { server: Server } = await import(pathToFileURL(buildIndex).href)
if (markPlainHttp) {
  server.prependListener('request', (req) => {
    req.headers['x-forwarded-proto'] ??= 'http'
  })
}
