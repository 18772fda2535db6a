import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeOrderedUuid } from './time-ordered-id.js';

describe('timeOrderedUuid', () => {
  it('is a version 7, variant 10 UUID carrying the current milliseconds', () => {
    const before = Date.now();
    const id = timeOrderedUuid();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= Date.now() + 1);
  });

  it('sorts in the order ids were made, also many within one millisecond, and never repeats', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedUuid());
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});
