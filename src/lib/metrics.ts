import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/** One Prometheus registry per process role, with the process metrics and HTTP metrics. */
export function createMetrics(role: string, registry: Registry = new Registry()): { registry: Registry; observe(app: FastifyInstance): void } {
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'mcpgate_http_requests_total', help: 'HTTP requests answered, by route and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [registry],
  });
  const duration = new Histogram({
    name: 'mcpgate_http_request_duration_seconds', help: 'HTTP request duration, by route.',
    labelNames: ['method', 'route'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry],
  });
  return {
    registry,
    observe(app) {
      // A callback hook: an async one costs a promise and a turn of the microtask queue on every request.
      app.addHook('onResponse', (req, reply, done) => {
        const route = req.routeOptions.url ?? 'unmatched';
        requests.inc({ method: req.method, route, status: String(reply.statusCode) });
        duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
        done();
      });
      app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) => {
        reply.header('content-type', registry.contentType);
        return registry.metrics();
      });
    },
  };
}
