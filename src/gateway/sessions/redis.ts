/**
 * The shared-state ports in Redis (ioredis), so that any gateway replica can serve any request of a
 * session (issue 5, COMPAT.md §4). Requires Redis ≥ 6.2 (GETEX, exclusive XRANGE).
 *
 * Key layout (prefix default `mcpgate:`):
 *   `{prefix}session:{id}`     JSON `{ v: 1, s: record-without-headers, h?: sealed headers }`, PX = idle time,
 *                              refreshed by every get (GETEX … PX);
 *   `{prefix}session:{id}:subs` a set of the session's resource subscriptions to upstream MCP servers
 *                              (`{server}\n{uri}[\n{shown}]`), expiring and ending with the record;
 *   `{prefix}session:{id}:up`  a hash of the upstream sessions of a virtual server's members, by server key,
 *                              each sealed, expiring and ending with the record;
 *   `{prefix}sessions`         a sorted set of the live session ids, scored by when each expires (last use +
 *                              idle time, in µs by Redis's clock): the use order the global cap evicts by;
 *   `{prefix}session-owners`   a hash: session id → the owners it counts for (`key:{consumer}`, `addr:{address}`);
 *   `{prefix}sessions-of:{owner}`  a set of the session ids of one consumer key or client address (per-owner caps);
 *   `{prefix}session-key`      32 random bytes (base64) every replica derives the header key from, when no
 *                              encryption key is configured (created with SET NX, no expiry);
 *   `{prefix}input:{id}`       JSON `{ holder, server, consumerId }`: a 2026-07-28 call waiting for its agent's
 *                              input (`requestState` = id, 122 random bits), PX = 120 s from its last question;
 *   `{prefix}events:{stream}`  a Redis stream per resumable stream, field `m` = the message; trimmed to
 *                              ~maxLen entries and to entries younger than maxAge; the key expires maxAge
 *                              after the last append.
 * Channels are the names the handler gives, unprefixed by default, so that `PSUBSCRIBE mcp-server-sse:*`
 * shows the legacy SSE traffic as Higress operators expect; with `channelPrefix` (the `redisPrefix`
 * option sets both prefixes) they are `{channelPrefix}{name}`, so that installations sharing a Redis
 * never receive each other's messages.
 *
 * The session caps (`SessionLimits`) count what is in Redis, so they hold across all replicas; the
 * bookkeeping of expired sessions is dropped by the next create (at most 1000 a call), and the session
 * scripts below keep the record, the sorted set and the owner sets in step atomically. (The scripts
 * reach keys they compute, as a single Redis allows; Redis Cluster is not supported.)
 *
 * Faults: nothing waits for Redis. Commands are not queued while disconnected (they fail at once), every
 * command has a timeout, in-flight commands fail when the connection drops and are never replayed later,
 * and the clients reconnect forever with capped backoff. Every failure surfaces as
 * SessionStateUnavailableError; subscriptions are restored by this module after a reconnect.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from '../../lib/logger.js';
import type { SessionLimits } from '../limits.js';
import { NO_SESSION_LIMITS } from '../limits.js';
import { MAX_UPSTREAM_STATE_BYTES, readUpstreamState } from '../../tools/mcp/session-state.js';
import type { UpstreamSessionState } from '../../tools/mcp/session-state.js';
import { HeaderCipher } from './header-cipher.js';
import { MAX_MEMBER_UPSTREAMS, MAX_SESSION_SUBSCRIPTIONS, SessionLimitError, SessionStateUnavailableError, SubscriptionLimitError, readInputRound, readSubscriptionMember, sessionOwners, subscriptionMember } from './types.js';
import type { EventStore, InputRoundRecord, MessageBus, ResourceSubscription, SessionRecord, SessionStore } from './types.js';

export interface RedisStateOptions {
  /** Prefix of every key. Default `mcpgate:`. */
  keyPrefix?: string;
  /** Prefix of every pub/sub channel. Default none. */
  channelPrefix?: string;
  /** A session's idle time to live, refreshed by each use. */
  sessionIdleMs: number;
  /** Caps on the sessions held (across every replica on this Redis); none when omitted. */
  limits?: SessionLimits;
  /**
   * Secret the forwarded-headers key is derived from (scrypt); every replica must have the same. When
   * unset, a random key is created in Redis (`{prefix}session-key`) and shared by all replicas: the
   * headers are then unreadable to whoever only sees session keys (a `GET`, `MONITOR`, a partial dump),
   * but not to whoever can read the whole of Redis. Configure a key to keep credentials safe from that too.
   */
  encryptionKey?: string;
  logger: Logger;
  /** Events kept per stream (approximate, Redis `MAXLEN ~`). Default 1000. */
  eventsMaxLen?: number;
  /** Age after which events are dropped, and the stream key expires after its last append. Default 15 min. */
  eventsMaxAgeMs?: number;
  /** Time a command may take before it fails. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** Time a connection attempt may take. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts (exponential backoff up to it). Default 1000 ms. */
  reconnectMaxDelayMs?: number;
  /**
   * A PING on each connection this often, so that a dead connection (a hung Redis, a network that drops
   * packets) is noticed within heartbeat + 2 × command timeout even when idle — the subscriber connection
   * otherwise never sends anything. Default 5000 ms.
   */
  heartbeatMs?: number;
}

/** The three ports on one Redis, with the connection state. */
export interface RedisState {
  sessions: RedisSessionStore;
  bus: RedisMessageBus;
  events: RedisEventStore;
  /** Whether both connections are up and every subscription is in place (false once closing). */
  healthy(): boolean;
  /** Wait until healthy (true) or until `timeoutMs` has passed (false); never rejects. */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Close the three ports and both connections. */
  close(): Promise<void>;
}

const DEFAULTS = {
  keyPrefix: 'mcpgate:',
  eventsMaxLen: 1000,
  eventsMaxAgeMs: 15 * 60_000,
  commandTimeoutMs: 1000,
  connectTimeoutMs: 1000,
  reconnectMaxDelayMs: 1000,
  heartbeatMs: 5000,
};

/** ioredis options that fail fast instead of waiting for Redis, and reconnect forever. */
export function failFastOptions(o: { commandTimeoutMs: number; connectTimeoutMs: number; reconnectMaxDelayMs: number }, connectionName: string): RedisOptions {
  return {
    connectionName,
    enableOfflineQueue: false,
    // In-flight commands fail as soon as the connection drops, and are never resent after a reconnect
    // (a publish or a session write the caller was told had failed must not happen later).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // RedisMessageBus restores its subscriptions itself, from its own table.
    autoResubscribe: false,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: o.connectTimeoutMs,
    // A command without any answer for this long: the socket is dead (a half-open connection); reconnect.
    socketTimeout: o.commandTimeoutMs * 2,
    keepAlive: 10_000,
    retryStrategy: (times: number) => Math.min(o.reconnectMaxDelayMs, 50 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 50),
  };
}

/** Connect the three Redis ports: one connection for commands, one for subscriptions. */
export function createRedisState(url: string, opts: RedisStateOptions): RedisState {
  const o = { ...DEFAULTS, ...withoutUndefined(opts) };
  const cmd = new Redis(url, failFastOptions(o, 'mcpgate'));
  const sub = new Redis(url, failFastOptions(o, 'mcpgate-sub'));
  watch(cmd, 'commands', o.logger);
  watch(sub, 'subscriptions', o.logger);
  const heartbeat = setInterval(() => {
    for (const r of [cmd, sub]) if (r.status === 'ready') r.ping().catch(() => undefined);
  }, o.heartbeatMs);
  heartbeat.unref();
  // The command connection is shared by the three ports: it closes with the last of them.
  let users = 3;
  const release = async () => {
    users -= 1;
    if (users > 0) return;
    clearInterval(heartbeat);
    await quit(cmd);
  };
  const sessions = new RedisSessionStore(cmd, { keyPrefix: o.keyPrefix, idleMs: o.sessionIdleMs, encryptionKey: o.encryptionKey, logger: o.logger, limits: o.limits }, release);
  const bus = new RedisMessageBus(cmd, sub, o.logger, release, o.channelPrefix);
  const events = new RedisEventStore(cmd, { keyPrefix: o.keyPrefix, maxLen: o.eventsMaxLen, maxAgeMs: o.eventsMaxAgeMs }, release);
  const healthy = () => users === 3 && cmd.status === 'ready' && bus.healthy();
  return {
    sessions, bus, events, healthy,
    async ready(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!healthy()) {
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    },
    async close() {
      await Promise.all([sessions.close(), bus.close(), events.close()]);
    },
  };
}

// ------------------------------------------------------------------ sessions

interface StoredSession {
  v: 1;
  s: Omit<SessionRecord, 'headers' | 'upstream'>;
  /** The headers, sealed (absent when there are none). */
  h?: string;
  /** The upstream MCP session (`SessionRecord.upstream`), sealed as the headers are (absent when there is none). */
  u?: string;
}

/** The additional authenticated data of a sealed upstream session: not interchangeable with the headers. */
const upstreamAad = (id: string) => `${id}#upstream`;
/** The same for a virtual server member's upstream session: not interchangeable with another member's. */
const memberAad = (id: string, server: string) => `${id}#upstream:${server}`;

/**
 * Now in µs by Redis's clock (uses a millisecond apart keep their order), and `forget(id)`: drop a
 * session's bookkeeping (not its record).
 */
const SESSION_LUA_PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function forget(prefix, sid)
  local owners = redis.call('HGET', prefix .. 'session-owners', sid)
  if owners then
    for owner in string.gmatch(owners, '[^\\n]+') do redis.call('SREM', prefix .. 'sessions-of:' .. owner, sid) end
    redis.call('HDEL', prefix .. 'session-owners', sid)
  end
  redis.call('ZREM', prefix .. 'sessions', sid)
end`;

/**
 * Create (or replace) a session under the caps. KEYS: record, sorted set, owners hash. ARGV: id,
 * record, idle ms, maxSessions, maxSessionsPerKey, maxSessionsPerAddress, evict-idle ms, prefix, key
 * owner, address owner ('' for none). Answers {0, evicted} or {1|2|3, evicted} for the cap that refused.
 */
const CREATE_SESSION_SCRIPT = `${SESSION_LUA_PRELUDE}
local id, doc, idle = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxAll, maxKey, maxAddr, evictIdle = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local prefix, keyOwner, addrOwner = ARGV[8], ARGV[9], ARGV[10]
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], doc, 'PX', idle)
  redis.call('PEXPIRE', KEYS[1] .. ':subs', idle)
  redis.call('PEXPIRE', KEYS[1] .. ':up', idle)
  redis.call('ZADD', KEYS[2], now + idle * 1000, id)
  return {0, 0}
end
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)) do
  local ttl = redis.call('PTTL', prefix .. 'session:' .. sid)
  if ttl > 0 then redis.call('ZADD', KEYS[2], now + ttl * 1000, sid) else forget(prefix, sid) end
end
if keyOwner ~= '' and maxKey > 0 and redis.call('SCARD', prefix .. 'sessions-of:' .. keyOwner) >= maxKey then return {2, 0} end
if addrOwner ~= '' and maxAddr > 0 and redis.call('SCARD', prefix .. 'sessions-of:' .. addrOwner) >= maxAddr then return {3, 0} end
local evicted = 0
if maxAll > 0 then
  local n = redis.call('ZCARD', KEYS[2])
  while n >= maxAll do
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    if now - (tonumber(oldest[2]) - idle * 1000) < evictIdle * 1000 then return {1, evicted} end
    redis.call('DEL', prefix .. 'session:' .. oldest[1], prefix .. 'session:' .. oldest[1] .. ':subs', prefix .. 'session:' .. oldest[1] .. ':up')
    forget(prefix, oldest[1])
    evicted = evicted + 1
    n = n - 1
  end
end
redis.call('SET', KEYS[1], doc, 'PX', idle)
redis.call('ZADD', KEYS[2], now + idle * 1000, id)
local owners = {}
for _, owner in ipairs({keyOwner, addrOwner}) do
  if owner ~= '' then
    redis.call('SADD', prefix .. 'sessions-of:' .. owner, id)
    owners[#owners + 1] = owner
  end
end
if #owners > 0 then redis.call('HSET', KEYS[3], id, table.concat(owners, '\\n')) end
return {0, evicted}`;

/** Read a session and refresh its idle time and its place in the use order. KEYS: record, sorted set. ARGV: idle ms, id. */
const GET_SESSION_SCRIPT = `
local v = redis.call('GETEX', KEYS[1], 'PX', ARGV[1])
if v then
  redis.call('PEXPIRE', KEYS[1] .. ':subs', ARGV[1])
  redis.call('PEXPIRE', KEYS[1] .. ':up', ARGV[1])
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[1]) * 1000, ARGV[2])
end
return v`;

/** Refresh many sessions. KEYS: sorted set, then the records. ARGV: idle ms, then the ids. Answers 1/0 per id. */
const TOUCH_SESSIONS_SCRIPT = `${SESSION_LUA_PRELUDE}
local idle = tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  local found = redis.call('PEXPIRE', KEYS[i], idle)
  if found == 1 then
    redis.call('ZADD', KEYS[1], now + idle * 1000, ARGV[i])
    redis.call('PEXPIRE', KEYS[i] .. ':subs', idle)
    redis.call('PEXPIRE', KEYS[i] .. ':up', idle)
  end
  out[#out + 1] = found
end
return out`;

/** Delete a session and its bookkeeping. KEYS: record. ARGV: id, prefix. */
const DELETE_SESSION_SCRIPT = `${SESSION_LUA_PRELUDE}
redis.call('DEL', KEYS[1], KEYS[1] .. ':subs', KEYS[1] .. ':up')
forget(ARGV[2], ARGV[1])
return 1`;

/**
 * Add a resource subscription to a live session, with the session's remaining TTL. KEYS: record,
 * subscriptions. ARGV: member, cap. Answers 1, 0 (no such session) or -1 (at the cap).
 */
const ADD_SUBSCRIPTION_SCRIPT = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
return 1`;

/** The subscriptions of a live session. KEYS: record, subscriptions. */
const LIST_SUBSCRIPTIONS_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
return redis.call('SMEMBERS', KEYS[2])`;

/**
 * Keep (ARGV[2] not empty) or forget a virtual server member's upstream session of a live session,
 * with the session's remaining TTL. KEYS: record, members hash. ARGV: server, sealed state or '',
 * cap. Answers 1, 0 (no such session) or -1 (at the cap: not kept).
 */
const SET_MEMBER_UPSTREAM_SCRIPT = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
return 1`;

/** A member's upstream session of a live session. KEYS: record, members hash. ARGV: server. */
const GET_MEMBER_UPSTREAM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HGET', KEYS[2], ARGV[1])`;

const CAPS = ['', 'maxSessions', 'maxSessionsPerKey', 'maxSessionsPerAddress'] as const;

type WithSessionScripts = {
  mcpgateCreateSession(record: string, all: string, owners: string, ...argv: (string | number)[]): Promise<[number, number]>;
  mcpgateGetSession(record: string, all: string, idleMs: number, id: string): Promise<string | null>;
  mcpgateTouchSessions(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number[]>;
  mcpgateDeleteSession(record: string, id: string, prefix: string): Promise<number>;
  mcpgateAddSubscription(record: string, subs: string, member: string, max: number): Promise<number>;
  mcpgateListSubscriptions(record: string, subs: string): Promise<string[]>;
  mcpgateSetMemberUpstream(record: string, members: string, server: string, sealed: string, max: number): Promise<number>;
  mcpgateGetMemberUpstream(record: string, members: string, server: string): Promise<string | null>;
};

/** Sessions in Redis: one key per session, idle TTL refreshed on every get, headers encrypted at rest, caps across replicas. */
export class RedisSessionStore implements SessionStore {
  private readonly prefix: string;
  /** The key new headers are sealed with. */
  private current?: Promise<HeaderCipher>;
  /** Every key this replica has used, by key id (opens what was sealed before a key change). */
  private readonly ciphers = new Map<string, HeaderCipher>();
  /** This replica's copy of the shared random key material (random-key mode). */
  private material?: Buffer;
  private lastKeyReload = 0;
  private closed = false;
  private readonly limits: SessionLimits;
  private readonly scripts: WithSessionScripts;

  constructor(
    private readonly redis: Redis,
    private readonly o: { keyPrefix?: string; idleMs: number; encryptionKey?: string; logger: Logger; limits?: SessionLimits | undefined },
    private readonly release: () => Promise<void> = async () => quit(redis),
  ) {
    this.prefix = o.keyPrefix ?? DEFAULTS.keyPrefix;
    this.limits = o.limits ?? NO_SESSION_LIMITS;
    this.scripts = redis as unknown as WithSessionScripts;
    if (typeof this.scripts.mcpgateCreateSession !== 'function') {
      redis.defineCommand('mcpgateCreateSession', { numberOfKeys: 3, lua: CREATE_SESSION_SCRIPT });
      redis.defineCommand('mcpgateGetSession', { numberOfKeys: 2, lua: GET_SESSION_SCRIPT });
      redis.defineCommand('mcpgateTouchSessions', { lua: TOUCH_SESSIONS_SCRIPT });
      redis.defineCommand('mcpgateDeleteSession', { numberOfKeys: 1, lua: DELETE_SESSION_SCRIPT });
      redis.defineCommand('mcpgateAddSubscription', { numberOfKeys: 2, lua: ADD_SUBSCRIPTION_SCRIPT });
      redis.defineCommand('mcpgateListSubscriptions', { numberOfKeys: 2, lua: LIST_SUBSCRIPTIONS_SCRIPT });
      redis.defineCommand('mcpgateSetMemberUpstream', { numberOfKeys: 2, lua: SET_MEMBER_UPSTREAM_SCRIPT });
      redis.defineCommand('mcpgateGetMemberUpstream', { numberOfKeys: 2, lua: GET_MEMBER_UPSTREAM_SCRIPT });
    }
    if (o.encryptionKey) {
      this.current = this.loadCipher();
      this.current.catch(() => { this.current = undefined; });
    } else {
      // After every (re)connect, check the shared key again: if Redis lost it (restart without
      // persistence, flush), SET NX puts this replica's key back, and replicas converge on one key.
      redis.on('ready', () => {
        this.current = undefined;
        this.cipher().catch(() => undefined);
      });
    }
  }

  private key(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private cipher(): Promise<HeaderCipher> {
    if (!this.current) {
      const loading = this.loadCipher();
      this.current = loading;
      loading.catch(() => { if (this.current === loading) this.current = undefined; });
    }
    return this.current;
  }

  private async loadCipher(): Promise<HeaderCipher> {
    let cipher: HeaderCipher;
    if (this.o.encryptionKey) {
      cipher = await HeaderCipher.fromSecret(this.o.encryptionKey);
    } else {
      const name = `${this.prefix}session-key`;
      await this.redis.set(name, (this.material ?? randomBytes(32)).toString('base64'), 'NX');
      const stored = await this.redis.get(name);
      if (!stored) throw new Error(`${name} disappeared right after it was set`);
      const material = Buffer.from(stored, 'base64');
      if (this.material && !material.equals(this.material)) {
        this.o.logger.warn({ redisKey: name }, 'the shared session encryption key in Redis changed; sessions sealed with the previous key stay readable on this replica only');
      }
      this.material = material;
      cipher = await HeaderCipher.fromMaterial(material);
    }
    this.ciphers.set(cipher.keyId, cipher);
    return cipher;
  }

  async create(session: SessionRecord): Promise<void> {
    this.assertOpen();
    const { headers, upstream, ...rest } = session;
    const doc: StoredSession = { v: 1, s: rest };
    if (Object.keys(headers).length > 0) {
      const cipher = await guard(this.redis, 'load the session encryption key', () => this.cipher());
      doc.h = cipher.seal(headers, session.id);
    }
    if (upstream) await this.sealUpstream(doc, session.id, upstream);
    const owners = sessionOwners(session);
    const { maxSessions, maxSessionsPerKey, maxSessionsPerAddress, sessionEvictIdleMs } = this.limits;
    const [refused, evicted] = await guard(this.redis, 'store a session', () => this.scripts.mcpgateCreateSession(
      this.key(session.id), `${this.prefix}sessions`, `${this.prefix}session-owners`,
      session.id, JSON.stringify(doc), this.o.idleMs, maxSessions, maxSessionsPerKey, maxSessionsPerAddress, sessionEvictIdleMs, this.prefix, owners.key ?? '', owners.addr ?? ''));
    if (evicted > 0) this.o.logger.info({ evicted, maxSessions }, 'evicted the least recently used idle sessions to make room (maxSessions)');
    const cap = CAPS[refused];
    if (cap) throw new SessionLimitError(cap, this.limits[cap]);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    this.assertOpen();
    const raw = await guard(this.redis, 'read a session', () => this.scripts.mcpgateGetSession(this.key(id), `${this.prefix}sessions`, this.o.idleMs, id));
    if (raw === null) return undefined;
    let doc: StoredSession;
    try {
      doc = JSON.parse(raw) as StoredSession;
      if (doc.v !== 1 || typeof doc.s !== 'object' || doc.s === null) throw new Error(`unknown record version ${String(doc.v)}`);
    } catch (err) {
      this.o.logger.error({ session: id, err: errorText(err) }, 'unreadable session record in Redis; treated as unknown');
      return undefined;
    }
    let headers: Record<string, string> = {};
    if (typeof doc.h === 'string') {
      const opened = await this.openHeaders(doc.h, id);
      if (!opened) return undefined;
      headers = opened;
    }
    let upstream: UpstreamSessionState | undefined;
    if (typeof doc.u === 'string') {
      // One that cannot be opened is dropped: the next call initializes a new upstream session.
      const opened = await this.openHeaders(doc.u, upstreamAad(id));
      try { upstream = readUpstreamState(opened?.state ? JSON.parse(opened.state) : undefined); } catch { upstream = undefined; }
    }
    return { ...doc.s, headers, ...(upstream ? { upstream } : {}) };
  }

  private async sealUpstream(doc: StoredSession, id: string, upstream: UpstreamSessionState): Promise<void> {
    const state = JSON.stringify(upstream);
    // Capabilities too large to keep are read again from the upstream (initialize) by the next replica.
    if (Buffer.byteLength(state) > MAX_UPSTREAM_STATE_BYTES) return;
    const cipher = await guard(this.redis, 'load the session encryption key', () => this.cipher());
    doc.u = cipher.seal({ state }, upstreamAad(id));
  }

  /**
   * Read, change and write back the record (keeping its TTL; XX: a session deleted meanwhile is
   * not re-created). Only the replica that opens an upstream session writes it, rarely.
   */
  async setUpstream(id: string, upstream: UpstreamSessionState | undefined): Promise<void> {
    this.assertOpen();
    const key = this.key(id);
    const raw = await guard(this.redis, 'read a session', () => this.redis.get(key));
    if (raw === null) return;
    let doc: StoredSession;
    try {
      doc = JSON.parse(raw) as StoredSession;
      if (doc.v !== 1) return;
    } catch {
      return;
    }
    delete doc.u;
    if (upstream) await this.sealUpstream(doc, id, upstream);
    await guard(this.redis, 'store a session', () => this.redis.set(key, JSON.stringify(doc), 'KEEPTTL', 'XX'));
  }

  async memberUpstream(id: string, server: string): Promise<UpstreamSessionState | undefined> {
    this.assertOpen();
    const key = this.key(id);
    const sealed = await guard(this.redis, 'read a member\'s upstream session', () => this.scripts.mcpgateGetMemberUpstream(key, `${key}:up`, server));
    if (sealed === null) return undefined;
    // One that cannot be opened is dropped: the next call initializes a new upstream session.
    const opened = await this.openHeaders(sealed, memberAad(id, server));
    try { return readUpstreamState(opened?.state ? JSON.parse(opened.state) : undefined); } catch { return undefined; }
  }

  async setMemberUpstream(id: string, server: string, upstream: UpstreamSessionState | undefined): Promise<void> {
    this.assertOpen();
    const key = this.key(id);
    let sealed = '';
    if (upstream) {
      const state = JSON.stringify(upstream);
      // Too large to keep: read again from the upstream (initialize) by the next replica.
      if (Buffer.byteLength(state) > MAX_UPSTREAM_STATE_BYTES) return;
      const cipher = await guard(this.redis, 'load the session encryption key', () => this.cipher());
      sealed = cipher.seal({ state }, memberAad(id, server));
    }
    await guard(this.redis, 'store a member\'s upstream session', () => this.scripts.mcpgateSetMemberUpstream(key, `${key}:up`, server, sealed, MAX_MEMBER_UPSTREAMS));
  }

  async addSubscription(id: string, server: string, uri: string, shown?: string): Promise<boolean> {
    this.assertOpen();
    const key = this.key(id);
    const added = await guard(this.redis, 'store a resource subscription', () => this.scripts.mcpgateAddSubscription(key, `${key}:subs`, subscriptionMember(server, uri, shown), MAX_SESSION_SUBSCRIPTIONS));
    if (added === -1) throw new SubscriptionLimitError(MAX_SESSION_SUBSCRIPTIONS);
    return added === 1;
  }

  async removeSubscription(id: string, server: string, uri: string, shown?: string): Promise<void> {
    this.assertOpen();
    await guard(this.redis, 'remove a resource subscription', () => this.redis.srem(`${this.key(id)}:subs`, subscriptionMember(server, uri, shown)));
  }

  async subscriptions(id: string): Promise<ResourceSubscription[]> {
    this.assertOpen();
    const key = this.key(id);
    const members = await guard(this.redis, 'read resource subscriptions', () => this.scripts.mcpgateListSubscriptions(key, `${key}:subs`));
    return members.map(readSubscriptionMember).filter((x): x is ResourceSubscription => x !== undefined);
  }

  async putInputRound(id: string, round: InputRoundRecord, ttlMs: number): Promise<void> {
    this.assertOpen();
    await guard(this.redis, 'store a round waiting for input', () => this.redis.set(`${this.prefix}input:${id}`, JSON.stringify(round), 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async getInputRound(id: string): Promise<InputRoundRecord | undefined> {
    this.assertOpen();
    return readInputRound(await guard(this.redis, 'read a round waiting for input', () => this.redis.get(`${this.prefix}input:${id}`)));
  }

  async deleteInputRound(id: string): Promise<void> {
    this.assertOpen();
    await guard(this.redis, 'forget a round waiting for input', () => this.redis.del(`${this.prefix}input:${id}`));
  }

  /** The headers of a session, or undefined (logged) when this replica cannot open them. */
  private async openHeaders(sealed: string, id: string): Promise<Record<string, string> | undefined> {
    await guard(this.redis, 'load the session encryption key', () => this.cipher());
    const keyId = sealed.split('.')[1] ?? '';
    if (!this.ciphers.has(keyId) && !this.o.encryptionKey && Date.now() - this.lastKeyReload > 5000) {
      // Sealed by a replica that has another key: maybe ours is stale (Redis lost and re-created it).
      this.lastKeyReload = Date.now();
      this.current = undefined;
      await guard(this.redis, 'load the session encryption key', () => this.cipher());
    }
    const cipher = this.ciphers.get(keyId);
    if (!cipher) {
      this.o.logger.error({ session: id, keyId, ours: [...this.ciphers.keys()] },
        'session headers were sealed with another encryption key (do all replicas share the same session encryption key?); the session is treated as unknown');
      return undefined;
    }
    try {
      return cipher.open(sealed, id);
    } catch (err) {
      this.o.logger.error({ session: id, err: errorText(err) }, 'session headers could not be decrypted; the session is treated as unknown');
      return undefined;
    }
  }

  /**
   * One script call per batch of sessions (a PEXPIRE and a use-order update each): no record is
   * read or parsed, which matters when a replica holds thousands of streams (every 15 s).
   */
  async touch(ids: readonly string[]): Promise<Set<string>> {
    this.assertOpen();
    const live = new Set<string>();
    for (let i = 0; i < ids.length; i += TOUCH_BATCH) {
      const batch = ids.slice(i, i + TOUCH_BATCH);
      const found = await guard(this.redis, 'refresh sessions', () => this.scripts.mcpgateTouchSessions(
        batch.length + 1, `${this.prefix}sessions`, ...batch.map((id) => this.key(id)), this.o.idleMs, ...batch));
      found.forEach((f, j) => {
        if (f === 1) live.add(batch[j] as string);
      });
    }
    return live;
  }

  /** Sessions whose idle time has not run out, across replicas (the sorted set's scores are expiry times in µs). */
  async count(): Promise<number> {
    this.assertOpen();
    return guard(this.redis, 'count sessions', () => this.redis.zcount(`${this.prefix}sessions`, `(${Date.now() * 1000}`, '+inf'));
  }

  async delete(id: string): Promise<void> {
    this.assertOpen();
    await guard(this.redis, 'delete a session', () => this.scripts.mcpgateDeleteSession(this.key(id), id, this.prefix));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionStateUnavailableError('session store (Redis) unavailable: the store is closed');
  }
}

// ------------------------------------------------------------------ bus

type Handler = (payload: string) => void;

interface Channel {
  handlers: Set<Handler>;
  /** Whether the subscriber connection is subscribed to it right now. */
  subscribed: boolean;
  /** Subscribe/unsubscribe operations of this channel, one after the other. */
  chain: Promise<void>;
  pending: number;
}

/**
 * Pub/sub between replicas. One Redis subscription per channel (on a dedicated connection, as
 * ioredis requires), fanned out to the local handlers, so each handler gets each message once.
 * After a reconnect the subscriptions in this table are made again. Messages published while the
 * subscriber connection was down are lost (Redis pub/sub keeps nothing).
 */
export class RedisMessageBus implements MessageBus {
  private readonly channels = new Map<string, Channel>();
  private resyncing = 0;
  private closed = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly logger: Logger,
    private readonly release: () => Promise<void> = async () => quit(pub),
    /** Prepended to every channel name in Redis. */
    private readonly channelPrefix = '',
  ) {
    sub.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
    sub.on('close', () => {
      for (const c of this.channels.values()) c.subscribed = false;
    });
    sub.on('ready', () => this.resync());
  }

  /** Whether the subscriber connection is up and every channel is subscribed again after a reconnect. */
  healthy(): boolean {
    return !this.closed && this.sub.status === 'ready' && this.resyncing === 0;
  }

  /**
   * Publish, answering how many subscriber connections (replicas, and operators' PSUBSCRIBEs) got it:
   * 0 means no replica holds the channel's stream (the message is lost, Redis pub/sub keeps nothing).
   */
  async publish(name: string, payload: string): Promise<number> {
    if (this.closed) throw new SessionStateUnavailableError('session store (Redis) unavailable: the bus is closed');
    return guard(this.pub, 'publish a message', () => this.pub.publish(this.channelPrefix + name, payload));
  }

  async subscribe(name: string, onMessage: Handler): Promise<() => Promise<void>> {
    if (this.closed) throw new SessionStateUnavailableError('session store (Redis) unavailable: the bus is closed');
    // The table is keyed by the channel's name in Redis (what 'message' events carry).
    const channel = this.channelPrefix + name;
    let c = this.channels.get(channel);
    if (!c) {
      c = { handlers: new Set(), subscribed: false, chain: Promise.resolve(), pending: 0 };
      this.channels.set(channel, c);
    }
    // A wrapper, so that the same function subscribed twice is two subscriptions.
    const handler: Handler = (payload) => onMessage(payload);
    c.handlers.add(handler);
    try {
      await guard(this.sub, 'subscribe to a channel', () => this.reconcile(channel, c));
    } catch (err) {
      c.handlers.delete(handler);
      this.reconcile(channel, c).catch(() => undefined);
      throw err;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      c.handlers.delete(handler);
      // Never rejects: when Redis is away the subscription is gone anyway.
      await this.reconcile(channel, c).catch((err: unknown) => this.logger.debug({ channel, err: errorText(err) }, 'unsubscribe failed'));
    };
  }

  /** Bring the Redis subscription of a channel in line with its local handlers. */
  private reconcile(channel: string, c: Channel): Promise<void> {
    c.pending += 1;
    const op = c.chain.then(async () => {
      if (this.closed) return;
      const wanted = c.handlers.size > 0;
      if (wanted && !c.subscribed) {
        try {
          await this.sub.subscribe(channel);
        } catch (err) {
          // Timed out on a live connection: the SUBSCRIBE is still on its way and Redis will apply it
          // (one connection keeps order), so count it as made; the caller's clean-up then unsubscribes.
          if (this.sub.status === 'ready') c.subscribed = true;
          throw err;
        }
        if (this.sub.status === 'ready') c.subscribed = true;
      } else if (!wanted && c.subscribed) {
        c.subscribed = false;
        await this.sub.unsubscribe(channel);
      }
    });
    const settled = op.finally(() => {
      c.pending -= 1;
      if (c.pending === 0 && c.handlers.size === 0 && !c.subscribed && this.channels.get(channel) === c) this.channels.delete(channel);
    });
    c.chain = settled.catch(() => undefined);
    return settled;
  }

  /** After a (re)connect: subscribe again to every channel that has local handlers. */
  private resync(): void {
    const wanted = [...this.channels].filter(([, c]) => c.handlers.size > 0 && !c.subscribed);
    if (wanted.length === 0) return;
    this.resyncing += 1;
    Promise.allSettled(wanted.map(([name, c]) => this.reconcile(name, c))).then((results) => {
      this.resyncing -= 1;
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0) this.logger.warn({ failed, of: wanted.length }, 'could not subscribe again to some channels after a Redis reconnect; retrying on the next reconnect');
      else this.logger.info({ channels: wanted.length }, 'subscriptions restored after a Redis reconnect');
    }).catch((err: unknown) => this.logger.error({ err }, 'restoring subscriptions failed'));
  }

  private dispatch(channel: string, payload: string): void {
    const c = this.channels.get(channel);
    if (!c) return;
    for (const handler of [...c.handlers]) {
      try {
        handler(payload);
      } catch (err) {
        this.logger.error({ channel, err: errorText(err) }, 'a message handler failed');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await quit(this.sub);
    await this.release();
  }
}

// ------------------------------------------------------------------ events

/** XADD with both bounds (length, age) and the key's expiry, atomically, in one round trip. */
const APPEND_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[2])
local ms = tonumber(string.match(id, '^(%d+)'))
redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', ms - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return id`;

type WithAppend = { mcpgateAppendEvent(key: string, maxLen: number, message: string, maxAgeMs: number): Promise<string> };

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Events of resumable streams in Redis Streams: `{prefix}events:{streamId}`. Event ids are
 * `{streamId}_{entry id}` (entry ids are `ms-seq`, without `_`), so any replica can find the stream
 * of a Last-Event-ID and read what follows it.
 */
export class RedisEventStore implements EventStore {
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly maxAgeMs: number;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    o: { keyPrefix?: string; maxLen?: number; maxAgeMs?: number } = {},
    private readonly release: () => Promise<void> = async () => quit(redis),
  ) {
    this.prefix = o.keyPrefix ?? DEFAULTS.keyPrefix;
    this.maxLen = o.maxLen ?? DEFAULTS.eventsMaxLen;
    this.maxAgeMs = o.maxAgeMs ?? DEFAULTS.eventsMaxAgeMs;
    if (typeof (redis as unknown as Partial<WithAppend>).mcpgateAppendEvent !== 'function') redis.defineCommand('mcpgateAppendEvent', { numberOfKeys: 1, lua: APPEND_SCRIPT });
  }

  private key(streamId: string): string {
    return `${this.prefix}events:${streamId}`;
  }

  async append(streamId: string, message: string): Promise<string> {
    this.assertOpen();
    const entry = await guard(this.redis, 'store a stream event', () =>
      (this.redis as unknown as WithAppend).mcpgateAppendEvent(this.key(streamId), this.maxLen, message, this.maxAgeMs));
    return `${streamId}_${entry}`;
  }

  async replayAfter(lastEventId: string, onEvent: (eventId: string, message: string) => void): Promise<string | undefined> {
    this.assertOpen();
    const cut = lastEventId.lastIndexOf('_');
    if (cut <= 0) return undefined;
    const streamId = lastEventId.slice(0, cut);
    const entry = /^(\d{1,20})-(\d{1,20})$/.exec(lastEventId.slice(cut + 1));
    if (!entry || BigInt(entry[1] as string) > MAX_U64 || BigInt(entry[2] as string) >= MAX_U64) return undefined;
    const key = this.key(streamId);
    const results = await guard(this.redis, 'replay stream events', async () => {
      const r = await this.redis.pipeline().exists(key).xrange(key, `(${entry[0]}`, '+').exec();
      if (!r) throw new Error('pipeline aborted');
      for (const [err] of r) if (err) throw err;
      return r;
    });
    if (results[0]?.[1] !== 1) return undefined;
    for (const [id, fields] of (results[1]?.[1] ?? []) as [string, string[]][]) {
      const at = fields.indexOf('m');
      if (at >= 0 && at % 2 === 0) onEvent(`${streamId}_${id}`, fields[at + 1] as string);
    }
    return streamId;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new SessionStateUnavailableError('session store (Redis) unavailable: the event store is closed');
  }
}

// ------------------------------------------------------------------ plumbing

/** Run a Redis operation; any failure becomes a SessionStateUnavailableError with a clear reason. */
/** Sessions refreshed per pipeline by `touch`. */
const TOUCH_BATCH = 1000;

async function guard<T>(redis: Redis, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof SessionStateUnavailableError) throw err;
    const text = errorText(err);
    const reason = redis.status !== 'ready' && /enableOfflineQueue|Connection is closed|MaxRetriesPerRequest/i.test(text)
      ? `not connected (${redis.status})`
      : text;
    throw new SessionStateUnavailableError(`session store (Redis) unavailable: could not ${what}: ${reason}`, { cause: err });
  }
}

const closing = new WeakSet<Redis>();

/** Close a connection: QUIT when it is up (bounded by the command timeout), else drop it. */
async function quit(redis: Redis): Promise<void> {
  if (closing.has(redis)) return;
  closing.add(redis);
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through
    }
  }
  redis.disconnect();
}

/** Log a connection's state changes once each (not every failed reconnection attempt). */
function watch(redis: Redis, role: string, logger: Logger): void {
  let state: 'starting' | 'up' | 'down' = 'starting';
  redis.on('ready', () => {
    if (state === 'down') logger.info({ redis: role }, 'Redis connection restored');
    state = 'up';
  });
  redis.on('error', (err: Error) => {
    if (closing.has(redis)) return;
    if (state === 'down') {
      logger.debug({ redis: role, err: err.message }, 'Redis still unavailable');
      return;
    }
    state = 'down';
    logger.warn({ redis: role, err: err.message }, 'Redis unavailable: session traffic fails fast until it is back; reconnecting');
  });
  redis.on('close', () => {
    if (closing.has(redis) || state !== 'up') return;
    state = 'down';
    logger.warn({ redis: role }, 'Redis connection lost: session traffic fails fast until it is back; reconnecting');
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
