/**
 * One contract for the RateLimiter port, run against memory and Redis. "Two replicas" share one
 * state (for memory, the same object). The clock is injected, so refill is tested without waiting.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { MemoryRateLimiter } from './memory.js';
import { RedisRateLimiter } from './redis.js';
import type { RateLimiter } from './types.js';
import { dropKeys, redisAvailable, testKeyPrefix } from '../../../test/support/redis.js';

const redis = await redisAvailable();

interface Subject {
  name: string;
  skip?: string;
  replicas(now: () => number): [RateLimiter, RateLimiter];
}

const closers: (() => Promise<void>)[] = [];

const subjects: Subject[] = [
  { name: 'memory', replicas(now) { const m = new MemoryRateLimiter(now); return [m, m]; } },
  {
    name: 'redis', ...(redis.unavailable ? { skip: redis.unavailable } : {}),
    replicas(now) {
      const prefix = testKeyPrefix();
      const a = new Redis(redis.url);
      const b = new Redis(redis.url);
      closers.push(async () => { await dropKeys(redis.url, prefix); a.disconnect(); b.disconnect(); });
      return [new RedisRateLimiter(a, { keyPrefix: prefix, now }), new RedisRateLimiter(b, { keyPrefix: prefix, now })];
    },
  },
];

after(async () => { for (const c of closers) await c(); });

for (const subject of subjects) {
  describe(`RateLimiter contract: ${subject.name}`, { skip: subject.skip }, () => {
    it('allows a burst, then refuses with the time until the next token', async () => {
      const clock = 1_000_000;
      const [l] = subject.replicas(() => clock);
      const rule = { ratePerSecond: 2, burst: 3 };
      const verdicts = [];
      for (let i = 0; i < 4; i++) verdicts.push(await l.take('k1', rule));
      assert.deepEqual(verdicts.map((v) => v.allowed), [true, true, true, false]);
      assert.deepEqual(verdicts.map((v) => v.remaining), [2, 1, 0, 0]);
      assert.equal(verdicts[3]!.retryAfterMs, 500);
    });

    it('refills at the rate, up to the burst', async () => {
      let clock = 2_000_000;
      const [l] = subject.replicas(() => clock);
      const rule = { ratePerSecond: 1, burst: 2 };
      assert.equal((await l.take('k2', rule)).allowed, true);
      assert.equal((await l.take('k2', rule)).allowed, true);
      assert.equal((await l.take('k2', rule)).allowed, false);
      clock += 1000;
      assert.equal((await l.take('k2', rule)).allowed, true);
      assert.equal((await l.take('k2', rule)).allowed, false);
      clock += 60_000;
      const after = [await l.take('k2', rule), await l.take('k2', rule), await l.take('k2', rule)];
      assert.deepEqual(after.map((v) => v.allowed), [true, true, false], 'a long pause refills to the burst, not beyond');
    });

    it('keeps keys apart: one over its limit leaves another unaffected', async () => {
      const [l] = subject.replicas(() => 3_000_000);
      const rule = { ratePerSecond: 0.01, burst: 1 };
      assert.equal((await l.take('a', rule)).allowed, true);
      assert.equal((await l.take('a', rule)).allowed, false);
      assert.equal((await l.take('b', rule)).allowed, true);
    });

    it('holds the limit for the sum of two replicas', async () => {
      const [a, b] = subject.replicas(() => 4_000_000);
      const rule = { ratePerSecond: 0.01, burst: 10 };
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).take('shared', rule)));
      assert.equal(results.filter((r) => r.allowed).length, 10);
    });
  });
}

describe('MemoryRateLimiter bounds', () => {
  it('forgets the least recently used buckets beyond its cap (memory stays bounded)', async () => {
    const l = new MemoryRateLimiter(() => 0, 2);
    const rule = { ratePerSecond: 0.001, burst: 1 };
    await l.take('x', rule);
    await l.take('y', rule);
    await l.take('z', rule);
    assert.equal((await l.take('x', rule)).allowed, true, 'x was forgotten, so it starts full again');
    assert.equal((await l.take('z', rule)).allowed, false);
  });
});
