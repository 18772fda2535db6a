/**
 * The runtime of one upstream MCP server in a snapshot: its connections (one shared, or one
 * per agent session), opened on first use, closed when idle, re-opened with backoff when the
 * upstream fails or a stdio child dies, and re-initialized when the upstream forgets its
 * session (HTTP 404). Each request runs within its timeout: never a hung call, and one
 * server's failures never touch another's.
 */
import type { Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import type { CredentialPassthrough, Endpoint } from '../../model/model.js';
import { ToolError } from '../errors.js';
import { ATTR, endSpan, startClientSpan, traceHeaders, tracingEnabled, withSpan } from '../../lib/tracing.js';
import type { Span } from '@opentelemetry/api';
import type { AgentChannel, CallCancellation, ClientHeaders, Upstream } from '../executor.js';
import { RestCredentials } from '../rest/credentials.js';
import type { McpUpstreamOptions } from './config.js';
import { UpstreamConnection, isSessionGone, toUpstreamError } from './connection.js';
import type { UpstreamSessionState, UpstreamSessionStates } from './session-state.js';

/** Backoff after failed starts: 250 ms doubling to 30 s. */
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** A connection (a stdio child) that dies sooner than this after opening counts as a failed start. */
const EARLY_EXIT_MS = 5000;
/** The key of the shared connection. */
const SHARED = '';

/** One request to the upstream, as the gateway makes it. */
export interface UpstreamCall {
  /** The agent's session (per-session servers get a connection of their own for it). */
  sessionId?: string | undefined;
  clientHeaders?: ClientHeaders | undefined;
  cancellation?: CallCancellation | undefined;
  /** Per-request timeout, ms; the server's `upstream.timeoutMs`, else the runtime's default. */
  timeoutMs?: number | undefined;
  onProgress?: ((progress: number, total?: number, message?: string) => void) | undefined;
  /** The agent making the call: the upstream's requests to the client and its log messages go back to it. */
  agent?: AgentChannel | undefined;
}

/** What a runtime needs besides the server's options. */
export interface McpRuntimeDeps {
  /** `namespace/name`, for logs. */
  serverKey: string;
  options: McpUpstreamOptions;
  endpoint: Endpoint;
  /** The server's instances (HTTP kinds), followed across snapshots. */
  upstream: Upstream | undefined;
  passthrough: CredentialPassthrough;
  dispatcher?: Dispatcher | undefined;
  logger: Logger;
  /** Per-request timeout when neither the call nor the server sets one; default 30 s. */
  defaultTimeoutMs?: number | undefined;
  /**
   * Notifications of the upstream outside requests (list_changed, resources/updated, log
   * messages), with the agent session whose connection got them (undefined: the shared one).
   */
  onNotification?: ((sessionId: string | undefined, method: string, params: Record<string, unknown> | undefined) => void) | undefined;
  /**
   * Where the upstream sessions of agent sessions are kept for every replica (per-session
   * Streamable HTTP servers): a replica without a connection for an agent session continues
   * the stored upstream session, and one that opens a new upstream session stores it.
   */
  sessionStates?: UpstreamSessionStates | undefined;
  /**
   * The way to an agent session outside its calls (per-session connections): what the upstream
   * asks then (roots/list after the agent's roots/list_changed…) is asked of it. Undefined: the
   * session is gone, or the gateway cannot reach it.
   */
  sessionAgent?: ((sessionId: string) => Promise<AgentChannel | undefined>) | undefined;
}

/** Default MCP path on an instance when the endpoint gives none. */
function defaultPath(kind: McpUpstreamOptions['kind']): string {
  return kind === 'sse' ? '/sse' : '/mcp';
}

/** A server's connections and their lifecycle. */
export class McpServerRuntime {
  private readonly connections = new Map<string, UpstreamConnection>();
  private readonly opening = new Map<string, Promise<UpstreamConnection>>();
  /** Requests under way per connection key (including those still waiting for their connection). */
  private readonly inflight = new Map<string, number>();
  private readonly credentials: RestCredentials;
  private failures = 0;
  private retryAt = 0;
  private lastFailure: ToolError | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private closedFlag = false;
  private known: Record<string, unknown> | undefined;
  private readonly logger: Logger;
  /** Writes of upstream streams' last event ids under way, by connection key (`again`: a newer id came meanwhile). */
  private readonly eventWrites = new Map<string, { again: boolean }>();

  constructor(private readonly deps: McpRuntimeDeps) {
    this.logger = deps.logger.child({ server: deps.serverKey, upstream: deps.options.kind });
    this.credentials = new RestCredentials('(upstream)', undefined, [], deps.passthrough);
    this.sweeper = setInterval(() => this.sweep(), Math.min(deps.options.idleMs, 30_000));
    this.sweeper.unref();
  }

  /** How many connections (stdio: processes) are open or opening. */
  get size(): number {
    return this.connections.size + this.opening.size;
  }

  /** The headers forwarded to the upstream for a call: the server's passthrough allow-list (never the gateway's key). */
  private forwardedHeaders(client: ClientHeaders | undefined): Record<string, string> | undefined {
    if (!client || this.deps.options.kind === 'stdio') return undefined;
    const headers: Record<string, string | string[]> = {};
    const cookies: string[] = [];
    this.credentials.addTo(client, undefined, headers, cookies, undefined);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
    if (cookies.length > 0) out['cookie'] = cookies.join('; ');
    return Object.keys(out).length > 0 ? out : undefined;
  }

  /** Whether the upstream session of this connection key is kept for other replicas (so idling out here must not end it). */
  private sharedAcrossReplicas(key: string): boolean {
    return key !== SHARED && this.deps.sessionStates !== undefined && this.deps.options.kind === 'streamable' && this.deps.options.sessions === 'per-session';
  }

  /** The stored upstream session of an agent session (undefined on any failure: a new one is initialized). */
  private async storedState(key: string): Promise<UpstreamSessionState | undefined> {
    if (!this.sharedAcrossReplicas(key)) return undefined;
    try {
      return await this.deps.sessionStates?.get(key);
    } catch (err) {
      this.logger.warn({ err }, 'could not read the stored upstream session; initializing a new one');
      return undefined;
    }
  }

  /**
   * Keep the last event id of an agent session's upstream stream for other replicas: written at
   * once (the replica may die any moment), one write at a time per session, the latest id last.
   */
  private storeEventId(key: string, c: () => UpstreamConnection | undefined): void {
    const pending = this.eventWrites.get(key);
    if (pending) {
      pending.again = true;
      return;
    }
    const write = { again: false };
    this.eventWrites.set(key, write);
    const run = async (): Promise<void> => {
      do {
        write.again = false;
        const state = c()?.sessionState;
        if (!state || this.closedFlag) break;
        await this.deps.sessionStates?.set(key, state).catch((err: unknown) => this.logger.debug({ err }, 'could not keep the upstream stream\'s last event id'));
      } while (write.again);
    };
    void run().finally(() => this.eventWrites.delete(key));
  }

  /** The agent of a session, for requests of the upstream outside calls (undefined on any failure). */
  private async agentOf(key: string): Promise<AgentChannel | undefined> {
    if (key === SHARED || !this.deps.sessionAgent) return undefined;
    try {
      return await this.deps.sessionAgent(key);
    } catch (err) {
      this.logger.debug({ err }, 'could not find the agent session of an upstream connection');
      return undefined;
    }
  }

  private async storeState(key: string, c: UpstreamConnection): Promise<void> {
    if (!this.sharedAcrossReplicas(key) || c.isResumed) return;
    const state = c.sessionState;
    if (!state) return;
    try {
      await this.deps.sessionStates?.set(key, state);
    } catch (err) {
      this.logger.warn({ err }, 'could not store the upstream session for other replicas; they will initialize their own');
    }
  }

  private key(call: UpstreamCall): string {
    return this.deps.options.sessions === 'per-session' && call.sessionId ? call.sessionId : SHARED;
  }

  private url(exclude: ReadonlySet<string>): { url: string; id: string } | undefined {
    const { endpoint, upstream, options } = this.deps;
    const target = upstream?.pick(exclude);
    if (!target) return undefined;
    if (endpoint.type === 'url') return { url: target.baseUrl, id: target.id };
    const path = (endpoint.type === 'service' || endpoint.type === 'direct' ? endpoint.exportPath : undefined) ?? defaultPath(options.kind);
    return { url: `${target.baseUrl}${path}`, id: target.id };
  }

  /**
   * Open a connection: a stdio child, or an HTTP upstream trying each instance once. An agent
   * session's stored upstream session is continued, unless it is `stale` (the upstream forgot it).
   */
  private async open(key: string, stale?: string): Promise<UpstreamConnection> {
    const { options, dispatcher } = this.deps;
    const relay = this.deps.onNotification;
    const onNotification = relay ? (method: string, params: Record<string, unknown> | undefined) => relay(key === SHARED ? undefined : key, method, params) : undefined;
    const agent = await this.agentOf(key);
    const shared = key === SHARED;
    const sessionAgent = shared ? this.deps.sessionAgent : undefined;
    if (options.kind === 'stdio') return UpstreamConnection.open({ options, logger: this.logger, onNotification, agent, shared, sessionAgent });
    const stored = await this.storedState(key);
    let opened: UpstreamConnection | undefined;
    const onEventId = this.sharedAcrossReplicas(key) ? () => this.storeEventId(key, () => opened) : undefined;
    const storedEventId = this.sharedAcrossReplicas(key) ? async () => (await this.storedState(key))?.lastEventId : undefined;
    // After a 404, only a session another replica opened since then is continued ('': the forgotten one is unknown).
    const resume = stored && (stale === undefined || (stale !== '' && stored.sessionId !== stale)) ? stored : undefined;
    const tried = new Set<string>();
    let last: unknown;
    for (;;) {
      const target = this.url(tried);
      if (!target) {
        if (last) throw last;
        throw new ToolError('UPSTREAM_UNREACHABLE', `MCP server ${this.deps.serverKey} has no usable upstream instance`);
      }
      tried.add(target.id);
      try {
        const c = await UpstreamConnection.open({ url: target.url, options, dispatcher, logger: this.logger, onNotification, resume, agent, onEventId, storedEventId, shared, sessionAgent });
        opened = c;
        await this.storeState(key, c);
        return c;
      } catch (err) {
        last = err;
        if (!(err instanceof ToolError && err.code === 'UPSTREAM_UNREACHABLE')) throw err;
      }
    }
  }

  /** The connection for a call: open, being opened, or opened now (within the pool's limits and backoff). */
  private async connection(key: string, stale?: string): Promise<UpstreamConnection> {
    const open = this.connections.get(key);
    if (open && !open.closed) return open;
    if (open) this.connections.delete(key);
    const pending = this.opening.get(key);
    if (pending) return pending;
    if (this.closedFlag) throw new ToolError('UPSTREAM_UNREACHABLE', 'the gateway is closing');
    const now = Date.now();
    if (now < this.retryAt && this.lastFailure) {
      throw new ToolError(this.lastFailure.code, `${this.lastFailure.message} (next attempt in ${this.retryAt - now} ms)`);
    }
    if (this.size >= this.deps.options.maxProcesses && !this.evictIdle()) {
      throw new ToolError('UPSTREAM_BUSY', `MCP server ${this.deps.serverKey} already runs ${this.deps.options.maxProcesses} upstream connections (upstream.maxProcesses), all busy`);
    }
    const opening = this.open(key, stale).then((c) => {
      const openedAt = Date.now();
      this.connections.set(key, c);
      this.known = c.capabilities as Record<string, unknown>;
      c.onClose(() => {
        if (this.connections.get(key) === c) this.connections.delete(key);
        if (!this.closedFlag && !c.closedByGateway && Date.now() - openedAt < EARLY_EXIT_MS) this.failed(new ToolError('UPSTREAM_UNREACHABLE', 'the upstream closed right after it started'));
      });
      this.failures = 0;
      this.lastFailure = undefined;
      return c;
    }, (err: unknown) => {
      const e = toUpstreamError(err, 'connecting to the upstream MCP server');
      if (e.code === 'UPSTREAM_UNREACHABLE' || e.code === 'UPSTREAM_TIMEOUT') this.failed(e);
      throw e;
    }).finally(() => this.opening.delete(key));
    this.opening.set(key, opening);
    return opening;
  }

  private failed(e: ToolError): void {
    this.failures++;
    this.lastFailure = e;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    this.retryAt = Date.now() + delay;
    this.logger.warn({ err: e.message, failures: this.failures, retryInMs: delay }, 'upstream MCP server failed; backing off');
  }

  /** Close the least recently used idle connection to make room; false when all are busy. */
  private evictIdle(): boolean {
    let victim: [string, UpstreamConnection] | undefined;
    for (const entry of this.connections) {
      if (entry[1].active > 0 || (this.inflight.get(entry[0]) ?? 0) > 0) continue;
      if (!victim || entry[1].lastUsed < victim[1].lastUsed) victim = entry;
    }
    if (!victim) return false;
    this.connections.delete(victim[0]);
    victim[1].close(!this.sharedAcrossReplicas(victim[0])).catch(() => undefined);
    return true;
  }

  private sweep(): void {
    const limit = Date.now() - this.deps.options.idleMs;
    for (const [key, c] of this.connections) {
      if (c.active === 0 && (this.inflight.get(key) ?? 0) === 0 && c.lastUsed < limit) {
        this.connections.delete(key);
        this.logger.debug({ session: key || '(shared)' }, 'closing an idle upstream MCP connection');
        c.close(!this.sharedAcrossReplicas(key)).catch(() => undefined);
      }
    }
  }

  /** Whether agents share one upstream connection (rather than one each). */
  get shared(): boolean {
    return this.deps.options.sessions === 'shared';
  }

  /** What the upstream offers, as its last connection said (undefined before the first one). */
  get knownCapabilities(): Record<string, unknown> | undefined {
    return this.known;
  }

  /** Open the shared connection in the background, so that the upstream's capabilities are known before agents ask. */
  warmUp(): void {
    if (this.deps.options.sessions !== 'shared') return;
    this.connection(SHARED).catch((err: unknown) => this.logger.debug({ err }, 'upstream MCP server not reachable yet'));
  }

  /** The capabilities of the upstream (connecting if needed). */
  async capabilities(call: UpstreamCall = {}): Promise<Record<string, unknown>> {
    const c = await this.withinTimeout(this.connection(this.key(call)), call);
    return c.capabilities as Record<string, unknown>;
  }

  private timeout(call: UpstreamCall): number {
    return call.timeoutMs ?? this.deps.options.timeoutMs ?? this.deps.defaultTimeoutMs ?? 30_000;
  }

  private async withinTimeout<T>(work: Promise<T>, call: UpstreamCall): Promise<T> {
    const ms = this.timeout(call);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([work, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ToolError('UPSTREAM_TIMEOUT', `connecting to the upstream MCP server: no answer within ${ms} ms`)), ms);
        timer.unref();
      })]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send one request upstream; ToolError on failure. A forgotten session is re-initialized once, transparently. */
  async request(method: string, params: Record<string, unknown>, call: UpstreamCall = {}): Promise<Record<string, unknown>> {
    if (!tracingEnabled()) return this.send(method, params, call, undefined);
    // Tracing on: a CLIENT span (MCP semantic conventions) whose context the upstream receives in
    // `params._meta` (every transport) and as the `traceparent` header (HTTP transports).
    const span = startClientSpan(method, {
      [ATTR.mcpMethod]: method, [ATTR.server]: this.deps.serverKey, [ATTR.networkTransport]: this.deps.options.kind === 'stdio' ? 'pipe' : 'tcp',
      ...(method === 'tools/call' && typeof params.name === 'string' ? { [ATTR.toolName]: params.name, [ATTR.operation]: 'execute_tool' } : {}),
    });
    try {
      const result = await withSpan(span, () => this.send(method, params, call, span));
      endSpan(span, result.isError === true ? 'tool_error' : undefined);
      return result;
    } catch (err) {
      endSpan(span, err instanceof ToolError ? err.code : 'error', (err as Error).message);
      throw err;
    }
  }

  private async send(method: string, given: Record<string, unknown>, call: UpstreamCall, span: Span | undefined): Promise<Record<string, unknown>> {
    const key = this.key(call);
    const timeoutMs = this.timeout(call);
    const propagated = traceHeaders(span);
    let headers = this.forwardedHeaders(call.clientHeaders);
    let params = given;
    if (propagated) {
      if (this.deps.options.kind !== 'stdio') headers = { ...headers, ...propagated };
      const meta = typeof given._meta === 'object' && given._meta !== null ? given._meta as Record<string, unknown> : {};
      params = { ...given, _meta: { ...meta, ...propagated } };
    }
    const options = { timeoutMs, cancellation: call.cancellation, headers, onProgress: call.onProgress, agent: call.agent };
    // Counted before the first await, so that no other request evicts this connection meanwhile.
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    try {
      let stale: string | undefined;
      for (let attempt = 0; ; attempt++) {
        // An open connection is used at once (no timer, no race: the per-call path).
        const open = stale === undefined ? this.connections.get(key) : undefined;
        const c = open && !open.closed ? open : await this.withinTimeout(this.connection(key, stale), call);
        try {
          return await c.request(method, params, options);
        } catch (err) {
          if (isSessionGone(err)) {
            if (this.connections.get(key) === c) this.connections.delete(key);
            stale = c.sessionState?.sessionId ?? '';
            c.close(false).catch(() => undefined);
            if (attempt === 0) {
              this.logger.info({ session: key || '(shared)' }, 'the upstream forgot its session (HTTP 404): initializing again');
              continue;
            }
          }
          throw toUpstreamError(err, `upstream ${method}`, timeoutMs);
        }
      }
    } finally {
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) this.inflight.set(key, left);
      else this.inflight.delete(key);
    }
  }

  /**
   * Send a notification of an agent to the upstream (`notifications/roots/list_changed`): on the
   * connection of its session (per-session servers; opened, or the upstream session continued,
   * when this replica has none). A shared connection serves many agents: sent there only when
   * the roots the upstream holds are this session's (else it is told before the agent's next call).
   */
  async notify(method: string, params: Record<string, unknown> | undefined, call: UpstreamCall): Promise<void> {
    if (!call.sessionId) return;
    if (this.deps.options.sessions !== 'per-session') {
      const c = this.connections.get(SHARED);
      if (c && !c.closed && c.holdsRootsOf(call.sessionId)) await c.notify(method, params, this.timeout(call));
      return;
    }
    const key = this.key(call);
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    try {
      const c = await this.withinTimeout(this.connection(key), call);
      await c.notify(method, params, this.timeout(call));
    } finally {
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left > 0) this.inflight.set(key, left);
      else this.inflight.delete(key);
    }
  }

  /** Per-session connections that each replica opens for itself (stdio children, legacy SSE): an agent's notification is for every replica's. */
  get perReplicaSessions(): boolean {
    return this.deps.options.sessions === 'per-session' && this.deps.options.kind !== 'streamable';
  }

  /** Whether a notification of an agent session goes to its own upstream connection on this replica. */
  holds(sessionId: string): boolean {
    const c = this.connections.get(sessionId);
    return c !== undefined && !c.closed;
  }

  /**
   * End the connection of an agent session (per-session servers) and its upstream session: the
   * one this replica holds, else `stored` (the agent session's record: another replica opened it).
   */
  async endSession(sessionId: string, stored?: UpstreamSessionState): Promise<void> {
    const c = this.connections.get(sessionId);
    if (c) {
      this.connections.delete(sessionId);
      await c.close();
      return;
    }
    if (!stored || !this.sharedAcrossReplicas(sessionId) || this.closedFlag) return;
    const target = this.url(new Set());
    if (!target) return;
    const resumed = await UpstreamConnection.open({ url: target.url, options: this.deps.options, dispatcher: this.deps.dispatcher, logger: this.logger, resume: stored });
    await resumed.close();
  }

  /** Close every connection (the server left the snapshot, or the gateway stops). */
  async close(): Promise<void> {
    this.closedFlag = true;
    clearInterval(this.sweeper);
    const all = [...this.connections];
    this.connections.clear();
    const pending = [...this.opening];
    // Upstream sessions kept for the other replicas outlive this one (they end with their agent session).
    await Promise.all([
      ...all.map(([key, c]) => c.close(!this.sharedAcrossReplicas(key))),
      ...pending.map(([key, p]) => p.then((c) => c.close(!this.sharedAcrossReplicas(key)), () => undefined)),
    ]);
  }
}
