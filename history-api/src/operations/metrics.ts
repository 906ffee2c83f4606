// Prometheus metrics (prom-client): request counts and latency histograms by route template,
// method and status, plus the process's default metrics. One registry per app instance.
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

export type Metrics = { registry: Registry; middleware: MiddlewareHandler }

/** `/api/etl/history/:id` → `/api/etl/history/{id}`; requests no route answered share one label. */
function routeLabel(path: string) {
  if (!path || path.endsWith('*')) return 'unmatched'
  return path.replaceAll(/:([A-Za-z0-9_]+)/g, '{$1}')
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry })
  const labelNames = ['method', 'route', 'status'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status (until the response headers)',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const middleware: MiddlewareHandler = async (c, next) => {
    const start = performance.now()
    try {
      await next()
    } finally {
      const labels = { method: c.req.method, route: routeLabel(routePath(c, -1)), status: String(c.res.status) }
      requests.inc(labels)
      duration.observe(labels, (performance.now() - start) / 1000)
    }
  }
  return { registry, middleware }
}
