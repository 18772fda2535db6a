import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AppError } from './errors.js';
import { MAX_JSON_DEPTH, checkJsonDepth, jsonDepthExceeded, parseJsonText } from './json-depth.js';

const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('JSON depth limit', () => {
  it('accepts nesting up to the limit and points at the first bracket beyond it', () => {
    assert.equal(jsonDepthExceeded(nested(MAX_JSON_DEPTH)), -1);
    assert.equal(jsonDepthExceeded(nested(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH);
    assert.equal(jsonDepthExceeded('{"a":{"b":[1,{"c":2}]}}', 4), -1);
    assert.equal(jsonDepthExceeded('{"a":{"b":[1,{"c":{}}]}}', 4), 18);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ t: '[[[[[[{{{{{{', u: 'say \\"[[[[\\" and \\\\', v: ['"]]]]"'] });
    assert.equal(jsonDepthExceeded(text, 2), -1);
    assert.equal(jsonDepthExceeded(`["\\"", [[]]]`, 2), 8, 'an escaped quote does not end the string');
  });

  it('closes levels: siblings do not add up', () => {
    assert.equal(jsonDepthExceeded(nested(60).repeat(1000)), -1);
  });

  it('answers JSON_TOO_DEEP naming the limit and the field, before parsing', () => {
    assert.throws(() => checkJsonDepth(nested(5000), 'body'), (e: unknown) => e instanceof AppError && e.code === 'JSON_TOO_DEEP' && e.field === 'body' && /64/.test(e.message));
    assert.throws(() => parseJsonText('{"a":', 'metadata'), (e: unknown) => e instanceof AppError && e.code === 'INVALID_JSON' && e.field === 'metadata');
    assert.deepEqual(parseJsonText('{"a":[1]}', 'x'), { a: [1] });
  });

  it('bounds siblings by depth, not by count, and stops at the first level too deep of a malformed text', () => {
    assert.equal(jsonDepthExceeded(`[${Array(10_000).fill('[[1]]').join(',')}]`, 3), -1);
    assert.equal(jsonDepthExceeded('['.repeat(1_000_000), 64), 64);
    const mixed = `${'[{"k":'.repeat(20)}0${'}]'.repeat(20)}`;
    assert.equal(jsonDepthExceeded(mixed, 40), -1);
    assert.ok(jsonDepthExceeded(mixed, 39) > 0);
  });
});
