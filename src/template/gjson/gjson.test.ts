import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonValue } from '../values.js';
import { compilePath, gjsonGet, isSimplePath } from './gjson.js';
import { APPROXIMATIONS, PATH_CASES, README_DOC } from '../../../test/fixtures/template/gjson.fixtures.js';

describe('gjson paths (table, per gjson v1.18)', () => {
  for (const [group, cases] of Object.entries(PATH_CASES)) {
    describe(group, () => {
      for (const [path, expected, ...rest] of cases) {
        const doc = rest.length > 0 ? rest[0] : README_DOC;
        const label = rest.length > 0 ? `${path}  on ${JSON.stringify(doc) ?? 'nothing'}` : path;
        it(label.length > 120 ? `${label.slice(0, 117)}...` : label, () => {
          assert.deepStrictEqual(gjsonGet(doc, path), expected);
        });
      }
    });
  }
});

describe('gjson paths where a parsed value differs from gjson raw text', () => {
  for (const [path, ours, gjsonRaw, ...rest] of APPROXIMATIONS) {
    const doc = rest.length > 0 ? rest[0] : README_DOC;
    it(`${path}  (gjson: ${gjsonRaw})`, () => {
      assert.deepStrictEqual(gjsonGet(doc, path), ours);
    });
  }
});

describe('compilePath', () => {
  it('caches compiled paths', () => {
    assert.equal(compilePath('friends.#.first'), compilePath('friends.#.first'));
  });

  it('evaluates one compiled path against many documents', () => {
    const p = compilePath('items.#(price>10)#.name');
    assert.deepStrictEqual(p.get({ items: [{ name: 'a', price: 5 }, { name: 'b', price: 20 }] }), ['b']);
    assert.deepStrictEqual(p.get({ items: [] }), []);
    assert.equal(p.get({ other: 1 }), undefined);
    assert.equal(p.get(undefined), undefined);
  });

  it('returns a fresh copy of literal objects on each call', () => {
    const p = compilePath('!{"a":[1]}');
    const first = p.get(null) as { a: number[] };
    first.a.push(2);
    assert.deepStrictEqual(p.get(null), { a: [1] });
  });

  it('returns values of the document itself for plain paths (no copy)', () => {
    const doc = { a: { b: [1, 2] } };
    assert.equal(gjsonGet(doc, 'a.b'), doc.a.b);
  });

  it('never finds inherited properties', () => {
    for (const path of ['toString', 'constructor', '__proto__', 'a.hasOwnProperty', 'a.valueOf', 'length']) {
      assert.equal(gjsonGet({ a: {} }, path), undefined, path);
    }
    assert.equal(gjsonGet([1, 2], 'length'), undefined);
    assert.equal(gjsonGet('abc', 'length'), undefined);
  });

  it('handles a deeply nested document and a long path', () => {
    let doc: JsonValue = 'leaf';
    for (let i = 0; i < 1000; i++) doc = { k: doc };
    const chain = Array.from({ length: 1000 }, () => 'k').join('.');
    assert.equal(gjsonGet(doc, chain), 'leaf');
    assert.equal(gjsonGet(doc, `${chain}|@this`), 'leaf');
    assert.equal(gjsonGet(doc, chain.replace(/k$/, 'k*')), 'leaf');
    assert.deepStrictEqual(gjsonGet(doc, '@dig:nope'), []);
  });

  it('gives nothing, without throwing, for a path or document too deep to walk', () => {
    let doc: JsonValue = 'leaf';
    for (let i = 0; i < 20000; i++) doc = { k: doc };
    assert.equal(gjsonGet(doc, Array.from({ length: 20000 }, () => 'k*').join('.')), undefined);
    assert.equal(gjsonGet(null, '['.repeat(50000)), undefined);
    assert.equal(gjsonGet(null, '#('.repeat(50000)), undefined);
  });
});

describe('isSimplePath', () => {
  it('accepts plain key chains', () => {
    for (const p of ['a', 'args.city', 'items.0.name', 'Content-Type', 'a b.c', '日本.語', 'x:y']) {
      assert.equal(isSimplePath(p), true, p);
    }
  });

  it('rejects anything gjson reads specially', () => {
    for (const p of ['', '.a', 'a.', 'a..b', 'a.#', 'a*', 'a?', 'a\\.b', 'a|b', '@this', '!true', '[a]', '{a}', '#(a)']) {
      assert.equal(isSimplePath(p), false, p);
    }
  });
});

const keyArb = fc.stringMatching(/^[a-zA-Z0-9_]{1,3}$/);
const { json: jsonArb } = fc.letrec<{ json: JsonValue }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string()),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(keyArb, tie('json'), { maxKeys: 5 }),
  ),
}));

/** gjson's reading of a plain key chain: numeric keys index arrays, other keys look up own properties. */
function referenceWalk(data: JsonValue | undefined, keys: readonly string[]): JsonValue | undefined {
  let cur = data;
  for (const key of keys) {
    if (Array.isArray(cur)) {
      cur = /^[0-9]+$/.test(key) ? cur[Number(key)] : undefined;
    } else if (typeof cur === 'object' && cur !== null) {
      cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Follows `choices` through the document to build a key chain that mostly exists. */
function existingKeys(data: JsonValue, choices: readonly number[]): string[] {
  const keys: string[] = [];
  let cur: JsonValue | undefined = data;
  for (const choice of choices) {
    const node: JsonValue | undefined = cur;
    if (Array.isArray(node) && node.length > 0) {
      const i: number = choice % node.length;
      keys.push(String(i));
      cur = node[i];
    } else if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length > 0) {
      const names = Object.keys(node);
      const name = names[choice % names.length] as string;
      keys.push(name);
      cur = node[name];
    } else {
      keys.push(String(choice));
      cur = undefined;
    }
  }
  return keys;
}

function isJsonValue(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return true;
  if (Array.isArray(v)) return v.every(isJsonValue);
  if (typeof v !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.values(v).every(isJsonValue);
}

describe('gjson properties', () => {
  it('a plain key path equals a reference walk', () => {
    fc.assert(
      fc.property(
        jsonArb,
        fc.array(fc.nat(20), { minLength: 1, maxLength: 6 }),
        fc.array(fc.oneof(keyArb, fc.nat(5).map(String)), { minLength: 1, maxLength: 6 }),
        (data, choices, randomKeys) => {
          for (const keys of [existingKeys(data, choices), randomKeys]) {
            const path = keys.join('.');
            assert.equal(isSimplePath(path), true);
            assert.deepStrictEqual(gjsonGet(data, path), referenceWalk(data, keys));
            assert.deepStrictEqual(compilePath(path).get(data), referenceWalk(data, keys));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the general engine agrees with the fast path on plain keys', () => {
    fc.assert(
      fc.property(jsonArb, fc.array(fc.nat(20), { minLength: 1, maxLength: 5 }), (data, choices) => {
        const keys = existingKeys(data, choices);
        // `|` between keys gives the same result for plain keys but takes the general route
        assert.deepStrictEqual(gjsonGet(data, keys.join('|')), referenceWalk(data, keys));
      }),
      { numRuns: 300 },
    );
  });

  const specialAtoms = ['.', '|', '#', '(', ')', '[', ']', '{', '}', '"', '\\', '*', '?', '!', '@', ':', ',', '=', '<', '>', '%', '~', ' ',
    'a', 'name', 'friends', '0', '1', '@reverse', '@keys', '@dig:', '@flatten', '@join', '@fromstr', '@tostr', '@group', 'true', '"x"', '{"a":1}'];
  const atomPath = fc.array(fc.constantFrom(...specialAtoms), { maxLength: 16 }).map((a) => a.join(''));

  it('never throws on arbitrary paths and returns only JSON values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), atomPath), fc.oneof(jsonArb, fc.constant(README_DOC)), (path, data) => {
        const result = compilePath(path).get(data);
        assert.ok(result === undefined || isJsonValue(result), `${path} gave a non-JSON value`);
        assert.deepStrictEqual(gjsonGet(data, path), result);
      }),
      { numRuns: 2000 },
    );
  });
});
