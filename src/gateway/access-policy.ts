/**
 * Who may reach what, decided in one step before a request is read: its Host, Origin and fetch
 * metadata (the shared OriginPolicy: DNS rebinding and cross-site protection), the CORS answers
 * for browser-based MCP clients on allowed origins, the consumer key of a secured namespace, and
 * the key's allow-list. Loopback origins are allowed, so that local MCP clients (the MCP
 * Inspector's web UI) keep working.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OriginPolicy } from '../lib/origin-policy.js';
import { hashConsumerKey } from '../model/consumer-key.js';
import { GatewayError } from './errors.js';
import type { McpRoute } from './mcp/route.js';
import { parseMcpRoute } from './mcp/route.js';
import type { CompiledConsumer, CompiledServer, GatewaySnapshot } from './snapshot.js';
import type { BeforeExecute, TokenAccess } from './auth/token-access.js';

/** What browsers may read of an answer besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After';
const ALLOWED_METHODS = 'GET, POST, DELETE';
/** The request headers of MCP clients, allowed when a preflight names none we can echo. */
const ALLOWED_HEADERS = 'Content-Type, Accept, Authorization, X-API-Key, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
/** Verdicts kept per Host header value (requests without Origin or fetch metadata depend on it alone). */
const HOST_CACHE_SIZE = 256;

/** Options of the gateway's access policy. */
export interface AccessPolicyOptions {
  /** The address the gateway listens on. */
  bindHost: string;
  allowedHosts?: readonly string[] | undefined;
  allowedOrigins?: readonly string[] | undefined;
  /** Observes each request refused by `allowedHosts` or `allowedOrigins`, named as its option (for metrics). */
  onLimit?: ((limit: string) => void) | undefined;
  /** OAuth access tokens, rate limits and token exchange of endpoints that configure them. */
  tokenAccess?: TokenAccess | undefined;
}

/** An MCP request let in: where it goes, and as which consumer (null in an open namespace). */
export interface Admission {
  route: McpRoute;
  server: CompiledServer;
  consumer: CompiledConsumer | null;
  /** Rate limits and backend credentials before a tool runs, at endpoints that configure them. */
  beforeExecute?: BeforeExecute | undefined;
  /** For an OAuth token's principal: the 403 step-up answer for a tool of the server its scopes do not grant. */
  scopeChallenge?: ((tool: string) => GatewayError | undefined) | undefined;
}

/** Whether a consumer may use a server (and, with `tool`, that tool). */
export function allows(consumer: CompiledConsumer | null, server: string, tool?: string): boolean {
  if (!consumer || consumer.allow === null) return true;
  const tools = consumer.allow.get(server);
  if (tools === null) return true;
  return tools !== undefined && tool !== undefined && tools.has(tool);
}

/** Whether a consumer may use at least something of a server. */
export function allowsAny(consumer: CompiledConsumer | null, server: string): boolean {
  return !consumer || consumer.allow === null || consumer.allow.has(server);
}

/** The gateway's access rules: Host/Origin, CORS, consumer keys and allow-lists. */
export class AccessPolicy {
  private readonly policy: OriginPolicy;
  private readonly byHost = new Map<string, GatewayError | null>();
  /** When each consumer key was last let in (epoch ms), since the last take: at most one entry per key. */
  private readonly consumerUses = new Map<string, number>();

  constructor(private readonly opts: AccessPolicyOptions) {
    this.policy = new OriginPolicy({ bindHost: opts.bindHost, allowedHosts: opts.allowedHosts ?? [], allowedOrigins: opts.allowedOrigins ?? [], allowLoopbackOrigins: true });
  }

  /**
   * The access step of an MCP request (`path`: the part after `/mcp/`), in this order: Host and
   * Origin (403), a CORS preflight (answered here: null), the route (404), the consumer key of a
   * secured namespace (401), the server (404), the key's allow-list (403). Throws GatewayError
   * (or rejects, when the answer is a promise).
   *
   * Synchronous unless an OAuth token has to be verified: a key, an open namespace or a token in
   * the verifier's cache costs no promise (nor its async hooks) per call.
   */
  admit(req: IncomingMessage, res: ServerResponse, snapshot: GatewaySnapshot, path: string): Admission | null | Promise<Admission> {
    const refused = this.check(req);
    if (refused) throw refused;
    if (this.cors(req, res)) return null;
    const route = parseMcpRoute(path);
    const found = snapshot.servers.get(route.key);
    const tokens = this.opts.tokenAccess;
    // Endpoints with MCP authorization settings: an OAuth token (or a key, when accepted) and the settings' rate limits.
    const who = found?.access && tokens
      ? tokens.authenticate(req, found, snapshot.securedNamespaces.has(route.namespace), () => this.authenticate(req, snapshot, route.namespace))
      : this.authenticate(req, snapshot, route.namespace);
    return who instanceof Promise ? who.then((consumer) => this.admitted(req, route, found, consumer)) : this.admitted(req, route, found, who);
  }

  /** The rest of `admit` once the consumer is known: the server (404) and the key's allow-list (403). */
  private admitted(req: IncomingMessage, route: McpRoute, server: CompiledServer | undefined, consumer: CompiledConsumer | null): Admission {
    const tokens = this.opts.tokenAccess;
    if (!server) throw new GatewayError('ROUTE_NOT_FOUND', `no MCP server '${route.name}' in namespace '${route.namespace}'`);
    if (!allowsAny(consumer, server.name)) throw new GatewayError('FORBIDDEN', `this key may not use MCP server '${server.name}'`);
    const beforeExecute: BeforeExecute | undefined = tokens && server.access ? (tool, headers, address) => tokens.beforeCall(server, consumer, address, tool, headers) : undefined;
    const scopeChallenge = tokens && server.access?.tokens && consumer ? (tool: string) => tokens.scopeChallenge(req, server, consumer, tool) : undefined;
    // A plain literal (conditional spreads of small objects take V8's slow object-building path per request).
    return { route, server, consumer, beforeExecute, scopeChallenge };
  }

  /** The consumer keys let in since the last call, with when (reported to the registry: the console's "last used"). */
  takeConsumerUses(): { id: string; at: number }[] {
    const uses = [...this.consumerUses].map(([id, at]) => ({ id, at }));
    this.consumerUses.clear();
    return uses;
  }

  /** The consumer behind the request's key; null in a namespace without keys (open). */
  private authenticate(req: IncomingMessage, snapshot: GatewaySnapshot, namespace: string): CompiledConsumer | null {
    if (!snapshot.securedNamespaces.has(namespace)) return null;
    const auth = firstHeader(req, 'authorization');
    const key = firstHeader(req, 'x-api-key') ?? (auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined);
    const challenge = { 'www-authenticate': 'Bearer realm="mcpgate", error="invalid_token"' };
    if (!key) throw new GatewayError('UNAUTHORIZED', 'this namespace needs an API key: send Authorization: Bearer <key> or X-API-Key', undefined, { 'www-authenticate': 'Bearer realm="mcpgate"' });
    const consumer = snapshot.consumersByHash.get(hashConsumerKey(key));
    if (!consumer || consumer.namespace !== namespace) throw new GatewayError('UNAUTHORIZED', 'the API key is not valid for this namespace', undefined, challenge);
    this.consumerUses.set(consumer.id, Date.now());
    return consumer;
  }

  /** Why a request (to any path: probes and metrics too) may not go on (FORBIDDEN_HOST, FORBIDDEN_ORIGIN), or undefined. */
  check(req: IncomingMessage): GatewayError | undefined {
    const verdict = this.verdict(req);
    if (verdict) this.opts.onLimit?.(verdict.code === 'FORBIDDEN_HOST' ? 'allowedHosts' : 'allowedOrigins');
    return verdict;
  }

  private verdict(req: IncomingMessage): GatewayError | undefined {
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
  private cors(req: IncomingMessage, res: ServerResponse): boolean {
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

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
