import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Agent } from 'undici';
import type { Logger } from '../lib/logger.js';
import { REQUEST_ID_HEADER, requestIdFrom, runWithRequestId } from '../lib/request-context.js';
import { AccessPolicy } from './access-policy.js';
import { ArgumentHostGuard, OwnEndpoints, guardedLookup } from '../tools/address-guard.js';
import type { GatewayLimits } from './limits.js';
import { withDefaults } from './limits.js';
import { plainError, plainJson } from './mcp/answers.js';
import { McpHandler } from './mcp/handler.js';
import type { EventStore, MessageBus, SessionStore } from './sessions/types.js';
import { MemoryEventStore, MemoryMessageBus, MemorySessionStore } from './sessions/memory.js';
import { Counter } from 'prom-client';
import { EMPTY_SNAPSHOT, SnapshotCompiler } from './snapshot.js';
import { VirtualCompiler } from './virtual/compile.js';
import { GatewayMetrics } from './metrics.js';
import { AccessLog } from './access-log.js';
import type { AccessLogMode } from './access-log.js';
import { reapAndRecordChildren } from '../tools/mcp/stdio.js';
import type { UpstreamSessionState } from '../tools/mcp/session-state.js';
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
}

/** A virtual server member that is down or not heard from yet, as the gateway reports it. */
export interface VirtualMemberReport {
  /** The virtual server, `namespace/name`. */
  server: string;
  member: string;
  state: 'pending' | 'down';
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
  ) {}

  /** Members of virtual servers that are down or not heard from yet (the console's Gateways page). */
  virtualMembersNotOk(): VirtualMemberReport[] {
    const out: VirtualMemberReport[] = [];
    for (const [server, members] of Object.entries(this.virtuals.status())) {
      for (const m of members) if (m.state !== 'ok') out.push({ server, member: m.server, state: m.state, ...(m.error ? { error: m.error.slice(0, 500) } : {}) });
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
    const sessions = opts.sessions ?? new MemorySessionStore(opts.sessionIdleMs ?? 30 * 60_000, Date.now, limits);
    const bus = opts.bus ?? new MemoryMessageBus();
    const events = opts.events ?? new MemoryEventStore();
    // The handler exists once the metrics do; the gauges read it only when scraped.
    const made: { handler?: McpHandler } = {};
    const readiness = (): Record<string, boolean> => ({ snapshot: (made.handler?.current.revision ?? 0) > 0 && (opts.ready?.() ?? true), ...opts.readiness?.() });
    const metrics = new GatewayMetrics({
      snapshot: () => made.handler?.current ?? EMPTY_SNAPSHOT, openStreams: () => made.handler?.openStreams ?? 0, openSessions: () => sessions.count(), readiness,
    });
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
      onLimited: (limit, server, caller) => metrics.rateLimit(server, limit, caller),
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
      },
      onErrorAnswer: (code) => metrics.errorAnswer(code),
      onLimit: (limit) => metrics.limitHit(limit),
    });
    made.handler = handler;
    const leftOut = new Counter({
      name: 'mcpgate_virtual_member_left_out_total', help: 'Members left out of a virtual server\'s tools/list, by virtual server, member and reason (down: its list could not be fetched; deadline: not heard from within the listing deadline).',
      labelNames: ['server', 'member', 'reason'] as const, registers: [metrics.registry],
    });
    const virtuals = new VirtualCompiler({
      logger, onListChanged: (server, method) => handler.upstreamListChanged(server, method),
      onLeftOut: (server, member, reason) => leftOut.labels(server, member, reason).inc(),
    });
    const compiler = new SnapshotCompiler({
      dispatcher, metadataDispatcher, argumentHosts, logger, ...(opts.namespaceAuthorization ? { namespaceAuthorization: opts.namespaceAuthorization } : {}),
      onUpstreamNotification: (server, _session, method) => {
        handler.upstreamListChanged(server, method);
        virtuals.memberNotified(server, method);
      },
      // Clustered (sessions in Redis): upstream MCP sessions live with the agent sessions, for every replica.
      ...(opts.sessions ? { upstreamSessions: { get: async (id: string) => (await sessions.get(id))?.upstream, set: (id: string, state: UpstreamSessionState | undefined) => sessions.setUpstream(id, state) } } : {}),
    });
    await opts.source.start((snap) => {
      const started = performance.now();
      const compiled = virtuals.extend(compiler.compile(snap), snap);
      handler.setSnapshot(compiled);
      metrics.snapshotSwapped(compiled.revision);
      logger.info({ revision: compiled.revision, servers: compiled.servers.size, ms: Math.round(performance.now() - started) }, 'gateway snapshot swapped');
      for (const ns of compiled.namespaces) {
        if (!compiled.securedNamespaces.has(ns) && [...compiled.servers.values()].some((s) => s.namespace === ns)) {
          logger.debug({ namespace: ns }, 'namespace has no consumer keys: its MCP servers are open to anyone who reaches the gateway');
        }
      }
    });
    // One listener function for every response ('finish' fires once; `once` would wrap it).
    function countRequest(this: ServerResponse): void {
      const { req: { method = '' }, statusCode } = this;
      metrics.httpRequest(method, statusCode);
    }
    // Slowloris: the headers and then the whole request (not the answer: SSE streams are long
    // answers to short requests) must arrive in time; Node checks its open requests every
    // `connectionsCheckingInterval` and answers 408 to those too slow.
    const server = createServer({
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs), requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
    }, (req, res) => {
      res.on('finish', countRequest);
      // Every answer names its request; log lines and error bodies written while serving it too.
      const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      res.setHeader(REQUEST_ID_HEADER, requestId);
      runWithRequestId(requestId, () => route(req, res)).catch((err: unknown) => {
        logger.error({ err, url: req.url, reqId: requestId }, 'gateway request failed');
        if (!res.headersSent) plainError(res, { status: 500, code: 'INTERNAL_ERROR', message: 'Internal error' });
        else res.destroy();
      });
    });
    const route = async (req: IncomingMessage, res: ServerResponse) => {
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const pathname = q < 0 ? raw : raw.slice(0, q);
      // The MCP endpoints take the access policy's whole step (Host/Origin, CORS, key, allow-list).
      if (pathname.startsWith('/mcp/')) return handler.handle(req, res, pathname.slice(5));
      // Every other path: probes and metrics too (they carry no Origin, and address the gateway by an IP or its name).
      const refused = access.check(req);
      if (refused) return plainError(res, refused);
      if (tokenAccess.serveMetadata(req, res, pathname, handler.current)) return;
      if (pathname === '/healthz') return plainJson(res, 200, { status: 'UP' });
      if (pathname === '/readyz') {
        const checks = readiness();
        const ok = Object.values(checks).every(Boolean);
        return plainJson(res, ok ? 200 : 503, { status: ok ? 'UP' : 'DOWN', checks, revision: handler.current.revision, source: opts.source.describe() });
      }
      if (pathname === '/metrics') {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return void res.end(await metrics.registry.metrics());
      }
      return plainError(res, { status: 404, code: 'ROUTE_NOT_FOUND', message: `no endpoint ${req.method} ${pathname}; MCP endpoints are /mcp/{namespace}/{server}` });
    };
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address) own.addLocalPort(address.port);
    const unsecured = [...handler.current.namespaces].filter((ns) => !handler.current.securedNamespaces.has(ns));
    if (unsecured.length > 0) logger.warn({ namespaces: unsecured }, 'namespaces without consumer keys are open: anyone who reaches the gateway may call their tools');
    logger.info({ address: server.address(), source: opts.source.describe() }, 'gateway listening');
    return new Gateway(server, handler, sessions, opts, dispatcher, [
      async () => virtuals.close(), () => compiler.close(), () => metadataDispatcher.close(), () => argumentHosts.close(), () => rateLimiter.close(), () => sessions.close(), () => bus.close(), () => events.close(),
    ], virtuals);
  }

  /** The port the gateway listens on (useful with port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    await this.opts.source.stop();
    await this.handler.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // First the closers (upstream MCP connections end their streams), then the backend connections they used.
    for (const c of this.closers) await c();
    await this.dispatcher.close();
  }
}
