/**
 * The streams this process holds open, and everything that travels on them or between replicas
 * about them: the registry of held streams (2026-07-28 listen streams, 2025 session streams,
 * 2024 SSE streams), list_changed notifications when the snapshot changes, delivery of a 2025
 * session's messages with stored event ids, resumption after Last-Event-ID with the list digests
 * carried in those ids, the cancel bus (a cancellation reaches the replica running the call), and
 * the keep-alive that also refreshes the sessions of open streams.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import type { Cancellation } from '../../tools/cancellation.js';
import { AgentError } from '../../tools/executor.js';
import type { CompiledServer, GatewaySnapshot } from '../snapshot.js';
import type { EventStore, MessageBus, SessionRecord, SessionStore } from '../sessions/types.js';
import { sseChannel, streamChannel } from '../sessions/types.js';
import { standingSubscription } from '../sessions/standing-subscription.js';
import type { StandingSubscription } from '../sessions/standing-subscription.js';
import type { JsonRpcId } from './jsonrpc.js';
import { notificationMessage, resultMessage } from './jsonrpc.js';
import { META } from './protocol.js';
import { messageEvent } from './sse.js';
import type { WriteGuard } from './write-guard.js';
import type { ResourceSubscriptions } from './call-context.js';
import { TOKEN_SUBJECT_PREFIX } from '../auth/token-verifier.js';

/** A session subscribed to an upstream resource: how to reach it, and the URI it knows the resource by. */
interface ResourceSubscriber {
  kind: 'streamable' | 'sse';
  /** The URI the agent subscribed to, a virtual server's for the member's (undefined: the upstream's own). */
  shown?: string | undefined;
}

/** What a 2026-07-28 listen stream asked to be told. */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
}

/** A stream this process holds open. */
export interface HeldStream {
  res: ServerResponse;
  serverKey: string;
  /** For 2026-07-28 listen streams: the subscription id and what was asked for. */
  subscriptionId?: JsonRpcId;
  filter?: ListenFilter;
  /** For 2025 GET streams: the session whose events are stored for replay. */
  sessionId?: string;
  /** For 2025 GET streams being resumed: messages that wait for the replay. */
  pending?: string[] | undefined;
  /** For 2024 SSE streams: the session kept alive while its stream is open. */
  keepAliveSessionId?: string;
  /** The consumer key the stream was opened with (null in an open namespace): its grants decide what it is told. */
  consumerId: string | null;
  close?: () => Promise<void>;
}

/**
 * Control message on a 2025 session's stream channel (JSON-RPC payloads start with `{`): the
 * session's stream was replaced (a GET on another replica) or the session ended (DELETE on
 * another replica), so whichever replica still holds an older stream closes it. It ends with
 * the token of the stream that replaces it (which ignores its own), empty for a DELETE.
 */
export const CLOSE_STREAM = 'mcpgate:close-stream:';
/**
 * Control message on a 2025 session's stream channel: the session's resource subscriptions
 * changed (through another replica); the replica holding its stream takes them over.
 */
export const ADOPT_SUBSCRIPTIONS = 'mcpgate:adopt-subscriptions';
/**
 * Channel on which a replica that receives `notifications/cancelled` for a request it is not
 * running asks the others to abort it (payload: `{sessionId}:{requestId}`, or a session id alone
 * for every call of a 2024 SSE session whose stream closed); without stickiness the cancellation
 * rarely lands on the replica running the call.
 */
const CANCEL_CHANNEL = 'mcp-server-cancel';
/** The first protocol version whose clients take an id-only "priming" event (2025-11-25). */
const PRIMING_SINCE = '2025-11-25';

/** Options of the stream hub. */
export interface StreamHubOptions {
  logger: Logger;
  sessions: SessionStore;
  bus: MessageBus;
  events: EventStore;
  guard: WriteGuard;
  /** The snapshot being served (the digests of its servers' lists go into 2025 event ids). */
  snapshot: () => GatewaySnapshot;
  /** Keep-alive period of open streams (and refresh of their sessions); default 15 s. */
  keepAliveMs?: number | undefined;
}

/** The streams held by this process, their notifications, resumption and cancellations. */
export class StreamHub {
  private readonly streams = new Set<HeldStream>();
  private readonly inflight = new Map<string, Cancellation>();
  /** Requests of upstream MCP servers sent to agents, waiting for their answers, by `{sessionId}:{id}`. */
  private readonly replies = new Map<string, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  /** Resource subscriptions of agent sessions made here, by server key, then URI. */
  private readonly resourceSubscriptions = new Map<string, Map<string, Map<string, ResourceSubscriber>>>();
  private readonly keepAlive: NodeJS.Timeout;
  /** Short digests of servers' tools and prompts lists, as carried in 2025 stream event ids. */
  private readonly digests = new WeakMap<CompiledServer, string>();
  /** This replica's name on the cancel bus (what it sent itself is not done twice). */
  private readonly replica = randomUUID();
  /** Cancellations (and relayed messages) sent by other replicas. */
  private readonly cancels: StandingSubscription;

  constructor(private readonly opts: StreamHubOptions) {
    this.keepAlive = setInterval(() => this.keepStreamsAlive(), opts.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
    this.cancels = standingSubscription(this.opts.bus, CANCEL_CHANNEL, (key) => this.onBusMessage(key));
  }

  /** How many streams this process holds open. */
  get size(): number {
    return this.streams.size;
  }

  /** Hold a stream open (it is told of changes and kept alive until it ends). */
  add(s: HeldStream): void {
    this.streams.add(s);
  }

  /** Forget a stream without ending it (its client closed it). */
  remove(s: HeldStream): boolean {
    return this.streams.delete(s);
  }

  /** End a held stream (its client reconnects or gives up). */
  endStream(s: HeldStream): void {
    if (!this.streams.delete(s)) return;
    s.res.end();
    s.close?.().catch((err: unknown) => this.opts.logger.debug({ err }, 'could not unsubscribe a closed stream'));
  }

  /** End the streams this process holds for a 2025 session. */
  endSessionStreams(sessionId: string): void {
    for (const s of [...this.streams]) if (s.sessionId === sessionId) this.endStream(s);
  }

  // ---------------------------------------------------------------- keep-alive

  /**
   * A session whose stream is open is in use even when the client sends nothing; a stream whose
   * session is gone (ended on another replica, expired, lost with Redis) is closed, so that its
   * client notices and starts again. All of them in one call to the store.
   */
  private keepStreamsAlive(): void {
    const bySession = new Map<string, HeldStream>();
    for (const s of this.streams) {
      if (!this.opts.guard.writeStream(s.res, ': keepalive\n\n')) continue;
      const id = s.sessionId ?? s.keepAliveSessionId;
      if (id) bySession.set(id, s);
    }
    if (bySession.size === 0) return;
    this.opts.sessions.touch([...bySession.keys()]).then((live) => {
      for (const [id, s] of bySession) if (!live.has(id)) this.endStream(s);
    }, (err: unknown) => this.opts.logger.debug({ err }, 'could not refresh the sessions of open streams'));
  }

  // ---------------------------------------------------------------- cancel bus

  /** A message of the cancel bus: a cancellation, a reply, a notification or a release for a call or session here. */
  private onBusMessage(key: string): void {
    if (key.startsWith('{"n":')) this.notifyUpstreamHere(key);
    else if (key.startsWith('{"a":')) this.releaseAdopted(key);
    else if (key.startsWith('{')) this.replyHere(key);
    else if (key.includes(':')) this.inflight.get(key)?.cancel();
    else this.cancelSessionCalls(key);
  }

  /**
   * An agent's notification for the per-replica upstream connections of its session (stdio
   * children, legacy SSE: each replica serving the session runs its own): told to those the other
   * replicas hold, on the cancel bus (this replica tells its own).
   */
  notifyUpstreamReplicas(serverKey: string, sessionId: string, method: string, params: Record<string, unknown> | undefined): void {
    const payload = JSON.stringify({ n: method, r: this.replica, k: serverKey, s: sessionId, ...(params ? { p: params } : {}) });
    this.opts.bus.publish(CANCEL_CHANNEL, payload).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward an agent\'s notification to the other replicas'));
  }

  /** Another replica's `notifyUpstreamReplicas`: told to this replica's connection of the session, when it holds one (none is opened for it). */
  private notifyUpstreamHere(payload: string): void {
    let m: { n?: unknown; r?: unknown; k?: unknown; s?: unknown; p?: unknown };
    try {
      m = JSON.parse(payload) as typeof m;
    } catch {
      return;
    }
    if (m.r === this.replica || m.n !== 'notifications/roots/list_changed' || typeof m.k !== 'string' || typeof m.s !== 'string') return;
    const runtime = this.opts.snapshot().servers.get(m.k)?.upstream;
    if (!runtime?.perReplicaSessions || !runtime.holds(m.s)) return;
    const params = typeof m.p === 'object' && m.p !== null && !Array.isArray(m.p) ? m.p as Record<string, unknown> : undefined;
    runtime.notify(m.n, params, { sessionId: m.s }).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward an agent\'s notification upstream'));
  }

  /** Record a session's call running here, so that a cancellation finds it; the returned function forgets it. */
  track(sessionId: string, requestId: JsonRpcId, cancellation: Cancellation): () => void {
    const key = `${sessionId}:${String(requestId)}`;
    this.inflight.set(key, cancellation);
    return () => {
      if (this.inflight.get(key) === cancellation) this.inflight.delete(key);
    };
  }

  /** Abort a request of a session: here if it runs here, else on the replica that runs it. */
  cancel(sessionId: string, requestId: unknown): void {
    const key = `${sessionId}:${String(requestId)}`;
    const local = this.inflight.get(key);
    if (local) return local.cancel();
    this.opts.bus.publish(CANCEL_CHANNEL, key).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward a cancellation'));
  }

  // ---------------------------------------------------------------- answers of agents

  /**
   * Wait for the agent of a session to answer the request `id` the gateway sent it (for an
   * upstream MCP server); `cancel` stops waiting (the answer is then rejected).
   */
  awaitReply(sessionId: string, id: string): { result: Promise<Record<string, unknown>>; cancel(): void } {
    const key = `${sessionId}:${id}`;
    let cancel!: () => void;
    const result = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.replies.set(key, { resolve, reject });
      cancel = () => {
        if (this.replies.delete(key)) reject(new AgentError(-32800, 'Request cancelled'));
      };
    });
    result.catch(() => undefined);
    return { result, cancel };
  }

  /**
   * A JSON-RPC response an agent POSTed: the answer to a request the gateway sent it, here or,
   * through the cancel bus, on the replica that waits for it. Answers to nothing are dropped.
   */
  reply(sessionId: string, message: Record<string, unknown>): void {
    const payload = JSON.stringify({ s: sessionId, m: message });
    if (this.replyHere(payload)) return;
    if (typeof message.id !== 'string' || !message.id.startsWith('mcpgate-')) return;
    this.opts.bus.publish(CANCEL_CHANNEL, payload).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward an agent\'s answer'));
  }

  private replyHere(payload: string): boolean {
    let parsed: { s?: unknown; m?: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } } };
    try {
      parsed = JSON.parse(payload) as typeof parsed;
    } catch {
      return false;
    }
    const key = `${String(parsed.s)}:${String(parsed.m?.id)}`;
    const waiting = this.replies.get(key);
    if (!waiting) return false;
    this.replies.delete(key);
    const m = parsed.m ?? {};
    if (m.error !== undefined) {
      const e = m.error;
      waiting.reject(new AgentError(typeof e.code === 'number' ? e.code : -32603, typeof e.message === 'string' ? e.message : 'the agent answered an error', e.data));
    } else if (typeof m.result === 'object' && m.result !== null && !Array.isArray(m.result)) {
      waiting.resolve(m.result as Record<string, unknown>);
    } else {
      waiting.reject(new AgentError(-32603, 'the agent answered a result that is not an object'));
    }
    return true;
  }

  // ---------------------------------------------------------------- resource subscriptions

  /** Send a message to a session's stream (2025: its GET stream; 2024: its SSE stream), wherever it is held. */
  async toSession(sessionId: string, kind: 'streamable' | 'sse', payload: string): Promise<boolean> {
    const receivers = await this.opts.bus.publish(kind === 'sse' ? sseChannel(sessionId) : streamChannel(sessionId), payload);
    return receivers > 0;
  }

  /**
   * An agent session subscribes to a resource of an upstream MCP server (through this replica's
   * connection): kept with the session (SessionStore), for every replica, and indexed here;
   * `shown`: the URI the agent knows it by (a virtual server's), when not the upstream's.
   * Throws SubscriptionLimitError at the session's cap.
   */
  async subscribeResource(serverKey: string, uri: string, sessionId: string, kind: 'streamable' | 'sse', shown?: (uri: string) => string): Promise<void> {
    const shownUri = shown?.(uri);
    await this.opts.sessions.addSubscription(sessionId, serverKey, uri, shownUri);
    let byUri = this.resourceSubscriptions.get(serverKey);
    if (!byUri) this.resourceSubscriptions.set(serverKey, byUri = new Map());
    let sessions = byUri.get(uri);
    if (!sessions) byUri.set(uri, sessions = new Map());
    sessions.set(sessionId, { kind, shown: shownUri });
  }

  /** A session's resource subscriptions to the server `serverKey` (and, through `forMember`, to a virtual server's members). */
  sessionSubscriptions(serverKey: string, sessionId: string, kind: 'streamable' | 'sse', shown?: (uri: string) => string): ResourceSubscriptions {
    return {
      subscribe: (uri) => this.subscribeResource(serverKey, uri, sessionId, kind, shown),
      unsubscribe: (uri) => this.unsubscribeResource(serverKey, uri, sessionId, shown?.(uri)),
      forMember: (memberKey, inner) => this.sessionSubscriptions(memberKey, sessionId, kind, shown ? (u) => shown(inner(u)) : inner),
      ...(kind === 'streamable' ? { changed: () => this.subscriptionsChanged(sessionId) } : {}),
    };
  }

  /** A 2025 session's subscriptions changed here: the replica holding its stream (maybe this one) takes them over. */
  private subscriptionsChanged(sessionId: string): void {
    this.opts.bus.publish(streamChannel(sessionId), ADOPT_SUBSCRIPTIONS).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not tell the holder of a session\'s stream that its subscriptions changed'));
  }

  /**
   * The replica holding a 2025 session's stream takes over its subscriptions to resources of
   * upstream MCP servers on shared connections (`sessions: shared`) — its server's, or through a
   * virtual server its members', under the URIs the agent subscribed to: the subscriptions kept in
   * the session store are made on this replica's connections (those no longer kept are dropped),
   * so that the upstreams' updates reach the agent from here, also after the replica that took
   * them died; the other replicas are told to drop theirs (one delivery). Run when the stream
   * opens here (a reconnect after its holder died) and when the subscriptions change.
   */
  async adoptSubscriptions(session: Pick<SessionRecord, 'id' | 'namespace' | 'server'>): Promise<void> {
    // Only an upstream server on shared connections, or a virtual server (whose members may be), has any to adopt.
    const own = this.opts.snapshot().servers.get(`${session.namespace}/${session.server}`);
    if (!own?.virtual && !own?.upstream?.shared) return;
    const kept = new Map<string, Map<string, string | undefined>>();
    for (const x of await this.opts.sessions.subscriptions(session.id)) {
      let byUri = kept.get(x.server);
      if (!byUri) kept.set(x.server, byUri = new Map());
      byUri.set(x.uri, x.shown);
    }
    // The servers of the kept subscriptions, and those this replica still holds some of the session's for.
    const servers = new Set(kept.keys());
    for (const [key, byUri] of this.resourceSubscriptions) {
      if (servers.has(key)) continue;
      for (const sessions of byUri.values()) {
        if (sessions.has(session.id)) {
          servers.add(key);
          break;
        }
      }
    }
    await Promise.all([...servers].map((key) => this.adoptOn(key, session.id, kept.get(key) ?? new Map())));
  }

  /** adoptSubscriptions for one server: `kept`, the session's subscriptions to it (URI → the URI shown to the agent). */
  private async adoptOn(key: string, sessionId: string, kept: ReadonlyMap<string, string | undefined>): Promise<void> {
    const runtime = this.opts.snapshot().servers.get(key)?.upstream;
    if (!runtime?.shared) return;
    let byUri = this.resourceSubscriptions.get(key);
    if (!byUri && kept.size === 0) return;
    if (!byUri) this.resourceSubscriptions.set(key, byUri = new Map());
    const upstream = (method: string, uri: string) => runtime.request(method, { uri }).catch((err: unknown) => this.opts.logger.debug({ err, uri }, `could not take over a resource subscription (${method})`));
    for (const [uri, sessions] of byUri) {
      if (kept.has(uri) || !sessions.delete(sessionId) || sessions.size > 0) continue;
      byUri.delete(uri);
      upstream('resources/unsubscribe', uri).catch(() => undefined);
    }
    const fresh: string[] = [];
    for (const [uri, shown] of kept) {
      let sessions = byUri.get(uri);
      if (!sessions) {
        byUri.set(uri, sessions = new Map());
        fresh.push(uri);
      }
      sessions.set(sessionId, { kind: 'streamable', shown });
    }
    // This replica's connection subscribes to what no session of this replica wanted yet.
    await Promise.all(fresh.map((uri) => upstream('resources/subscribe', uri)));
    await this.opts.bus.publish(CANCEL_CHANNEL, JSON.stringify({ a: sessionId, r: this.replica, k: key }));
  }

  /** Another replica took over a session's subscriptions: this one drops its own (and its connection's, when no other session wants them). */
  private releaseAdopted(payload: string): void {
    let m: { a?: unknown; r?: unknown; k?: unknown };
    try {
      m = JSON.parse(payload) as typeof m;
    } catch {
      return;
    }
    if (m.r === this.replica || typeof m.a !== 'string' || typeof m.k !== 'string') return;
    const byUri = this.resourceSubscriptions.get(m.k);
    const runtime = this.opts.snapshot().servers.get(m.k)?.upstream;
    if (!byUri || !runtime?.shared) return;
    for (const [uri, sessions] of byUri) {
      if (!sessions.delete(m.a) || sessions.size > 0) continue;
      byUri.delete(uri);
      runtime.request('resources/unsubscribe', { uri }).catch((err: unknown) => this.opts.logger.debug({ err, uri }, 'could not drop a resource subscription taken over elsewhere'));
    }
  }

  /** An agent session unsubscribes; answers whether other sessions still want the resource (through this replica). */
  async unsubscribeResource(serverKey: string, uri: string, sessionId: string, shown?: string): Promise<boolean> {
    await this.opts.sessions.removeSubscription(sessionId, serverKey, uri, shown);
    const byUri = this.resourceSubscriptions.get(serverKey);
    const sessions = byUri?.get(uri);
    sessions?.delete(sessionId);
    if (sessions && sessions.size === 0) byUri?.delete(uri);
    return (sessions?.size ?? 0) > 0;
  }

  /**
   * A notification of an upstream MCP server outside requests: list changes go to the server's
   * streams, a resource update to the sessions subscribed to it (or to the one session a
   * per-session connection serves), a log message to that session.
   */
  upstreamNotification(serverKey: string, sessionId: string | undefined, method: string, params: Record<string, unknown> | undefined): void {
    if (method.endsWith('/list_changed')) return this.upstreamListChanged(serverKey, method);
    const deliver = (id: string, kind: 'streamable' | 'sse') => {
      this.toSession(id, kind, notificationMessage(method, params)).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not relay an upstream notification'));
    };
    if (method === 'notifications/resources/updated') {
      const uri = typeof params?.uri === 'string' ? params.uri : undefined;
      if (uri === undefined) return;
      const send = (id: string, { kind, shown }: ResourceSubscriber) => {
        if (shown === undefined) return deliver(id, kind);
        this.toSession(id, kind, notificationMessage(method, { ...params, uri: shown })).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not relay an upstream notification'));
      };
      const local = this.resourceSubscriptions.get(serverKey)?.get(uri);
      if (sessionId === undefined) {
        for (const [id, subscriber] of local ?? []) send(id, subscriber);
        return;
      }
      const mine = local?.get(sessionId);
      if (mine) return send(sessionId, mine);
      // The connection of one agent session: the session's subscriptions are kept with it, also
      // those made through another replica (maybe gone since: this one reopened the upstream's stream),
      // each under the URI the agent subscribed to (a virtual server's, when through one).
      this.opts.sessions.subscriptions(sessionId).then(async (subs) => {
        const wanted = subs.filter((x) => x.server === serverKey && x.uri === uri);
        if (wanted.length === 0) return;
        const s = await this.opts.sessions.get(sessionId);
        if (s) for (const x of wanted) send(s.id, { kind: s.kind, shown: x.shown });
      }).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not relay an upstream resource update'));
      return;
    }
    if (method === 'notifications/message' && sessionId !== undefined) {
      this.opts.sessions.get(sessionId).then((s) => { if (s) deliver(s.id, s.kind); }, () => undefined);
    }
  }

  /** Abort every call of a session, here and on the other replicas (its 2024 SSE stream, where the answers go, closed). */
  cancelSession(sessionId: string): void {
    this.cancelSessionCalls(sessionId);
    this.opts.bus.publish(CANCEL_CHANNEL, sessionId).catch((err: unknown) => this.opts.logger.debug({ err }, 'could not forward the end of a legacy SSE session\'s calls'));
  }

  /** Abort every call of a session that runs here. */
  private cancelSessionCalls(sessionId: string): void {
    const prefix = `${sessionId}:`;
    for (const [key, c] of this.inflight) if (key.startsWith(prefix)) c.cancel();
  }

  // ---------------------------------------------------------------- notifications

  /** Tell open streams whose server's tools or prompts changed, or whose consumer key's grants changed. */
  snapshotChanged(previous: GatewaySnapshot, next: GatewaySnapshot): void {
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
    // A consumer key whose grants changed sees other tools, though no server's list changed; so
    // does an OAuth token's holder when the scope grants of its endpoint changed.
    const before = grants(previous);
    const after = grants(next);
    const scopeGrants = (snapshot: GatewaySnapshot, key: string) => snapshot.servers.get(key)?.access?.tokens?.grantsFingerprint ?? '';
    for (const s of this.streams) {
      const regranted = s.consumerId !== null && (s.consumerId.startsWith(TOKEN_SUBJECT_PREFIX)
        ? scopeGrants(previous, s.serverKey) !== scopeGrants(next, s.serverKey)
        : before.get(s.consumerId) !== after.get(s.consumerId));
      if (toolsChanged.has(s.serverKey) || regranted) this.notify(s, 'notifications/tools/list_changed', 'toolsListChanged');
    }
  }

  /** Send a list_changed notification on a held stream, in the form its era takes. */
  /**
   * An upstream MCP server said one of its lists changed: the streams this process holds for
   * the server are told (tools and prompts the upstream serves live; the registry's own lists did not change).
   */
  upstreamListChanged(serverKey: string, method: string): void {
    const filterKey = method === 'notifications/tools/list_changed' ? 'toolsListChanged' : method === 'notifications/prompts/list_changed' ? 'promptsListChanged' : method === 'notifications/resources/list_changed' ? 'resourcesListChanged' : undefined;
    const server = this.opts.snapshot().servers.get(serverKey);
    if (!filterKey || !server || (filterKey === 'toolsListChanged' ? !server.liveTools : filterKey === 'promptsListChanged' && server.prompts.length > 0)) return;
    for (const s of this.streams) if (s.serverKey === serverKey) this.notify(s, method, filterKey);
  }

  private notify(s: HeldStream, method: string, filterKey: keyof ListenFilter): void {
    if (s.subscriptionId !== undefined) {
      if (s.filter?.[filterKey]) this.event(s.res, notificationMessage(method, { _meta: { [META.subscriptionId]: s.subscriptionId } }));
    } else if (s.sessionId) {
      this.deliver(s, notificationMessage(method));
    } else {
      this.event(s.res, notificationMessage(method));
    }
  }

  /** Write one SSE message event (a client too far behind loses its stream instead). */
  event(res: ServerResponse, data: string, id?: string): void {
    this.opts.guard.writeStream(res, messageEvent(data, id));
  }

  /** Write raw SSE text (a comment, `retry:`, the 2024 `endpoint` event). */
  write(res: ServerResponse, text: string): boolean {
    return this.opts.guard.writeStream(res, text);
  }

  // ---------------------------------------------------------------- 2025 session streams and resumption

  /** A message for a 2025 session stream: stored and sent, or queued while the stream is being resumed. */
  deliver(s: HeldStream, message: string): void {
    if (s.pending) s.pending.push(message);
    else this.sendOnSessionStream(s, message).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not send a stream message'));
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

  /**
   * Digest of what a 2025 client was last told about its server's tools and prompts lists: 6 hex
   * characters each, appended to the stream's event ids (`{event id}.{tools}{prompts}`), so that
   * whichever replica a client resumes on can tell whether a list changed while no replica held
   * the stream (its holder died) and send the list_changed it missed.
   */
  private digest(key: string): string {
    const server = this.opts.snapshot().servers.get(key);
    if (!server) return '000000000000';
    let d = this.digests.get(server);
    if (d === undefined) {
      const h = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);
      d = `${h(server.toolsFingerprint)}${h(server.promptsFingerprint)}`;
      this.digests.set(server, d);
    }
    return d;
  }

  /**
   * What a (re)connecting 2025 client gets before live messages: the events after its
   * Last-Event-ID; a list_changed for each list that changed while no replica held its stream
   * (its holder died: nobody stored the notification), told by the digest in that id; then, from
   * 2025-11-25 on, a priming event (id only) recording that the client is now up to date.
   */
  async resume(held: HeldStream, session: SessionRecord, lastEventId: string | undefined): Promise<void> {
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
        this.opts.guard.writeStream(res, `id: ${id}.${this.digest(held.serverKey)}\ndata: \n\n`);
      } catch (err) {
        this.opts.logger.warn({ err }, 'could not store a stream priming point');
      }
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Draining (SIGTERM): tell every held stream to come back after `retryMs` (SSE `retry:`) and end
   * it, so that its client reconnects through the load balancer to another replica (2025 streams
   * resume there with Last-Event-ID); listen streams get their graceful end. Calls running here
   * are left to finish. Answers how many streams were ended.
   */
  release(retryMs: number): number {
    const held = [...this.streams];
    for (const s of held) {
      this.opts.guard.writeStream(s.res, `retry: ${Math.max(0, Math.round(retryMs))}\n\n`);
      if (s.subscriptionId !== undefined) this.event(s.res, resultMessage(s.subscriptionId, { resultType: 'complete', _meta: { [META.subscriptionId]: s.subscriptionId } }));
      this.endStream(s);
    }
    return held.length;
  }

  /** Close every held stream (shutdown): listen streams get their graceful end; calls running here are aborted. */
  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    await this.cancels.close();
    for (const c of this.inflight.values()) c.cancel();
    for (const r of this.replies.values()) r.reject(new AgentError(-32603, 'the gateway is closing'));
    this.replies.clear();
    for (const s of [...this.streams]) {
      if (s.subscriptionId !== undefined) this.event(s.res, resultMessage(s.subscriptionId, { resultType: 'complete', _meta: { [META.subscriptionId]: s.subscriptionId } }));
      s.res.end();
      await s.close?.().catch(() => undefined);
    }
    this.streams.clear();
  }
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
