import { EventEmitter } from 'node:events';
import type { EventStore, MessageBus, SessionRecord, SessionStore } from './types.js';

/** Sessions in this process's memory, reaped after `idleMs` without use. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { session: SessionRecord; expires: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly idleMs: number, now: () => number = Date.now) {
    this.now = now;
    this.timer = setInterval(() => this.reap(), Math.min(60_000, Math.max(1000, idleMs / 4)));
    this.timer.unref();
  }

  private readonly now: () => number;

  /** Drop expired sessions (also runs on a timer). */
  reap(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= t) this.sessions.delete(id);
  }

  async create(session: SessionRecord): Promise<void> {
    this.sessions.set(session.id, { session, expires: this.now() + this.idleMs });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (s.expires <= t) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expires = t + this.idleMs;
    return s.session;
  }

  async touch(ids: readonly string[]): Promise<Set<string>> {
    const live = new Set<string>();
    for (const id of ids) if (await this.get(id)) live.add(id);
    return live;
  }

  async delete(id: string): Promise<void> {
    this.sessions.delete(id);
  }

  /** How many sessions are live. */
  get size(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.sessions.clear();
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
