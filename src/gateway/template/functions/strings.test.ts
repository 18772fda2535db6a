import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { ArgumentError, FUNCTIONS, FunctionError } from './index.js';

interface Case {
  fn: string;
  args: TemplateValue[];
  want?: TemplateValue;
  match?: RegExp;
  error?: string;
  argError?: boolean;
}

function call(c: Case): TemplateValue {
  const fn = FUNCTIONS.get(c.fn);
  assert.ok(fn, `no function ${c.fn}`);
  return fn(...c.args);
}

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    cases.forEach((c, i) => {
      it(`${i}: ${c.fn} ${JSON.stringify(c.args)}`, () => {
        if (c.error !== undefined) {
          assert.throws(
            () => call(c),
            (e: unknown) => {
              assert.ok(e instanceof FunctionError, `not a FunctionError: ${String(e)}`);
              assert.equal(e.message, c.error);
              assert.equal(e instanceof ArgumentError, c.argError ?? false, 'argument-error flag');
              return true;
            },
          );
        } else if (c.match) {
          const got = call(c);
          assert.equal(typeof got, 'string');
          assert.match(got as string, c.match);
        } else {
          assert.deepEqual(call(c), c.want);
        }
      });
    });
  });
}

table('Sprig: defaults and flow', [
  { fn: 'default', args: ['foo', undefined], want: 'foo' },
  { fn: 'default', args: ['foo'], want: 'foo' },
  { fn: 'default', args: ['foo', ''], want: 'foo' },
  { fn: 'default', args: ['foo', 0], want: 'foo' },
  { fn: 'default', args: ['foo', false], want: 'foo' },
  { fn: 'default', args: ['foo', []], want: 'foo' },
  { fn: 'default', args: ['foo', {}], want: 'foo' },
  { fn: 'default', args: ['foo', 'bar'], want: 'bar' },
  { fn: 'default', args: [1, 0.5], want: 0.5 },
  { fn: 'empty', args: [undefined], want: true },
  { fn: 'empty', args: [null], want: true },
  { fn: 'empty', args: [0], want: true },
  { fn: 'empty', args: [[]], want: true },
  { fn: 'empty', args: [' '], want: false },
  { fn: 'empty', args: [new GoTime(0)], want: false },
  { fn: 'coalesce', args: [0, '', null, 'x', 'y'], want: 'x' },
  { fn: 'coalesce', args: [0, ''], want: undefined },
  { fn: 'all', args: [1, 'a', [0]], want: true },
  { fn: 'any', args: [0, '', [0]], want: true },
  { fn: 'ternary', args: ['yes', 'no', true], want: 'yes' },
  { fn: 'ternary', args: ['yes', 'no', false], want: 'no' },
  { fn: 'ternary', args: ['yes', 'no', 'true'], error: 'wrong type for value; expected bool; got string', argError: true },
  { fn: 'ternary', args: ['yes', 'no', undefined], error: 'invalid value; expected bool', argError: true },
]);

table('Sprig: JSON', [
  { fn: 'toJson', args: [{ a: '<b>&', n: [1, 2.5, null], t: true }], want: '{"a":"\\u003cb\\u003e\\u0026","n":[1,2.5,null],"t":true}' },
  { fn: 'toJson', args: ['x"y'], want: '"x\\"y"' },
  { fn: 'toJson', args: [undefined], want: 'null' },
  { fn: 'toJson', args: [1e21], want: '1e+21' },
  { fn: 'toJson', args: ['\u2028'], want: '"\\u2028"' },
  { fn: 'toJson', args: [new GoTime(Date.UTC(2024, 0, 2, 3, 4, 5), 'Asia/Tokyo')], want: '"2024-01-02T12:04:05+09:00"' },
  { fn: 'toRawJson', args: [{ html: '<a href="x">&</a>' }], want: '{"html":"<a href=\\"x\\">&</a>"}' },
  { fn: 'toPrettyJson', args: [{ a: [1, {}], b: [], c: '<' }], want: '{\n  "a": [\n    1,\n    {}\n  ],\n  "b": [],\n  "c": "\\u003c"\n}' },
  { fn: 'fromJson', args: ['{"a":[1,"x"],"b":null}'], want: { a: [1, 'x'], b: null } },
  { fn: 'fromJson', args: [' 42 '], want: 42 },
  { fn: 'fromJson', args: ['{bad'], want: undefined },
  { fn: 'fromJson', args: [5], error: 'wrong type for value; expected string; got int', argError: true },
]);

table('Sprig: conversions', [
  { fn: 'toString', args: [1.5], want: '1.5' },
  { fn: 'toString', args: [42], want: '42' },
  { fn: 'toString', args: [true], want: 'true' },
  { fn: 'toString', args: [undefined], want: '<nil>' },
  { fn: 'toString', args: [[1, 'a']], want: '[1,"a"]' },
  { fn: 'toStrings', args: [[1, 'a', null, 2.5]], want: ['1', 'a', '2.5'] },
  { fn: 'atoi', args: ['42'], want: 42 },
  { fn: 'atoi', args: ['-7'], want: -7 },
  { fn: 'atoi', args: ['4.2'], want: 0 },
  { fn: 'atoi', args: ['x'], want: 0 },
  { fn: 'int', args: ['42'], want: 42 },
  { fn: 'int', args: ['0x1F'], want: 31 },
  { fn: 'int', args: ['010'], want: 8 },
  { fn: 'int', args: ['3.9'], want: 3 },
  { fn: 'int', args: [3.9], want: 3 },
  { fn: 'int', args: [-3.9], want: -3 },
  { fn: 'int', args: ['abc'], want: 0 },
  { fn: 'int', args: [{ a: 1 }], want: 0 },
  { fn: 'int64', args: [true], want: 1 },
  { fn: 'float64', args: ['1.5e3'], want: 1500 },
  { fn: 'float64', args: ['x'], want: 0 },
  { fn: 'float64', args: [7], want: 7 },
]);

table('Sprig: strings', [
  { fn: 'upper', args: ['hello ß é'], want: 'HELLO ß É' },
  { fn: 'lower', args: ['HELLO İ É'], want: 'hello i é' },
  { fn: 'title', args: ['hello wORLD-foo_bar'], want: 'Hello WORLD-Foo_bar' },
  { fn: 'untitle', args: ['Hello World'], want: 'hello World' },
  { fn: 'trim', args: ['  \t hello \n\u00a0'], want: 'hello' },
  { fn: 'trim', args: ['\ufeffx'], want: '\ufeffx' },
  { fn: 'trimAll', args: ['$', '$$5.00$'], want: '5.00' },
  { fn: 'trimall', args: ['-_', '_-x-_'], want: 'x' },
  { fn: 'trimPrefix', args: ['-', '--hello'], want: '-hello' },
  { fn: 'trimSuffix', args: ['-', 'hello-'], want: 'hello' },
  { fn: 'trimSuffix', args: ['', 'hello'], want: 'hello' },
  { fn: 'nospace', args: ['h e\tl\nlo'], want: 'hello' },
  { fn: 'trunc', args: [5, 'hello world'], want: 'hello' },
  { fn: 'trunc', args: [-5, 'hello world'], want: 'world' },
  { fn: 'trunc', args: [50, 'hello'], want: 'hello' },
  { fn: 'trunc', args: [-50, 'hello'], want: 'hello' },
  { fn: 'trunc', args: ['5', 'hello'], error: 'wrong type for value; expected int; got string', argError: true },
  { fn: 'abbrev', args: [5, 'hello world'], want: 'he...' },
  { fn: 'abbrev', args: [3, 'hello world'], want: 'hello world' },
  { fn: 'abbrev', args: [20, 'hello'], want: 'hello' },
  { fn: 'replace', args: [' ', '-', 'I Am Henry VIII'], want: 'I-Am-Henry-VIII' },
  { fn: 'replace', args: ['', '.', 'ab'], want: '.a.b.' },
  { fn: 'contains', args: ['cat', 'catch'], want: true },
  { fn: 'contains', args: ['dog', 'catch'], want: false },
  { fn: 'hasPrefix', args: ['cat', 'catch'], want: true },
  { fn: 'hasSuffix', args: ['ch', 'catch'], want: true },
  { fn: 'split', args: ['$', 'foo$bar$baz'], want: { _0: 'foo', _1: 'bar', _2: 'baz' } },
  { fn: 'splitn', args: ['$', 2, 'foo$bar$baz'], want: { _0: 'foo', _1: 'bar$baz' } },
  { fn: 'splitList', args: [',', 'a,b,,c'], want: ['a', 'b', '', 'c'] },
  { fn: 'splitList', args: ['', 'ab中'], want: ['a', 'b', '中'] },
  { fn: 'splitList', args: [',', ''], want: [''] },
  { fn: 'join', args: ['_', ['hello', 'world']], want: 'hello_world' },
  { fn: 'join', args: [', ', [1, null, 2.5, true]], want: '1, 2.5, true' },
  { fn: 'join', args: ['-', 'solo'], want: 'solo' },
  { fn: 'quote', args: ['hello', 'a"b\n', null, 3], want: '"hello" "a\\"b\\n" "3"' },
  { fn: 'squote', args: ['hello', 2], want: "'hello' '2'" },
  { fn: 'cat', args: ['hello', null, 'beautiful', 2, 'world'], want: 'hello beautiful 2 world' },
  { fn: 'indent', args: [4, 'a\nb'], want: '    a\n    b' },
  { fn: 'nindent', args: [2, 'a\nb'], want: '\n  a\n  b' },
  { fn: 'repeat', args: [3, 'ab'], want: 'ababab' },
  { fn: 'repeat', args: [-1, 'ab'], error: 'strings: negative Repeat count' },
  { fn: 'substr', args: [0, 5, 'hello world'], want: 'hello' },
  { fn: 'substr', args: [6, -1, 'hello world'], want: 'world' },
  { fn: 'substr', args: [-1, 4, 'hello'], want: 'hell' },
  { fn: 'substr', args: [3, 99, 'hello'], want: 'lo' },
  { fn: 'substr', args: [4, 2, 'hello'], error: 'runtime error: slice bounds out of range [4:2]' },
  { fn: 'substr', args: [-1, 9, 'hello'], error: 'runtime error: slice bounds out of range [:9] with length 5' },
  { fn: 'plural', args: ['one anchovy', 'many anchovies', 1], want: 'one anchovy' },
  { fn: 'plural', args: ['one anchovy', 'many anchovies', 2], want: 'many anchovies' },
  { fn: 'wrap', args: [5, 'hello world foo'], want: 'hello\nworld\nfoo' },
  { fn: 'wrap', args: [3, 'averylongword ab'], want: 'averylongword\nab' },
  { fn: 'wrapWith', args: [5, '<br>', 'hello world'], want: 'hello<br>world' },
  { fn: 'snakecase', args: ['FirstName'], want: 'first_name' },
  { fn: 'snakecase', args: ['HTTPServer'], want: 'http_server' },
  { fn: 'snakecase', args: ['NoHTTPS'], want: 'no_https' },
  { fn: 'snakecase', args: ['http2xx'], want: 'http_2xx' },
  { fn: 'snakecase', args: ['HTTP20xOK'], want: 'http_20x_ok' },
  { fn: 'snakecase', args: ['Bld4Floor3rd'], want: 'bld4_floor_3rd' },
  { fn: 'snakecase', args: ['  sentence case  '], want: '__sentence_case__' },
  { fn: 'snakecase', args: ['混合ABCWords与123数字456'], want: '混合_abc_words_与123_数字456' },
  { fn: 'kebabcase', args: ['FROM CamelCase to snake/kebab-case'], want: 'from-camel-case-to-snake/kebab-case' },
  { fn: 'camelcase', args: ['http_server'], want: 'HttpServer' },
  { fn: 'camelcase', args: ['_complex__case_'], want: '_Complex_Case_' },
  { fn: 'camelcase', args: [' complex -case '], want: ' Complex Case ' },
  { fn: 'seq', args: [5], want: '1 2 3 4 5' },
  { fn: 'seq', args: [3, 1], want: '3 2 1' },
  { fn: 'seq', args: [0, 2, 10], want: '0 2 4 6 8 10' },
  { fn: 'seq', args: [-3], want: '1 0 -1 -2 -3' },
  { fn: 'upper', args: [undefined], error: 'invalid value; expected string', argError: true },
  { fn: 'upper', args: [{ a: 1 }], error: 'wrong type for value; expected string; got map[string]interface {}', argError: true },
]);

table('Sprig: encoding, hashing, random', [
  { fn: 'b64enc', args: ['hello'], want: 'aGVsbG8=' },
  { fn: 'b64enc', args: ['中文'], want: '5Lit5paH' },
  { fn: 'b64dec', args: ['aGVsbG8='], want: 'hello' },
  { fn: 'b64dec', args: ['aGVs\nbG8='], want: 'hello' },
  { fn: 'b64dec', args: ['aGVsbG8'], want: 'illegal base64 data at input byte 4' },
  { fn: 'b64dec', args: ['aGV$bG8='], want: 'illegal base64 data at input byte 3' },
  { fn: 'b64dec', args: ['aGVsbG8=x'], want: 'illegal base64 data at input byte 8' },
  { fn: 'sha1sum', args: ['hello'], want: 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d' },
  { fn: 'sha256sum', args: ['hello'], want: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' },
  { fn: 'uuidv4', args: [], match: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/ },
  { fn: 'randAlphaNum', args: [12], match: /^[A-Za-z0-9]{12}$/ },
  { fn: 'randAlphaNum', args: [0], want: '' },
  { fn: 'randNumeric', args: [4], match: /^\d{4}$/ },
]);

table('Sprig: regular expressions (RE2)', [
  { fn: 'regexMatch', args: ['^[a-z]+\\[[0-9]+\\]$', 'adam[23]'], want: true },
  { fn: 'regexMatch', args: ['(?i)^hello$', 'HeLLo'], want: true },
  { fn: 'regexMatch', args: ['^\\s$', '\v'], want: false },
  { fn: 'regexMatch', args: ['^a.b$', 'a\rb'], want: true },
  { fn: 'regexMatch', args: ['^a.b$', 'a\nb'], want: false },
  { fn: 'regexMatch', args: ['(?s)^a.b$', 'a\nb'], want: true },
  { fn: 'regexMatch', args: ['a$', 'a\n'], want: false },
  { fn: 'regexMatch', args: ['^\\Qa.b\\E$', 'axb'], want: false },
  { fn: 'regexMatch', args: ['^\\Qa.b\\E$', 'a.b'], want: true },
  { fn: 'regexMatch', args: ['(', 'x'], want: false },
  { fn: 'regexFind', args: ['[a-zA-Z][1-9]', 'abcd1234'], want: 'd1' },
  { fn: 'regexFind', args: ['x+', 'abc'], want: '' },
  { fn: 'regexFindAll', args: ['[2,4,6,8]', '123456789', -1], want: ['2', '4', '6', '8'] },
  { fn: 'regexFindAll', args: ['[2,4,6,8]', '123456789', 2], want: ['2', '4'] },
  { fn: 'regexFindAll', args: ['a*', 'baaac', -1], want: ['', 'aaa', ''] },
  { fn: 'regexFindAll', args: ['(?m)^\\w+$', 'ab\ncd', -1], want: ['ab', 'cd'] },
  { fn: 'regexFindAll', args: ['\\p{Han}+', 'abc中文def', -1], want: ['中文'] },
  { fn: 'regexFindAll', args: ['[[:alpha:]]+', 'ab12cd', -1], want: ['ab', 'cd'] },
  { fn: 'regexFindAll', args: ['\\x{1F600}|\\x41', 'A😀', -1], want: ['A', '😀'] },
  { fn: 'regexReplaceAll', args: ['a(x*)b', '-ab-axxb-', '${1}W'], want: '-W-xxW-' },
  { fn: 'regexReplaceAll', args: ['a(x*)b', '-ab-axxb-', '$1W'], want: '---' },
  { fn: 'regexReplaceAll', args: ['a(x*)b', '-ab-axxb-', '$$1'], want: '-$1-$1-' },
  { fn: 'regexReplaceAll', args: ['(?P<first>\\w+) (?P<last>\\w+)', 'John Smith', '${last}, ${first}'], want: 'Smith, John' },
  { fn: 'regexReplaceAll', args: ['(?<y>\\d{4})-(\\d\\d)', '2024-05', '$2/$y'], want: '05/2024' },
  { fn: 'regexReplaceAll', args: ['a*', 'baaac', 'X'], want: 'XbXcX' },
  { fn: 'regexReplaceAll', args: ['', 'ab', '-'], want: '-a-b-' },
  { fn: 'regexReplaceAllLiteral', args: ['a(x*)b', '-ab-axxb-', '${1}'], want: '-${1}-${1}-' },
  { fn: 'regexQuoteMeta', args: ['1.5*[x]'], want: '1\\.5\\*\\[x\\]' },
  { fn: 'regexFind', args: ['(', 'x'], error: 'regexp: Compile(`(`): error parsing regexp: missing closing ): `(`' },
  { fn: 'regexFindAll', args: ['(?=a)', 'a', -1], error: 'regexp: Compile(`(?=a)`): error parsing regexp: invalid or unsupported Perl syntax: `(?=`' },
  { fn: 'regexReplaceAll', args: ['(a)\\1', 'aa', 'x'], error: 'regexp: Compile(`(a)\\1`): error parsing regexp: invalid escape sequence: `\\1`' },
  { fn: 'regexFind', args: ['a**', 'a'], error: 'regexp: Compile(`a**`): error parsing regexp: invalid nested repetition operator: `**`' },
  { fn: 'regexFind', args: ['*a', 'a'], error: 'regexp: Compile(`*a`): error parsing regexp: missing argument to repetition operator: `*`' },
]);

table('Sprig: math (int64 semantics)', [
  { fn: 'add', args: [1, 2, 3], want: 6 },
  { fn: 'add', args: [1.9, '2', true], want: 4 },
  { fn: 'add', args: [], want: 0 },
  { fn: 'add1', args: [5], want: 6 },
  { fn: 'sub', args: [5, 7], want: -2 },
  { fn: 'mul', args: [2, 3, 4], want: 24 },
  { fn: 'div', args: [7, 2], want: 3 },
  { fn: 'div', args: [-7, 2], want: -3 },
  { fn: 'div', args: [1, 0], error: 'runtime error: integer divide by zero' },
  { fn: 'mod', args: [7, 3], want: 1 },
  { fn: 'mod', args: [-7, 3], want: -1 },
  { fn: 'mod', args: [1, 0], error: 'runtime error: integer divide by zero' },
  { fn: 'max', args: [1, 5, 3], want: 5 },
  { fn: 'min', args: [4, '2', 3], want: 2 },
  { fn: 'floor', args: [1.5], want: 1 },
  { fn: 'floor', args: ['-1.5'], want: -2 },
  { fn: 'ceil', args: [1.2], want: 2 },
  { fn: 'round', args: [3.14159, 2], want: 3.14 },
  { fn: 'round', args: [2.5, 0], want: 3 },
  { fn: 'round', args: [-2.5, 0], want: -3 },
  { fn: 'round', args: [1.25, 1, 0.6], want: 1.2 },
]);
