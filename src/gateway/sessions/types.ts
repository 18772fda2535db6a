import type { UpstreamSessionState, UpstreamSessionStates } from '../../tools/mcp/session-state.js';

/**
 * The gateway's shared-state ports. In memory for one process (`mcpgate serve`); in Redis for
 * replicas behind a load balancer, so that any replica can serve any request of a session.
 */

/** What the gateway remembers of a 2025-era or legacy SSE session. */
export interface SessionRecord {
  id: string;
  /** `streamable`: 2025 Streamable HTTP; `sse`: legacy HTTP+SSE. */
  kind: 'streamable' | 'sse';
  namespace: string;
  server: string;
  protocolVersion: string;
  clientInfo?: unknown;
  capabilities?: unknown;
  /** The consumer key's id, when the namespace is secured: only requests with that key may use the session. */
  consumerId: string | null;
  /** The address of the client that opened the session (for the per-address cap). */
  clientAddress?: string;
  /** Agent headers captured at session start and forwarded with each call (legacy SSE). */
  headers: Record<string, string>;
  createdAt: number;
  /** The session's upstream MCP session (per-session Streamable HTTP upstreams), continued by whichever replica serves it. */
  upstream?: UpstreamSessionState | undefined;
}

/**
 * Sessions by id, with an idle TTL that every use refreshes, and caps on how many there are
 * (in all, per consumer key, per client address: `SessionLimits`).
 */
export interface SessionStore {
  /**
   * Store a new session, or replace the one with its id (which changes no count). Throws
   * SessionLimitError when a cap is reached; at the global cap the least recently used session
   * idle long enough is evicted to make room.
   */
  create(session: SessionRecord): Promise<void>;
  /** The session, refreshing its idle TTL; undefined when unknown or expired. */
  get(id: string): Promise<SessionRecord | undefined>;
  /**
   * `get` answered at once, offered by stores that hold the sessions in this process (memory):
   * the 2025 request path then makes no promise for the lookup. Absent where a lookup waits for
   * another process (Redis).
   */
  getHeld?(id: string): SessionRecord | undefined;
  /** Refresh the idle TTL of many sessions at once (open streams); answers the ids that still exist. */
  touch(ids: readonly string[]): Promise<Set<string>>;
  delete(id: string): Promise<void>;
  /** How many sessions are held (with Redis: across every replica sharing it), for the metrics. */
  count(): Promise<number>;
  /**
   * Keep (or, with undefined, forget) the session's upstream MCP session, leaving its TTL and
   * counts as they are; nothing happens when the session is unknown (it is never re-created).
   */
  setUpstream(id: string, upstream: UpstreamSessionState | undefined): Promise<void>;
  /**
   * The upstream MCP session of `server` (`namespace/name`), a member of the virtual server the
   * session is with (a per-session Streamable HTTP upstream), kept by `setMemberUpstream`.
   */
  memberUpstream(id: string, server: string): Promise<UpstreamSessionState | undefined>;
  /**
   * Keep (or, with undefined, forget) the upstream MCP session of a member of the session's
   * virtual server: one per member, each written on its own (two members' sessions opened at
   * once never overwrite each other), expiring and ending with the session, at most
   * `MAX_MEMBER_UPSTREAMS` (past that one is not kept: other replicas initialize their own).
   */
  setMemberUpstream(id: string, server: string, upstream: UpstreamSessionState | undefined): Promise<void>;
  /**
   * Record that the session subscribed to a resource of an upstream MCP server (`server`:
   * `namespace/name`), so that whichever replica receives the upstream's
   * `notifications/resources/updated` delivers it, also after the replica that took the
   * subscription died. Kept with the session (same idle TTL, ended with it), at most
   * `MAX_SESSION_SUBSCRIPTIONS` per session. Answers false when the session is unknown; throws
   * SubscriptionLimitError at the cap (a subscription already held is no new one). `shown`: the
   * URI the agent subscribed to when not the upstream's (through a virtual server), so that any
   * replica delivers the upstream's updates under it.
   */
  addSubscription(id: string, server: string, uri: string, shown?: string): Promise<boolean>;
  /** Forget a subscription (nothing happens when there is none); `shown` as it was added. */
  removeSubscription(id: string, server: string, uri: string, shown?: string): Promise<void>;
  /** The session's subscriptions, in no particular order (none when the session is unknown). */
  subscriptions(id: string): Promise<ResourceSubscription[]>;
  /**
   * Keep, for `ttlMs`, where a 2026-07-28 call of an upstream MCP server waits for its agent's
   * input (`input_required`; `id`: the round's `requestState`), so that the agent's retry is
   * continued whichever replica receives it. Writing again replaces it and its TTL.
   */
  putInputRound(id: string, round: InputRoundRecord, ttlMs: number): Promise<void>;
  /** A round kept by `putInputRound`; undefined when unknown, expired or malformed. */
  getInputRound(id: string): Promise<InputRoundRecord | undefined>;
  /** Forget a round (nothing happens when there is none). */
  deleteInputRound(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Where a 2026-07-28 call waiting for its agent's input is held, and whose it is. */
export interface InputRoundRecord {
  /** The replica holding the call (its bus channel: `inputChannel(holder)`). */
  holder: string;
  /** The server, `namespace/name`. */
  server: string;
  /** The consumer key that started it (null in an open namespace). */
  consumerId: string | null;
}

/** Most rounds the in-memory store keeps (each replica holds at most 10,000 itself). */
export const MAX_INPUT_ROUNDS = 100_000;

/** A kept round read back (undefined when malformed). */
export function readInputRound(raw: string | null | undefined): InputRoundRecord | undefined {
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as Partial<InputRoundRecord>;
    if (typeof r.holder !== 'string' || typeof r.server !== 'string' || (r.consumerId !== null && typeof r.consumerId !== 'string')) return undefined;
    return { holder: r.holder, server: r.server, consumerId: r.consumerId };
  } catch {
    return undefined;
  }
}

/** The bus channel of one replica's 2026-07-28 rounds: retries forwarded to it, and its answers to forwarded retries. */
export function inputChannel(replica: string): string {
  return `mcp-server-input:${replica}`;
}

/** A session's subscription to a resource of an upstream MCP server. */
export interface ResourceSubscription {
  /** The server, `namespace/name`. */
  server: string;
  uri: string;
  /** The URI the agent knows the resource by (a virtual server's), when not `uri`. */
  shown?: string;
}

/** Most upstream sessions of virtual server members kept with one agent session (more are not kept: other replicas initialize their own). */
export const MAX_MEMBER_UPSTREAMS = 32;


/** Most resource subscriptions one session holds (every server together). */
export const MAX_SESSION_SUBSCRIPTIONS = 100;
/** Longest resource URI a subscription takes (bytes). */
export const MAX_SUBSCRIPTION_URI_BYTES = 2048;

/**
 * How a subscription is kept: one string, the server, a newline, the URI, and when the agent
 * knows it by another URI, a newline and that one (none of them holds a newline: resources/subscribe
 * refuses such URIs).
 */
export function subscriptionMember(server: string, uri: string, shown?: string): string {
  return shown === undefined ? `${server}\n${uri}` : `${server}\n${uri}\n${shown}`;
}

/** A kept subscription read back (undefined when malformed). */
export function readSubscriptionMember(member: string): ResourceSubscription | undefined {
  const at = member.indexOf('\n');
  if (at <= 0 || at === member.length - 1) return undefined;
  const rest = member.slice(at + 1);
  const second = rest.indexOf('\n');
  if (second < 0) return { server: member.slice(0, at), uri: rest };
  if (second === 0 || second === rest.length - 1) return undefined;
  return { server: member.slice(0, at), uri: rest.slice(0, second), shown: rest.slice(second + 1) };
}

/** A session holds the most resource subscriptions allowed. */
export class SubscriptionLimitError extends Error {
  override readonly name = 'SubscriptionLimitError';

  constructor(readonly max: number) {
    super(`this session holds the most resource subscriptions allowed (${max}); unsubscribe from one first`);
  }
}

/** Delivery between replicas: the replica holding a stream subscribes to its channel. */
export interface MessageBus {
  /** Publish; answers how many subscribers received it (0: no replica holds that stream). */
  publish(channel: string, payload: string): Promise<number>;
  /** Subscribe; resolves with the function that unsubscribes. */
  subscribe(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Events of resumable streams, so a client reconnecting with Last-Event-ID gets what it missed. */
export interface EventStore {
  /** Store a message of a stream; answers its event id. */
  append(streamId: string, message: string): Promise<string>;
  /** Replay the events of the stream `lastEventId` belongs to that came after it; answers that stream's id. */
  replayAfter(lastEventId: string, onEvent: (eventId: string, message: string) => void): Promise<string | undefined>;
  close(): Promise<void>;
}

/** The channel of a legacy SSE session, as Higress names it (`PSUBSCRIBE mcp-server-sse:*` shows the traffic). */
export function sseChannel(sessionId: string): string {
  return `mcp-server-sse:${sessionId}`;
}

/** The channel of a 2025 session's standalone GET stream. */
export function streamChannel(sessionId: string): string {
  return `mcp-server-stream:${sessionId}`;
}

/**
 * The shared session state (Redis) did not answer in time or is not reachable. Thrown by the Redis
 * implementations of the ports above instead of hanging; the handler answers HTTP 503 with a
 * JSON-RPC error. Nothing is retried behind the caller's back (a failed command is never resent
 * later), but a command that timed out may still have been applied by Redis.
 */
export class SessionStateUnavailableError extends Error {
  override readonly name = 'SessionStateUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Which session cap refused a new session. */
export type SessionCap = 'maxSessions' | 'maxSessionsPerKey' | 'maxSessionsPerAddress';

/** A new session was refused: a cap is reached (and, for `maxSessions`, no session was idle enough to evict). */
export class SessionLimitError extends Error {
  override readonly name = 'SessionLimitError';

  constructor(readonly limit: SessionCap, readonly max: number) {
    super(limit === 'maxSessions'
      ? `the gateway holds the most sessions allowed (maxSessions = ${max}) and none has been idle long enough to make room`
      : `this ${limit === 'maxSessionsPerKey' ? 'consumer key' : 'client address'} holds the most sessions allowed (${limit} = ${max}); end one (DELETE) or let one expire`);
  }
}

/** The owner sets a session counts in: `key:{consumer id}` and `addr:{client address}`. */
export function sessionOwners(session: Pick<SessionRecord, 'consumerId' | 'clientAddress'>): { key?: string; addr?: string } {
  return {
    ...(session.consumerId !== null ? { key: `key:${session.consumerId}` } : {}),
    ...(session.clientAddress ? { addr: `addr:${session.clientAddress}` } : {}),
  };
}

/**
 * The upstream sessions of one upstream MCP server kept with the agent sessions: the session's
 * own `upstream` when the server is the session's, else the member's (the session is with a
 * virtual server), so that two members never continue each other's upstream session.
 */
export function upstreamSessionsOf(store: SessionStore, server: string): UpstreamSessionStates {
  return {
    get: async (id) => {
      const s = await store.get(id);
      if (!s) return undefined;
      return `${s.namespace}/${s.server}` === server ? s.upstream : store.memberUpstream(id, server);
    },
    set: async (id, state) => {
      const s = await store.get(id);
      if (!s) return;
      if (`${s.namespace}/${s.server}` === server) await store.setUpstream(id, state);
      else await store.setMemberUpstream(id, server, state);
    },
  };
}
