import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivityBucket } from './activity.js';
import { addAgent, emptyLatency, LATENCY_BOUNDS_MS, latencyBucket, latencyQuantile, MAX_AGENTS_PER_BUCKET, MAX_KINDS_PER_BUCKET, mergeBucket, OTHER } from './activity.js';

function bucket(ms: number[], over: Partial<ActivityBucket> = {}): ActivityBucket {
  const latency = emptyLatency();
  for (const m of ms) latency[latencyBucket(m)]!++;
  return { namespace: 'public', server: 's', tool: 't', minute: 0, calls: ms.length, errors: 0, kinds: {}, latency, latencySumMs: ms.reduce((a, b) => a + b, 0), agents: [], ...over };
}

describe('activity histograms', () => {
  it('puts a duration in the first bucket whose bound holds it, the slowest in the overflow', () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(5), 0);
    assert.equal(latencyBucket(5.1), 1);
    assert.equal(latencyBucket(10_000), LATENCY_BOUNDS_MS.length - 1);
    assert.equal(latencyBucket(60_000), LATENCY_BOUNDS_MS.length);
  });

  it('reads quantiles of merged replicas as of one histogram', () => {
    // Replica A: 90 fast calls (≤ 10 ms); replica B: 10 slow ones (1-2.5 s).
    const a = bucket(Array.from({ length: 90 }, () => 8));
    const b = bucket(Array.from({ length: 10 }, () => 2000));
    const merged = bucket([]);
    mergeBucket(merged, a);
    mergeBucket(merged, b);
    assert.equal(merged.calls, 100);
    const p50 = latencyQuantile(merged.latency, 0.5)!;
    const p95 = latencyQuantile(merged.latency, 0.95)!;
    assert.ok(p50 > 5 && p50 <= 10, `p50 ${p50} in the 5-10 ms bucket`);
    assert.ok(p95 > 1000 && p95 <= 2500, `p95 ${p95} in the 1-2.5 s bucket`);
    assert.equal(latencyQuantile(emptyLatency(), 0.5), undefined);
    const slow = bucket([60_000]);
    assert.equal(latencyQuantile(slow.latency, 0.99), 10_000, 'the overflow bucket answers its lower bound');
  });

  it('merges kinds and agents within their bounds, folding the rest into (other)', () => {
    const into = bucket([1], { errors: 1, kinds: { a: 1 }, agents: [{ name: 'claude', version: '1', calls: 1 }] });
    const kinds = Object.fromEntries(Array.from({ length: MAX_KINDS_PER_BUCKET + 5 }, (_, i) => [`k${i}`, 1]));
    const agents = Array.from({ length: MAX_AGENTS_PER_BUCKET + 5 }, (_, i) => ({ name: `agent${i}`, version: '1', calls: 1 }));
    mergeBucket(into, bucket([1], { errors: 1, kinds, agents }));
    assert.ok(Object.keys(into.kinds).length <= MAX_KINDS_PER_BUCKET + 1);
    assert.ok((into.kinds[OTHER] ?? 0) > 0);
    assert.equal(Object.values(into.kinds).reduce((x, y) => x + y, 0), 1 + MAX_KINDS_PER_BUCKET + 5, 'no count lost');
    assert.equal(into.agents.length, MAX_AGENTS_PER_BUCKET);
    assert.equal(into.agents.reduce((x, y) => x + y.calls, 0), 1 + MAX_AGENTS_PER_BUCKET + 5, 'no call lost');
    assert.ok(into.agents.some((a) => a.name === OTHER));
    const list: { name: string; version: string; calls: number }[] = [];
    addAgent(list, 'x', '1', 2, 1);
    addAgent(list, 'y', '1', 3, 1);
    assert.deepEqual(list, [{ name: OTHER, version: '', calls: 5 }]);
  });
});
