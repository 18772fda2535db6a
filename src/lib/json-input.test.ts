import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from './errors.js';
import { MAX_JSON_DEPTH } from './json-depth.js';
import { checkJsonInput, jsonTextMayHoldNul } from './json-input.js';

function nested(depth: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

function refusal(value: unknown, field = 'body'): AppError {
  try {
    checkJsonInput(value, field);
  } catch (err) {
    assert.ok(err instanceof AppError);
    return err;
  }
  assert.fail('accepted');
}

describe('checkJsonInput', () => {
  it(`takes JSON nested up to ${MAX_JSON_DEPTH} levels, and refuses deeper, without recursion`, () => {
    checkJsonInput(nested(MAX_JSON_DEPTH), 'body');
    const deep = refusal(nested(MAX_JSON_DEPTH + 1));
    assert.equal(deep.code, 'VALIDATION_FAILED');
    assert.match(deep.message, new RegExp(`nests deeper than ${MAX_JSON_DEPTH} levels`));
    assert.match(refusal(nested(200_000)).message, /nests deeper/);
  });

  it('refuses a NUL character in a string or a key, naming where', () => {
    assert.equal(refusal({ spec: { tools: [{ name: 'a\0b' }] } }, '').field, 'spec.tools[0].name');
    assert.equal(refusal({ a: { 'k\0': 1 } }, 'p').field, 'p.a.k\\0');
    assert.equal(refusal('\0', 'name').field, 'name');
    checkJsonInput({ a: ['\\0', 'ok', 1, null, true] }, 'body');
  });
});

describe('jsonTextMayHoldNul', () => {
  it('flags every text whose parsed value holds a NUL in a string or key', () => {
    for (const text of ['{"a":"x\\u0000"}', '{"a\\u0000":1}', '{"a":["b",{"c":"\\u0000"}]}']) {
      assert.equal(jsonTextMayHoldNul(text), true, text);
      assert.throws(() => checkJsonInput(JSON.parse(text), 'body'), /NUL/);
    }
    // A raw NUL is not valid JSON, but is flagged all the same.
    assert.equal(jsonTextMayHoldNul('["\0"]'), true);
    assert.equal(jsonTextMayHoldNul('{"a":"u0000","b":[0,"\\u0001"],"c":"\\\\"}'), false);
  });
});
