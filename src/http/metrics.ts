/**
 * GET /metrics in Prometheus' text format: the build (rollcall_build_info), the
 * process (prom-client's default metrics) and HTTP requests by route pattern and
 * status. Labels carry route patterns, never ids or names: no personal data, and
 * a bounded number of series. One registry per server, so several servers in one
 * process (tests, embedding) do not share counters.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { buildInfo } from '../build-info.js';

export function registerMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rollcall_' });
  const info = buildInfo();
  new Gauge({ name: 'rollcall_build_info', help: 'Always 1; the labels say which build runs.', labelNames: ['version', 'commit', 'node'], registers: [registry] })
    .labels(info.version, info.commit ?? 'unknown', info.node)
    .set(1);
  const requests = new Counter({
    name: 'rollcall_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'rollcall_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // Unmatched URLs share one label: a scanner must not grow the series without bound.
    const route = req.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    requests.labels(req.method, route, String(reply.statusCode)).inc();
    duration.labels(req.method, route).observe(reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}
