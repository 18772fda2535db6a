/**
 * One connection to an upstream MCP server, on the official SDK's `Client` (2.x: it negotiates
 * the 2026-07-28 stateless era or the 2025 session era with the upstream): Streamable HTTP,
 * legacy HTTP+SSE, or a stdio child. Errors come out as the tool runtime's `ToolError`s
 * (UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL, UPSTREAM_ERROR).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Client, ProtocolError, SSEClientTransport, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport, parseJSONRPCMessage,
} from '@modelcontextprotocol/client';
import type { FetchLike, ServerCapabilities, Transport } from '@modelcontextprotocol/client';
import { fetch as undiciFetch } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import { ToolError } from '../errors.js';
import { AgentError } from '../executor.js';
import type { AgentChannel, CallCancellation } from '../executor.js';
import type { McpUpstreamOptions } from './config.js';
import { LEAN_METHODS, leanRequest, lowerCaseHeaders, type WireMessage } from './lean-http.js';
import type { UpstreamSessionState } from './session-state.js';
import { ChildStdioTransport, StdioProtocolError } from './stdio.js';

/** What the gateway calls itself to upstream servers. */
const CLIENT_INFO = { name: 'mcpgate', version: '0.1.0' };

/** One request the gateway has under way on a connection, and the agent it is for. */
interface ActiveCall {
  agent: AgentChannel | undefined;
  startedAt: number;
}

/** The call being sent (credentials passed through, its agent), read by the transport's fetch and the request handlers. */
interface CallScope {
  headers: Record<string, string> | undefined;
  call: ActiveCall;
  /** Where the upstream's messages on this call's answer stream are attributed. */
  connection: UpstreamConnection;
}
const callScope = new AsyncLocalStorage<CallScope>();

/** Requests an upstream MCP server may send its client, relayed to the agent. */
export const RELAYED_REQUESTS = ['sampling/createMessage', 'elicitation/create', 'roots/list'] as const;
/** The agent capability each relayed request needs. */
const NEEDS: Record<(typeof RELAYED_REQUESTS)[number], string> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };
/**
 * What a progress notification the gateway handled becomes before the SDK sees it (a method it
 * ignores): the SDK dispatches notifications a microtask later than responses, so the last
 * progress of a call that stdio delivers with its result would come after it, and be dropped.
 */
const PROGRESS_HANDLED = 'mcpgate/progress-handled';

/** What the gateway offers upstream as a client: whatever agents may offer (an agent without it is answered an error). */
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };
/**
 * How long after an attempt to open the upstream's standalone GET stream (2025 sessions) another
 * is made, when none is open here: the replica that held it may have died (see `ensureStream`).
 */
const STREAM_RETRY_MS = 3000;
/** Longest event id of the upstream's stream that is kept to resume it. */
const MAX_EVENT_ID_LENGTH = 256;

/** What the transport's fetch tells a connection of its standalone GET stream. */
interface StreamWatch {
  /** The GET stream opened (`open`), ended (`end`), or the upstream has none (`unsupported`: HTTP 405). */
  onState(state: 'open' | 'end' | 'unsupported'): void;
  /** An event id seen on it. */
  onEventId(id: string): void;
}

/** Where and how to connect. */
export interface ConnectionTarget {
  /** The upstream's MCP URL (HTTP kinds). */
  url?: string;
  options: McpUpstreamOptions;
  /** Backend connections (HTTP kinds): the gateway's guarded dispatcher. */
  dispatcher?: Dispatcher | undefined;
  logger: Logger;
  /** Notifications the upstream sends outside a request's progress (list_changed, resources/updated, log messages). */
  onNotification?: ((method: string, params: Record<string, unknown> | undefined) => void) | undefined;
  /** Streamable HTTP: continue this upstream session (opened by another replica) instead of initializing a new one. */
  resume?: UpstreamSessionState | undefined;
  /**
   * The agent of the one session this connection serves (per-session connections): what the
   * upstream asks outside any call (roots/list after the agent's roots/list_changed…) goes there.
   */
  agent?: AgentChannel | undefined;
  /** An event id of the upstream's standalone stream (2025 sessions with resumability), to be kept for other replicas. */
  onEventId?: ((id: string) => void) | undefined;
  /** The last event id of the upstream's stream kept for other replicas (read before reopening it: the last holder may have seen more). */
  storedEventId?: (() => Promise<string | undefined>) | undefined;
  /** The connection serves many agents (`sessions: shared`): their roots differ (see `rootsOf`). */
  shared?: boolean | undefined;
  /** Shared connections: the way to an agent session outside its calls (its roots are asked of it when they are those the upstream holds). */
  sessionAgent?: ((sessionId: string) => Promise<AgentChannel | undefined>) | undefined;
}

/** Requests of an agent before which a shared connection's upstream is told the roots changed, when they are another agent's. */
const ROOTS_SCOPED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Options of one request to the upstream. */
export interface UpstreamRequestOptions {
  timeoutMs: number;
  cancellation?: CallCancellation | undefined;
  /** Headers added to this request's HTTP exchange (credentials passed through). */
  headers?: Record<string, string> | undefined;
  /** The upstream's progress notifications for this request. */
  onProgress?: ((progress: number, total?: number, message?: string) => void) | undefined;
  /** The agent the request is for (its requests and notifications to the client are relayed there). */
  agent?: AgentChannel | undefined;
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Any failure of an upstream exchange as a ToolError with a stable code. */
export function toUpstreamError(err: unknown, what: string, timeoutMs?: number): ToolError {
  if (err instanceof ToolError) return err;
  if (err instanceof ProtocolError) {
    return new ToolError('UPSTREAM_ERROR', err.message.replace(/^MCP error -?\d+: /, ''), undefined, { rpcCode: err.code, data: err.data });
  }
  if (err instanceof StdioProtocolError) return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
  if (err instanceof SdkHttpError) {
    return new ToolError('UPSTREAM_PROTOCOL', `${what}: the upstream answered HTTP ${err.status}${err.statusText ? ` ${err.statusText}` : ''}`);
  }
  if (err instanceof SdkError) {
    switch (err.code) {
      case SdkErrorCode.RequestTimeout:
        return new ToolError('UPSTREAM_TIMEOUT', `${what}: no answer within ${timeoutMs ?? '?'} ms`);
      case SdkErrorCode.ConnectionClosed:
      case SdkErrorCode.NotConnected:
        return new ToolError('UPSTREAM_UNREACHABLE', `${what}: the upstream closed the connection`);
      case SdkErrorCode.EraNegotiationFailed: {
        const code = causeCode(err);
        if (code) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${code}`);
        return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
      }
      default:
        return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
    }
  }
  const code = causeCode(err);
  if (code) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${code === 'ENOENT' ? 'the command was not found' : code}`);
  const message = err instanceof Error ? err.message : String(err);
  if (/fetch failed|socket|ECONN|network/i.test(message)) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${message}`);
  return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${message}`);
}

/** Whether an error says the upstream forgot our session (HTTP 404 on a session request). */
export function isSessionGone(err: unknown): boolean {
  return err instanceof SdkHttpError && err.status === 404;
}

/** A fetch that goes through the gateway's dispatcher, adds the current call's headers and attributes its answer stream to the call. */
function gatewayFetch(dispatcher: Dispatcher | undefined, staticHeaders: Record<string, string>, watch?: StreamWatch): FetchLike {
  return (async (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(staticHeaders)) if (!headers.has(k)) headers.set(k, v);
    const scope = callScope.getStore();
    if (scope?.headers) for (const [k, v] of Object.entries(scope.headers)) if (!headers.has(k)) headers.set(k, v);
    // The SDK passes a standard RequestInit; undici's fetch takes the same with a dispatcher.
    const response = await undiciFetch(url, { ...(init as object), headers, ...(dispatcher ? { dispatcher } : {}) } as Parameters<typeof undiciFetch>[1]);
    if (watch && (init?.method ?? 'GET') === 'GET') {
      if (response.status === 405) watch.onState('unsupported');
      if (!response.ok || !response.body) return response;
      watch.onState('open');
      return new Response(watchStream(response.body as ReadableStream<Uint8Array>, watch), { status: response.status, statusText: response.statusText, headers: response.headers as unknown as Headers });
    }
    if (!scope?.call.agent || !response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
    return new Response(attributeStream(response.body as ReadableStream<Uint8Array>, scope), { status: response.status, statusText: response.statusText, headers: response.headers as unknown as Headers });
  }) as unknown as FetchLike;
}

/**
 * The SSE answer stream of one request, read on its way to the SDK: the upstream's requests on
 * it (sampling, elicitation, roots) are remembered as caused by the call, and its notifications
 * other than progress (log messages…) go to the call's agent at once and are taken out of the
 * stream. The SDK's transport tells its handlers nothing of the stream a message came on.
 */
function attributeStream(body: ReadableStream<Uint8Array>, scope: CallScope): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffered = '';
  const keep = (block: string): boolean => {
    if (!block.includes('"method"')) return true;
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n');
    let message: { id?: unknown; method?: unknown; params?: unknown };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return true;
    }
    if (typeof message?.method !== 'string') return true;
    if (message.id !== undefined && message.id !== null) {
      scope.connection.relate(message.id, scope.call);
      return true;
    }
    if (message.method === 'notifications/progress' || message.method === 'notifications/cancelled' || !scope.call.agent) return true;
    scope.call.agent.notify(message.method, message.params as Record<string, unknown> | undefined);
    return false;
  };
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      buffered += decoder.decode(chunk, { stream: true });
      let out = '';
      for (;;) {
        const end = /\r?\n\r?\n/.exec(buffered);
        if (!end) break;
        const block = buffered.slice(0, end.index);
        const whole = buffered.slice(0, end.index + end[0].length);
        buffered = buffered.slice(end.index + end[0].length);
        if (keep(block)) out += whole;
      }
      if (out) controller.enqueue(encoder.encode(out));
    },
    flush(controller) {
      buffered += decoder.decode();
      if (buffered) controller.enqueue(encoder.encode(buffered));
    },
  }));
}

/**
 * The upstream's standalone GET stream on its way to the SDK, unchanged: its event ids are noted
 * (to resume it elsewhere with Last-Event-ID) and its end is told (another attempt may open it).
 */
function watchStream(body: ReadableStream<Uint8Array>, watch: StreamWatch): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let partial = '';
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    watch.onState('end');
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (r.done) {
          end();
          controller.close();
          return;
        }
        partial += decoder.decode(r.value, { stream: true });
        const lines = partial.split(/\r?\n/);
        partial = (lines.pop() ?? '').slice(-MAX_EVENT_ID_LENGTH - 8);
        for (const line of lines) {
          if (!line.startsWith('id:')) continue;
          const id = line.slice(line.startsWith('id: ') ? 4 : 3);
          if (id !== '' && id.length <= MAX_EVENT_ID_LENGTH) watch.onEventId(id);
        }
        controller.enqueue(r.value);
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}

/** Rejects after `ms` with UPSTREAM_TIMEOUT, whatever the SDK does (a guarantee against hangs). */
function deadline<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new ToolError('UPSTREAM_TIMEOUT', `${what}: no answer within ${ms} ms`));
    }, ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** An open, initialized connection to an upstream MCP server. */
export class UpstreamConnection {
  /** Requests running on it. */
  active = 0;
  /** When it was last used (epoch ms). */
  lastUsed = Date.now();
  private closedFlag = false;
  private closing = false;
  private readonly closeListeners: (() => void)[] = [];
  /** The last transport-level error (garbage on the wire), to explain a request that then timed out. */
  private lastError: { at: number; error: Error } | undefined;
  /** Requests under way, with their agents. */
  private readonly calls = new Set<ActiveCall>();
  /** The upstream's requests seen on a call's answer stream, by their id, with that call. */
  private readonly related = new Map<unknown, ActiveCall>();
  /** The upstream session this connection continued (no initialize of its own). */
  private resumed: UpstreamSessionState | undefined;
  /** The agent of the session this connection serves alone, for what the upstream asks outside calls. */
  private defaultAgent: AgentChannel | undefined;
  /** The upstream's standalone GET stream (2025 sessions) as held by this connection. */
  private stream: 'none' | 'opening' | 'open' | 'unsupported' = 'none';
  private streamTriedAt = Date.now();
  /** The last event id seen on the upstream's standalone stream (to resume it with Last-Event-ID). */
  private lastEventId: string | undefined;
  private storedEventId: (() => Promise<string | undefined>) | undefined;
  /** Streamable HTTP: where the lean per-call path (lean-http.ts) sends requests, while the connection speaks the 2025 era. */
  private lean: { url: string; dispatcher: Dispatcher | undefined; staticHeaders: Record<string, string> } | undefined;
  private leanCounter = 0;
  /** Lean requests under way: aborted when the connection closes. */
  private readonly leanCalls = new Set<AbortController>();
  /** Serving many agents (`sessions: shared`). */
  private shared = false;
  /** Shared connections: whether the upstream asks for roots (it asked once), and whose it was last given (a session id, or a stateless agent's channel). */
  private asksRoots = false;
  private rootsOf: unknown;
  private sessionAgent: ConnectionTarget['sessionAgent'];

  private constructor(
    readonly client: Client,
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /** Connect and initialize (or discover); rejects with a ToolError within `connectTimeoutMs`. */
  static async open(target: ConnectionTarget): Promise<UpstreamConnection> {
    const { options, logger } = target;
    const mode = options.protocolVersion === '2026-07-28' ? { pin: '2026-07-28' } : options.protocolVersion;
    const client = new Client(CLIENT_INFO, {
      capabilities: CLIENT_CAPABILITIES,
      versionNegotiation: { mode, probe: { timeoutMs: options.connectTimeoutMs } },
      defaultCacheTtlMs: 0,
    });
    let transport: Transport;
    // Set right below; the transport's fetch (which needs it) runs only once connected.
    // eslint-disable-next-line prefer-const
    let connection: UpstreamConnection | undefined;
    if (options.kind === 'stdio') {
      if (!options.launch) throw new ToolError('UPSTREAM_UNREACHABLE', 'the stdio server has no command');
      transport = new ChildStdioTransport({ launch: options.launch, logger });
    } else {
      if (!target.url) throw new ToolError('UPSTREAM_UNREACHABLE', 'the MCP server has no usable upstream address');
      const url = new URL(target.url);
      const fetch = gatewayFetch(target.dispatcher, options.headers, options.kind === 'streamable' ? {
        onState: (state) => connection?.streamState(state),
        onEventId: (id) => {
          if (!connection) return;
          connection.lastEventId = id;
          target.onEventId?.(id);
        },
      } : undefined);
      transport = options.kind === 'sse'
        ? new SSEClientTransport(url, { fetch })
        : new StreamableHTTPClientTransport(url, { fetch, ...(target.resume ? { sessionId: target.resume.sessionId } : {}), reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } });
    }
    connection = new UpstreamConnection(client, transport, logger);
    connection.defaultAgent = target.agent;
    connection.shared = target.shared === true;
    connection.sessionAgent = target.sessionAgent;
    connection.storedEventId = target.storedEventId;
    client.onerror = (error) => connection.noteError(error);
    const relay = target.onNotification;
    if (relay) {
      client.fallbackNotificationHandler = async (n) => {
        if (n.method === PROGRESS_HANDLED) return;
        if (!connection.relayNotification(n.method, n.params as Record<string, unknown> | undefined)) relay(n.method, n.params as Record<string, unknown> | undefined);
      };
    }
    for (const method of RELAYED_REQUESTS) {
      client.setRequestHandler(method, ((request: { params?: Record<string, unknown> }, ctx: { mcpReq: { id: unknown; signal: AbortSignal } }) =>
        connection.relayRequest(method, request.params ?? {}, ctx.mcpReq.id, ctx.mcpReq.signal)) as never);
    }
    client.onclose = () => connection.markClosed();
    // Seen before the SDK's own handling (Protocol.connect keeps a handler already set and calls it first).
    transport.onmessage = (message) => connection.early(message as { method?: unknown; params?: Record<string, unknown> });
    const what = 'connecting to the upstream MCP server';
    const resume = options.kind === 'streamable' ? target.resume : undefined;
    if (options.kind === 'streamable') connection.lean = { url: target.url as string, dispatcher: target.dispatcher, staticHeaders: lowerCaseHeaders(options.headers) };
    try {
      if (resume) {
        // The session exists upstream: attach without initialize (a 404 on the first request re-initializes).
        await client.connect(transport, { prior: { kind: 'legacy' } });
        transport.setProtocolVersion?.(resume.protocolVersion);
        connection.resumed = resume;
        connection.lastEventId = resume.lastEventId;
        // The replica that held the upstream's stream may be gone: open it here if nobody holds it.
        connection.streamTriedAt = 0;
        connection.ensureStream();
        return connection;
      }
      await deadline(client.connect(transport, { timeout: options.connectTimeoutMs }), options.connectTimeoutMs + 100, what);
    } catch (err) {
      await connection.close();
      throw toUpstreamError(err, what, options.connectTimeoutMs);
    }
    return connection;
  }

  /** Progress callbacks of requests under way, by the progress token the gateway gave them. */
  private readonly progress = new Map<string, NonNullable<UpstreamRequestOptions['onProgress']>>();
  private progressCounter = 0;

  /** A message of the upstream, before the SDK handles it: progress of a call goes to its callback at once. */
  early(message: { method?: unknown; params?: Record<string, unknown> }): void {
    if (message.method !== 'notifications/progress' || this.progress.size === 0) return;
    const p = message.params ?? {};
    const callback = typeof p.progressToken === 'string' ? this.progress.get(p.progressToken) : undefined;
    if (!callback || typeof p.progress !== 'number') return;
    callback(p.progress, typeof p.total === 'number' ? p.total : undefined, typeof p.message === 'string' ? p.message : undefined);
    message.method = PROGRESS_HANDLED;
  }

  /** Remember that the upstream's request `id` came on the answer stream of `call`. */
  relate(id: unknown, call: ActiveCall): void {
    if (this.calls.has(call)) this.related.set(id, call);
  }

  /**
   * The call a request or notification of the upstream belongs to: the one whose fetch is under
   * way (a 2026-07-28 upstream's input_required, fulfilled within the call), the one on whose
   * answer stream it came, or else the one call with an agent under way (several agents' calls at
   * once on a shared stdio or SSE connection cannot be told apart: none).
   */
  private callFor(id: unknown): ActiveCall | undefined {
    const scoped = callScope.getStore();
    if (scoped?.connection === this) return scoped.call;
    const related = id === undefined ? undefined : this.related.get(id);
    if (related) return related;
    let found: ActiveCall | undefined;
    for (const c of this.calls) {
      if (!c.agent) continue;
      if (found && found.agent !== c.agent && (found.agent?.sessionId === undefined || found.agent.sessionId !== c.agent.sessionId)) return undefined;
      if (!found || c.startedAt > found.startedAt) found = c;
    }
    return found;
  }

  /** A request of the upstream (sampling, elicitation, roots): asked of the agent of the call that caused it. */
  private async relayRequest(method: (typeof RELAYED_REQUESTS)[number], params: Record<string, unknown>, id: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
    const call = this.callFor(id);
    this.related.delete(id);
    let agent = call?.agent ?? this.defaultAgent;
    if (method === 'roots/list') {
      this.asksRoots = true;
      // A shared connection outside calls: the roots it holds are one session's, asked of it again (its roots changed).
      if (!agent && this.shared && typeof this.rootsOf === 'string') agent = await this.sessionAgent?.(this.rootsOf).catch(() => undefined);
    }
    if (!agent) {
      if (method === 'roots/list' && this.shared) throw new ProtocolError(-32603, 'roots/list: roots are unavailable: this connection serves several agents (upstream.sessions: shared) and no call of one that can answer is under way; the roots of an agent are listed during its calls');
      throw new ProtocolError(-32603, `${method}: mcpgate cannot tell which agent this request is for (no call of an agent that can answer it is under way on this connection)`);
    }
    if (agent.capabilities?.[NEEDS[method]] === undefined) throw new ProtocolError(-32601, `${method}: the agent does not offer ${NEEDS[method]}`);
    try {
      const answer = await agent.request(method, params, signal);
      if (method === 'roots/list') this.rootsOf = agent.sessionId ?? agent;
      return answer;
    } catch (err) {
      if (err instanceof AgentError) throw new ProtocolError(err.code, err.message, err.data);
      throw new ProtocolError(-32603, `${method}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * A notification of the upstream outside any answer stream (stdio, legacy SSE, the standalone
   * GET stream): a log message goes to the agent of the call under way, when there is one.
   * Answers whether it was delivered.
   */
  relayNotification(method: string, params: Record<string, unknown> | undefined): boolean {
    if (method !== 'notifications/message') return false;
    const agent = this.callFor(undefined)?.agent;
    if (!agent) return false;
    agent.notify(method, params);
    return true;
  }

  private noteError(error: Error): void {
    // A standalone stream this connection could not open (another replica holds it: 409) is no transport failure.
    if (error instanceof SdkHttpError && error.code === SdkErrorCode.ClientHttpFailedToOpenStream) {
      this.logger.debug({ err: error }, 'the upstream\'s stream is not open here');
      return;
    }
    this.lastError = { at: Date.now(), error };
    this.logger.debug({ err: error }, 'upstream MCP transport error');
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const a of this.leanCalls) a.abort();
    for (const l of this.closeListeners.splice(0)) l();
  }

  private streamState(state: 'open' | 'end' | 'unsupported'): void {
    if (state === 'end' && this.stream === 'unsupported') return;
    this.stream = state === 'end' ? 'none' : state;
  }

  /**
   * Open the upstream's standalone GET stream (2025 sessions) when this connection holds none and
   * has not tried for `STREAM_RETRY_MS`, resuming after the last event id known: the upstream's
   * notifications outside requests (resources/updated, list_changed, its requests) come on it. An
   * upstream that allows one stream per session refuses it (409) while another replica holds
   * it; when that replica dies, the next one serving the session opens it.
   */
  ensureStream(): void {
    if (this.stream !== 'none' || this.closedFlag || !(this.transport instanceof StreamableHTTPClientTransport) || !this.transport.sessionId) return;
    const now = Date.now();
    if (now - this.streamTriedAt < STREAM_RETRY_MS) return;
    this.streamTriedAt = now;
    this.stream = 'opening';
    // Not within a call's scope: the stream belongs to the connection.
    const transport = this.transport;
    callScope.exit(async () => {
      const stored = await this.storedEventId?.().catch(() => undefined);
      if (stored !== undefined) this.lastEventId = stored;
      if (this.closedFlag) return;
      await transport.resumeStream(this.lastEventId ?? '');
    }).then(
      () => { if (this.stream === 'opening') this.stream = 'none'; },
      (err: unknown) => {
        if (this.stream === 'opening') this.stream = 'none';
        this.logger.debug({ err }, 'could not open the upstream\'s stream');
      },
    );
  }

  /** Shared connections: whether the roots the upstream was last given are those of the agent session `sessionId`. */
  holdsRootsOf(sessionId: string): boolean {
    return this.rootsOf === sessionId;
  }

  /**
   * Shared connections: before a call of an agent session other than the one whose roots the
   * upstream last listed, the upstream is told the roots changed (once per change of agent), so
   * that a server that lists them again does so during this call, and gets this agent's.
   * 2026-07-28 agents (no session) are not: each of their calls would cost a round trip.
   */
  private async rootsFor(owner: string, timeoutMs: number): Promise<void> {
    if (owner === this.rootsOf) return;
    this.rootsOf = owner;
    await this.notify('notifications/roots/list_changed', undefined, timeoutMs).catch((err: unknown) => this.logger.debug({ err }, 'could not tell the upstream the roots changed'));
  }

  /** Send a notification of the agent to the upstream (roots/list_changed). */
  async notify(method: string, params: Record<string, unknown> | undefined, timeoutMs: number): Promise<void> {
    this.lastUsed = Date.now();
    try {
      await deadline(this.client.notification({ method, ...(params ? { params } : {}) } as never), timeoutMs, `upstream ${method}`);
    } catch (err) {
      throw toUpstreamError(err, `upstream ${method}`, timeoutMs);
    }
  }

  /** Whether the connection can take requests. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Run `listener` once when the connection closes (the upstream went away, or `close`). */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** What the upstream offers (its initialize or discover answer). */
  get capabilities(): ServerCapabilities {
    return this.client.getServerCapabilities() ?? (this.resumed?.capabilities as ServerCapabilities | undefined) ?? {};
  }

  /** The 2025 upstream session this connection speaks in (Streamable HTTP with an `Mcp-Session-Id`), to be continued elsewhere. */
  get sessionState(): UpstreamSessionState | undefined {
    if (!(this.transport instanceof StreamableHTTPClientTransport)) return undefined;
    const sessionId = this.transport.sessionId;
    const protocolVersion = this.transport.protocolVersion;
    if (!sessionId || !protocolVersion) return undefined;
    return { sessionId, protocolVersion, capabilities: this.capabilities as Record<string, unknown>, ...(this.lastEventId !== undefined ? { lastEventId: this.lastEventId } : {}) };
  }

  /** Whether it continued a session another connection opened (rather than initializing its own). */
  get isResumed(): boolean {
    return this.resumed !== undefined;
  }

  /** The upstream's `instructions`, if any. */
  get instructions(): string | undefined {
    return this.client.getInstructions();
  }

  /** The era the connection speaks: `modern` (2026-07-28) or `legacy` (2025 sessions, 2024 SSE). */
  get era(): string | undefined {
    return this.client.getProtocolEra();
  }

  /**
   * Send one request and answer its result; a failure is a ToolError (UPSTREAM_ERROR carrying
   * the upstream's JSON-RPC error; a timeout, a closed connection, garbage: the others).
   */
  async request(method: string, params: Record<string, unknown>, o: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    if (this.stream === 'none') this.ensureStream();
    this.active++;
    this.lastUsed = Date.now();
    const started = Date.now();
    if (this.shared && this.asksRoots && o.agent?.sessionId !== undefined && o.agent.capabilities?.roots !== undefined && ROOTS_SCOPED.has(method)) await this.rootsFor(o.agent.sessionId, o.timeoutMs);
    const call: ActiveCall = { agent: o.agent, startedAt: performance.now() };
    this.calls.add(call);
    let progressToken: string | undefined;
    const abort = new AbortController();
    const onCancel = () => abort.abort();
    o.cancellation?.onCancel(onCancel);
    const what = `upstream ${method}`;
    try {
      // Sent inside the call's headers context, which the transport's fetch reads.
      let sent = params;
      if (o.onProgress) {
        progressToken = `mcpgate-${++this.progressCounter}`;
        this.progress.set(progressToken, o.onProgress);
        sent = { ...params, _meta: { ...(params._meta as Record<string, unknown> | undefined), progressToken } };
      }
      const lean = this.leanPath(method);
      const send = lean
        ? () => this.leanSend(method, sent, o, call, abort, what)
        : () => this.client.request({ method: method as 'tools/call', params: sent }, { timeout: o.timeoutMs, maxTotalTimeout: o.timeoutMs, signal: abort.signal });
      const work = o.headers || o.agent ? callScope.run({ headers: o.headers, call, connection: this }, send) : send();
      // The lean path keeps its own deadline (it aborts the exchange and tells the upstream).
      return (await (lean ? work : deadline(work, o.timeoutMs + 100, what, () => abort.abort()))) as unknown as Record<string, unknown>;
    } catch (err) {
      const e = toUpstreamError(err, what, o.timeoutMs);
      // A request that timed out after the upstream sent garbage failed because of the garbage.
      if (e.code === 'UPSTREAM_TIMEOUT' && this.lastError && this.lastError.at >= started) {
        throw toUpstreamError(this.lastError.error instanceof StdioProtocolError ? this.lastError.error : new StdioProtocolError(this.lastError.error.message), what);
      }
      // A forgotten session is the runtime's to handle (it initializes again); a lost upstream ends this connection.
      if (isSessionGone(err)) throw err;
      if (e.code === 'UPSTREAM_UNREACHABLE') this.markClosed();
      throw e;
    } finally {
      o.cancellation?.offCancel(onCancel);
      this.calls.delete(call);
      if (progressToken !== undefined) this.progress.delete(progressToken);
      if (this.related.size > 0) for (const [id, c] of this.related) if (c === call) this.related.delete(id);
      this.active--;
      this.lastUsed = Date.now();
    }
  }

  /** Whether `method` goes on the lean path: a Streamable HTTP connection in the 2025 era (2026-07-28 requests stay with the SDK). */
  private leanPath(method: string): boolean {
    if (!this.lean || !LEAN_METHODS.has(method) || this.client.getProtocolEra() === 'modern') return false;
    const version = (this.transport as StreamableHTTPClientTransport).protocolVersion;
    return version !== undefined && version < '2026-07-28';
  }

  /**
   * One request on the lean path (lean-http.ts): the upstream's other messages on the answer
   * stream go where the SDK transport's would (progress of this call to its callback, the
   * upstream's requests to the SDK client's relay handlers, other notifications to the call's
   * agent); a timeout or a cancellation tells the upstream (notifications/cancelled), as the SDK does.
   */
  private async leanSend(method: string, params: Record<string, unknown>, o: UpstreamRequestOptions, call: ActiveCall, abort: AbortController, what: string): Promise<Record<string, unknown>> {
    const lean = this.lean as NonNullable<UpstreamConnection['lean']>;
    const transport = this.transport as StreamableHTTPClientTransport;
    const id = `mcpgate-${++this.leanCounter}`;
    const progressToken = (params._meta as { progressToken?: unknown } | undefined)?.progressToken;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, o.timeoutMs);
    const onAbort = () => {
      if (this.closedFlag) return;
      this.client.notification({ method: 'notifications/cancelled', params: { requestId: id, reason: timedOut ? `no answer within ${o.timeoutMs} ms` : 'the agent cancelled the call' } })
        .catch((err: unknown) => this.logger.debug({ err }, 'telling the upstream of a cancelled request failed'));
    };
    abort.signal.addEventListener('abort', onAbort, { once: true });
    this.leanCalls.add(abort);
    try {
      return await leanRequest({
        url: lean.url, dispatcher: lean.dispatcher, staticHeaders: lean.staticHeaders, headers: o.headers,
        sessionId: transport.sessionId, protocolVersion: transport.protocolVersion,
        id, method, params, signal: abort.signal, what,
        onMessage: (m) => this.leanMessage(m, call, progressToken, o.onProgress),
      });
    } catch (err) {
      if (!abort.signal.aborted) throw err;
      if (this.closedFlag) throw new ToolError('UPSTREAM_UNREACHABLE', `${what}: the upstream closed the connection`);
      if (timedOut) throw new ToolError('UPSTREAM_TIMEOUT', `${what}: no answer within ${o.timeoutMs} ms`);
      throw new ToolError('UPSTREAM_PROTOCOL', `${what}: cancelled`);
    } finally {
      clearTimeout(timer);
      abort.signal.removeEventListener('abort', onAbort);
      this.leanCalls.delete(abort);
    }
  }

  /** A message of the upstream on a lean call's answer stream, other than the answer. */
  private leanMessage(m: WireMessage, call: ActiveCall, progressToken: unknown, onProgress: UpstreamRequestOptions['onProgress']): void {
    if (typeof m.method === 'string' && (m.id === undefined || m.id === null)) {
      const params = (typeof m.params === 'object' && m.params !== null ? m.params : undefined) as Record<string, unknown> | undefined;
      if (m.method === 'notifications/progress') {
        if (onProgress && progressToken !== undefined && params?.progressToken === progressToken && typeof params.progress === 'number') {
          onProgress(params.progress, typeof params.total === 'number' ? params.total : undefined, typeof params.message === 'string' ? params.message : undefined);
          return;
        }
      } else if (m.method !== 'notifications/cancelled' && call.agent) {
        call.agent.notify(m.method, params);
        return;
      }
    } else if (typeof m.method === 'string') {
      this.relate(m.id, call);
    }
    // As the SDK's transport would deliver it (checked as it checks it).
    let message: ReturnType<typeof parseJSONRPCMessage>;
    try {
      message = parseJSONRPCMessage(m);
    } catch (err) {
      this.noteError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.transport.onmessage?.(message);
  }

  /** Whether the gateway closed the connection (rather than the upstream going away). */
  get closedByGateway(): boolean {
    return this.closing;
  }

  /**
   * Close the connection (a stdio child stopped; a 2025 session ended upstream unless
   * `endUpstreamSession` is false: other replicas continue it).
   */
  async close(endUpstreamSession = true): Promise<void> {
    this.closing = true;
    this.markClosed();
    try {
      if (endUpstreamSession && this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId) {
        await deadline(this.transport.terminateSession(), 2000, 'ending the upstream session').catch(() => undefined);
      }
      await this.client.close();
    } catch (err) {
      this.logger.debug({ err }, 'closing an upstream MCP connection failed');
    }
    if (this.transport instanceof ChildStdioTransport) await this.transport.close();
  }
}
