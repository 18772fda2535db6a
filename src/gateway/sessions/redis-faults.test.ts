/**
 * Redis faults (issue 5 §2): with Redis killed or hung, session-state operations fail within a
 * bounded time with SessionStateUnavailableError, nothing crashes, and everything — subscriptions
 * included — works again by itself when Redis is back, with the same objects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../lib/logger.js';
import { createRedisState } from './redis.js';
import type { RedisState } from './redis.js';
import { SessionStateUnavailableError, sseChannel } from './types.js';
import type { SessionRecord } from './types.js';
import { privateRedisUnavailable, startPrivateRedis } from '../../../test/support/redis.js';
import type { PrivateRedis } from '../../../test/support/redis.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const unavailable = privateRedisUnavailable();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

function record(): SessionRecord {
  return {
    id: randomUUID(), kind: 'sse', namespace: 'default', server: 'weather', protocolVersion: '2024-11-05',
    consumerId: null, headers: { authorization: 'Bearer t0ps3cret' }, createdAt: Date.now(),
  };
}

/**
 * Every operation of the three ports rejects with SessionStateUnavailableError while Redis is
 * still down or paused: nothing waits in a queue for Redis to come back (that would hang here).
 */
async function assertFailsFast(state: RedisState): Promise<void> {
  const ops: [string, () => Promise<unknown>][] = [
    ['sessions.create', () => state.sessions.create(record())],
    ['sessions.get', () => state.sessions.get(randomUUID())],
    ['sessions.delete', () => state.sessions.delete(randomUUID())],
    ['bus.publish', () => state.bus.publish(sseChannel(randomUUID()), 'x')],
    ['bus.subscribe', () => state.bus.subscribe(sseChannel(randomUUID()), () => undefined)],
    ['events.append', () => state.events.append(randomUUID(), 'x')],
    ['events.replayAfter', () => state.events.replayAfter(`${randomUUID()}_1-0`, () => undefined)],
  ];
  await Promise.all(ops.map(async ([name, op]) => {
    await assert.rejects(op(), (err: unknown) => {
      assert.ok(err instanceof SessionStateUnavailableError, `${name}: ${String(err)}`);
      assert.match(err.message, /^session store \(Redis\) unavailable: /);
      return true;
    }, name);
  }));
}

describe('Redis faults', { skip: unavailable }, () => {
  let server: PrivateRedis;
  let a: RedisState;
  let b: RedisState;
  const problems: unknown[] = [];
  const onProblem = (err: unknown) => problems.push(err);

  before(async () => {
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
    server = await startPrivateRedis();
    a = createRedisState(server.url, { sessionIdleMs: 60_000, logger, heartbeatMs: 250 });
    b = createRedisState(server.url, { sessionIdleMs: 60_000, logger });
    assert.ok(await a.ready(30_000));
    assert.ok(await b.ready(30_000));
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
    process.off('unhandledRejection', onProblem);
    process.off('uncaughtException', onProblem);
  });

  it('Redis killed: fails fast, then recovers by itself (sessions, shared key, subscriptions, events)', async () => {
    const channel = sseChannel(randomUUID());
    const got: string[] = [];
    await a.bus.subscribe(channel, (m) => got.push(m));
    const before = record();
    await a.sessions.create(before);
    assert.ok(await b.sessions.get(before.id));

    await server.kill();
    await until(() => !a.healthy() && !b.healthy());
    await assertFailsFast(a);
    await assertFailsFast(b);
    await sleep(400); // a few failed reconnection attempts

    await server.start();
    assert.ok(await a.ready(30_000), 'A healthy again');
    assert.ok(await b.ready(30_000), 'B healthy again');
    // The new Redis is empty (no persistence): the old session is gone, which is a 404, not an error.
    assert.equal(await b.sessions.get(before.id), undefined);
    // New sessions work across replicas (the shared header key was put back).
    const after = record();
    await b.sessions.create(after);
    assert.deepEqual(await a.sessions.get(after.id), after);
    // The subscription made before the outage is back, without subscribing again; exactly once.
    assert.equal(await b.bus.publish(channel, 'after restart'), 1);
    await until(() => got.length === 1);
    await sleep(50);
    assert.deepEqual(got, ['after restart']);
    const stream = randomUUID();
    const first = await a.events.append(stream, 'one');
    await a.events.append(stream, 'two');
    const replayed: string[] = [];
    assert.equal(await b.events.replayAfter(first, (_id, m) => replayed.push(m)), stream);
    assert.deepEqual(replayed, ['two']);
    assert.deepEqual(problems, [], 'no unhandled rejection or exception');
  });

  it('Redis hung (SIGSTOP): fails within the command timeout, then recovers when it answers again', async () => {
    const channel = sseChannel(randomUUID());
    const got: string[] = [];
    await a.bus.subscribe(channel, (m) => got.push(m));
    await server.pause();
    try {
      await assertFailsFast(a);
      // The idle subscriber connection is found dead too (heartbeat + socket timeout), not only the busy one.
      await until(() => !a.bus.healthy(), 30_000);
    } finally {
      server.resume();
    }
    assert.ok(await a.ready(30_000), 'A healthy again');
    const s = record();
    await a.sessions.create(s);
    assert.deepEqual(await b.sessions.get(s.id), s);
    // The subscriber connection was replaced: the subscription was made again on the new one.
    assert.equal(await b.bus.publish(channel, 'after resume'), 1);
    await until(() => got.length === 1);
    assert.deepEqual(problems, [], 'no unhandled rejection or exception');
  });

  it('an unreachable Redis from the start: fails fast, reports unhealthy, never throws out of band', async () => {
    const nowhere = createRedisState('redis://127.0.0.1:1', { sessionIdleMs: 1000, logger });
    try {
      assert.equal(await nowhere.ready(300), false);
      assert.equal(nowhere.healthy(), false);
      await assertFailsFast(nowhere);
    } finally {
      await nowhere.close();
    }
    assert.deepEqual(problems, []);
  });
});
