import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionTable } from './function-table.js';
import type { FunctionCase } from './function-table.js';
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { FUNCTION_ARITY, FUNCTIONS, isTrue, printValue } from './index.js';

const table = (title: string, cases: readonly FunctionCase[]): void => functionTable(title, cases);

const T0 = new GoTime(Date.UTC(2024, 0, 15, 12, 30, 45, 123), 'UTC', 0);

table('Go builtins: logic and length', [
  { fn: 'and', args: [1, 0, 2], want: 0 },
  { fn: 'and', args: [1, 'a', [1]], want: [1] },
  { fn: 'or', args: [0, '', 'x', 'y'], want: 'x' },
  { fn: 'or', args: [0, ''], want: '' },
  { fn: 'and', args: [], error: 'wrong number of args for and: want at least 1 got 0', argError: true },
  { fn: 'not', args: [''], want: true },
  { fn: 'not', args: [{ a: 1 }], want: false },
  { fn: 'not', args: [1, 2], error: 'wrong number of args for not: want 1 got 2', argError: true },
  { fn: 'len', args: ['héllo'], want: 6 },
  { fn: 'len', args: [[1, 2, 3]], want: 3 },
  { fn: 'len', args: [{ a: 1, b: 2 }], want: 2 },
  { fn: 'len', args: [undefined], want: 0 },
  { fn: 'len', args: [5], error: 'len of type int' },
  { fn: 'len', args: [1.5], error: 'len of type float64' },
]);

table('Go builtins: index and slice', [
  { fn: 'index', args: [[1, 2, 3], 1], want: 2 },
  { fn: 'index', args: [[[1, 2], [3, 4]], 1, 0], want: 3 },
  { fn: 'index', args: [{ 'Content-Type': 'json' }, 'Content-Type'], want: 'json' },
  { fn: 'index', args: [{ a: { b: [9, 8] } }, 'a', 'b', 1], want: 8 },
  { fn: 'index', args: [{ a: 1 }, 'missing'], want: undefined },
  { fn: 'index', args: [{ a: 1 }, 'constructor'], want: undefined },
  { fn: 'index', args: ['abc', 1], want: 98 },
  { fn: 'index', args: [[1, 2]], want: [1, 2] },
  { fn: 'index', args: [[1, 2, 3], 5], error: 'index out of range: 5' },
  { fn: 'index', args: [[1, 2, 3], -1], error: 'index out of range: -1' },
  { fn: 'index', args: [[1, 2, 3], 3], error: 'reflect: slice index out of range' },
  { fn: 'index', args: [undefined, 1], error: 'index of untyped nil' },
  { fn: 'index', args: [{ a: null }, 'a', 'b'], error: 'index of nil pointer' },
  { fn: 'index', args: [[1], 'x'], error: 'cannot index slice/array with type string' },
  { fn: 'index', args: [[1], 0.5], error: 'cannot index slice/array with type float64' },
  { fn: 'index', args: [[1], null], error: 'cannot index slice/array with nil' },
  { fn: 'index', args: [{ a: 1 }, 1], error: 'value has type int; should be string' },
  { fn: 'index', args: [5, 1], error: "can't index item of type int" },
  { fn: 'slice', args: ['hello', 1, 3], want: 'el' },
  { fn: 'slice', args: ['hello', 2], want: 'llo' },
  { fn: 'slice', args: [[1, 2, 3, 4], 1], want: [2, 3, 4] },
  { fn: 'slice', args: [[1, 2, 3, 4], 1, 2, 3], want: [2] },
  { fn: 'slice', args: [[1, 2, 3]], want: [1, 2, 3] },
  { fn: 'slice', args: [[1, 2, 3], 2, 1], error: 'invalid slice index: 2 > 1' },
  { fn: 'slice', args: [[1, 2, 3], 0, 4], error: 'index out of range: 4' },
  { fn: 'slice', args: ['abc', 0, 1, 2], error: 'cannot 3-index slice a string' },
  { fn: 'slice', args: [undefined], error: 'slice of untyped nil' },
  { fn: 'slice', args: [{ a: 1 }], error: "can't slice item of type map[string]interface {}" },
]);

table('Go builtins: comparison', [
  { fn: 'eq', args: ['a', 'a'], want: true },
  { fn: 'eq', args: [1, 1], want: true },
  { fn: 'eq', args: [2, 2.0], want: true },
  { fn: 'eq', args: [1, 2, 3, 1], want: true },
  { fn: 'eq', args: [1, 2, 3], want: false },
  { fn: 'eq', args: [true, true], want: true },
  { fn: 'eq', args: [undefined, null], want: true },
  { fn: 'eq', args: [undefined, 'a'], want: false },
  { fn: 'eq', args: ['a', null], want: false },
  { fn: 'eq', args: [{ a: 1 }, undefined], want: false },
  { fn: 'eq', args: [new GoDuration(5), 5], want: true },
  { fn: 'eq', args: [T0, new GoTime(T0.epochMs)], want: true },
  { fn: 'eq', args: [1], error: 'missing argument for comparison' },
  { fn: 'eq', args: ['a', 1], error: 'incompatible types for comparison: string and int' },
  { fn: 'eq', args: [1.5, 'x'], error: 'incompatible types for comparison: float64 and string' },
  { fn: 'eq', args: [{ b: 2, a: 1 }, { a: 1 }], error: 'non-comparable type map[a:1]: map[string]interface {}' },
  { fn: 'eq', args: [[1, 2], [1, 2]], error: 'non-comparable type [1 2]: []interface {}' },
  { fn: 'ne', args: [1, 2], want: true },
  { fn: 'ne', args: ['x', 'x'], want: false },
  { fn: 'lt', args: [1, 2], want: true },
  { fn: 'lt', args: [1.5, 1], want: false },
  { fn: 'lt', args: ['a', 'b'], want: true },
  { fn: 'lt', args: ['\uffff', '\u{10000}'], want: true },
  { fn: 'lt', args: [true, false], error: 'invalid type for comparison' },
  { fn: 'lt', args: [undefined, 1], error: 'invalid type for comparison' },
  { fn: 'lt', args: [1, 'a'], error: 'incompatible types for comparison: int and string' },
  { fn: 'le', args: [2, 2], want: true },
  { fn: 'le', args: [3, 2], want: false },
  { fn: 'gt', args: [3, 2], want: true },
  { fn: 'gt', args: ['a', 'a'], want: false },
  { fn: 'ge', args: [2, 3], want: false },
  { fn: 'ge', args: [2, 2], want: true },
  { fn: 'call', args: [undefined], error: 'call of nil' },
  { fn: 'call', args: ['x', 1], error: 'non-function of type string' },
]);

table('Go builtins: escaping', [
  { fn: 'html', args: [`<a href='x'>&"`], want: '&lt;a href=&#39;x&#39;&gt;&amp;&#34;' },
  { fn: 'html', args: ['a', 1, 2], want: 'a1 2' },
  { fn: 'html', args: [undefined], want: '' },
  { fn: 'js', args: [`a'b"c<d>&=\\\n`], want: `a\\'b\\"c\\u003Cd\\u003E\\u0026\\u003D\\\\\\u000A` },
  { fn: 'js', args: ['中文\u2028'], want: '中文\\u2028' },
  { fn: 'urlquery', args: ['a b&c=d/é'], want: 'a+b%26c%3Dd%2F%C3%A9' },
  { fn: 'urlquery', args: ["~-_.!*'()"], want: '~-_.%21%2A%27%28%29' },
  { fn: 'urlquery', args: [3, 4], want: '3+4' },
]);

table('Go builtins: print, println, printf', [
  { fn: 'print', args: ['a', 1, 2, 'b'], want: 'a1 2b' },
  { fn: 'print', args: [1, 2, 'a', 3, null], want: '1 2a3 <nil>' },
  { fn: 'print', args: [{ a: 1 }, 2], want: '{"a":1}2' },
  { fn: 'print', args: [T0], want: '2024-01-15 12:30:45.123 +0000 UTC' },
  { fn: 'print', args: [], want: '' },
  { fn: 'println', args: ['a', 1, 'b'], want: 'a 1 b\n' },
  { fn: 'printf', args: ['%s-%d', 'a', 7], want: 'a-7' },
  { fn: 'printf', args: ['%5.2f|%-5d|%05d', 3.14159, 42, -42], want: ' 3.14|42   |-0042' },
  { fn: 'printf', args: ['%x %X %#x %o %#o %O %b', 255, 255, 255, 8, 8, 8, 5], want: 'ff FF 0xff 10 010 0o10 101' },
  { fn: 'printf', args: ['%x', -255], want: '-ff' },
  { fn: 'printf', args: ['%c%c %q %U %#U', 72, 0x4e2d, 65, 0x1f600, 65], want: "H中 'A' U+1F600 U+0041 'A'" },
  { fn: 'printf', args: ['%q|%+q|%#q', 'hi\n', 'héllo', 'hi'], want: '"hi\\n"|"h\\u00e9llo"|`hi`' },
  { fn: 'printf', args: ['%x|% x|%#x|%X', 'hi', 'hi', 'hi', 'hi'], want: '6869|68 69|0x6869|6869' },
  { fn: 'printf', args: ['%t %v %5t', true, false, true], want: 'true false  true' },
  { fn: 'printf', args: ['%v %v %v %v', 1e6, 1.5, 1e21, 0.000001], want: '1000000 1.5 1e+21 1e-06' },
  { fn: 'printf', args: ['%e|%E|%.2e', 1234.5678, 1234.5678, 0], want: '1.234568e+03|1.234568E+03|0.00e+00' },
  { fn: 'printf', args: ['%g|%g|%.3g|%G', 1234.5678, 0.000012345, 1234.5678, 1e-10], want: '1234.5678|1.2345e-05|1.23e+03|1E-10' },
  { fn: 'printf', args: ['%.0f %.0f %.0f %.1f %.2f', 2.5, 3.5, 0.5, 0.25, 1.005], want: '2 4 0 0.2 1.00' },
  { fn: 'printf', args: ['%08.3f|%+.1f|% .1f|%-8.2f|', -3.14159, 2.25, 2, 1.5], want: '-003.142|+2.2| 2.0|1.50    |' },
  { fn: 'printf', args: ['%f', 1e21], want: '1000000000000000000000.000000' },
  { fn: 'printf', args: ['%+d % d %.3d %.0d|%5.0d|', 5, 5, 7, 0, 0], want: '+5  5 007 |     |' },
  { fn: 'printf', args: ['%5.1s|%-4s|%05s', 'hello', 'ab', 'ab'], want: '    h|ab  |   ab' },
  { fn: 'printf', args: ['%T %T %T %T %T %T', 1, 1.5, 's', true, null, { a: 1 }], want: 'int float64 string bool <nil> string' },
  { fn: 'printf', args: ['%v %s %d', null, null, undefined], want: '<nil> %!s(<nil>) %!d(<nil>)' },
  { fn: 'printf', args: ['%d', 'hi'], want: '%!d(string=hi)' },
  { fn: 'printf', args: ['%s', 12], want: '%!s(int=12)' },
  { fn: 'printf', args: ['%d', 1.5], want: '%!d(float64=1.5)' },
  { fn: 'printf', args: ['%z', true], want: '%!z(bool=true)' },
  { fn: 'printf', args: ['%s %s', 'a'], want: 'a %!s(MISSING)' },
  { fn: 'printf', args: ['%s', 'a', 2, 'x', null], want: 'a%!(EXTRA int=2, string=x, <nil>)' },
  { fn: 'printf', args: ['100%% %'], want: '100% %!(NOVERB)' },
  { fn: 'printf', args: ['%[2]d %[1]d', 1, 2], want: '2 1' },
  { fn: 'printf', args: ['%[3]d', 1], want: '%!d(BADINDEX)' },
  { fn: 'printf', args: ['%*d|%-*d|%.*f', 5, 42, 4, 7, 2, 3.14159], want: '   42|7   |3.14' },
  { fn: 'printf', args: ['%*d', 'x', 1], want: '%!(BADWIDTH)1' },
  { fn: 'printf', args: ['%s|%v', { a: [1, 'x'] }, [true]], want: '{"a":[1,"x"]}|[true]' },
  { fn: 'printf', args: ['%s|%d|%v', new GoDuration(90e9), new GoDuration(90e9), T0], want: '1m30s|90000000000|2024-01-15 12:30:45.123 +0000 UTC' },
  { fn: 'printf', args: ['%04d', '42'], want: '%!d(string=  42)' },
  { fn: 'printf', args: ['%.2f|%e|%g', 10, 3, 100], want: '10.00|3.000000e+00|100' },
  { fn: 'printf', args: ['%v', 0.1 + 0.2], want: '0.30000000000000004' },
  { fn: 'printf', args: [42], error: 'wrong type for value; expected string; got int', argError: true },
  { fn: 'printf', args: [], error: 'wrong number of args for printf: want at least 1 got 0', argError: true },
]);

describe('truthiness (isTrue)', () => {
  const cases: [TemplateValue, boolean][] = [
    [undefined, false],
    [null, false],
    ['', false],
    [0, false],
    [false, false],
    [[], false],
    [{}, false],
    [new GoDuration(0), false],
    ['a', true],
    [' ', true],
    [-1, true],
    [0.1, true],
    [true, true],
    [[0], true],
    [{ a: null }, true],
    [T0, true],
    [new GoDuration(1), true],
  ];
  for (const [v, want] of cases) {
    it(`${JSON.stringify(v) ?? 'undefined'} is ${want}`, () => assert.equal(isTrue(v), want));
  }
});

describe('printing (printValue)', () => {
  const cases: [TemplateValue, string][] = [
    [undefined, ''],
    [null, 'null'],
    ['raw "text"', 'raw "text"'],
    [true, 'true'],
    [false, 'false'],
    [42, '42'],
    [1000000, '1000000'],
    [1e21, '1000000000000000000000'],
    [2 ** 70, '1180591620717411300000'],
    [3.14, '3.14'],
    [1.5e-7, '0.00000015'],
    [-2.5, '-2.5'],
    [{ a: 1, b: [1, 'x', null], c: '<&>' }, '{"a":1,"b":[1,"x",null],"c":"<&>"}'],
    [[], '[]'],
    [T0, '2024-01-15 12:30:45.123 +0000 UTC'],
    [new GoTime(Date.UTC(2024, 0, 15, 12, 30, 45), 'Asia/Shanghai', 500), '2024-01-15 20:30:45.0000005 +0800 CST'],
    [new GoDuration(5400e9), '1h30m0s'],
    [new GoDuration(1_500_000), '1.5ms'],
    [new GoDuration(-2500), '-2.5µs'],
    [new GoDuration(0), '0s'],
    [[T0, new GoDuration(7)] as unknown as TemplateValue, '["2024-01-15T12:30:45.123Z",7]'],
  ];
  for (const [v, want] of cases) {
    it(`prints ${want || '(empty)'}`, () => assert.equal(printValue(v), want));
  }
});

describe('function table', () => {
  it('has every required function and no environment access', () => {
    const required = `and or not len index slice print printf println html js urlquery eq ne lt le gt ge call default empty coalesce ternary toJson toPrettyJson toRawJson fromJson toString atoi int int64 float64 b64enc b64dec upper lower title trim trimAll trimPrefix trimSuffix trunc abbrev replace contains hasPrefix hasSuffix split splitList join quote squote cat indent nindent repeat substr add add1 sub mul div mod max min floor ceil round now date dateInZone unixEpoch toDate dateModify duration uuidv4 list dict get set unset hasKey keys values pluck first last rest initial append prepend uniq sortAlpha has sha1sum sha256sum regexMatch regexFind regexFindAll regexReplaceAll trimall randAlphaNum toStrings wrap plural snakecase camelcase kebabcase seq gjson`.split(' ');
    for (const name of required) assert.ok(FUNCTIONS.has(name), name);
    for (const name of ['env', 'expandenv', 'getHostByName', 'readFile']) assert.ok(!FUNCTIONS.has(name), name);
  });
  it('reports arities', () => {
    assert.deepEqual(FUNCTION_ARITY.get('printf'), [1, Infinity]);
    assert.deepEqual(FUNCTION_ARITY.get('trunc'), [2, 2]);
  });
});
