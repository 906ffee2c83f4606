// An alert webhook receiver: node:http on an ephemeral loopback port that records every post (raw
// body, path, headers, when) and answers each as `answer` says — a status, or null to never answer
// (a receiver that stalls).
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export type WebhookPost = { at: number; path: string; headers: IncomingHttpHeaders; body: string }

export type WebhookReceiver = { url: string; posts: WebhookPost[]; close: () => Promise<void> }

/** `answer(post, n)`: the status for the n-th post (1-based), or null to leave it hanging. */
export async function startWebhookReceiver(o: {
  path: string
  answer: (post: WebhookPost, n: number) => number | null
}): Promise<WebhookReceiver> {
  const posts: WebhookPost[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      const post = { at: Date.now(), path: req.url ?? '', headers: req.headers, body }
      posts.push(post)
      const status = o.answer(post, posts.length)
      if (status !== null) res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.path}`,
    posts,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
