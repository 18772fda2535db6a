import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server as HttpServer, ServerOptions, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server as HttpsServer } from 'node:https';
import { Agent } from 'undici';
import type { Logger } from '../lib/logger.js';
import type { Registry } from 'prom-client';
import { loadTls, watchTls } from '../lib/tls.js';
import type { TlsFiles } from '../lib/tls.js';
import { REQUEST_ID_HEADER, holdRequestScopes, requestIdFrom, runWithRequestId } from '../lib/request-context.js';
import { AccessPolicy } from './access-policy.js';
import { ArgumentHostGuard, OwnEndpoints, guardedLookup } from '../tools/address-guard.js';
import type { GatewayLimits } from './limits.js';
import { withDefaults } from './limits.js';
import { plainError, plainJson } from './mcp/answers.js';
import { McpHandler } from './mcp/handler.js';
import type { EventStore, MessageBus, SessionStore } from './sessions/types.js';
import { upstreamSessionsOf } from './sessions/types.js';
import { MemoryEventStore, MemoryMessageBus, MemorySessionStore } from './sessions/memory.js';
import { Counter } from 'prom-client';
import { EMPTY_SNAPSHOT, SnapshotCompiler } from './snapshot.js';
import type { CompiledServer, GatewaySnapshot } from './snapshot.js';
import { VirtualCompiler } from './virtual/compile.js';
import { GatewayMetrics, UNLISTED_TOOL } from './metrics.js';
import type { ActivityRecorder } from './activity.js';
import type { RequestObservation } from './mcp/eras/era.js';
import { AccessLog } from './access-log.js';
import type { AccessLogMode } from './access-log.js';
import { reapAndRecordChildren } from '../tools/mcp/stdio.js';
import type { ConfigSource } from './sources/config-source.js';
import type { AuthorizationSettings } from '../model/authorization.js';
import { TokenAccess } from './auth/token-access.js';
import { TokenExchanger } from './auth/token-exchange.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { MemoryRateLimiter } from './rate-limit/memory.js';
import type { RateLimiter } from './rate-limit/types.js';

/** Options of a gateway. */
export interface GatewayOptions {
  host: string;
  port: number;
  source: ConfigSource;
  logger: Logger;
  /** Shared state; in memory when omitted (one process). */
  sessions?: SessionStore;
  bus?: MessageBus;
  events?: EventStore;
  /** Browser origins allowed besides the gateway's own and loopback ones (CORS too). */
  allowedOrigins?: readonly string[];
  /** Host names requests may be addressed to besides the bound address (DNS rebinding protection). */
  allowedHosts?: readonly string[];
  sessionIdleMs?: number;
  /** Bounds on sessions, batches, JSON, timeouts and slow clients (src/gateway/limits.ts); defaults for those omitted. */
  limits?: Partial<GatewayLimits>;
  /** How often open streams get a keep-alive comment and their sessions a refresh; default 15 s. */
  streamKeepAliveMs?: number;
  /** Extra readiness check (e.g. the registry source is connected or serving a cached snapshot). */
  ready?: () => boolean;
  /**
   * Readiness checks besides "a snapshot is served" (`registry`: a registry answered recently;
   * `redis`: the session store is up), by name: `/readyz` answers 503 while one is false, and
   * lists them.
   */
  readiness?: () => Record<string, boolean>;
  /**
   * URLs of this gateway's registry (in process or followed): hosts that tool arguments choose
   * may never be these endpoints, nor the gateway's own port.
   */
  ownUrls?: readonly string[];
  /**
   * File recording the stdio children of upstream MCP servers (`<dataDir>/stdio-children.json`),
   * so that a gateway restarted after a crash ends those the crash left behind.
   */
  stdioRecordFile?: string;
  /** The gateway's origin as agents reach it (`https://mcp.example.com`): OAuth resource URIs and metadata URLs; default each request's Host. */
  publicUrl?: string;
  /** MCP authorization settings per namespace (OAuth resource server, rate limits), under the registry's and the servers' own. */
  namespaceAuthorization?: Readonly<Record<string, AuthorizationSettings>>;
  /** Rate-limit buckets; in memory when omitted (Redis to share them between replicas). */
  rateLimiter?: RateLimiter;
  /** The per-request log line (`mcp request`): every request, failed ones only, or none; default all. */
  accessLog?: AccessLogMode;
  /** Share of successful requests logged, 0..1 (failed ones always are); default 1. */
  accessLogSampleRatio?: number;
  /**
   * What `/metrics` answers instead of this process's own registry: in a worker of `gateway
   * --workers N`, every worker's metrics gathered by the primary (src/cli/workers.ts).
   */
  metricsGatherer?: (own: Registry) => (() => Promise<string>) | undefined;
  /** Serve HTTPS with this certificate and key, reloaded when the files change; plain HTTP when omitted. */
  tls?: TlsFiles;
  /** Counts tools/call for the console's Activity page (reported to the registry by the caller). */
  activity?: ActivityRecorder;
}

type Server = HttpServer | HttpsServer;

/** A tools/call for the Activity page: a name the snapshot does not list counts as `(unlisted)` unless the call went through (a live upstream tool). */
function recordActivity(activity: ActivityRecorder, o: RequestObservation): void {
  const tool = o.tool !== undefined && o.tool.length <= 128 && (o.knownTool || o.outcome !== 'error') ? o.tool : UNLISTED_TOOL;
  activity.record({ namespace: o.namespace, server: o.server, tool, ok: o.outcome === 'ok', kind: o.errorKind, ms: o.seconds * 1000, agent: o.agent, failure: o.failure });
}

/** An HTTP server, or an HTTPS one with the files' certificate (the same options and listener either way). */
function listenerServer(options: ServerOptions, tls: TlsFiles | undefined, listener: RequestListener): Server {
  return tls ? createHttpsServer({ ...options, ...loadTls(tls) }, listener) : createServer(options, listener);
}

/** How a gateway drains on SIGTERM (docs/operations.md#graceful-shutdown). */
export interface DrainOptions {
  /** Time between turning unready and closing the listener (the load balancer's notice), ms. */
  delayMs: number;
  /** Longest wait for calls in flight once the listener is closed, ms; then the rest is cut. */
  timeoutMs: number;
  /** The SSE `retry:` sent to streams ended while draining, ms. Default 250. */
  retryMs?: number;
  /** Once no call is in flight, how long idle kept-alive connections are left to their clients (within `timeoutMs`), ms. Default 1000. */
  lingerMs?: number;
}

/** What a drain did: streams told to reconnect, and requests cut at the deadline. */
export interface DrainResult {
  streams: number;
  cut: number;
}

/** Mutable state the request listener shares with the gateway object. */
interface TrafficState {
  /** SIGTERM received: `/readyz` answers 503. */
  draining: boolean;
  /** The listener is closed: every answer closes its connection. */
  closing: boolean;
  /** Requests being answered (streams included), and the waiters for none. */
  inflight: number;
  idle: (() => void)[];
  /** Settles on the server's 'close': it stopped listening and its last connection ended. */
  closed: Promise<void>;
}

/** A virtual server member that is down or not heard from yet, or whose tools clash with another member's, as the gateway reports it. */
export interface VirtualMemberReport {
  /** The virtual server, `namespace/name`. */
  server: string;
  member: string;
  /** clash: some of its tools are left out, another member's tool has their final name (run time; see `error`). */
  state: 'pending' | 'down' | 'clash';
  error?: string;
}

/**
 * The data plane: MCP endpoints on node:http, serving the latest compiled snapshot of its
 * configuration source, swapped atomically when the source delivers a new one.
 */
export class Gateway {
  private constructor(
    private readonly server: Server,
    readonly handler: McpHandler,
    /** The session store in use (for status pages and tests). */
    readonly sessions: SessionStore,
    private readonly opts: GatewayOptions,
    private readonly dispatcher: Agent,
    private readonly closers: (() => Promise<void>)[],
    private readonly virtuals: VirtualCompiler,
    private readonly traffic: TrafficState,
  ) {}

  /** Members of virtual servers that are down or not heard from yet (the console's Gateways page). */
  virtualMembersNotOk(): VirtualMemberReport[] {
    const out: VirtualMemberReport[] = [];
    for (const [server, members] of Object.entries(this.virtuals.status())) {
      for (const m of members) {
        if (m.state !== 'ok') out.push({ server, member: m.server, state: m.state, ...(m.error ? { error: m.error.slice(0, 500) } : {}) });
        if (m.clashes?.length) {
          const error = `tools left out, another member's tool has their name: ${m.clashes.map((c) => `${c.name} (kept by ${c.kept})`).join(', ')}`;
          out.push({ server, member: m.server, state: 'clash', error: error.slice(0, 500) });
        }
      }
    }
    return out.slice(0, 1000);
  }

  /** Compile the first snapshot, then listen. */
  static async start(opts: GatewayOptions): Promise<Gateway> {
    const { logger } = opts;
    const limits = withDefaults(opts.limits);
    if (opts.stdioRecordFile) {
      const reaped = reapAndRecordChildren(opts.stdioRecordFile);
      if (reaped > 0) logger.warn({ reaped }, 'ended stdio children of upstream MCP servers that a previous gateway process left behind');
    }
    const sessions = opts.sessions ?? new MemorySessionStore(opts.sessionIdleMs ?? 30 * 60_000, undefined, limits);
    const bus = opts.bus ?? new MemoryMessageBus();
    const events = opts.events ?? new MemoryEventStore();
    // The handler exists once the metrics do; the gauges read it only when scraped.
    const made: { handler?: McpHandler } = {};
    const readiness = (): Record<string, boolean> => ({ snapshot: (made.handler?.current.revision ?? 0) > 0 && (opts.ready?.() ?? true), ...opts.readiness?.() });
    const metrics = new GatewayMetrics({
      snapshot: () => made.handler?.current ?? EMPTY_SNAPSHOT, openStreams: () => made.handler?.openStreams ?? 0, openSessions: () => sessions.count(), readiness,
    });
    const gathered = opts.metricsGatherer?.(metrics.registry);
    const accessLog = new AccessLog(logger.child({ component: 'access' }), opts.accessLog ?? 'all', opts.accessLogSampleRatio ?? 1);
    // Backend connections: pooled with keep-alive; host names are resolved through a lookup that
    // refuses link-local and cloud-metadata addresses, except for servers that allow them.
    const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256, pipelining: 1, connect: { lookup: guardedLookup } });
    const metadataDispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });
    // Hosts that tool arguments choose: checked, and connected to, under each server's policy.
    const own = new OwnEndpoints();
    for (const url of opts.ownUrls ?? []) own.addUrl(url);
    const argumentHosts = new ArgumentHostGuard(own);
    const rateLimiter = opts.rateLimiter ?? new MemoryRateLimiter();
    const tokenAccess = new TokenAccess({
      verifier: new TokenVerifier(), exchanger: new TokenExchanger({ logger }), limiter: rateLimiter, ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      onLimited: (refusal) => metrics.rateLimit(refusal),
      onLimiterError: (err) => logger.warn({ err }, 'rate limiter unavailable: call let through'),
    });
    const access = new AccessPolicy({
      bindHost: opts.host, allowedHosts: opts.allowedHosts, allowedOrigins: opts.allowedOrigins, onLimit: (limit) => metrics.limitHit(limit), tokenAccess,
    });
    const handler = new McpHandler({
      logger: logger.child({ component: 'mcp' }), sessions, bus, events, access, keepAliveMs: opts.streamKeepAliveMs, limits,
      onRequest: (o) => {
        metrics.request(o);
        accessLog.write(o);
        if (o.method === 'tools/call' && opts.activity) recordActivity(opts.activity, o);
      },
      onErrorAnswer: (code) => metrics.errorAnswer(code),
      onLimit: (limit) => metrics.limitHit(limit),
    });
    made.handler = handler;
    const leftOut = new Counter({
      name: 'mcpgate_virtual_member_left_out_total', help: 'Members left out of a virtual server\'s tools/list, by virtual server, member and reason (down: its list could not be fetched; deadline: not heard from within the listing deadline).',
      labelNames: ['server', 'member', 'reason'] as const, registers: [metrics.registry],
    });
    const clashes = new Counter({
      name: 'mcpgate_virtual_tool_clash_total', help: 'Run-time name clashes in virtual servers, by virtual server and the member whose tool was left out (counted once each time a clash appears: a live member listed a tool whose final name another member\'s tool has).',
      labelNames: ['server', 'member'] as const, registers: [metrics.registry],
    });
    const virtuals = new VirtualCompiler({
      logger, onListChanged: (server, method) => handler.upstreamListChanged(server, method),
      onLeftOut: (server, member, reason) => leftOut.labels(server, member, reason).inc(),
      onClash: (server, member) => clashes.labels(server, member).inc(),
    });
    const compiler = new SnapshotCompiler({
      dispatcher, metadataDispatcher, argumentHosts, logger, ...(opts.namespaceAuthorization ? { namespaceAuthorization: opts.namespaceAuthorization } : {}),
      onUpstreamNotification: (server, session, method, params) => {
        handler.upstreamNotification(server, session, method, params);
        virtuals.memberNotified(server, method);
      },
      // Clustered (sessions in Redis): upstream MCP sessions live with the agent sessions, for every replica.
      sessionAgent: (id: string) => handler.sessionAgent(id),
      ...(opts.sessions ? { upstreamSessions: (server: string) => upstreamSessionsOf(sessions, server) } : {}),
    });
    // Request scopes (an AsyncLocalStorage, lib/request-context.ts) only where a part that logs or
    // traces without the request at hand serves it: a session store outside this process (Redis),
    // upstream MCP servers, virtual servers, OAuth and rate limits (token exchange, a shared
    // limiter). Otherwise (REST tools, sessions held here) the request id and, with tracing on, the
    // request's span travel on the answer (`requestIdOf`) and the call context (the backend span's
    // parent, the access log's `trace_id`), and no promise of the process pays the storage's hook
    // (on Node 20 about 6-8 µs of a tools/call).
    const scopes: { needed: boolean; release?: (() => void) | undefined } = { needed: false };
    const setScopes = (snapshot: GatewaySnapshot): void => {
      scopes.needed = sessions.getHeld === undefined || someServer(snapshot, (s) => s.upstream !== undefined || s.virtual !== undefined || s.access !== undefined);
      if (scopes.needed && !scopes.release) scopes.release = holdRequestScopes();
      else if (!scopes.needed && scopes.release) {
        scopes.release();
        scopes.release = undefined;
      }
    };
    await opts.source.start((snap) => {
      const started = performance.now();
      const compiled = virtuals.extend(compiler.compile(snap), snap);
      setScopes(compiled);
      handler.setSnapshot(compiled);
      metrics.snapshotSwapped(compiled.revision);
      logger.info({ revision: compiled.revision, servers: compiled.servers.size, ms: Math.round(performance.now() - started) }, 'gateway snapshot swapped');
      for (const ns of compiled.namespaces) {
        if (!compiled.securedNamespaces.has(ns) && [...compiled.servers.values()].some((s) => s.namespace === ns)) {
          logger.debug({ namespace: ns }, 'namespace has no consumer keys: its MCP servers are open to anyone who reaches the gateway');
        }
      }
    });
    // One listener function for every response, no closure per request ('close' fires once, after
    // 'finish' when the answer was sent; `once` would wrap it): an answer sent is counted, and a
    // request stops counting as in flight once its answer is sent or its connection closes.
    function requestClosed(this: ServerResponse): void {
      if (this.writableFinished) metrics.httpRequest(this.req.method ?? '', this.statusCode);
      if (--traffic.inflight === 0) for (const wake of traffic.idle.splice(0)) wake();
    }
    // Slowloris: the headers and then the whole request (not the answer: SSE streams are long
    // answers to short requests) must arrive in time; Node checks its open requests every
    // `connectionsCheckingInterval` and answers 408 to those too slow.
    const traffic: TrafficState = { draining: false, closing: false, inflight: 0, idle: [], closed: Promise.resolve() };
    const server = listenerServer({
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs), requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
    }, opts.tls, (req, res) => {
      // Counted until its answer is sent or its connection closes (drain waits for none).
      traffic.inflight++;
      res.on('close', requestClosed);
      // Listener closed: every answer closes its connection, so the next request opens one elsewhere.
      if (traffic.closing) res.shouldKeepAlive = false;
      // Every answer names its request; log lines and error bodies written while serving it too.
      const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      if (scopes.needed) runWithRequestId(requestId, route, req, res);
      else route(req, res);
    });
    /** Where a request goes: the MCP endpoints (whose handler never rejects), or the gateway's other paths. */
    const route = (req: IncomingMessage, res: ServerResponse): void => {
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const pathname = q < 0 ? raw : raw.slice(0, q);
      // The MCP endpoints take the access policy's whole step (Host/Origin, CORS, key, allow-list).
      if (pathname.startsWith('/mcp/')) return void handler.handle(req, res, pathname.slice(5));
      otherPath(req, res, pathname).catch((err: unknown) => {
        logger.error({ err, url: req.url, reqId: res.getHeader(REQUEST_ID_HEADER) }, 'gateway request failed');
        if (!res.headersSent) plainError(res, { status: 500, code: 'INTERNAL_ERROR', message: 'Internal error' });
        else res.destroy();
      });
    };
    // Every other path: probes and metrics too (they carry no Origin, and address the gateway by an IP or its name).
    const otherPath = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
      const refused = access.check(req);
      if (refused) return plainError(res, refused);
      if (tokenAccess.serveMetadata(req, res, pathname, handler.current)) return;
      if (pathname === '/healthz') return plainJson(res, 200, { status: 'UP' });
      if (pathname === '/readyz') {
        const checks = { ...readiness(), ...(traffic.draining ? { accepting: false } : {}) };
        const ok = Object.values(checks).every(Boolean);
        return plainJson(res, ok ? 200 : 503, {
          status: ok ? 'UP' : 'DOWN', checks, revision: handler.current.revision, source: opts.source.describe(), ...(traffic.draining ? { draining: true } : {}),
        });
      }
      if (pathname === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return void res.end(gathered ? await gathered() : await metrics.registry.metrics());
      }
      return plainError(res, { status: 404, code: 'ROUTE_NOT_FOUND', message: `no endpoint ${req.method} ${pathname}; MCP endpoints are /mcp/{namespace}/{server}` });
    };
    traffic.closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address) own.addLocalPort(address.port);
    const unwatchTls = opts.tls && 'setSecureContext' in server ? watchTls(server, opts.tls, logger) : undefined;
    const unsecured = [...handler.current.namespaces].filter((ns) => !handler.current.securedNamespaces.has(ns));
    if (unsecured.length > 0) logger.warn({ namespaces: unsecured }, 'namespaces without consumer keys are open: anyone who reaches the gateway may call their tools');
    logger.info({ address: server.address(), source: opts.source.describe() }, 'gateway listening');
    return new Gateway(server, handler, sessions, opts, dispatcher, [
      async () => scopes.release?.(), async () => unwatchTls?.(), async () => virtuals.close(), () => compiler.close(), () => metadataDispatcher.close(), () => argumentHosts.close(), () => rateLimiter.close(), () => sessions.close(), () => bus.close(), () => events.close(),
    ], virtuals, traffic);
  }

  /** The port the gateway listens on (useful with port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Whether the gateway is draining (SIGTERM received). */
  get draining(): boolean {
    return this.traffic.draining;
  }

  /**
   * Graceful stop (SIGTERM): `/readyz` answers 503 at once (`checks.accepting: false`) while
   * everything is still served on the connections as they are; after `delayMs` the listener closes
   * (new connections are refused, so a proxy tries another replica), every answer from then on
   * closes its connection, open streams are told to reconnect (SSE `retry:`, then ended: 2025
   * clients resume elsewhere with Last-Event-ID), and the calls in flight finish, up to
   * `timeoutMs`. Kept-alive connections that are idle are left to their clients for up to
   * `lingerMs` more (each next request is answered, with `Connection: close`); then everything
   * left is cut and the gateway closed.
   *
   * Why idle connections are not closed as soon as the listener is: a proxy in front (nginx's
   * upstream keep-alive pool) may be writing a request on one at that very moment, and a POST
   * it has written is never retried elsewhere (it cannot know the call was not made): the agent
   * would get a 502. Answering that request instead, with `Connection: close`, is safe; the same
   * goes for the delay, where closing every answer's connection made the proxy open new ones
   * that could land in the listener's backlog as it closed (reset, 502).
   */
  async drain(o: DrainOptions): Promise<DrainResult> {
    const { logger } = this.opts;
    const traffic = this.traffic;
    traffic.draining = true;
    logger.info({ delayMs: o.delayMs, timeoutMs: o.timeoutMs, inflight: traffic.inflight, streams: this.handler.openStreams }, 'draining: /readyz answers 503; the listener closes after the delay');
    if (o.delayMs > 0) await sleep(o.delayMs);
    traffic.closing = true;
    // The listening socket only: http.Server#close would also close the idle connections (Node ≥ 19).
    if (this.server.listening) NetServer.prototype.close.call(this.server);
    const retryMs = o.retryMs ?? 250;
    let streams = this.handler.releaseStreams(retryMs);
    const deadline = Date.now() + o.timeoutMs;
    // Wait for the calls in flight; streams opened meanwhile on kept connections are released too.
    while (traffic.inflight > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now())));
        traffic.idle.push(() => { clearTimeout(timer); resolve(); });
      });
      streams += this.handler.releaseStreams(retryMs);
    }
    const cut = traffic.inflight;
    if (cut > 0) logger.warn({ cut, timeoutMs: o.timeoutMs }, 'drain deadline reached: cutting the requests still running');
    else {
      // The server's 'close' comes when its last connection ended: clients used their kept ones up.
      const linger = Math.min(o.lingerMs ?? 1000, Math.max(0, deadline - Date.now()));
      if (linger > 0) await Promise.race([this.traffic.closed, sleep(linger)]);
      logger.info({ streams }, 'drained: no request in flight');
    }
    await this.close();
    return { streams, cut };
  }

  private closing: Promise<void> | undefined;

  /** Stop at once: streams ended, calls running here aborted, connections closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    await this.opts.source.stop();
    await this.handler.close();
    // The server's 'close' comes once it stopped listening and its last connection ended.
    this.server.close();
    this.server.closeAllConnections();
    await this.traffic.closed;
    // First the closers (upstream MCP connections end their streams), then the backend connections they used.
    for (const c of this.closers) await c();
    await this.dispatcher.close();
  }
}

/** Whether a server of the snapshot satisfies `test`. */
function someServer(snapshot: GatewaySnapshot, test: (server: CompiledServer) => boolean): boolean {
  for (const server of snapshot.servers.values()) if (test(server)) return true;
  return false;
}
