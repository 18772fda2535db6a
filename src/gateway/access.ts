/**
 * Which requests reach the gateway by their Host, Origin and fetch metadata (the shared
 * OriginPolicy: DNS rebinding and cross-site protection), and the CORS answers for browser-based
 * MCP clients on allowed origins. Loopback origins are allowed, so that local MCP clients (the
 * MCP Inspector's web UI) keep working.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OriginPolicy } from '../lib/origin-policy.js';
import { GatewayError } from './errors.js';

/** What browsers may read of an answer besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After';
const ALLOWED_METHODS = 'GET, POST, DELETE';
/** The request headers of MCP clients, allowed when a preflight names none we can echo. */
const ALLOWED_HEADERS = 'Content-Type, Accept, Authorization, X-API-Key, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
/** Verdicts kept per Host header value (requests without Origin or fetch metadata depend on it alone). */
const HOST_CACHE_SIZE = 256;

/** Options of the gateway's access rules. */
export interface GatewayAccessOptions {
  /** The address the gateway listens on. */
  bindHost: string;
  allowedHosts?: readonly string[] | undefined;
  allowedOrigins?: readonly string[] | undefined;
}

/** The gateway's Host/Origin rules and its CORS answers. */
export class GatewayAccess {
  private readonly policy: OriginPolicy;
  private readonly byHost = new Map<string, GatewayError | null>();

  constructor(opts: GatewayAccessOptions) {
    this.policy = new OriginPolicy({ bindHost: opts.bindHost, allowedHosts: opts.allowedHosts ?? [], allowedOrigins: opts.allowedOrigins ?? [], allowLoopbackOrigins: true });
  }

  /** Why the request may not go on (FORBIDDEN_HOST, FORBIDDEN_ORIGIN), or undefined. */
  check(req: IncomingMessage): GatewayError | undefined {
    const h = req.headers;
    const origin = h.origin;
    const site = h['sec-fetch-site'] as string | undefined;
    const mode = h['sec-fetch-mode'] as string | undefined;
    if (origin === undefined && site === undefined && mode === undefined) {
      const host = h.host ?? '';
      let verdict = this.byHost.get(host);
      if (verdict === undefined) {
        verdict = this.refusal(req.method, h.host, undefined, undefined, undefined) ?? null;
        if (this.byHost.size >= HOST_CACHE_SIZE) this.byHost.clear();
        this.byHost.set(host, verdict);
      }
      return verdict ?? undefined;
    }
    return this.refusal(req.method, h.host, origin, site, mode);
  }

  private refusal(method: string | undefined, host: string | undefined, origin: string | undefined, secFetchSite: string | undefined, secFetchMode: string | undefined): GatewayError | undefined {
    const r = this.policy.check({ method, host, origin, secFetchSite, secFetchMode });
    if (!r) return undefined;
    return r.kind === 'host' ? new GatewayError('FORBIDDEN_HOST', `Forbidden: ${r.message}`) : new GatewayError('FORBIDDEN_ORIGIN', r.message);
  }

  /**
   * CORS for a request that passed `check`: from a page of an allowed origin, the answer gets
   * `Access-Control-Allow-Origin` and the exposed headers, and a preflight is answered here (true).
   * Other requests get nothing.
   */
  cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || !this.policy.allowsCrossOrigin(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      return false;
    }
    const asked = req.headers['access-control-request-headers'];
    res.writeHead(204, {
      'access-control-allow-methods': ALLOWED_METHODS,
      // The headers a page asks for are echoed (a server's passthrough may name any), when well formed.
      'access-control-allow-headers': asked !== undefined && HEADER_LIST.test(asked.trim()) ? asked.trim() : ALLOWED_HEADERS,
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'content-length': '0',
    });
    res.end();
    return true;
  }
}
