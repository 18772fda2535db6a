/**
 * The MCP endpoints, for every protocol era at once, over node:http:
 *
 * - `POST /mcp/{ns}/{server}`: 2026-07-28 stateless requests (told apart by their `_meta`
 *   envelope) and 2025-03-26 … 2025-11-25 Streamable HTTP with sessions;
 * - `GET` / `DELETE` on the same path: a 2025 session's server stream (resumable with
 *   Last-Event-ID) and its end;
 * - `GET /mcp/{ns}/{server}/sse` + `POST …/message?sessionId=`: the legacy HTTP+SSE transport.
 *
 * The transport is ours rather than the SDK's server transports: one process must serve all
 * three eras on one path, share sessions and streams across replicas through the
 * SessionStore / MessageBus / EventStore ports, and stay on the request path's budget
 * (see docs/architecture.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import { hashConsumerKey } from '../../model/consumer-key.js';
import { Cancellation } from '../../tools/cancellation.js';
import { GatewayError, toGatewayError } from '../errors.js';
import type { GatewayLimits } from '../limits.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { CompiledConsumer, CompiledServer, GatewaySnapshot } from '../snapshot.js';
import { EMPTY_SNAPSHOT, serverKey } from '../snapshot.js';
import type { EventStore, MessageBus, SessionRecord, SessionStore } from '../sessions/types.js';
import { SessionLimitError, sseChannel, streamChannel } from '../sessions/types.js';
import type { ClientHeaders } from '../../tools/executor.js';
import { readJsonBody } from './body.js';
import type { JsonRpcId, JsonRpcMessage } from './jsonrpc.js';
import { classify, errorMessage, idOf, notificationMessage, resultMessage } from './jsonrpc.js';
import type { CallContext } from './protocol.js';
import {
  LEGACY_VERSIONS, META, MODERN_VERSIONS, allowsAny, decorateModern, handleRequest, initializeResult, knowsMethod,
} from './protocol.js';
import { WriteGuard } from './write-guard.js';
import type { TokenAccess } from '../auth/token-access.js';

/** Options of the MCP endpoints. */
export interface McpHandlerOptions {
  logger: Logger;
  sessions: SessionStore;
  bus: MessageBus;
  events: EventStore;
  /** Largest request body; default 4 MiB. */
  bodyLimitBytes?: number;
  /** Keep-alive period of open streams (and refresh of their sessions); default 15 s. */
  keepAliveMs?: number | undefined;
  /** Bounds on sessions, batches, JSON and slow clients; the defaults when omitted. */
  limits?: GatewayLimits | undefined;
  /** Observes each tools/call (for metrics). */
  onToolCall?: (server: string, tool: string, seconds: number, isError: boolean) => void;
  /** Observes each request refused or connection closed by a limit, named as its option (for metrics). */
  onLimit?: (limit: string) => void;
  /** OAuth access tokens, rate limits and token exchange of endpoints that configure them (src/gateway/auth). */
  tokenAccess?: TokenAccess;
}

/** A stream this process holds open. */
interface HeldStream {
  res: ServerResponse;
  serverKey: string;
  /** For 2026-07-28 listen streams: the subscription id and what was asked for. */
  subscriptionId?: JsonRpcId;
  filter?: { toolsListChanged?: boolean; promptsListChanged?: boolean };
  /** For 2025 GET streams: the session whose events are stored for replay. */
  sessionId?: string;
  /** For 2025 GET streams being resumed: messages that wait for the replay. */
  pending?: string[];
  /** For legacy SSE streams: the session kept alive while its stream is open. */
  keepAliveSessionId?: string;
  /** The consumer key the stream was opened with (null in an open namespace): its grants decide what it is told. */
  consumerId: string | null;
  close?: () => Promise<void>;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/**
 * Control message on a 2025 session's stream channel (JSON-RPC payloads start with `{`): the
 * session's stream was replaced (a GET on another replica) or the session ended (DELETE on
 * another replica), so whichever replica still holds an older stream closes it. It ends with
 * the token of the stream that replaces it (which ignores its own), empty for a DELETE.
 */
const CLOSE_STREAM = 'mcpgate:close-stream:';
/**
 * Channel on which a replica that receives `notifications/cancelled` for a request it is not
 * running asks the others to abort it (payload: `{sessionId}:{requestId}`); without stickiness
 * the cancellation rarely lands on the replica running the call.
 */
const CANCEL_CHANNEL = 'mcp-server-cancel';
/** The first protocol version whose clients take an id-only "priming" event (2025-11-25). */
const PRIMING_SINCE = '2025-11-25';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'accept', 'accept-encoding', 'last-event-id']);
const HEADER_SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/**
 * Where a legacy SSE session keeps the query string of its GET: among its headers (sealed with
 * them in Redis) under a name no header can have, so it is never forwarded as one.
 */
const SSE_QUERY = '?';

/** The query string of a request, without `?`. */
function queryOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Decode an `=?base64?…?=` header value (2026-07-28); undefined when the sentinel is malformed. */
function decodeHeaderValue(v: string): string | undefined {
  const trimmed = v.trim();
  if (!trimmed.startsWith('=?base64?')) return trimmed;
  const m = HEADER_SENTINEL.exec(trimmed);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : undefined;
}

/** Serves MCP for every server of the current snapshot. */
export class McpHandler {
  private snapshot: GatewaySnapshot = EMPTY_SNAPSHOT;
  private readonly streams = new Set<HeldStream>();
  private readonly inflight = new Map<string, Cancellation>();
  private readonly keepAlive: NodeJS.Timeout;
  private readonly bodyLimit: number;
  private readonly limits: GatewayLimits;
  private readonly guard: WriteGuard;
  /** Short digests of servers' tools and prompts lists, as carried in 2025 stream event ids. */
  private readonly digests = new WeakMap<CompiledServer, string>();
  private closed = false;
  private cancelRetry: NodeJS.Timeout | undefined;
  private unsubscribeCancels: (() => Promise<void>) | undefined;

  constructor(private readonly opts: McpHandlerOptions) {
    this.bodyLimit = opts.bodyLimitBytes ?? 4 * 1024 * 1024;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.guard = new WriteGuard({
      maxBufferedBytes: this.limits.streamMaxBufferedBytes, writeTimeoutMs: this.limits.streamWriteTimeoutMs,
      onDrop: (reason, bytes) => {
        this.opts.logger.warn({ reason, bufferedBytes: bytes }, 'closed a connection whose client does not read what it is sent');
        this.opts.onLimit?.(reason);
      },
    });
    this.keepAlive = setInterval(() => {
      // A session whose stream is open is in use even when the client sends nothing; a stream
      // whose session is gone (ended on another replica, expired, lost with Redis) is closed,
      // so that its client notices and starts again. All of them in one call to the store.
      const bySession = new Map<string, HeldStream>();
      for (const s of this.streams) {
        if (!this.guard.writeStream(s.res, ': keepalive\n\n')) continue;
        const id = s.sessionId ?? s.keepAliveSessionId;
        if (id) bySession.set(id, s);
      }
      if (bySession.size === 0) return;
      this.opts.sessions.touch([...bySession.keys()]).then((live) => {
        for (const [id, s] of bySession) if (!live.has(id)) this.endStream(s);
      }, (err: unknown) => this.opts.logger.debug({ err }, 'could not refresh the sessions of open streams'));
    }, opts.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
    this.listenForCancels();
  }

  /** Subscribe to cancellations sent by other replicas (retried until the bus answers; kept across reconnects by the bus). */
  private listenForCancels(): void {
    if (this.closed) return;
    this.opts.bus.subscribe(CANCEL_CHANNEL, (key) => {
      if (key.includes(':')) this.inflight.get(key)?.cancel();
      else this.cancelSessionCalls(key);
    }).then((unsubscribe) => {
      if (this.closed) unsubscribe().catch(() => undefined);
      else this.unsubscribeCancels = unsubscribe;
    }, () => {
      if (this.closed) return;
      this.cancelRetry = setTimeout(() => this.listenForCancels(), 2000);
      this.cancelRetry.unref();
    });
  }

  /** Abort a request of a session: here if it runs here, else on the replica that runs it. */
  private cancel(sessionId: string, requestId: unknown): void {
    const key = `${sessionId}:${String(requestId)}`;
    const local = this.inflight.get(key);
    if (local) return local.cancel();
    this.opts.bus.publish(CANCEL_CHANNEL, key).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward a cancellation'));
  }

  /** Abort every call of a session that runs here (its legacy SSE stream, where the answers go, closed). */
  private cancelSessionCalls(sessionId: string): void {
    const prefix = `${sessionId}:`;
    for (const [key, c] of this.inflight) if (key.startsWith(prefix)) c.cancel();
  }

  /** End a held stream (its client reconnects or gives up). */
  private endStream(s: HeldStream): void {
    if (!this.streams.delete(s)) return;
    s.res.end();
    s.close?.().catch((err: unknown) => this.opts.logger.debug({ err }, 'could not unsubscribe a closed stream'));
  }

  /**
   * Digest of what a 2025 client was last told about its server's tools and prompts lists: 6 hex
   * characters each, appended to the stream's event ids (`{event id}.{tools}{prompts}`), so that
   * whichever replica a client resumes on can tell whether a list changed while no replica held
   * the stream (its holder died) and send the list_changed it missed.
   */
  private digest(key: string): string {
    const server = this.snapshot.servers.get(key);
    if (!server) return '000000000000';
    let d = this.digests.get(server);
    if (d === undefined) {
      const h = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);
      d = `${h(server.toolsFingerprint)}${h(server.promptsFingerprint)}`;
      this.digests.set(server, d);
    }
    return d;
  }

  /** The snapshot being served. */
  get current(): GatewaySnapshot {
    return this.snapshot;
  }

  /** How many streams this process holds open. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** When each consumer key was last let in (epoch ms), since the last take: at most one entry per key. */
  private readonly consumerUses = new Map<string, number>();

  /** The consumer keys let in since the last call, with when (reported to the registry: the console's "last used"). */
  takeConsumerUses(): { id: string; at: number }[] {
    const uses = [...this.consumerUses].map(([id, at]) => ({ id, at }));
    this.consumerUses.clear();
    return uses;
  }

  /** Swap in a new snapshot and tell open streams whose server's tools or prompts changed. */
  setSnapshot(next: GatewaySnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    const changed = (key: string, pick: (s: CompiledServer) => string) => {
      const a = previous.servers.get(key);
      const b = next.servers.get(key);
      return (a ? pick(a) : '') !== (b ? pick(b) : '');
    };
    const keys = new Set([...previous.servers.keys(), ...next.servers.keys()]);
    const toolsChanged = new Set<string>();
    for (const key of keys) {
      if (changed(key, (s) => s.toolsFingerprint)) toolsChanged.add(key);
      const prompts = changed(key, (s) => s.promptsFingerprint);
      if (prompts) for (const s of this.streams) if (s.serverKey === key) this.notify(s, 'notifications/prompts/list_changed', 'promptsListChanged');
    }
    // A consumer key whose grants changed sees other tools, though no server's list changed.
    const before = grants(previous);
    const after = grants(next);
    for (const s of this.streams) {
      const regranted = s.consumerId !== null && before.get(s.consumerId) !== after.get(s.consumerId);
      if (toolsChanged.has(s.serverKey) || regranted) this.notify(s, 'notifications/tools/list_changed', 'toolsListChanged');
    }
  }

  /** Send a list_changed notification on a held stream, in the form its era takes. */
  private notify(s: HeldStream, method: string, filterKey: 'toolsListChanged' | 'promptsListChanged'): void {
    if (s.subscriptionId !== undefined) {
      if (s.filter?.[filterKey]) this.event(s.res, notificationMessage(method, { _meta: { [META.subscriptionId]: s.subscriptionId } }));
    } else if (s.sessionId) {
      this.deliver(s, notificationMessage(method));
    } else {
      this.event(s.res, notificationMessage(method));
    }
  }

  private async sendOnSessionStream(s: HeldStream, message: string, digest = this.digest(s.serverKey)): Promise<void> {
    try {
      const id = await this.opts.events.append(s.sessionId as string, message);
      this.event(s.res, message, `${id}.${digest}`);
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not store a stream event; sent without an id');
      this.event(s.res, message);
    }
  }

  /** Write one SSE message event (a client too far behind loses its stream instead). */
  private event(res: ServerResponse, data: string, id?: string): void {
    this.guard.writeStream(res, `${id ? `id: ${id}\n` : ''}event: message\ndata: ${data}\n\n`);
  }

  /** Close every held stream (shutdown): listen streams get their graceful end. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.keepAlive);
    clearTimeout(this.cancelRetry);
    await this.unsubscribeCancels?.().catch(() => undefined);
    for (const c of this.inflight.values()) c.cancel();
    for (const s of [...this.streams]) {
      if (s.subscriptionId !== undefined) this.event(s.res, resultMessage(s.subscriptionId, { resultType: 'complete', _meta: { [META.subscriptionId]: s.subscriptionId } }));
      s.res.end();
      await s.close?.().catch(() => undefined);
    }
    this.streams.clear();
    this.guard.close();
  }

  /** Answer a request refused before it reached the MCP endpoints (Host, Origin) as a JSON-RPC error. */
  refuse(res: ServerResponse, err: GatewayError): void {
    this.fail(res, err, null);
  }

  /** Handle a request under `/mcp/` (its Host and Origin already checked); `path` is the part after `/mcp/`. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const route = this.route(path);
      const snapshot = this.snapshot;
      const server = snapshot.servers.get(serverKey(route.namespace, route.name));
      const consumer = server?.access && this.opts.tokenAccess
        ? await this.opts.tokenAccess.authenticate(req, server, snapshot.securedNamespaces.has(route.namespace), () => this.authenticate(req, snapshot, route.namespace))
        : this.authenticate(req, snapshot, route.namespace);
      if (!server) throw new GatewayError('ROUTE_NOT_FOUND', `no MCP server '${route.name}' in namespace '${route.namespace}'`);
      if (!allowsAny(consumer, server.name)) throw new GatewayError('FORBIDDEN', `this key may not use MCP server '${server.name}'`);
      if (route.kind === 'sse') {
        if (req.method !== 'GET') throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'GET' });
        return await this.openLegacySse(req, res, server, consumer, path);
      }
      if (route.kind === 'message') {
        if (req.method !== 'POST') throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST' });
        return await this.legacySseMessage(req, res, server, consumer, new URLSearchParams(queryOf(req)).get('sessionId'));
      }
      switch (req.method) {
        case 'POST':
          return await this.post(req, res, server, consumer);
        case 'GET':
          return await this.openSessionStream(req, res, server, consumer);
        case 'DELETE':
          return await this.endSession(req, res, server, consumer);
        default:
          throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'GET, POST, DELETE' });
      }
    } catch (err) {
      this.fail(res, err, null);
    }
  }

  private route(path: string): { namespace: string; name: string; kind: 'mcp' | 'sse' | 'message' } {
    const parts = path.split('/').filter(Boolean).map((p) => {
      try { return decodeURIComponent(p); } catch { return p; }
    });
    let kind: 'mcp' | 'sse' | 'message' = 'mcp';
    if (parts.length >= 3 && (parts[parts.length - 1] === 'sse' || parts[parts.length - 1] === 'message')) {
      kind = parts.pop() as 'sse' | 'message';
    }
    const [namespace, ...rest] = parts;
    if (!namespace || rest.length === 0) throw new GatewayError('ROUTE_NOT_FOUND', 'MCP endpoints are /mcp/{namespace}/{server}');
    return { namespace, name: rest.join('/'), kind };
  }

  /** The consumer behind the request's key; null in a namespace without keys (open). */
  private authenticate(req: IncomingMessage, snapshot: GatewaySnapshot, namespace: string): CompiledConsumer | null {
    if (!snapshot.securedNamespaces.has(namespace)) return null;
    const auth = header(req, 'authorization');
    const key = header(req, 'x-api-key') ?? (auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '').trim() : undefined);
    const challenge = { 'www-authenticate': 'Bearer realm="mcpgate", error="invalid_token"' };
    if (!key) throw new GatewayError('UNAUTHORIZED', 'this namespace needs an API key: send Authorization: Bearer <key> or X-API-Key', undefined, { 'www-authenticate': 'Bearer realm="mcpgate"' });
    const consumer = snapshot.consumersByHash.get(hashConsumerKey(key));
    if (!consumer || consumer.namespace !== namespace) throw new GatewayError('UNAUTHORIZED', 'the API key is not valid for this namespace', undefined, challenge);
    this.consumerUses.set(consumer.id, Date.now());
    return consumer;
  }

  private readJson(req: IncomingMessage): Promise<unknown> {
    return readJsonBody(req, { bodyLimitBytes: this.bodyLimit, maxJsonDepth: this.limits.maxJsonDepth });
  }

  // ---------------------------------------------------------------- POST (2026-07-28 and 2025)

  private async post(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null): Promise<void> {
    const body = await this.readJson(req);
    const headerVersion = header(req, 'mcp-protocol-version')?.trim();
    if (Array.isArray(body)) return this.legacyBatch(req, res, server, consumer, body);
    const claim = (body as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta?.[META.protocolVersion];
    if (claim !== undefined || MODERN_VERSIONS.includes(headerVersion as (typeof MODERN_VERSIONS)[number])) {
      return this.modern(req, res, server, consumer, body, headerVersion);
    }
    return this.legacy(req, res, server, consumer, body, headerVersion);
  }

  // ---------------------------------------------------------------- 2026-07-28

  private async modern(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, body: unknown, headerVersion: string | undefined): Promise<void> {
    const id = idOf(body);
    let message: JsonRpcMessage;
    try {
      message = classify(body);
      if (message.kind === 'response') throw new GatewayError('INVALID_REQUEST', 'Invalid Request: clients do not send responses in protocol revision 2026-07-28');
    } catch (err) {
      return this.fail(res, err, id);
    }
    const meta = message.params._meta as Record<string, unknown> | undefined;
    if (message.kind === 'notification') {
      const methodHeader = header(req, 'mcp-method');
      if (methodHeader !== undefined && decodeHeaderValue(methodHeader) !== message.method) {
        return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the Mcp-Method header (${methodHeader}) disagrees with the body (${message.method})`);
      }
      // 2026-07-28: closing the request's stream is its cancellation; request ids are not unique
      // across clients, so a notifications/cancelled cannot name one call safely and is only accepted.
      return this.accepted(res);
    }
    if (typeof meta !== 'object' || meta === null) {
      return this.badRequest(res, id, 'INVALID_PARAMS', `Invalid params: the MCP-Protocol-Version header names protocol revision ${headerVersion}, but the request is missing the required per-request envelope key(s): _meta`, { envelope: { missing: ['_meta'] } });
    }
    const version = meta[META.protocolVersion];
    if (typeof version !== 'string') return this.badRequest(res, id, 'INVALID_PARAMS', `Invalid _meta envelope: ${META.protocolVersion}: must be a string`, { envelope: { key: META.protocolVersion, problem: 'invalid' } });
    const caps = meta[META.clientCapabilities];
    if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
      return this.badRequest(res, id, 'INVALID_PARAMS', `Invalid _meta envelope for protocol revision ${version}: ${META.clientCapabilities}: missing`, { envelope: { key: META.clientCapabilities, problem: 'missing' } });
    }
    if (headerVersion !== undefined && headerVersion !== version) {
      return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the request headers and body disagree: the body envelope names protocol version ${version} but the MCP-Protocol-Version header names ${headerVersion}`, { mismatch: { header: headerVersion, body: version } });
    }
    const methodHeader = header(req, 'mcp-method');
    const decodedMethod = methodHeader === undefined ? undefined : decodeHeaderValue(methodHeader);
    if (decodedMethod !== undefined && decodedMethod !== message.method) {
      return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the request headers and body disagree: the body names method ${message.method} but the Mcp-Method header names ${decodedMethod}`, { mismatch: { header: decodedMethod, body: message.method } });
    }
    if (!MODERN_VERSIONS.includes(version as (typeof MODERN_VERSIONS)[number])) {
      return this.badRequest(res, id, 'UNSUPPORTED_VERSION', `Unsupported protocol version: ${version}`, { supported: [...MODERN_VERSIONS], requested: version });
    }
    if (headerVersion === undefined) return this.badRequest(res, id, 'HEADER_MISMATCH', 'Bad Request: the required MCP-Protocol-Version header is absent', { mismatch: { header: '(missing)', body: version } });
    if (methodHeader === undefined) return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the body names method ${message.method} but the required Mcp-Method header is absent`, { mismatch: { header: '(missing)', body: message.method } });
    if (decodedMethod === undefined) return this.badRequest(res, id, 'HEADER_MISMATCH', 'Bad Request: the Mcp-Method header has an invalid base64 value');
    const nameSource = message.method === 'resources/read' ? message.params.uri : message.method === 'tools/call' || message.method === 'prompts/get' ? message.params.name : undefined;
    if (nameSource !== undefined) {
      const nameHeader = header(req, 'mcp-name');
      const decodedName = nameHeader === undefined ? undefined : decodeHeaderValue(nameHeader);
      if (nameHeader === undefined) return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the body carries ${message.method === 'resources/read' ? 'params.uri' : 'params.name'}=${JSON.stringify(nameSource)} but the required Mcp-Name header is absent`, { mismatch: { header: '(missing)', body: nameSource } });
      if (decodedName !== String(nameSource)) return this.badRequest(res, id, 'HEADER_MISMATCH', `Bad Request: the Mcp-Name header (${nameHeader}) disagrees with the body (${String(nameSource)})`, { mismatch: { header: nameHeader, body: nameSource } });
    }
    if (!knowsMethod('modern', message.method)) return this.send(res, 404, errorMessage(message.id, new GatewayError('METHOD_NOT_FOUND', 'Method not found')));
    if (message.method === 'subscriptions/listen') return this.listen(req, res, server, consumer, message.id, message.params);

    const cancellation = new Cancellation();
    res.once('close', () => { if (!res.writableFinished) cancellation.cancel(); });
    const ctx: CallContext = { era: 'modern', server, consumer, clientHeaders: req.headers, clientQuery: queryOf(req), cancellation, beforeExecute: this.beforeExecute(server, consumer, req.socket.remoteAddress) };
    try {
      const result = await this.call(ctx, message.method, message.params);
      if (!cancellation.cancelled) this.send(res, 200, resultMessage(message.id, decorateModern(message.method, result, ctx)));
    } catch (err) {
      if (!cancellation.cancelled) this.fail(res, err, message.id);
    }
  }

  /** A 2026-07-28 request refused before it runs: HTTP 400 with the JSON-RPC error. */
  private badRequest(res: ServerResponse, id: JsonRpcId | null, code: 'INVALID_PARAMS' | 'HEADER_MISMATCH' | 'UNSUPPORTED_VERSION', text: string, data?: unknown): void {
    this.send(res, 400, errorMessage(id, new GatewayError(code, text, data)));
  }

  private listen(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, id: JsonRpcId, params: Record<string, unknown>): void {
    const filter = params.notifications as Record<string, unknown> | undefined;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      return void this.send(res, 200, errorMessage(id, new GatewayError('INVALID_PARAMS', "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter")));
    }
    const honored: { toolsListChanged?: boolean; promptsListChanged?: boolean } = {};
    if (filter.toolsListChanged === true) honored.toolsListChanged = true;
    if (filter.promptsListChanged === true) honored.promptsListChanged = true;
    res.writeHead(200, SSE_HEADERS);
    this.event(res, notificationMessage('notifications/subscriptions/acknowledged', { notifications: honored, _meta: { [META.subscriptionId]: id } }));
    if (Object.keys(honored).length === 0) {
      this.event(res, resultMessage(id, { resultType: 'complete', _meta: { [META.subscriptionId]: id } }));
      res.end();
      return;
    }
    const held: HeldStream = { res, serverKey: server.key, subscriptionId: id, filter: honored, consumerId: consumer?.id ?? null };
    this.streams.add(held);
    req.once('close', () => this.streams.delete(held));
  }

  // ---------------------------------------------------------------- 2025 Streamable HTTP

  private async legacy(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, body: unknown, headerVersion: string | undefined): Promise<void> {
    let message: JsonRpcMessage;
    try {
      message = classify(body);
    } catch (err) {
      return this.fail(res, err, idOf(body));
    }
    if (message.kind === 'request' && message.method === 'initialize') return this.initialize(req, res, server, consumer, message.id, message.params);
    const session = await this.requireSession(req, server, consumer);
    if (headerVersion !== undefined && !LEGACY_VERSIONS.includes(headerVersion as (typeof LEGACY_VERSIONS)[number])) {
      throw new GatewayError('INVALID_REQUEST', `Bad Request: Unsupported protocol version: ${headerVersion} (supported versions: ${LEGACY_VERSIONS.join(', ')})`);
    }
    if (message.kind !== 'request') {
      if (message.kind === 'notification' && message.method === 'notifications/cancelled') this.cancel(session.id, message.params.requestId);
      return this.accepted(res);
    }
    const progressToken = (message.params._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const wantsStream = progressToken !== undefined && (header(req, 'accept') ?? '').includes('text/event-stream');
    // A client that closes its request (or the connection) has abandoned the call: abort it.
    const cancellation = new Cancellation();
    let abandoned = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      abandoned = true;
      cancellation.cancel();
    });
    const answer = await this.answerLegacy(session, server, consumer, req.headers, queryOf(req), message, cancellation, wantsStream ? res : undefined, progressToken);
    if (abandoned) return;
    if (wantsStream) {
      this.event(res, answer);
      res.end();
    } else {
      this.send(res, 200, answer);
    }
  }

  /**
   * A JSON-RPC batch (2025-03-26): at most `maxBatchEntries` messages, run `batchConcurrency` at a
   * time, answered in order within `maxBatchAnswerBytes`; closing the request aborts what runs.
   */
  private async legacyBatch(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, batch: unknown[]): Promise<void> {
    if (batch.length === 0) throw new GatewayError('INVALID_REQUEST', 'Invalid Request: empty batch');
    const { maxBatchEntries, maxBatchAnswerBytes, batchConcurrency } = this.limits;
    if (batch.length > maxBatchEntries) {
      this.opts.onLimit?.('maxBatchEntries');
      throw new GatewayError('BATCH_TOO_LARGE', `Invalid Request: a batch may hold at most ${maxBatchEntries} messages (maxBatchEntries); this one holds ${batch.length}`, { maxBatchEntries, entries: batch.length });
    }
    if (batch.some((m) => (m as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta?.[META.protocolVersion] !== undefined)) {
      throw new GatewayError('INVALID_REQUEST', 'Invalid Request: JSON-RPC batches may not contain requests for protocol revision 2026-07-28 or later');
    }
    const session = await this.requireSession(req, server, consumer);
    const gone = new Cancellation();
    res.once('close', () => { if (!res.writableFinished) gone.cancel(); });
    const query = queryOf(req);
    const tooLarge = (id: JsonRpcId) => errorMessage(id, new GatewayError('BATCH_ANSWER_TOO_LARGE',
      `the batch's answer would be over ${maxBatchAnswerBytes} bytes (maxBatchAnswerBytes); send this request on its own`, { maxBatchAnswerBytes }));
    // Answers in the batch's order; the requests, with the size of the error that would replace
    // their answer. The answer's size: the brackets, each answer and its comma.
    const answers: (string | undefined)[] = new Array<string | undefined>(batch.length);
    const requests: { at: number; message: Extract<JsonRpcMessage, { kind: 'request' }>; refusal: number }[] = [];
    let bytes = 2;
    for (let at = 0; at < batch.length; at++) {
      const raw = batch[at];
      try {
        const message = classify(raw);
        if (message.kind === 'request') requests.push({ at, message, refusal: Buffer.byteLength(tooLarge(message.id)) + 1 });
      } catch (err) {
        answers[at] = errorMessage(idOf(raw), toGatewayError(err));
        bytes += Buffer.byteLength(answers[at] as string) + 1;
      }
    }
    // Room kept for the errors of the requests not answered yet, so that the whole answer stays within the cap.
    let reserved = requests.reduce((sum, r) => sum + r.refusal, 0);
    let full = bytes + reserved > maxBatchAnswerBytes;
    let failure: unknown;
    let next = 0;
    const place = (at: number, answer: string, refusal: number) => {
      answers[at] = answer;
      bytes += Buffer.byteLength(answer) + 1;
      reserved -= refusal;
    };
    const worker = async () => {
      while (next < requests.length && !gone.cancelled && failure === undefined) {
        const { at, message, refusal } = requests[next++] as (typeof requests)[number];
        if (full) {
          place(at, tooLarge(message.id), refusal);
          continue;
        }
        const cancellation = new Cancellation();
        const abort = () => cancellation.cancel();
        gone.onCancel(abort);
        try {
          const answer = await this.answerLegacy(session, server, consumer, req.headers, query, message, cancellation);
          if (!full && bytes + Buffer.byteLength(answer) + 1 + reserved - refusal <= maxBatchAnswerBytes) {
            place(at, answer, refusal);
          } else {
            if (!full) this.opts.onLimit?.('maxBatchAnswerBytes');
            full = true;
            place(at, tooLarge(message.id), refusal);
          }
        } catch (err) {
          // A 401/403 answers the whole request (with its headers): stop the other entries.
          failure = err;
          gone.cancel();
        } finally {
          gone.offCancel(abort);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(batchConcurrency, requests.length) }, worker));
    if (failure !== undefined) throw failure;
    if (gone.cancelled) return;
    const list = answers.filter((a): a is string => a !== undefined);
    if (list.length === 0) return this.accepted(res);
    this.send(res, 200, `[${list.join(',')}]`);
  }

  /**
   * What a session keeps of the client's initialize: its name, version and title, and its
   * capabilities, within `sessionInfoMaxBytes` (an initialize over it is refused, naming the sizes).
   */
  private sessionInfo(params: Record<string, unknown>): Pick<SessionRecord, 'clientInfo' | 'capabilities'> {
    const info = params.clientInfo;
    let clientInfo: Record<string, string> | undefined;
    if (typeof info === 'object' && info !== null) {
      clientInfo = {};
      for (const k of ['name', 'version', 'title'] as const) {
        const v = (info as Record<string, unknown>)[k];
        if (typeof v === 'string') clientInfo[k] = v;
      }
    }
    const kept = { clientInfo, capabilities: params.capabilities };
    const size = Buffer.byteLength(JSON.stringify(kept) ?? '');
    const max = this.limits.sessionInfoMaxBytes;
    if (size > max) {
      this.opts.onLimit?.('sessionInfoMaxBytes');
      throw new GatewayError('SESSION_INFO_TOO_LARGE', `Invalid params: initialize's clientInfo (name, version, title) and capabilities take ${size} bytes; a session keeps at most ${max} (sessionInfoMaxBytes)`, { size, sessionInfoMaxBytes: max });
    }
    return kept;
  }

  private async initialize(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, id: JsonRpcId, params: Record<string, unknown>): Promise<void> {
    const result = initializeResult(server, params.protocolVersion);
    try {
      const session: SessionRecord = {
        id: randomUUID(), kind: 'streamable', namespace: server.namespace, server: server.name, protocolVersion: result.protocolVersion as string,
        ...this.sessionInfo(params), consumerId: consumer?.id ?? null, ...clientAddress(req), headers: {}, createdAt: Date.now(),
      };
      await this.createSession(session);
      res.setHeader('mcp-session-id', session.id);
    } catch (err) {
      // Refused (too large, a cap, Redis away): the answer names the request.
      return this.fail(res, err, id);
    }
    this.send(res, 200, resultMessage(id, result));
  }

  private async createSession(session: SessionRecord): Promise<void> {
    try {
      await this.opts.sessions.create(session);
    } catch (err) {
      if (err instanceof SessionLimitError) this.opts.onLimit?.(err.limit);
      throw err;
    }
  }

  /**
   * The session a request names, of this server and opened with the request's consumer key: a
   * session of another key (or opened with one, asked for without) is not found, as an unknown one.
   */
  private async requireSession(req: IncomingMessage, server: CompiledServer, consumer: CompiledConsumer | null, id = header(req, 'mcp-session-id')): Promise<SessionRecord> {
    if (!id) throw new GatewayError('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required');
    const session = await this.opts.sessions.get(id);
    if (!session || session.namespace !== server.namespace || session.server !== server.name || session.consumerId !== (consumer?.id ?? null)) {
      throw new GatewayError('SESSION_NOT_FOUND', 'Session not found');
    }
    return session;
  }

  /** Answer one 2025-era request as a JSON-RPC message (result or error); `cancellation` aborts it. */
  private async answerLegacy(session: SessionRecord, server: CompiledServer, consumer: CompiledConsumer | null, headers: ClientHeaders, query: string, message: Extract<JsonRpcMessage, { kind: 'request' }>, cancellation: Cancellation, progressStream?: ServerResponse, progressToken?: unknown): Promise<string> {
    if (!knowsMethod('legacy', message.method)) return errorMessage(message.id, new GatewayError('METHOD_NOT_FOUND', 'Method not found'));
    if (message.method === 'initialize') return errorMessage(message.id, new GatewayError('INVALID_REQUEST', 'Invalid Request: Server already initialized'));
    const key = `${session.id}:${String(message.id)}`;
    this.inflight.set(key, cancellation);
    // Legacy SSE: the GET's headers and query carry into the session's POSTs (sent to our message endpoint).
    const sse = session.kind === 'sse';
    const effectiveHeaders = sse ? { ...session.headers, ...headers } : headers;
    const clientQuery = sse ? session.headers[SSE_QUERY] ?? '' : query;
    const ctx: CallContext = { era: 'legacy', server, consumer, clientHeaders: effectiveHeaders, clientQuery, cancellation, beforeExecute: this.beforeExecute(server, consumer, session.clientAddress) };
    if (progressStream) progressStream.writeHead(200, SSE_HEADERS);
    const onProgress = progressStream
      ? (progress: number, total?: number) => this.event(progressStream, notificationMessage('notifications/progress', { progressToken, progress, ...(total !== undefined ? { total } : {}) }))
      : undefined;
    try {
      return resultMessage(message.id, await this.call(ctx, message.method, message.params, onProgress));
    } catch (err) {
      const e = toGatewayError(err, this.opts.logger);
      if ((e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN') && !progressStream) throw e;
      return errorMessage(message.id, e);
    } finally {
      if (this.inflight.get(key) === cancellation) this.inflight.delete(key);
    }
  }

  /** The rate limits and backend credentials of a tools/call at an endpoint that configures them. */
  private beforeExecute(server: CompiledServer, consumer: CompiledConsumer | null, address: string | undefined): CallContext['beforeExecute'] {
    const access = this.opts.tokenAccess;
    if (!access || !server.access) return undefined;
    return (tool, headers) => access.beforeCall(server, consumer, address, tool, headers);
  }

  private async call(ctx: CallContext, method: string, params: Record<string, unknown>, onProgress?: (p: number, t?: number) => void): Promise<Record<string, unknown>> {
    if (method !== 'tools/call') return handleRequest(ctx, method, params, { onProgress });
    const started = performance.now();
    const result = await handleRequest(ctx, method, params, { onProgress });
    this.opts.onToolCall?.(ctx.server.key, String(params.name), (performance.now() - started) / 1000, result.isError === true);
    return result;
  }

  private async openSessionStream(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null): Promise<void> {
    if (!header(req, 'mcp-session-id')) throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST, DELETE' });
    const session = await this.requireSession(req, server, consumer);
    if (!(header(req, 'accept') ?? '').includes('text/event-stream')) throw new GatewayError('NOT_ACCEPTABLE', 'Not Acceptable: Client must accept text/event-stream');
    // The new stream replaces the session's older one, here or on another replica.
    for (const s of [...this.streams]) if (s.sessionId === session.id) this.endStream(s);
    const token = randomUUID();
    await this.opts.bus.publish(streamChannel(session.id), `${CLOSE_STREAM}${token}`);
    // Subscribe before answering, so that an unavailable session store is still a 503; live
    // messages that arrive while the missed ones are replayed wait behind the replay.
    const held: HeldStream = { res, serverKey: server.key, sessionId: session.id, pending: [], consumerId: session.consumerId };
    held.close = await this.opts.bus.subscribe(streamChannel(session.id), (payload) => {
      if (!payload.startsWith(CLOSE_STREAM)) this.deliver(held, payload);
      else if (payload !== `${CLOSE_STREAM}${token}`) this.endStream(held);
    });
    this.streams.add(held);
    req.once('close', () => this.endStream(held));
    if (req.destroyed) return this.endStream(held);
    res.writeHead(200, SSE_HEADERS);
    this.guard.writeStream(res, 'retry: 1000\n\n');
    await this.resume(held, session, header(req, 'last-event-id'));
  }

  /** A message for a 2025 session stream: stored and sent, or queued while the stream is being resumed. */
  private deliver(s: HeldStream, message: string): void {
    if (s.pending) s.pending.push(message);
    else this.sendOnSessionStream(s, message).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not send a stream message'));
  }

  /**
   * What a (re)connecting 2025 client gets before live messages: the events after its
   * Last-Event-ID; a list_changed for each list that changed while no replica held its stream
   * (its holder died: nobody stored the notification), told by the digest in that id; then, from
   * 2025-11-25 on, a priming event (id only) recording that the client is now up to date.
   */
  private async resume(held: HeldStream, session: SessionRecord, lastEventId: string | undefined): Promise<void> {
    const { res } = held;
    const cut = lastEventId?.lastIndexOf('.') ?? -1;
    const suffix = lastEventId && cut > 0 && /^[0-9a-f]{12}$/.test(lastEventId.slice(cut + 1)) ? lastEventId.slice(cut + 1) : undefined;
    const position = suffix ? lastEventId?.slice(0, cut) : lastEventId;
    // Positions are `{session id}_{entry}`: only this session's own stream is replayed.
    const own = position?.startsWith(`${session.id}_`) === true;
    const now = this.digest(held.serverKey);
    // What the client knows, updated by each list_changed it is sent (it lists again after one).
    let known = own && suffix ? suffix : now;
    const learn = (message: string) => {
      const kind = listChangedKind(message);
      if (kind === 'tools') known = `${now.slice(0, 6)}${known.slice(6)}`;
      else if (kind === 'prompts') known = `${known.slice(0, 6)}${now.slice(6)}`;
    };
    try {
      if (own) {
        await this.opts.events.replayAfter(position as string, (eventId, message) => {
          if (message === '') return; // a priming point
          learn(message);
          this.event(res, message, `${eventId}.${known}`);
        });
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not replay a stream after Last-Event-ID');
    }
    const queued = held.pending ?? [];
    held.pending = undefined;
    for (const message of queued) learn(message);
    if (known.slice(0, 6) !== now.slice(0, 6)) {
      known = `${now.slice(0, 6)}${known.slice(6)}`;
      await this.sendOnSessionStream(held, notificationMessage('notifications/tools/list_changed'), known);
    }
    if (known !== now) {
      known = now;
      await this.sendOnSessionStream(held, notificationMessage('notifications/prompts/list_changed'), known);
    }
    for (const message of queued) this.deliver(held, message);
    if (session.protocolVersion >= PRIMING_SINCE) {
      try {
        const id = await this.opts.events.append(session.id, '');
        this.guard.writeStream(res, `id: ${id}.${this.digest(held.serverKey)}\ndata: \n\n`);
      } catch (err) {
        this.opts.logger.warn({ err }, 'could not store a stream priming point');
      }
    }
  }

  private async endSession(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null): Promise<void> {
    if (!header(req, 'mcp-session-id')) throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST' });
    const session = await this.requireSession(req, server, consumer);
    await this.opts.sessions.delete(session.id);
    for (const s of [...this.streams]) if (s.sessionId === session.id) this.endStream(s);
    // And the session's stream if another replica holds it.
    await this.opts.bus.publish(streamChannel(session.id), CLOSE_STREAM).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not close the ended session\'s stream on other replicas'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  }

  // ---------------------------------------------------------------- legacy HTTP+SSE

  private async openLegacySse(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, path: string): Promise<void> {
    // Kept for the session's POSTs: end-to-end headers only, so also not those the GET's Connection header nominates (RFC 9110 §7.6.1).
    const nominated = new Set((header(req, 'connection') ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !HOP_BY_HOP.has(k) && !nominated.has(k)) headers[k] = v;
    const query = queryOf(req);
    if (query !== '') headers[SSE_QUERY] = query;
    const session: SessionRecord = {
      id: randomUUID(), kind: 'sse', namespace: server.namespace, server: server.name, protocolVersion: '2024-11-05',
      consumerId: consumer?.id ?? null, ...clientAddress(req), headers, createdAt: Date.now(),
    };
    await this.createSession(session);
    const held: HeldStream = { res, serverKey: server.key, keepAliveSessionId: session.id, consumerId: session.consumerId };
    let unsubscribe: (() => Promise<void>) | undefined;
    let ended = false;
    // The stream is where the session's answers go: when it closes, the session ends and its calls
    // are abandoned, here and on the other replicas. Nothing of this may throw (Redis may be away).
    const end = () => {
      if (ended) return;
      ended = true;
      this.streams.delete(held);
      this.cancelSessionCalls(session.id);
      this.opts.bus.publish(CANCEL_CHANNEL, session.id).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward the end of a legacy SSE session\'s calls'));
      unsubscribe?.().catch((err: unknown) => this.opts.logger.debug({ err }, 'could not unsubscribe a closed legacy SSE stream'));
      this.opts.sessions.delete(session.id).catch((err: unknown) => this.opts.logger.warn({ err, session: session.id }, 'could not delete the session of a closed legacy SSE stream; it expires when idle'));
    };
    req.once('close', end);
    try {
      unsubscribe = await this.opts.bus.subscribe(sseChannel(session.id), (payload) => this.event(res, payload));
    } catch (err) {
      end();
      throw err;
    }
    if (ended) {
      unsubscribe().catch(() => undefined);
      return;
    }
    held.close = unsubscribe;
    res.writeHead(200, SSE_HEADERS);
    this.streams.add(held);
    const base = `/mcp/${path.replace(/\/sse\/?$/, '')}`;
    this.guard.writeStream(res, `event: endpoint\ndata: ${base}/message?sessionId=${session.id}\n\n`);
  }

  private async legacySseMessage(req: IncomingMessage, res: ServerResponse, server: CompiledServer, consumer: CompiledConsumer | null, sessionId: string | null): Promise<void> {
    if (!sessionId) throw new GatewayError('SESSION_REQUIRED', 'Bad Request: the sessionId query parameter is required');
    const session = await this.requireSession(req, server, consumer, sessionId);
    const body = await this.readJson(req);
    let message: JsonRpcMessage;
    try {
      message = classify(body);
    } catch (err) {
      return this.fail(res, err, idOf(body));
    }
    res.writeHead(202, { 'content-type': 'text/plain' });
    res.end('Accepted');
    if (message.kind === 'notification') {
      if (message.method === 'notifications/cancelled') this.cancel(session.id, message.params.requestId);
      return;
    }
    if (message.kind !== 'request') return;
    let answer: string;
    const cancellation = new Cancellation();
    try {
      if (message.method === 'initialize') {
        const info = this.sessionInfo(message.params);
        const result = initializeResult(server, message.params.protocolVersion);
        await this.opts.sessions.create({ ...session, protocolVersion: result.protocolVersion as string, ...info });
        answer = resultMessage(message.id, result);
      } else {
        // Aborted when the session's stream closes (cancelSessionCalls), not with this POST.
        answer = await this.answerLegacy(session, server, consumer, req.headers, '', message, cancellation);
      }
    } catch (err) {
      answer = errorMessage(message.id, toGatewayError(err, this.opts.logger));
    }
    const receivers = await this.opts.bus.publish(sseChannel(session.id), answer).catch((err: unknown) => {
      this.opts.logger.warn({ err, session: session.id }, 'could not deliver a legacy SSE answer');
      return -1;
    });
    if (receivers === 0 && !cancellation.cancelled) {
      // No replica holds the stream (its holder died): end the session, so the client's next
      // POST gets 404 and it reconnects, instead of answers vanishing until the session expires.
      this.opts.logger.warn({ session: session.id }, 'legacy SSE answer lost: no replica holds the session stream; ending the session');
      await this.opts.sessions.delete(session.id).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- answers

  private accepted(res: ServerResponse): void {
    res.writeHead(202);
    res.end();
  }

  private send(res: ServerResponse, status: number, body: string): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    // A content-length makes the answer one write instead of a chunked stream.
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    this.guard.watch(res);
  }

  /** The one place an error becomes an HTTP answer. */
  private fail(res: ServerResponse, err: unknown, id: JsonRpcId | null): void {
    const e = toGatewayError(err, this.opts.logger);
    if (res.headersSent) {
      if (!res.writableEnded) {
        this.event(res, errorMessage(id, e));
        res.end();
      }
      return;
    }
    for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
    this.send(res, e.status === 200 && id === null ? 400 : e.status, errorMessage(id, e));
  }
}

/** Where a request comes from, for the per-address session cap. */
function clientAddress(req: IncomingMessage): { clientAddress?: string } {
  const address = req.socket.remoteAddress;
  return address ? { clientAddress: address } : {};
}

/** Each consumer key's grants, as comparable text (`*` for every server of its namespace). */
function grants(snapshot: GatewaySnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of snapshot.consumersByHash.values()) out.set(c.id, c.grants);
  return out;
}

/** Which list a stored stream message announces a change of. */
function listChangedKind(message: string): 'tools' | 'prompts' | 'other' {
  if (message.includes('"notifications/tools/list_changed"')) return 'tools';
  if (message.includes('"notifications/prompts/list_changed"')) return 'prompts';
  return 'other';
}
