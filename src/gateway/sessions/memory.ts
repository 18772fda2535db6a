import { EventEmitter } from 'node:events';
import type { UpstreamSessionState } from '../../tools/mcp/session-state.js';
import type { SessionLimits } from '../limits.js';
import { NO_SESSION_LIMITS } from '../limits.js';
import { MAX_INPUT_ROUNDS, MAX_MEMBER_UPSTREAMS, MAX_SESSION_SUBSCRIPTIONS, SessionLimitError, SubscriptionLimitError, readSubscriptionMember, sessionOwners, subscriptionMember } from './types.js';
import type { EventStore, InputRoundRecord, MessageBus, ResourceSubscription, SessionRecord, SessionStore } from './types.js';

/**
 * Epoch milliseconds that only move forward: the process's start by the wall clock, then a
 * monotonic clock. Idle times held in the process must not follow a step of the wall clock (a
 * host adjusting a virtual machine's time would otherwise end sessions early or keep them late).
 */
const steadyNow = (): number => performance.timeOrigin + performance.now();

interface HeldSession {
  session: SessionRecord;
  expires: number;
  owners: { key?: string; addr?: string };
  /** Resource subscriptions (`subscriptionMember`). */
  subs?: Set<string>;
  /** Upstream sessions of the virtual server's members, by server key. */
  members?: Map<string, UpstreamSessionState>;
}

/**
 * Sessions in this process's memory, reaped after `idleMs` without use, capped by `limits`. The
 * map is kept in order of last use (each use moves a session to its end), so the least recently
 * used session, the one evicted first at the global cap, is its first.
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, HeldSession>();
  /** Sessions per owner (`key:…`, `addr:…`). */
  private readonly owned = new Map<string, number>();
  /** 2026-07-28 rounds waiting for input, by id (insertion order: oldest first). */
  private readonly rounds = new Map<string, { round: InputRoundRecord; expires: number }>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly idleMs: number, now: () => number = steadyNow, private readonly limits: SessionLimits = NO_SESSION_LIMITS) {
    this.now = now;
    this.timer = setInterval(() => this.reap(), Math.min(60_000, Math.max(1000, idleMs / 4)));
    this.timer.unref();
  }

  /** Drop expired sessions (also runs on a timer). */
  reap(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= t) this.forget(id, s);
    for (const [id, r] of this.rounds) if (r.expires <= t) this.rounds.delete(id);
  }

  private forget(id: string, s: HeldSession): void {
    this.sessions.delete(id);
    for (const owner of [s.owners.key, s.owners.addr]) {
      if (owner === undefined) continue;
      const n = (this.owned.get(owner) ?? 1) - 1;
      if (n > 0) this.owned.set(owner, n);
      else this.owned.delete(owner);
    }
  }

  async create(session: SessionRecord): Promise<void> {
    const t = this.now();
    const existing = this.sessions.get(session.id);
    if (existing && existing.expires > t) {
      this.sessions.delete(session.id);
      this.sessions.set(session.id, { ...existing, session, expires: t + this.idleMs });
      return;
    }
    if (existing) this.forget(session.id, existing);
    const owners = sessionOwners(session);
    const { maxSessions, maxSessionsPerKey, maxSessionsPerAddress, sessionEvictIdleMs } = this.limits;
    if (owners.key !== undefined && maxSessionsPerKey > 0 && (this.owned.get(owners.key) ?? 0) >= maxSessionsPerKey) {
      this.reap();
      if ((this.owned.get(owners.key) ?? 0) >= maxSessionsPerKey) throw new SessionLimitError('maxSessionsPerKey', maxSessionsPerKey);
    }
    if (owners.addr !== undefined && maxSessionsPerAddress > 0 && (this.owned.get(owners.addr) ?? 0) >= maxSessionsPerAddress) {
      this.reap();
      if ((this.owned.get(owners.addr) ?? 0) >= maxSessionsPerAddress) throw new SessionLimitError('maxSessionsPerAddress', maxSessionsPerAddress);
    }
    if (maxSessions > 0 && this.sessions.size >= maxSessions) {
      this.reap();
      while (this.sessions.size >= maxSessions) {
        const [id, oldest] = this.sessions.entries().next().value as [string, HeldSession];
        // Its last use was `idleMs` before its expiry.
        if (t - (oldest.expires - this.idleMs) < sessionEvictIdleMs) throw new SessionLimitError('maxSessions', maxSessions);
        this.forget(id, oldest);
      }
    }
    this.sessions.set(session.id, { session, expires: t + this.idleMs, owners });
    for (const owner of [owners.key, owners.addr]) if (owner !== undefined) this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.getHeld(id);
  }

  getHeld(id: string): SessionRecord | undefined {
    return this.use(id)?.session;
  }

  /** The session, refreshed and moved to the end of the use order. */
  private use(id: string): HeldSession | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (s.expires <= t) {
      this.forget(id, s);
      return undefined;
    }
    s.expires = t + this.idleMs;
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  async touch(ids: readonly string[]): Promise<Set<string>> {
    const live = new Set<string>();
    for (const id of ids) if (this.use(id)) live.add(id);
    return live;
  }

  async delete(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (s) this.forget(id, s);
  }

  async setUpstream(id: string, upstream: UpstreamSessionState | undefined): Promise<void> {
    const s = this.sessions.get(id);
    if (!s || s.expires <= this.now()) return;
    const { upstream: _old, ...rest } = s.session;
    s.session = upstream ? { ...rest, upstream } : rest;
  }

  async memberUpstream(id: string, server: string): Promise<UpstreamSessionState | undefined> {
    const s = this.sessions.get(id);
    return s && s.expires > this.now() ? s.members?.get(server) : undefined;
  }

  async setMemberUpstream(id: string, server: string, upstream: UpstreamSessionState | undefined): Promise<void> {
    const s = this.sessions.get(id);
    if (!s || s.expires <= this.now()) return;
    if (upstream === undefined) {
      s.members?.delete(server);
      return;
    }
    s.members ??= new Map();
    if (s.members.has(server) || s.members.size < MAX_MEMBER_UPSTREAMS) s.members.set(server, upstream);
  }

  async addSubscription(id: string, server: string, uri: string, shown?: string): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s || s.expires <= this.now()) return false;
    const member = subscriptionMember(server, uri, shown);
    s.subs ??= new Set();
    if (!s.subs.has(member) && s.subs.size >= MAX_SESSION_SUBSCRIPTIONS) throw new SubscriptionLimitError(MAX_SESSION_SUBSCRIPTIONS);
    s.subs.add(member);
    return true;
  }

  async removeSubscription(id: string, server: string, uri: string, shown?: string): Promise<void> {
    this.sessions.get(id)?.subs?.delete(subscriptionMember(server, uri, shown));
  }

  async subscriptions(id: string): Promise<ResourceSubscription[]> {
    const s = this.sessions.get(id);
    if (!s || s.expires <= this.now() || !s.subs) return [];
    return [...s.subs].map(readSubscriptionMember).filter((x): x is ResourceSubscription => x !== undefined);
  }

  async putInputRound(id: string, round: InputRoundRecord, ttlMs: number): Promise<void> {
    this.rounds.delete(id);
    // Bounded: the oldest round (the first in insertion order) makes room.
    if (this.rounds.size >= MAX_INPUT_ROUNDS) {
      const oldest = this.rounds.keys().next().value;
      if (oldest !== undefined) this.rounds.delete(oldest);
    }
    this.rounds.set(id, { round: { ...round }, expires: this.now() + ttlMs });
  }

  async getInputRound(id: string): Promise<InputRoundRecord | undefined> {
    const r = this.rounds.get(id);
    if (!r) return undefined;
    if (r.expires <= this.now()) {
      this.rounds.delete(id);
      return undefined;
    }
    return { ...r.round };
  }

  async deleteInputRound(id: string): Promise<void> {
    this.rounds.delete(id);
  }

  /** How many sessions are held (expired ones until they are reaped). */
  get size(): number {
    return this.sessions.size;
  }

  async count(): Promise<number> {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.sessions.clear();
    this.owned.clear();
    this.rounds.clear();
  }
}

/** Delivery within one process. */
export class MemoryMessageBus implements MessageBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish(channel: string, payload: string): Promise<number> {
    const receivers = this.emitter.listenerCount(channel);
    this.emitter.emit(channel, payload);
    return receivers;
  }

  async subscribe(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    this.emitter.on(channel, onMessage);
    return async () => { this.emitter.off(channel, onMessage); };
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Stream events in memory, bounded per stream by count and age. */
export class MemoryEventStore implements EventStore {
  private readonly streams = new Map<string, { seq: number; last: number; events: { id: string; message: string; at: number }[] }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly maxPerStream = 1000, private readonly maxAgeMs = 15 * 60_000) {
    // A stream that got no event for maxAgeMs is forgotten (as its Redis key would expire).
    this.timer = setInterval(() => this.reap(), Math.min(60_000, maxAgeMs)).unref();
  }

  /** Drop streams whose last event is older than the age bound. */
  reap(now = Date.now()): void {
    for (const [id, s] of this.streams) if (s.last < now - this.maxAgeMs) this.streams.delete(id);
  }

  async append(streamId: string, message: string): Promise<string> {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { seq: 0, last: 0, events: [] };
      this.streams.set(streamId, s);
    }
    s.seq += 1;
    const id = `${streamId}_${s.seq}`;
    const t = Date.now();
    s.last = t;
    s.events.push({ id, message, at: t });
    while (s.events.length > this.maxPerStream || (s.events[0] && s.events[0].at < t - this.maxAgeMs)) s.events.shift();
    return id;
  }

  async replayAfter(lastEventId: string, onEvent: (eventId: string, message: string) => void): Promise<string | undefined> {
    const cut = lastEventId.lastIndexOf('_');
    if (cut <= 0) return undefined;
    const streamId = lastEventId.slice(0, cut);
    const seq = Number(lastEventId.slice(cut + 1));
    const s = this.streams.get(streamId);
    if (!s || !Number.isInteger(seq)) return undefined;
    for (const e of s.events) if (Number(e.id.slice(cut + 1)) > seq) onEvent(e.id, e.message);
    return streamId;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.streams.clear();
  }
}
