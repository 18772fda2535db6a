/**
 * The gateway's OAuth step, in the shape the access step calls it: who the request is (a token's
 * principal, or the consumer key check the caller passes), the Protected Resource Metadata
 * documents, and what happens before a tool runs (rate limits; the backend's token by RFC 8693
 * exchange, and the agent's MCP token removed from what may be forwarded).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientHeaders } from '../../tools/executor.js';
import type { RateLimitRule, RateLimitSettings, TokenExchangeSettings } from '../../model/authorization.js';
import { CONSUMER_KEY_PREFIX } from '../../model/consumer-key.js';
import { GatewayError } from '../errors.js';
import type { CompiledConsumer, CompiledServer, GatewaySnapshot } from '../snapshot.js';
import { serverKey } from '../snapshot.js';
import type { RateLimiter } from '../rate-limit/types.js';
import { PRM_PREFIX, authenticateToken, protectedResourceMetadata, toolScopeChallenge } from './resource-server.js';
import type { ExchangedAuthorization, TokenExchanger } from './token-exchange.js';
import type { EndpointAccess, EndpointAuthorization } from './endpoint-settings.js';
import { cacheKey } from './token-verifier.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';
import { setBounded } from '../../lib/bounded-cache.js';

/** A token's principal: a consumer with the token it was made from. */
type TokenConsumer = CompiledConsumer & { token: VerifiedToken };

/**
 * What runs before a request reaches a backend (`TokenAccess.beforeCall` bound to an endpoint and
 * caller): for a tool call (`tool` given) the rate limits, then for every request the headers
 * the backend may see (the agent's MCP token removed, the exchanged token added). `tool`
 * undefined: another request to an upstream MCP server (tools/list, resources/read…), no rate
 * limit. Synchronous when nothing needs waiting for (no rate limit, exchanged token cached).
 */
export type BeforeExecute = (tool: string | undefined, headers: ClientHeaders, address: string | undefined) => ClientHeaders | Promise<ClientHeaders>;

/** Which limit refused a call. */
export type RateLimitName = 'perCaller' | 'perTool';

/** A call refused by a rate limit, as metrics count it. */
export interface RateLimitRefusal {
  limit: RateLimitName;
  /** `namespace/name` of the endpoint (a virtual server's own). */
  server: string;
  /** The tool as the agent named it. */
  tool: string;
  /** Who: `key` (a consumer key, `name` its name), `token` (an OAuth subject, `name` its stable hashed id), `anonymous` (open namespace). */
  kind: 'key' | 'token' | 'anonymous';
  name?: string;
}

/** Options of the OAuth step. */
export interface TokenAccessOptions {
  verifier: TokenVerifier;
  exchanger: TokenExchanger;
  limiter: RateLimiter;
  /** The gateway's origin as agents reach it (`https://mcp.example.com`); default the request's own (Host). */
  publicUrl?: string;
  /** Told of every call refused by a rate limit (metrics). */
  onLimited?: (refusal: RateLimitRefusal) => void;
  /** Told when the limiter fails (Redis down): the call is let through rather than refused. */
  onLimiterError?: (err: unknown) => void;
}

/**
 * What a token's principal carries besides itself (kept out of logs and snapshots): the agent's
 * raw access token, and its last cached exchange with the settings it was for. A principal is
 * made per verified token (src/gateway/auth/resource-server.ts), so its raw token never changes:
 * it is recorded once, and a call reads both with one look-up.
 */
interface TokenState {
  readonly raw: string;
  exchanged?: { settings: TokenExchangeSettings; entry: ExchangedAuthorization } | undefined;
}

/**
 * A token's last admission at an endpoint (`TokenAccess.authenticate`), by the exact
 * `Authorization` value it came in: the next request with the same value at the same endpoint
 * is the same principal without reading the token out of the header, looking it up in the
 * verifier's cache, and finding its principal (the per-request work the token adds, bench:auth).
 */
interface Admitted {
  /** The whole `Authorization` value (`Bearer <token>`), as the request had it. */
  readonly header: string;
  /**
   * The endpoint's compiled access settings: one object per server and snapshot (a new snapshot
   * compiles new ones), so the same object means the same endpoint and settings. Held rather than
   * the server, which would keep an old snapshot's tools alive while the admission is kept.
   */
  readonly access: EndpointAccess;
  readonly baseUrl: string;
  readonly consumer: CompiledConsumer;
  /** Epoch ms, the verifier's clock: no later than its cache entry and the token's expiry (with skew). */
  readonly until: number;
}

/** At most this many admissions are kept (as the verifier's cache: one a token, normally). */
const MAX_ADMISSIONS = 10_000;

const WHITE_SPACE = /\s/;

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case), without regular expressions over the token. */
export function bearerToken(auth: string | undefined): string | undefined {
  // `Bearer` then at least one white space character (`\s`, the set `trim` removes too).
  if (auth === undefined || auth.length < 8 || !WHITE_SPACE.test(auth[6]!) || auth.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const t = auth.slice(7).trim();
  return t === '' ? undefined : t;
}

/** OAuth resource server, rate limits and token exchange for the gateway's MCP endpoints. */
export class TokenAccess {
  /** The configured public URL without trailing slashes (made once). */
  private readonly publicUrl: string | undefined;

  /** The origin `baseUrl` last made for a Host, per scheme. */
  private lastHttp: { host: string; url: string } | undefined;
  private lastHttps: { host: string; url: string } | undefined;

  /** Each token principal's raw token and cached exchange (this gateway's: its exchanger's entries). */
  private readonly tokenStates = new WeakMap<CompiledConsumer, TokenState>();

  /** Tokens' last admissions, by `cacheKey` of their `Authorization` value (see `Admitted`). */
  private readonly admissions = new Map<number, Admitted>();

  constructor(private readonly o: TokenAccessOptions) {
    this.publicUrl = o.publicUrl ? o.publicUrl.replace(/\/+$/, '') : undefined;
  }

  /** The origin resource URIs and metadata URLs are made of, for this request. */
  baseUrl(req: IncomingMessage): string {
    if (this.publicUrl !== undefined) return this.publicUrl;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    const host = req.headers.host ?? 'localhost';
    // The last origin made is reused while requests name the same Host (the common case): the
    // endpoint checks remembered per principal then compare one string with itself.
    const last = encrypted ? this.lastHttps : this.lastHttp;
    if (last !== undefined && last.host === host) return last.url;
    const made = { host, url: `${encrypted ? 'https' : 'http'}://${host}` };
    if (encrypted) this.lastHttps = made;
    else this.lastHttp = made;
    return made.url;
  }

  /**
   * Who the request is at `server`: for an endpoint that takes tokens, the token's principal
   * (or, when a consumer key is given and accepted, `byKey()`); for others, `byKey()`. Throws
   * the 401/403 GatewayErrors with their challenges. Synchronous (no promise, no await) when the
   * token is in the verifier's cache: the per-call cost of a token is then a few look-ups.
   */
  authenticate(req: IncomingMessage, server: CompiledServer, keysExist: boolean, byKey: () => CompiledConsumer | null): CompiledConsumer | null | Promise<CompiledConsumer | null> {
    const tokens = server.access?.tokens;
    if (!tokens) return byKey();
    const header = req.headers.authorization;
    const keys = tokens.acceptConsumerKeys && keysExist;
    if (keys && req.headers['x-api-key'] !== undefined) return byKey();
    // The same `Authorization` value admitted here before, and still within its time: the same
    // principal (the audience, scope and grant checks are the same for the same token, settings
    // and endpoint; the value is compared whole, never by its key alone).
    if (header !== undefined) {
      const hit = this.admissions.get(cacheKey(header));
      if (hit !== undefined && hit.header === header && hit.access === server.access && hit.until > this.o.verifier.now() && hit.baseUrl === this.baseUrl(req)) return hit.consumer;
    }
    const bearer = bearerToken(header);
    if (keys && bearer?.startsWith(CONSUMER_KEY_PREFIX)) return byKey();
    const baseUrl = this.baseUrl(req);
    const consumer = authenticateToken(this.o.verifier, tokens, { namespace: server.namespace, server: server.name, baseUrl }, bearer);
    if (consumer instanceof Promise) return consumer.then((c) => this.recordToken(c, bearer!));
    this.recordToken(consumer, bearer!);
    this.admitted(header!, bearer!, server, tokens, baseUrl, consumer);
    return consumer;
  }

  /** Remembers a token admitted from the verifier's cache (see `Admitted`), for as long as the verifier would answer the same. */
  private admitted(header: string, bearer: string, server: CompiledServer, tokens: EndpointAuthorization, baseUrl: string, consumer: CompiledConsumer): void {
    // A token that looks like a consumer key is taken as a key wherever keys are accepted: never kept here.
    if (bearer.startsWith(CONSUMER_KEY_PREFIX)) return;
    const verifier = this.o.verifier;
    const until = verifier.cachedUntil(bearer, tokens.issuers, tokens.clockSkewSeconds);
    if (until === 0) return;
    setBounded(this.admissions, cacheKey(header), { header, access: server.access!, baseUrl, consumer, until }, MAX_ADMISSIONS, verifier.now());
  }

  /** Records the raw token of a principal, once: a principal stands for one verified token, whose cache entry holds it. */
  private recordToken(consumer: CompiledConsumer, raw: string): CompiledConsumer {
    if (!this.tokenStates.has(consumer)) this.tokenStates.set(consumer, { raw });
    return consumer;
  }

  /**
   * Answers a request for an endpoint's Protected Resource Metadata (RFC 9728: `GET
   * /.well-known/oauth-protected-resource/mcp/{namespace}/{server}`); false when `pathname` is not one.
   */
  serveMetadata(req: IncomingMessage, res: ServerResponse, pathname: string, snapshot: GatewaySnapshot): boolean {
    if (!pathname.startsWith(`${PRM_PREFIX}/mcp/`)) return false;
    const parts = pathname.slice(PRM_PREFIX.length + 5).split('/').filter(Boolean).map((p) => {
      try { return decodeURIComponent(p); } catch { return p; }
    });
    const [namespace, ...rest] = parts;
    const server = namespace && rest.length > 0 ? snapshot.servers.get(serverKey(namespace, rest.join('/'))) : undefined;
    const headers = { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' });
      res.end(JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'Method not allowed.' } }));
      return true;
    }
    if (!server?.access?.tokens) {
      res.writeHead(404, headers);
      res.end(JSON.stringify({ error: { code: 'ROUTE_NOT_FOUND', message: 'no MCP endpoint with OAuth authorization at that path' } }));
      return true;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(protectedResourceMetadata(server.access.tokens, this.baseUrl(req), server.namespace, server.name)));
    return true;
  }

  /**
   * The 403 `insufficient_scope` answer for a tool of `server` that exists but that the token's
   * scopes do not grant (the client re-authorizes with the scope it names); undefined for consumer keys.
   */
  scopeChallenge(req: IncomingMessage, server: CompiledServer, consumer: CompiledConsumer | null, tool: string): GatewayError | undefined {
    const tokens = server.access?.tokens;
    if (!tokens || !isTokenConsumer(consumer)) return undefined;
    return toolScopeChallenge(tokens, { namespace: server.namespace, server: server.name, baseUrl: this.baseUrl(req) }, consumer.token, tool);
  }

  /**
   * Before `tool` of `server` runs for `consumer` (null: an open namespace, keyed by `address`):
   * the rate limits (RATE_LIMITED, with Retry-After), then the headers the backend may read (see
   * `backendHeaders`). `tool` undefined: a request to an upstream MCP server that is no tool
   * call, without rate limits.
   */
  beforeCall(server: CompiledServer, consumer: CompiledConsumer | null, address: string | undefined, tool: string | undefined, headers: ClientHeaders): ClientHeaders | Promise<ClientHeaders> {
    const limits = server.access?.rateLimits;
    if (!limits || tool === undefined) return this.backendHeaders(server, consumer, headers);
    return this.limit(server, limits, consumer, address, tool).then(() => this.backendHeaders(server, consumer, headers));
  }

  private async limit(server: CompiledServer, limits: RateLimitSettings, consumer: CompiledConsumer | null, address: string | undefined, tool: string): Promise<void> {
    const caller = consumer?.id ?? `addr:${address ?? 'unknown'}`;
    const toolRule = limits.tools?.[tool] ?? limits.perTool;
    if (limits.perCaller) await this.take('perCaller', `${server.namespace}\n${caller}`, limits.perCaller, server, consumer, caller, tool);
    if (toolRule) await this.take('perTool', `${server.key}\n${tool}\n${caller}`, toolRule, server, consumer, caller, tool);
  }

  /**
   * The headers a backend may read for `consumer`: for a token's principal, without the agent's
   * token, and with the exchanged backend token as `Authorization: Bearer` when the server
   * exchanges tokens (synchronous when the exchanged token is cached: one look-up, one copy).
   */
  backendHeaders(server: CompiledServer, consumer: CompiledConsumer | null, headers: ClientHeaders): ClientHeaders | Promise<ClientHeaders> {
    const state = consumer ? this.tokenStates.get(consumer) : undefined;
    if (state === undefined) return headers;
    const exchange = server.access?.tokenExchange;
    // The agent's token is never forwarded: the copy holds `authorization: undefined` (a header
    // not sent, as ClientHeaders allows) rather than leaving the key out, since `{ ...h, k: v }`
    // clones the headers object on V8's fast path and a rest pattern omitting a key (`{ k, ...rest }`)
    // takes a runtime call, about 400 ns a call (bench/auth/auth-step.bench.ts).
    if (!exchange) return { ...headers, authorization: undefined };
    // The agent's token is replaced (never forwarded): one copy of the headers with the backend's.
    const cached = this.exchangedAuthorization(consumer!, state, exchange);
    if (cached !== undefined) return { ...headers, authorization: cached };
    return this.o.exchanger.authorization(consumer!.id, state.raw, exchange).then((authorization) => ({ ...headers, authorization }));
  }

  /**
   * The cached exchanged token's `Authorization` value for a principal: kept with the principal
   * (a look-up by object) while fresh, so that a call does not build and hash the exchanger's
   * string key (endpoint, client, audience, subject) each time; an entry past its time is
   * never used (`fresh`, read on every call).
   */
  private exchangedAuthorization(consumer: CompiledConsumer, state: TokenState, exchange: TokenExchangeSettings): string | undefined {
    const exchanger = this.o.exchanger;
    const kept = state.exchanged;
    if (kept !== undefined && kept.settings === exchange && exchanger.fresh(kept.entry)) return kept.entry.authorization;
    const entry = exchanger.cachedEntry(consumer.id, exchange);
    if (entry === undefined) return undefined;
    state.exchanged = { settings: exchange, entry };
    return entry.authorization;
  }

  private async take(limit: RateLimitName, key: string, rule: RateLimitRule, server: CompiledServer, consumer: CompiledConsumer | null, caller: string, tool: string): Promise<void> {
    let verdict;
    try {
      verdict = await this.o.limiter.take(key, rule);
    } catch (err) {
      this.o.onLimiterError?.(err);
      return;
    }
    if (verdict.allowed) return;
    this.o.onLimited?.({ limit, server: server.key, tool, ...(consumer ? (isTokenConsumer(consumer) ? { kind: 'token', name: consumer.id } : { kind: 'key', name: consumer.name }) : { kind: 'anonymous' }) });
    const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    throw new GatewayError('RATE_LIMITED', `Too Many Requests: over the ${limit} rate limit (${rule.ratePerSecond}/s, burst ${rule.burst}); retry in ${seconds} s`,
      { limit, retryAfterSeconds: seconds, caller: consumer ? undefined : caller }, { 'retry-after': String(seconds) });
  }
}

/** Whether a consumer is a token's principal. */
export function isTokenConsumer(c: CompiledConsumer | null): c is TokenConsumer {
  return c !== null && 'token' in c;
}
