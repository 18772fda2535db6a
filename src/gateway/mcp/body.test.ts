import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nestsDeeperThan } from './body.js';

const deep = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

describe('nestsDeeperThan', () => {
  it('counts arrays and objects, up to the limit and one past it', () => {
    assert.equal(nestsDeeperThan(Buffer.from(deep(64)), 64), false);
    assert.equal(nestsDeeperThan(Buffer.from(deep(65)), 64), true);
    const objects = `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`;
    assert.equal(nestsDeeperThan(Buffer.from(objects), 64), true);
    assert.equal(nestsDeeperThan(Buffer.from(objects), 70), false);
    const mixed = `${'[{"k":'.repeat(20)}0${'}]'.repeat(20)}`;
    assert.equal(nestsDeeperThan(Buffer.from(mixed), 40), false);
    assert.equal(nestsDeeperThan(Buffer.from(mixed), 39), true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '['.repeat(500), b: '\\"[[[[', c: ['"{{{{'] });
    assert.equal(nestsDeeperThan(Buffer.from(text), 3), false);
    assert.equal(nestsDeeperThan(Buffer.from(`[${JSON.stringify('x\\')}, ${deep(10)}]`), 8), true);
  });

  it('bounds siblings by depth, not by count, and stops at the first level too deep of a malformed body', () => {
    assert.equal(nestsDeeperThan(Buffer.from(`[${Array(10_000).fill('[[1]]').join(',')}]`), 3), false);
    assert.equal(nestsDeeperThan(Buffer.from('['.repeat(1_000_000)), 64), true);
  });
});
