import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { OriginPolicy } from '../../lib/origin-policy.js';

/** Probes and scrapers send no browser headers and may name the pod by any address: the Host rule spares them. */
const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Refuse, before anything else runs and before a body is read, requests from another site
 * (`FORBIDDEN_ORIGIN`) and requests addressed to a host name the registry does not answer to
 * (`FORBIDDEN_HOST`, DNS rebinding), on every route: the APIs, the console and its files, and
 * unknown paths. `/healthz`, `/readyz` and `/metrics` without browser headers are let through
 * (they change nothing, and probes address the pod as they like); from a browser they obey the
 * same rules. `exempt` names requests that read public data with no credential (the public MCP
 * Registry API), which any site may read.
 */
export function registerOriginGuard(app: FastifyInstance, policy: OriginPolicy, exempt?: (req: FastifyRequest) => boolean): void {
  // A callback hook: an async one costs a promise and a turn of the microtask queue on every request.
  app.addHook('onRequest', (req, _reply, done) => {
    if (exempt?.(req)) return done();
    const origin = header(req, 'origin');
    const secFetchSite = header(req, 'sec-fetch-site');
    if (origin === undefined && secFetchSite === undefined && PROBES.has(req.routeOptions.url ?? '')) return done();
    const refusal = policy.check({ method: req.method, host: header(req, 'host'), origin, secFetchSite, secFetchMode: header(req, 'sec-fetch-mode') });
    done(refusal ? new AppError(refusal.kind === 'host' ? 'FORBIDDEN_HOST' : 'FORBIDDEN_ORIGIN', refusal.message) : undefined);
  });
}
