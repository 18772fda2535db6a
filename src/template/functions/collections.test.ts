import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callFunction, functionTable } from './function-table.js';
import type { FunctionCase } from './function-table.js';
import type { JsonValue, TemplateValue } from '../values.js';

const table = (title: string, cases: readonly FunctionCase[]): void => functionTable(title, cases, false);
const call = callFunction;

const people: TemplateValue[] = [{ name: 'ann', age: 3 }, { name: 'bob' }, { age: 5 }];

table('Sprig: lists', [
  { fn: 'list', args: [1, 'a', null], want: [1, 'a', null] },
  { fn: 'list', args: [], want: [] },
  { fn: 'first', args: [[1, 2, 3]], want: 1 },
  { fn: 'first', args: [[]], want: undefined },
  { fn: 'first', args: ['abc'], error: 'Cannot find first on type string' },
  { fn: 'first', args: [undefined], error: 'runtime error: invalid memory address or nil pointer dereference' },
  { fn: 'last', args: [[1, 2, 3]], want: 3 },
  { fn: 'last', args: [{ a: 1 }], error: 'Cannot find last on type map' },
  { fn: 'rest', args: [[1, 2, 3]], want: [2, 3] },
  { fn: 'rest', args: [[]], want: [] },
  { fn: 'initial', args: [[1, 2, 3]], want: [1, 2] },
  { fn: 'append', args: [[1], 2], want: [1, 2] },
  { fn: 'push', args: [[], 'x'], want: ['x'] },
  { fn: 'append', args: [5, 2], error: 'Cannot push on type int' },
  { fn: 'prepend', args: [[2], 1], want: [1, 2] },
  { fn: 'reverse', args: [[1, 2, 3]], want: [3, 2, 1] },
  { fn: 'compact', args: [[0, 1, '', 'a', null, false, [], 2]], want: [1, 'a', 2] },
  { fn: 'uniq', args: [[1, 1, 'a', { a: 1 }, { a: 1 }, 'a', [1], [1]]], want: [1, 'a', { a: 1 }, [1]] },
  { fn: 'has', args: [2, [1, 2]], want: true },
  { fn: 'has', args: [{ a: [1] }, [{ a: [1] }]], want: true },
  { fn: 'has', args: ['2', [1, 2]], want: false },
  { fn: 'has', args: [1, undefined], want: false },
  { fn: 'has', args: [1, 'abc'], error: 'Cannot find has on type string' },
  { fn: 'without', args: [[1, 2, 3, 2], 2], want: [1, 3] },
  { fn: 'concat', args: [[1], [2, 3], []], want: [1, 2, 3] },
  { fn: 'concat', args: [[1], 'x'], error: 'Cannot concat type string as list' },
  { fn: 'sortAlpha', args: [['b', 'a', 'C', 10, 9]], want: ['10', '9', 'C', 'a', 'b'] },
  { fn: 'sortAlpha', args: ['solo'], want: ['solo'] },
  { fn: 'until', args: [3], want: [0, 1, 2] },
  { fn: 'until', args: [-2], want: [0, -1] },
  { fn: 'untilStep', args: [0, 10, 3], want: [0, 3, 6, 9] },
]);

table('Sprig: dicts', [
  { fn: 'dict', args: ['a', 1, 'b', 'x'], want: { a: 1, b: 'x' } },
  { fn: 'dict', args: ['a', 1, 'b'], want: { a: 1, b: '' } },
  { fn: 'dict', args: [1, 2, true, undefined], want: { 1: 2, true: null } },
  { fn: 'dict', args: [], want: {} },
  { fn: 'get', args: [{ a: 1 }, 'a'], want: 1 },
  { fn: 'get', args: [{ a: 1 }, 'b'], want: '' },
  { fn: 'get', args: [{ a: 1 }, 'toString'], want: '' },
  { fn: 'get', args: [undefined, 'a'], want: '' },
  { fn: 'hasKey', args: [{ a: null }, 'a'], want: true },
  { fn: 'hasKey', args: [{ a: 1 }, 'b'], want: false },
  { fn: 'hasKey', args: [undefined, 'b'], want: false },
  { fn: 'pluck', args: ['name', ...people], want: ['ann', 'bob'] },
  { fn: 'keys', args: [{ a: 1, b: 2 }, { c: 3 }], want: ['a', 'b', 'c'] },
  { fn: 'values', args: [{ a: 1, b: [2] }], want: [1, [2]] },
  { fn: 'pick', args: [{ a: 1, b: 2, c: 3 }, 'a', 'c', 'z'], want: { a: 1, c: 3 } },
  { fn: 'omit', args: [{ a: 1, b: 2, c: 3 }, 'a', 'c'], want: { b: 2 } },
  { fn: 'set', args: [undefined, 'a', 1], error: 'assignment to entry in nil map' },
  { fn: 'get', args: [[1], 'a'], error: 'wrong type for value; expected map[string]interface {}; got []interface {}' },
]);

describe('Sprig: dict mutation', () => {
  it('set and unset change the dict in place and return it', () => {
    const d = call('dict', 'a', 1) as { [k: string]: JsonValue };
    assert.equal(call('set', d, 'b', 2), d);
    assert.deepEqual(d, { a: 1, b: 2 });
    call('set', d, 'c', undefined);
    assert.deepEqual(d, { a: 1, b: 2, c: null });
    assert.equal(call('unset', d, 'a'), d);
    assert.deepEqual(d, { b: 2, c: null });
  });
  it('never touches Object.prototype through a __proto__ key', () => {
    const d = call('dict', '__proto__', { polluted: true }) as { [k: string]: JsonValue };
    assert.equal(Object.getPrototypeOf(d), Object.prototype);
    assert.deepEqual(Object.keys(d), ['__proto__']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });
  it('append does not modify its input list', () => {
    const l = [1];
    call('append', l, 2);
    assert.deepEqual(l, [1]);
  });
});
