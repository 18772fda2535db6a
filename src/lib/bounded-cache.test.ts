import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setBounded } from './bounded-cache.js';

describe('setBounded', () => {
  it('drops expired entries first, then the oldest, to stay under its bound', () => {
    const cache = new Map<string, { until: number }>([['a', { until: 50 }], ['b', { until: 200 }], ['c', { until: 10 }]]);
    setBounded(cache, 'd', { until: 300 }, 3, 100);
    assert.deepEqual([...cache.keys()], ['b', 'd'], 'the two expired ones went; nothing live had to');
    setBounded(cache, 'e', { until: 300 }, 2, 100);
    assert.deepEqual([...cache.keys()], ['d', 'e'], 'full of live entries: the oldest went');
    setBounded(cache, 'd', { until: 400 }, 3, 100);
    assert.equal(cache.get('d')?.until, 400);
  });
});
