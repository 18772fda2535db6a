// Go text/template's predefined functions, with Go's semantics and error wording.
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { ANY } from './define.js';
import type { Definitions } from './define.js';
import { FunctionError } from './errors.js';
import { formatV, sprint, sprintf, sprintln } from './fmt.js';
import { argString, goTypeName, isGoInt, isObject } from './kinds.js';
import type { JsonObject } from './kinds.js';
import { isTrue } from './print.js';
import { byteAt, byteLength, byteSlice, compareStrings } from '../utf8.js';

/** Go's `%v` of a value inside an error message (maps as `map[k:v]`, slices as `[a b]`). */
function goV(v: TemplateValue): string {
  if (Array.isArray(v)) return '[' + v.map(goV).join(' ') + ']';
  if (isObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return 'map[' + keys.map((k) => k + ':' + goV(v[k])).join(' ') + ']';
  }
  return formatV(v);
}

const BOOL = 1;
const NUMBER = 2;
const STRING = 3;
const INVALID = 0;

function basicKind(v: TemplateValue): number {
  switch (typeof v) {
    case 'boolean':
      return BOOL;
    case 'number':
      return NUMBER;
    case 'string':
      return STRING;
    default:
      return v instanceof GoDuration ? NUMBER : INVALID;
  }
}

function numberOf(v: TemplateValue): number {
  return v instanceof GoDuration ? v.nanoseconds : (v as number);
}

function isNil(v: TemplateValue): boolean {
  return v === undefined || v === null;
}

function goKind(v: TemplateValue): string {
  if (Array.isArray(v)) return 'slice';
  if (v instanceof GoTime) return 'struct';
  return 'map';
}

function eqOne(a: TemplateValue, b: TemplateValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if (isNil(a) || isNil(b)) return false;
    throw new FunctionError(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  }
  switch (k1) {
    case NUMBER:
      return numberOf(a) === numberOf(b);
    case BOOL:
    case STRING:
      return a === b;
    default:
      if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
      if (goKind(a) !== goKind(b)) {
        throw new FunctionError(`non-comparable types ${goV(a)}: ${goTypeName(a)}, ${goTypeName(b)}: ${goV(b)}`);
      }
      if (a instanceof GoTime && b instanceof GoTime) return a.epochMs === b.epochMs && a.nanos === b.nanos && a.zone === b.zone;
      throw new FunctionError(`non-comparable type ${goV(b)}: ${goTypeName(b)}`);
  }
}

/** Go's `eq`: arg1 == arg2 || arg1 == arg3 ... (numbers compare by value whatever their Go int/float type). */
function eq(...args: TemplateValue[]): boolean {
  if (args.length < 2) throw new FunctionError('missing argument for comparison');
  const first = args[0];
  for (let i = 1; i < args.length; i++) if (eqOne(first, args[i])) return true;
  return false;
}

function lt(a: TemplateValue, b: TemplateValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === INVALID || k2 === INVALID) throw new FunctionError('invalid type for comparison');
  if (k1 !== k2) throw new FunctionError(`incompatible types for comparison: ${goTypeName(a)} and ${goTypeName(b)}`);
  switch (k1) {
    case NUMBER:
      return numberOf(a) < numberOf(b);
    case STRING:
      return compareStrings(a as string, b as string) < 0;
    default:
      throw new FunctionError('invalid type for comparison');
  }
}

function le(a: TemplateValue, b: TemplateValue): boolean {
  return lt(a, b) || eqOne(a, b);
}

function length(v: TemplateValue): number {
  if (typeof v === 'string') return byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v === undefined || v === null) return 0;
  if (isObject(v)) {
    let n = 0;
    for (const _ in v) n++;
    return n;
  }
  throw new FunctionError(`len of type ${goTypeName(v)}`);
}

function indexArg(index: TemplateValue, cap: number): number {
  let x: number;
  if (typeof index === 'number' && isGoInt(index)) x = index;
  else if (index instanceof GoDuration) x = index.nanoseconds;
  else if (isNil(index)) throw new FunctionError('cannot index slice/array with nil');
  else throw new FunctionError(`cannot index slice/array with type ${goTypeName(index)}`);
  if (x < 0 || x > cap) throw new FunctionError(`index out of range: ${x}`);
  return x;
}

function index(item: TemplateValue, ...keys: TemplateValue[]): TemplateValue {
  if (isNil(item)) throw new FunctionError('index of untyped nil');
  let cur = item;
  for (const key of keys) {
    if (isNil(cur)) throw new FunctionError('index of nil pointer');
    if (typeof cur === 'string') {
      const n = byteLength(cur);
      const x = indexArg(key, n);
      if (x === n) throw new FunctionError('reflect: string index out of range');
      cur = byteAt(cur, x);
    } else if (Array.isArray(cur)) {
      const x = indexArg(key, cur.length);
      if (x === cur.length) throw new FunctionError('reflect: slice index out of range');
      cur = cur[x];
    } else if (isObject(cur)) {
      if (typeof key !== 'string') {
        if (isNil(key)) throw new FunctionError('value is nil; should be of type string');
        throw new FunctionError(`value has type ${goTypeName(key)}; should be string`);
      }
      cur = Object.hasOwn(cur, key) ? (cur as JsonObject)[key] : undefined;
    } else {
      throw new FunctionError(`can't index item of type ${goTypeName(cur)}`);
    }
  }
  return cur;
}

function slice(item: TemplateValue, ...indexes: TemplateValue[]): TemplateValue {
  if (isNil(item)) throw new FunctionError('slice of untyped nil');
  if (indexes.length > 3) throw new FunctionError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new FunctionError('cannot 3-index slice a string');
    len = byteLength(item);
  } else if (Array.isArray(item)) {
    len = item.length;
  } else {
    throw new FunctionError(`can't slice item of type ${goTypeName(item)}`);
  }
  const idx = [0, len, 0];
  for (let i = 0; i < indexes.length; i++) idx[i] = indexArg(indexes[i], len);
  const [i0 = 0, i1 = len, i2 = 0] = idx;
  if (i0 > i1) throw new FunctionError(`invalid slice index: ${i0} > ${i1}`);
  if (indexes.length === 3 && i1 > i2) throw new FunctionError(`invalid slice index: ${i1} > ${i2}`);
  return typeof item === 'string' ? byteSlice(item, i0, i1) : item.slice(i0, i1);
}

/** The text/template `evalArgs`: a lone string as is, else Sprint (nil printing as empty, like gjson_template). */
function evalArgs(args: TemplateValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  const operands: TemplateValue[] = [];
  for (const a of args) operands.push(a === undefined || a === null ? '' : a);
  return sprint(operands);
}

const HTML_SPECIAL = /["'&<>\0]/g;
const HTML_ESCAPES: Readonly<Record<string, string>> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' };

/** Go's `template.HTMLEscapeString`. */
export function htmlEscape(s: string): string {
  return s.replace(HTML_SPECIAL, htmlEntity);
}

function htmlEntity(c: string): string {
  return HTML_ESCAPES[c] ?? c;
}

const JS_SPECIAL = /[^ !#-%(-;?-[\]-~\u007f]/gu;
const JS_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `template.JSEscapeString`. */
export function jsEscape(s: string): string {
  return s.replace(JS_SPECIAL, jsEscapeChar);
}

function jsEscapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case "'":
      return "\\'";
    case '"':
      return '\\"';
    case '<':
      return '\\u003C';
    case '>':
      return '\\u003E';
    case '&':
      return '\\u0026';
    case '=':
      return '\\u003D';
    default: {
      const cp = c.codePointAt(0) ?? 0;
      if (cp < 0x20) return '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
      if (JS_PRINTABLE.test(c)) return c;
      if (cp >= 0xd800 && cp < 0xe000) return '\\uFFFD';
      return '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    }
  }
}

function percentEncode(c: string): string {
  return '%' + c.charCodeAt(0).toString(16).toUpperCase();
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const QUERY_EXTRA = /[!'()*]/g;

/** Go's `url.QueryEscape`: unreserved characters stay, space becomes '+', the rest %XX. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s.replace(LONE_SURROGATE, '\uFFFD'))
    .replace(QUERY_EXTRA, percentEncode)
    .replace(/%20/g, '+');
}

function call(fn: TemplateValue): never {
  if (isNil(fn)) throw new FunctionError('call of nil');
  throw new FunctionError(`non-function of type ${goTypeName(fn)}`);
}

/** Go's builtins. */
export const BUILTINS: Definitions = {
  and: [
    1,
    ANY,
    (...args) => {
      for (const a of args) if (!isTrue(a)) return a;
      return args[args.length - 1];
    },
  ],
  or: [
    1,
    ANY,
    (...args) => {
      for (const a of args) if (isTrue(a)) return a;
      return args[args.length - 1];
    },
  ],
  not: [1, 1, (v) => !isTrue(v)],
  len: [1, 1, length],
  index: [1, ANY, index],
  slice: [1, ANY, slice],
  print: [0, ANY, (...args) => sprint(args)],
  printf: [1, ANY, (format, ...args) => sprintf(argString(format), args)],
  println: [0, ANY, (...args) => sprintln(args)],
  html: [0, ANY, (...args) => htmlEscape(evalArgs(args))],
  js: [0, ANY, (...args) => jsEscape(evalArgs(args))],
  urlquery: [0, ANY, (...args) => queryEscape(evalArgs(args))],
  eq: [1, ANY, eq],
  ne: [2, 2, (a, b) => !eq(a, b)],
  lt: [2, 2, lt],
  le: [2, 2, le],
  gt: [2, 2, (a, b) => !le(a, b)],
  ge: [2, 2, (a, b) => !lt(a, b)],
  call: [1, ANY, call],
};
