/**
 * One contract for the shared-state ports, run against the in-memory implementations and the Redis
 * ones. "Two replicas" are two independent sets of ports on the same state (for memory, the same
 * objects: one process is one replica).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '../../lib/logger.js';
import { MemoryEventStore, MemoryMessageBus, MemorySessionStore } from './memory.js';
import { createRedisState } from './redis.js';
import type { RedisState } from './redis.js';
import type { SessionLimits } from '../limits.js';
import { NO_SESSION_LIMITS } from '../limits.js';
import { MAX_MEMBER_UPSTREAMS, MAX_SESSION_SUBSCRIPTIONS, SessionLimitError, SubscriptionLimitError, sseChannel, streamChannel, upstreamSessionsOf } from './types.js';
import type { EventStore, MessageBus, SessionRecord, SessionStore } from './types.js';
import { dropKeys, redisAvailable, testKeyPrefix } from '../../../test/support/redis.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const redis = await redisAvailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  sessions: SessionStore;
  bus: MessageBus;
  events: EventStore;
}

interface Options {
  idleMs?: number;
  eventsMaxLen?: number;
  limits?: Partial<SessionLimits>;
}

interface Subject {
  name: string;
  skip?: string;
  /** Two replicas on one shared state; closed after the test. */
  replicas(o?: Options): Promise<[Replica, Replica]>;
}

/** Closers of what the tests opened, run after each subject's suite. */
const closers: (() => Promise<void>)[] = [];

const memory: Subject = {
  name: 'memory',
  async replicas(o = {}) {
    const r: Replica = { sessions: new MemorySessionStore(o.idleMs ?? 60_000, undefined, { ...NO_SESSION_LIMITS, ...o.limits }), bus: new MemoryMessageBus(), events: new MemoryEventStore(o.eventsMaxLen) };
    closers.push(async () => { await r.sessions.close(); await r.bus.close(); await r.events.close(); });
    return [r, r];
  },
};

const prefixes: string[] = [];

async function redisPair(o: Options & { encryptionKeys?: [string | undefined, string | undefined]; prefix?: string } = {}): Promise<[RedisState, RedisState]> {
  const prefix = o.prefix ?? testKeyPrefix();
  prefixes.push(prefix);
  const make = (encryptionKey?: string) => createRedisState(redis.url, {
    keyPrefix: prefix, sessionIdleMs: o.idleMs ?? 60_000, eventsMaxLen: o.eventsMaxLen, encryptionKey, logger, limits: { ...NO_SESSION_LIMITS, ...o.limits },
  });
  const pair: [RedisState, RedisState] = [make(o.encryptionKeys?.[0]), make(o.encryptionKeys?.[1])];
  for (const s of pair) closers.push(() => s.close());
  for (const s of pair) assert.ok(await s.ready(30_000), 'Redis state became healthy');
  return pair;
}

const redisSubject: Subject = {
  name: 'redis',
  ...(redis.unavailable ? { skip: redis.unavailable } : {}),
  replicas: (o) => redisPair(o),
};

after(async () => {
  for (const close of closers.splice(0)) await close();
  if (!redis.unavailable) for (const p of prefixes) await dropKeys(redis.url, p);
});

function record(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(), kind: 'sse', namespace: 'default', server: 'weather', protocolVersion: '2024-11-05',
    clientInfo: { name: 'agent', version: '1.0' }, capabilities: { roots: { listChanged: true } }, consumerId: 'c-1',
    headers: { authorization: 'Bearer sk-live-7f3a9c1e2d', 'x-tenant': 'acme' }, createdAt: 1_700_000_000_000, ...over,
  };
}

/** Wait until `check` holds (or fail after `ms`). */
async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

for (const subject of [memory, redisSubject]) {
  describe(`session state contract: ${subject.name}`, { skip: subject.skip }, () => {
    it('creates, reads on another replica, deletes; unknown ids are undefined', async () => {
      const [a, b] = await subject.replicas();
      const s = record();
      await a.sessions.create(s);
      assert.deepEqual(await b.sessions.get(s.id), s);
      assert.deepEqual(await a.sessions.get(s.id), s);
      const streamable = record({ kind: 'streamable', headers: {}, consumerId: null, protocolVersion: '2025-06-18' });
      await b.sessions.create(streamable);
      assert.deepEqual(await a.sessions.get(streamable.id), streamable);
      // Re-creating overwrites (the legacy SSE initialize updates the record).
      await a.sessions.create({ ...s, protocolVersion: '2025-03-26' });
      assert.equal((await b.sessions.get(s.id))?.protocolVersion, '2025-03-26');
      assert.equal(await a.sessions.count(), 2, 'both replicas count every session (replacing one adds none)');
      await b.sessions.delete(s.id);
      assert.equal(await a.sessions.get(s.id), undefined);
      assert.equal(await b.sessions.count(), 1);
      assert.equal(await a.sessions.get(randomUUID()), undefined);
      await a.sessions.delete(randomUUID());
    });

    it('keeps a session\'s upstream MCP session for the other replica; never re-creates a deleted session', async () => {
      const [a, b] = await subject.replicas();
      const s = record({ kind: 'streamable', headers: {}, protocolVersion: '2025-06-18' });
      await a.sessions.create(s);
      const upstream = { sessionId: 'up-3f9a', protocolVersion: '2025-06-18', capabilities: { tools: { listChanged: true } } };
      await a.sessions.setUpstream(s.id, upstream);
      assert.deepEqual((await b.sessions.get(s.id))?.upstream, upstream, 'the other replica reads it');
      assert.deepEqual(await b.sessions.get(s.id), { ...s, upstream }, 'the rest of the record unchanged');
      await b.sessions.setUpstream(s.id, { ...upstream, sessionId: 'up-77' });
      assert.equal((await a.sessions.get(s.id))?.upstream?.sessionId, 'up-77', 'replaced');
      await a.sessions.setUpstream(s.id, undefined);
      assert.equal((await b.sessions.get(s.id))?.upstream, undefined, 'forgotten');
      // Re-created with it (the legacy SSE initialize rewrites the record): kept.
      await a.sessions.create({ ...s, upstream });
      assert.deepEqual((await b.sessions.get(s.id))?.upstream, upstream);
      await b.sessions.delete(s.id);
      await a.sessions.setUpstream(s.id, upstream);
      assert.equal(await b.sessions.get(s.id), undefined, 'a deleted session is not re-created');
      await a.sessions.setUpstream(randomUUID(), upstream);
    });

    it('keeps the upstream sessions of a virtual server\'s members apart, each under its server, bounded', async () => {
      const [a, b] = await subject.replicas();
      const s = record({ kind: 'streamable', headers: {}, protocolVersion: '2025-06-18' });
      await a.sessions.create(s);
      const own = `${s.namespace}/${s.server}`;
      const one = { sessionId: 'member-1', protocolVersion: '2025-06-18' };
      const two = { sessionId: 'member-2', protocolVersion: '2025-03-26', capabilities: { resources: { subscribe: true } } };
      const mine = { sessionId: 'own', protocolVersion: '2025-06-18' };
      const stores = [upstreamSessionsOf(a.sessions, 'public/one'), upstreamSessionsOf(b.sessions, 'public/two'), upstreamSessionsOf(b.sessions, own)];
      // Written at once by two replicas: neither overwrites the other.
      await Promise.all([stores[0]!.set(s.id, one), stores[1]!.set(s.id, two), stores[2]!.set(s.id, mine)]);
      assert.deepEqual(await Promise.all(stores.map((x) => x.get(s.id))), [one, two, mine]);
      assert.deepEqual((await a.sessions.get(s.id))?.upstream, mine, 'the session\'s own server keeps the record\'s upstream');
      assert.deepEqual(await b.sessions.memberUpstream(s.id, 'public/one'), one);
      assert.equal(await upstreamSessionsOf(a.sessions, 'public/three').get(s.id), undefined, 'a member never reads another\'s');
      await stores[0]!.set(s.id, undefined);
      assert.equal(await b.sessions.memberUpstream(s.id, 'public/one'), undefined, 'forgotten');
      // The record rewritten (legacy SSE initialize) keeps them.
      await a.sessions.create(s);
      assert.deepEqual(await b.sessions.memberUpstream(s.id, 'public/two'), two);
      // Bounded: past the cap, a new member's session is not kept (its next replica initializes one).
      for (let i = 0; i < MAX_MEMBER_UPSTREAMS + 3; i++) await a.sessions.setMemberUpstream(s.id, `public/m${i}`, one);
      const kept = await Promise.all(Array.from({ length: MAX_MEMBER_UPSTREAMS + 3 }, (_, i) => b.sessions.memberUpstream(s.id, `public/m${i}`)));
      assert.equal(kept.filter((x) => x !== undefined).length, MAX_MEMBER_UPSTREAMS - 1);
      assert.deepEqual(await b.sessions.memberUpstream(s.id, 'public/two'), two);
      // Ended with the session, never re-created.
      await b.sessions.delete(s.id);
      assert.equal(await a.sessions.memberUpstream(s.id, 'public/two'), undefined);
      await a.sessions.setMemberUpstream(s.id, 'public/one', one);
      assert.equal(await b.sessions.get(s.id), undefined, 'a deleted session is not re-created');
      await a.sessions.create(s);
      assert.equal(await b.sessions.memberUpstream(s.id, 'public/two'), undefined, 'a session re-created with the id of an ended one starts with none');
    });

    it('keeps a session\'s resource subscriptions for the other replica, bounded, ended with the session', async () => {
      const [a, b] = await subject.replicas();
      const s = record({ kind: 'streamable', headers: {}, protocolVersion: '2025-06-18' });
      await a.sessions.create(s);
      const sorted = (x: { server: string; uri: string }[]) => [...x].sort((p, q) => `${p.server} ${p.uri}`.localeCompare(`${q.server} ${q.uri}`));
      assert.equal(await a.sessions.addSubscription(s.id, 'public/files', 'file:///a.txt'), true);
      assert.equal(await a.sessions.addSubscription(s.id, 'public/files', 'file:///a.txt'), true, 'twice is once');
      assert.equal(await b.sessions.addSubscription(s.id, 'team/docs', 'docs://x?y=1#z'), true);
      assert.deepEqual(sorted(await b.sessions.subscriptions(s.id)), [{ server: 'public/files', uri: 'file:///a.txt' }, { server: 'team/docs', uri: 'docs://x?y=1#z' }]);
      await b.sessions.removeSubscription(s.id, 'public/files', 'file:///a.txt');
      await b.sessions.removeSubscription(s.id, 'public/files', 'file:///never');
      assert.deepEqual(await a.sessions.subscriptions(s.id), [{ server: 'team/docs', uri: 'docs://x?y=1#z' }]);
      // Through a virtual server: the URI the agent knows it by is kept beside the member's.
      assert.equal(await a.sessions.addSubscription(s.id, 'public/files', 'file:///v.txt', 'mcpgate://fs/file:///v.txt'), true);
      assert.deepEqual(sorted(await b.sessions.subscriptions(s.id)), [
        { server: 'public/files', uri: 'file:///v.txt', shown: 'mcpgate://fs/file:///v.txt' }, { server: 'team/docs', uri: 'docs://x?y=1#z' },
      ]);
      await b.sessions.removeSubscription(s.id, 'public/files', 'file:///v.txt');
      assert.equal((await a.sessions.subscriptions(s.id)).length, 2, 'removed only with the URI it was shown by');
      await b.sessions.removeSubscription(s.id, 'public/files', 'file:///v.txt', 'mcpgate://fs/file:///v.txt');
      assert.deepEqual(await a.sessions.subscriptions(s.id), [{ server: 'team/docs', uri: 'docs://x?y=1#z' }]);
      // The record's other changes keep them.
      await a.sessions.setUpstream(s.id, { sessionId: 'up-1', protocolVersion: '2025-06-18' });
      await a.sessions.create({ ...s, protocolVersion: '2025-03-26' });
      assert.equal((await b.sessions.subscriptions(s.id)).length, 1);
      // Bounded: a new one past the cap is refused, one already held is not new.
      for (let i = 1; i < MAX_SESSION_SUBSCRIPTIONS; i++) await a.sessions.addSubscription(s.id, 'public/files', `file:///${i}`);
      await assert.rejects(b.sessions.addSubscription(s.id, 'public/files', 'file:///one-too-many'), SubscriptionLimitError);
      assert.equal(await b.sessions.addSubscription(s.id, 'team/docs', 'docs://x?y=1#z'), true);
      assert.equal((await a.sessions.subscriptions(s.id)).length, MAX_SESSION_SUBSCRIPTIONS);
      // Ended with the session; never for an unknown one.
      await b.sessions.delete(s.id);
      assert.deepEqual(await a.sessions.subscriptions(s.id), []);
      assert.equal(await a.sessions.addSubscription(s.id, 'public/files', 'file:///a.txt'), false, 'a deleted session takes none');
      await a.sessions.create(s);
      assert.deepEqual(await b.sessions.subscriptions(s.id), [], 'a session re-created with the id of an ended one starts with none');
      assert.equal(await b.sessions.addSubscription(randomUUID(), 'public/files', 'file:///a.txt'), false);
    });

    it('expires a session\'s subscriptions with it; every use of the session keeps them', async () => {
      const [a, b] = await subject.replicas({ idleMs: 3000 });
      const s = record();
      await a.sessions.create(s);
      await a.sessions.addSubscription(s.id, 'public/files', 'file:///a.txt');
      await sleep(2000);
      assert.ok(await b.sessions.get(s.id));
      await sleep(2000);
      assert.equal((await a.sessions.touch([s.id])).size, 1);
      await sleep(2000);
      assert.deepEqual(await b.sessions.subscriptions(s.id), [{ server: 'public/files', uri: 'file:///a.txt' }], 'kept 6 s after it was added: the uses refreshed it');
      await sleep(3500);
      assert.deepEqual(await a.sessions.subscriptions(s.id), [], 'gone with the idle session');
    });

    it('keeps a 2026-07-28 round waiting for input for the other replica, until it expires or is forgotten', async () => {
      const [a, b] = await subject.replicas();
      const id = randomUUID();
      assert.equal(await b.sessions.getInputRound(id), undefined);
      await a.sessions.putInputRound(id, { holder: 'replica-a', server: 'public/asking', consumerId: null }, 60_000);
      assert.deepEqual(await b.sessions.getInputRound(id), { holder: 'replica-a', server: 'public/asking', consumerId: null });
      await b.sessions.putInputRound(id, { holder: 'replica-a', server: 'public/asking', consumerId: 'c-1' }, 60_000);
      assert.deepEqual(await a.sessions.getInputRound(id), { holder: 'replica-a', server: 'public/asking', consumerId: 'c-1' }, 'written again: replaced');
      await b.sessions.deleteInputRound(id);
      assert.equal(await a.sessions.getInputRound(id), undefined);
      await b.sessions.deleteInputRound(id);
      const short = randomUUID();
      await a.sessions.putInputRound(short, { holder: 'replica-a', server: 'public/asking', consumerId: null }, 300);
      await sleep(1300);
      assert.equal(await b.sessions.getInputRound(short), undefined, 'expired');
    });

    // A real clock is the subject here: margins of a second or more either way, so that a busy
    // machine (a late timer) cannot turn "alive" into "gone" or the other way round.
    it('expires an idle session, and every get refreshes the idle time', async () => {
      const [a, b] = await subject.replicas({ idleMs: 3000 });
      const s = record();
      await a.sessions.create(s);
      await sleep(2000);
      assert.ok(await b.sessions.get(s.id), 'alive 2 s after creation');
      await sleep(2000);
      assert.ok(await a.sessions.get(s.id), 'alive 4 s after creation: the get refreshed it');
      await sleep(2000);
      assert.ok(await b.sessions.get(s.id), 'still alive: each get refreshed it');
      await sleep(3500);
      assert.equal(await a.sessions.get(s.id), undefined, 'gone after 3.5 s idle');
      assert.equal(await b.sessions.get(s.id), undefined);
    });

    it('touches many sessions at once: answers those that exist and refreshes their idle time', async () => {
      const [a, b] = await subject.replicas({ idleMs: 3000 });
      const [kept, other, ended] = [record(), record({ kind: 'streamable', headers: {} }), record()];
      for (const r of [kept, other, ended]) await a.sessions.create(r);
      await b.sessions.delete(ended.id);
      const unknown = randomUUID();
      assert.deepEqual(await b.sessions.touch([kept.id, ended.id, unknown, other.id]), new Set([kept.id, other.id]));
      assert.deepEqual(await a.sessions.touch([]), new Set());
      await sleep(1500);
      assert.deepEqual(await b.sessions.touch([kept.id]), new Set([kept.id]), 'refreshed 1.5 s after creation');
      await sleep(1800);
      assert.ok(await a.sessions.get(kept.id), 'alive 3.3 s after creation: the touch refreshed it');
      assert.equal(await a.sessions.get(other.id), undefined, 'the untouched one expired');
    });

    it('touches more sessions than one batch holds', async () => {
      // An idle time no busy machine reaches while 2,500 sessions are created.
      const [a, b] = await subject.replicas({ idleMs: 600_000 });
      const many = Array.from({ length: 2500 }, () => record({ headers: {} }));
      // 100 at a time: 2,500 at once would queue behind each other past the 1 s command timeout on a busy machine.
      for (let i = 0; i < many.length; i += 100) await Promise.all(many.slice(i, i + 100).map((r) => a.sessions.create(r)));
      assert.equal((await b.sessions.touch(many.map((r) => r.id))).size, 2500, 'more than one batch');
    });

    it('caps sessions per consumer key and per client address across replicas; ending or replacing one changes the count as it should', async () => {
      const [a, b] = await subject.replicas({ limits: { maxSessionsPerKey: 3, maxSessionsPerAddress: 4 } });
      const mine = [record({ consumerId: 'k1' }), record({ consumerId: 'k1', clientAddress: '10.0.0.9' }), record({ consumerId: 'k1' })];
      await a.sessions.create(mine[0] as SessionRecord);
      await b.sessions.create(mine[1] as SessionRecord);
      await a.sessions.create(mine[2] as SessionRecord);
      const refused = await b.sessions.create(record({ consumerId: 'k1' })).then(() => undefined, (err: unknown) => err);
      assert.ok(refused instanceof SessionLimitError, String(refused));
      assert.equal(refused.limit, 'maxSessionsPerKey');
      assert.equal(refused.max, 3);
      // Replacing one (a legacy SSE initialize) is no new session; another key is counted apart.
      await b.sessions.create({ ...(mine[1] as SessionRecord), protocolVersion: '2025-03-26' });
      await a.sessions.create(record({ consumerId: 'k2' }));
      await a.sessions.delete((mine[0] as SessionRecord).id);
      await b.sessions.create(record({ consumerId: 'k1' }));

      // Per address: 10.0.0.9 holds one (of key k1); three more of no key fill it.
      for (let i = 0; i < 3; i++) await (i % 2 ? a : b).sessions.create(record({ consumerId: null, clientAddress: '10.0.0.9' }));
      const byAddress = await a.sessions.create(record({ consumerId: null, clientAddress: '10.0.0.9' })).then(() => undefined, (err: unknown) => err);
      assert.ok(byAddress instanceof SessionLimitError);
      assert.equal(byAddress.limit, 'maxSessionsPerAddress');
      await a.sessions.create(record({ consumerId: null, clientAddress: '10.0.0.10' }));
      await b.sessions.delete((mine[1] as SessionRecord).id);
      await a.sessions.create(record({ consumerId: null, clientAddress: '10.0.0.9' }));
    });

    it('makes room at the global cap by evicting the least recently used session (gets and touches are uses)', async () => {
      const [a, b] = await subject.replicas({ limits: { maxSessions: 4, sessionEvictIdleMs: 0 } });
      const s = Array.from({ length: 4 }, () => record({ consumerId: null, headers: {} }));
      for (const r of s) await a.sessions.create(r);
      assert.ok(await b.sessions.get((s[0] as SessionRecord).id));
      assert.deepEqual(await a.sessions.touch([(s[1] as SessionRecord).id]), new Set([(s[1] as SessionRecord).id]));
      const fifth = record({ consumerId: null, headers: {} });
      await b.sessions.create(fifth);
      assert.equal(await a.sessions.get((s[2] as SessionRecord).id), undefined, 'the least recently used was evicted');
      // These gets are uses too, in this order: s[3] is now the least recently used.
      for (const kept of [s[3], s[0], s[1], fifth]) assert.ok(await a.sessions.get((kept as SessionRecord).id));
      await a.sessions.create(record({ consumerId: null, headers: {} }));
      assert.equal(await b.sessions.get((s[3] as SessionRecord).id), undefined, 'then the next least recently used');
      assert.ok(await b.sessions.get((s[0] as SessionRecord).id));
    });

    it('refuses a new session at the global cap when none has been idle long enough, and frees what expires', async () => {
      const [a, b] = await subject.replicas({ idleMs: 400, limits: { maxSessions: 2, sessionEvictIdleMs: 60_000, maxSessionsPerKey: 2 } });
      const first = record({ consumerId: 'k' });
      await a.sessions.create(first);
      await b.sessions.create(record({ consumerId: 'k' }));
      const refused = await a.sessions.create(record({ consumerId: 'other' })).then(() => undefined, (err: unknown) => err);
      assert.ok(refused instanceof SessionLimitError);
      assert.equal(refused.limit, 'maxSessions');
      assert.ok(await b.sessions.get(first.id), 'nothing was evicted');
      // Expired sessions count no more, globally nor for their key.
      await sleep(600);
      await b.sessions.create(record({ consumerId: 'k' }));
      await a.sessions.create(record({ consumerId: 'k' }));
    });

    it('delivers a message published on one replica to a subscriber on the other exactly once', async () => {
      const [a, b] = await subject.replicas();
      const channel = sseChannel(randomUUID());
      const got: string[] = [];
      const unsubscribe = await a.bus.subscribe(channel, (m) => got.push(m));
      for (let i = 0; i < 20; i += 1) await b.bus.publish(channel, `{"n":${i}}`);
      await until(() => got.length >= 20);
      await sleep(50);
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `{"n":${i}}`), 'each once, in order');
      await b.bus.publish(sseChannel(randomUUID()), 'elsewhere');
      await unsubscribe();
      await unsubscribe();
      await b.bus.publish(channel, 'after');
      await sleep(100);
      assert.equal(got.length, 20, 'nothing after unsubscribe');
    });

    it('fans a channel out to every local subscriber, and keeps the others when one leaves', async () => {
      const [a, b] = await subject.replicas();
      const channel = streamChannel(randomUUID());
      const first: string[] = [];
      const second: string[] = [];
      const onB: string[] = [];
      const u1 = await a.bus.subscribe(channel, (m) => first.push(m));
      const u2 = await a.bus.subscribe(channel, (m) => second.push(m));
      const u3 = b === a ? undefined : await b.bus.subscribe(channel, (m) => onB.push(m));
      await b.bus.publish(channel, 'one');
      await until(() => first.length === 1 && second.length === 1 && (u3 === undefined || onB.length === 1));
      await u1();
      await a.bus.publish(channel, 'two');
      await until(() => second.length === 2 && (u3 === undefined || onB.length === 2));
      await sleep(50);
      assert.deepEqual(first, ['one']);
      assert.deepEqual(second, ['one', 'two']);
      await u2();
      await u3?.();
      // Subscribing again after everyone left works (the channel's state was cleaned up).
      const again: string[] = [];
      const u4 = await a.bus.subscribe(channel, (m) => again.push(m));
      await b.bus.publish(channel, 'three');
      await until(() => again.length === 1);
      await u4();
    });

    it('survives racing subscribe/unsubscribe on one channel', async () => {
      const [a, b] = await subject.replicas();
      const channel = sseChannel(randomUUID());
      const got: string[] = [];
      const u1 = await a.bus.subscribe(channel, () => undefined);
      const [, u2] = await Promise.all([u1(), a.bus.subscribe(channel, (m) => got.push(m))]);
      await b.bus.publish(channel, 'x');
      await until(() => got.length === 1);
      await u2();
    });

    it('replays on another replica exactly the events after a Last-Event-ID, in order', async () => {
      const [a, b] = await subject.replicas();
      const stream = randomUUID();
      const other = randomUUID();
      const ids: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        ids.push(await a.events.append(stream, `{"i":${i}}`));
        await a.events.append(other, `{"other":${i}}`);
      }
      assert.equal(new Set(ids).size, 6, 'distinct ids');
      const seen: [string, string][] = [];
      assert.equal(await b.events.replayAfter(ids[2] as string, (id, m) => seen.push([id, m])), stream);
      assert.deepEqual(seen, [3, 4, 5].map((i) => [ids[i], `{"i":${i}}`]));
      const none: string[] = [];
      assert.equal(await b.events.replayAfter(ids[5] as string, (id) => none.push(id)), stream, 'the last id: its stream, nothing to replay');
      assert.deepEqual(none, []);
      // An id from a replay can itself be used to resume.
      const rest: string[] = [];
      await a.events.replayAfter(seen[0]?.[0] as string, (_id, m) => rest.push(m));
      assert.deepEqual(rest, ['{"i":4}', '{"i":5}']);
      const unknown: string[] = [];
      for (const id of [`${randomUUID()}_1`, `${randomUUID()}_1-0`, 'garbage', '_1', `${stream}_x-y`, `${stream}_99999999999999999999999-0`]) {
        assert.equal(await b.events.replayAfter(id, (e) => unknown.push(e)), undefined, `unknown id ${id}`);
      }
      assert.deepEqual(unknown, []);
    });

    it('bounds a stream by length, keeping the latest events', async () => {
      const maxLen = 10;
      const [a, b] = await subject.replicas({ eventsMaxLen: maxLen });
      const stream = randomUUID();
      const ids: string[] = [];
      for (let i = 0; i < 250; i += 1) ids.push(await a.events.append(stream, String(i)));
      const kept: string[] = [];
      assert.equal(await b.events.replayAfter(ids[0] as string, (_id, m) => kept.push(m)), stream);
      // Redis trims whole stream nodes (MAXLEN ~), so it may keep somewhat more than maxLen, never fewer.
      assert.ok(kept.length >= maxLen && kept.length < 249 && kept.length <= maxLen + 100, `kept ${kept.length}`);
      assert.deepEqual(kept.slice(-maxLen), Array.from({ length: maxLen }, (_, i) => String(240 + i)));
      assert.deepEqual(kept, kept.map(Number).sort((x, y) => x - y).map(String), 'in order');
    });
  });
}

describe('session state: memory only', () => {
  it('reaps idle sessions', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(30 * 60_000, () => now);
    closers.push(() => store.close());
    const idle = record();
    const busy = record();
    await store.create(idle);
    await store.create(busy);
    now += 20 * 60_000;
    assert.ok(await store.get(busy.id));
    now += 15 * 60_000;
    store.reap();
    assert.equal(store.size, 1, 'the idle session was reaped, the used one kept');
    assert.ok(await store.get(busy.id));
  });

  it('answers a session at once (getHeld) as get does: refreshed by it, undefined when unknown or expired', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(60_000, () => now);
    closers.push(() => store.close());
    const s = record();
    await store.create(s);
    assert.deepEqual(store.getHeld(s.id), await store.get(s.id));
    assert.equal(store.getHeld(randomUUID()), undefined);
    now += 40_000;
    assert.ok(store.getHeld(s.id), 'alive 40 s after creation');
    now += 40_000;
    assert.ok(store.getHeld(s.id), 'alive 80 s after creation: the getHeld refreshed it');
    now += 60_000;
    assert.equal(store.getHeld(s.id), undefined, 'gone after 60 s idle');
    assert.equal(await store.get(s.id), undefined);
  });
});

describe('session state: redis only', { skip: redis.unavailable }, () => {
  const raw = () => {
    const r = new Redis(redis.url);
    closers.push(async () => { r.disconnect(); });
    return r;
  };

  it('keeps forwarded headers encrypted at rest, and the rest of the record readable', async () => {
    const prefix = testKeyPrefix();
    const [a, b] = await redisPair({ prefix });
    const s = record();
    await a.sessions.create(s);
    const r = raw();
    const stored = await r.get(`${prefix}session:${s.id}`);
    assert.ok(stored, 'one key per session');
    assert.ok(!stored.includes('sk-live-7f3a9c1e2d') && !stored.includes('Bearer') && !stored.toLowerCase().includes('authorization') && !stored.includes('acme'), stored);
    assert.ok(stored.includes('"weather"'), 'the rest of the record is plain');
    const pttl = await r.pttl(`${prefix}session:${s.id}`);
    assert.ok(pttl > 59_000 && pttl <= 60_000, `idle TTL ${pttl}`);
    assert.ok(await r.get(`${prefix}session-key`), 'a shared random key was created (no key configured)');
    assert.deepEqual((await b.sessions.get(s.id))?.headers, s.headers, 'another replica opens them with the shared key');
    // A sealed value moved to another session does not open (the session id is authenticated).
    const t = record({ headers: { authorization: 'other' } });
    await a.sessions.create(t);
    const doc = JSON.parse(stored) as { h: string };
    const target = JSON.parse((await r.get(`${prefix}session:${t.id}`)) as string) as { h: string };
    target.h = doc.h;
    await r.set(`${prefix}session:${t.id}`, JSON.stringify(target), 'PX', 60_000);
    assert.equal(await b.sessions.get(t.id), undefined, 'a transplanted or tampered value is rejected');
  });

  it('keeps the upstream MCP session id encrypted at rest, bound to its session, and the TTL as it was', async () => {
    const prefix = testKeyPrefix();
    const [a, b] = await redisPair({ prefix });
    const s = record({ kind: 'streamable', headers: {} });
    await a.sessions.create(s);
    const r = raw();
    const key = `${prefix}session:${s.id}`;
    await r.pexpire(key, 40_000);
    await a.sessions.setUpstream(s.id, { sessionId: 'upstream-secret-id', protocolVersion: '2025-06-18' });
    const stored = await r.get(key) as string;
    assert.ok(!stored.includes('upstream-secret-id'), stored);
    const pttl = await r.pttl(key);
    assert.ok(pttl > 30_000 && pttl <= 40_000, `TTL kept: ${pttl}`);
    // Moved to another session, it does not open: that session simply has no upstream session.
    const t = record({ kind: 'streamable', headers: {} });
    await a.sessions.create(t);
    const target = JSON.parse((await r.get(`${prefix}session:${t.id}`)) as string) as { u?: string };
    target.u = (JSON.parse(stored) as { u: string }).u;
    await r.set(`${prefix}session:${t.id}`, JSON.stringify(target), 'PX', 60_000);
    const moved = await b.sessions.get(t.id);
    assert.ok(moved, 'the session is still there');
    assert.equal(moved.upstream, undefined);
    // Garbage in the state is treated as none.
    assert.equal((await b.sessions.get(s.id))?.upstream?.sessionId, 'upstream-secret-id');
  });

  it('uses a configured encryption key (no key in Redis); replicas with another key cannot open the headers', async () => {
    const prefix = testKeyPrefix();
    const [a, b] = await redisPair({ prefix, encryptionKeys: ['correct horse battery staple', 'correct horse battery staple'] });
    const [, wrong] = await redisPair({ prefix, encryptionKeys: ['correct horse battery staple', 'another key'] });
    const s = record();
    await a.sessions.create(s);
    assert.deepEqual(await b.sessions.get(s.id), s);
    assert.equal(await wrong.sessions.get(s.id), undefined, 'another key: treated as unknown (and logged)');
    assert.equal(await raw().get(`${prefix}session-key`), null);
  });

  it('sets an expiry on event streams, under the prefix', async () => {
    const prefix = testKeyPrefix();
    const [a] = await redisPair({ prefix });
    const stream = randomUUID();
    const id = await a.events.append(stream, 'm');
    assert.match(id, new RegExp(`^${stream}_\\d+-\\d+$`));
    const pttl = await raw().pttl(`${prefix}events:${stream}`);
    assert.ok(pttl > 14 * 60_000 && pttl <= 15 * 60_000, `stream TTL ${pttl}`);
  });

  it('closes its connections when the three ports are closed one by one (as the gateway does)', async () => {
    const state = createRedisState(redis.url, { keyPrefix: testKeyPrefix(), sessionIdleMs: 1000, logger });
    assert.ok(await state.ready(30_000));
    await state.sessions.close();
    assert.equal(state.healthy(), false, 'closing');
    await state.bus.publish('mcp-server-stream:x', 'the events and the bus still work');
    await state.bus.close();
    await state.events.close();
    await assert.rejects(state.sessions.get('x'), /unavailable: the store is closed/);
    await assert.rejects(state.bus.publish('x', 'y'), /unavailable: the bus is closed/);
    await state.close();
  });

  it('shows legacy SSE traffic to an operator running PSUBSCRIBE mcp-server-sse:*', async () => {
    const [a, b] = await redisPair();
    const operator = raw();
    const seen: [string, string][] = [];
    operator.on('pmessage', (_pattern: string, channel: string, message: string) => seen.push([channel, message]));
    await operator.psubscribe('mcp-server-sse:*');
    const id = randomUUID();
    const got: string[] = [];
    await a.bus.subscribe(sseChannel(id), (m) => got.push(m));
    const answer = '{"jsonrpc":"2.0","id":1,"result":{}}';
    assert.equal(await b.bus.publish(sseChannel(id), answer), 2, 'two subscriber connections: the replica and the operator');
    await until(() => got.length === 1 && seen.length === 1);
    assert.deepEqual(seen, [[`mcp-server-sse:${id}`, answer]]);
  });
});
