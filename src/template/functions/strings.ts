// Sprig's string, conversion, default, JSON, encoding, hashing, regex and math functions.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { TemplateValue } from '../values.js';
import { ANY } from './define.js';
import type { Definition, Definitions } from './define.js';
import { FunctionError } from './errors.js';
import { formatV, quoteString } from './fmt.js';
import { argBool, argInt, argString, isEmpty, toFloat64, toInt64 } from './kinds.js';
import { goJson } from './print.js';
import { compileRegexp, quoteMeta, regexpFindAll, regexpMatch, regexpReplaceAll, RegexpError } from './regex.js';
import { byteLength, byteSlice, isAscii } from '../utf8.js';

// ---------------------------------------------------------------------------------
// Case mapping with Go's per-rune (simple) mappings.

const SIMPLE_LOWER: Readonly<Record<number, string>> = { 0x130: 'i' };
const TITLE_CASE: Readonly<Record<number, string>> = {
  0x1c4: '\u01c5',
  0x1c5: '\u01c5',
  0x1c6: '\u01c5',
  0x1c7: '\u01c8',
  0x1c8: '\u01c8',
  0x1c9: '\u01c8',
  0x1ca: '\u01cb',
  0x1cb: '\u01cb',
  0x1cc: '\u01cb',
  0x1f1: '\u01f2',
  0x1f2: '\u01f2',
  0x1f3: '\u01f2',
};

function mapRune(ch: string, upper: boolean): string {
  const mapped = upper ? ch.toUpperCase() : ch.toLowerCase();
  if (mapped.length === ch.length || [...mapped].length === 1) return mapped;
  return (upper ? undefined : SIMPLE_LOWER[ch.codePointAt(0) ?? 0]) ?? ch;
}

function toUpper(s: string): string {
  if (isAscii(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) out += mapRune(ch, true);
  return out;
}

function toLower(s: string): string {
  if (isAscii(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += mapRune(ch, false);
  return out;
}

function toTitleRune(ch: string): string {
  return TITLE_CASE[ch.codePointAt(0) ?? 0] ?? mapRune(ch, true);
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
const GO_SPACE_CHARS = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

function isSeparator(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (LETTER_OR_DIGIT.test(ch)) return false;
  return GO_SPACE_CHARS.includes(ch);
}

/** Go's deprecated `strings.Title`: upper-cases the first letter of each word. */
function title(s: string): string {
  let out = '';
  let prev = ' ';
  for (const ch of s) {
    out += isSeparator(prev) ? toTitleRune(ch) : ch;
    prev = ch;
  }
  return out;
}

function untitle(s: string): string {
  const first = s.codePointAt(0);
  if (first === undefined) return s;
  const ch = String.fromCodePoint(first);
  return mapRune(ch, false) + s.slice(ch.length);
}

const LEADING_SPACE = new RegExp(`^[${GO_SPACE_CHARS}]+`);
const ALL_SPACE = new RegExp(`[${GO_SPACE_CHARS}]+`, 'g');
const TRAILING_SPACE = new RegExp(`[${GO_SPACE_CHARS}]+$`);

/** Go's `strings.TrimSpace` (Unicode White_Space, not JavaScript's set). */
function trimSpace(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/** Go's `strings.Trim(s, cutset)`. */
function trimCutset(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s;
  const set = new Set(cutset);
  const chars = [...s];
  let start = 0;
  let end = chars.length;
  while (start < end && set.has(chars[start]!)) start++;
  while (end > start && set.has(chars[end - 1]!)) end--;
  return chars.slice(start, end).join('');
}

/** Go's `strings.Replace(s, old, new, -1)`. */
function replaceAll(s: string, old: string, replacement: string): string {
  if (old === replacement) return s;
  if (old === '') return replacement + [...s].join(replacement) + (s === '' ? '' : replacement);
  return s.split(old).join(replacement);
}

/** Go's `strings.Split`. */
function splitGo(s: string, sep: string): string[] {
  if (sep === '') return [...s];
  return s.split(sep);
}

/** Go's `strings.SplitN`. */
function splitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  if (n < 0) return splitGo(s, sep);
  const parts = splitGo(s, sep);
  if (parts.length <= n) return parts;
  if (sep === '') return [...parts.slice(0, n - 1), parts.slice(n - 1).join('')];
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function toIndexedMap(parts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) out['_' + i] = parts[i]!;
  return out;
}

function repeatGo(s: string, count: number): string {
  if (count < 0) throw new FunctionError('strings: negative Repeat count');
  return s.repeat(count);
}

function indent(spaces: number, s: string): string {
  const pad = repeatGo(' ', spaces);
  return pad + s.replaceAll('\n', '\n' + pad);
}

function trunc(c: number, s: string): string {
  const len = byteLength(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c, len);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function abbrev(width: number, s: string): string {
  if (width < 4 || s === '') return s;
  const len = byteLength(s);
  if (len <= width) return s;
  return byteSlice(s, 0, width - 3) + '...';
}

function boundsError(detail: string): FunctionError {
  return new FunctionError(`runtime error: slice bounds out of range ${detail}`);
}

/** Sprig's `substr`, with Go's slice bounds (byte offsets, runtime panics on bad bounds). */
function substr(start: number, end: number, s: string): string {
  const len = byteLength(s);
  if (start < 0) {
    if (end < 0 || end > len) throw boundsError(end < 0 ? `[:${end}]` : `[:${end}] with length ${len}`);
    return byteSlice(s, 0, end);
  }
  if (end < 0 || end > len) {
    if (start > len) throw boundsError(`[${start}:${len}]`);
    return byteSlice(s, start, len);
  }
  if (start > end) throw boundsError(`[${start}:${end}]`);
  return byteSlice(s, start, end);
}

/** goutils `WrapCustom` on UTF-8 bytes (long words are not broken unless asked). */
function wrap(s: string, width: number, newline = '\n', wrapLong = false): string {
  if (s === '') return '';
  if (newline === '') newline = '\n';
  if (width < 1) width = 1;
  const b = Buffer.from(s, 'utf8');
  const text = (from: number, to: number): string => b.subarray(from, to).toString('utf8');
  const len = b.length;
  let offset = 0;
  let out = '';
  while (len - offset > width) {
    if (b[offset] === 0x20) {
      offset++;
      continue;
    }
    const end = Math.min(width + offset + 1, len);
    const space = b.subarray(offset, end).lastIndexOf(0x20);
    if (space >= 0) {
      out += text(offset, offset + space) + newline;
      offset += space + 1;
    } else if (wrapLong) {
      out += text(offset, offset + width) + newline;
      offset += width;
    } else {
      const next = b.indexOf(0x20, width + offset);
      if (next < 0) {
        out += text(offset, len);
        offset = len;
      } else {
        out += text(offset, next) + newline;
        offset = next + 1;
      }
    }
  }
  return out + text(offset, len);
}

// ---------------------------------------------------------------------------------
// snakecase / kebabcase / camelcase (huandu/xstrings semantics)

const IS_UPPER = /^\p{Lu}$/u;
const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_PUNCT = /^\p{P}$/u;

function isConnector(ch: string): boolean {
  return ch === '-' || ch === '_' || GO_SPACE_CHARS.includes(ch);
}

function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fcc) || (cp >= 0x3400 && cp <= 0x4d85) || (cp >= 0x20000 && cp <= 0x2b81d);
}

function isAlphabet(ch: string): boolean {
  return IS_LETTER.test(ch) && !isCjk(ch.codePointAt(0) ?? 0);
}

const W_INVALID = 0;
const W_NUMBER = 1;
const W_UPPER = 2;
const W_ALPHABET = 3;
const W_CONNECTOR = 4;
const W_PUNCT = 5;
const W_OTHER = 6;

interface Word {
  type: number;
  text: string;
}

function nextWord(runes: readonly string[], from: number): [Word, number] {
  if (from >= runes.length) return [{ type: W_INVALID, text: '' }, from];
  let i = from;
  const r = runes[i]!;
  i++;
  let type: number;
  const run = (keep: (ch: string) => boolean): void => {
    while (i < runes.length && keep(runes[i]!)) i++;
  };
  if (isConnector(r)) {
    type = W_CONNECTOR;
    run(isConnector);
  } else if (IS_PUNCT.test(r)) {
    type = W_PUNCT;
    run((ch) => IS_PUNCT.test(ch));
  } else if (IS_UPPER.test(r)) {
    type = W_UPPER;
    if (i < runes.length) {
      const next = runes[i]!;
      if (IS_UPPER.test(next)) {
        const start = i;
        run((ch) => IS_UPPER.test(ch));
        if (i < runes.length && isAlphabet(runes[i]!) && i - 1 >= start) i--;
      } else if (isAlphabet(next)) {
        run((ch) => isAlphabet(ch) && !IS_UPPER.test(ch));
      }
    }
  } else if (isAlphabet(r)) {
    type = W_ALPHABET;
    run((ch) => isAlphabet(ch) && !IS_UPPER.test(ch));
  } else if (IS_NUMBER.test(r)) {
    type = W_NUMBER;
    run((ch) => IS_NUMBER.test(ch));
  } else {
    type = W_OTHER;
    run((ch) => !(isConnector(ch) || isAlphabet(ch) || IS_NUMBER.test(ch) || IS_PUNCT.test(ch)));
  }
  return [{ type, text: runes.slice(from, i).join('') }, i];
}

function lowerWord(w: Word, connector: string): string {
  if (w.type !== W_UPPER && w.type !== W_CONNECTOR) return w.text;
  let out = '';
  for (const ch of w.text) out += isConnector(ch) ? connector : IS_UPPER.test(ch) ? toLower(ch) : ch;
  return out;
}

/** xstrings' camelCaseToLowerCase (snake_case / kebab-case). */
function toDelimited(s: string, connector: string): string {
  if (s === '') return '';
  const runes = [...s];
  let out = '';
  let [w, pos] = nextWord(runes, 0);
  while (pos < runes.length) {
    if (w.type !== W_CONNECTOR) out += lowerWord(w, connector);
    const prev = w;
    [w, pos] = nextWord(runes, pos);
    switch (prev.type) {
      case W_NUMBER:
        while (w.type === W_ALPHABET || w.type === W_NUMBER) {
          out += lowerWord(w, connector);
          [w, pos] = nextWord(runes, pos);
        }
        if (w.type !== W_INVALID && w.type !== W_PUNCT && w.type !== W_CONNECTOR) out += connector;
        break;
      case W_CONNECTOR:
        out += lowerWord(prev, connector);
        break;
      case W_PUNCT:
        break;
      default: {
        if (w.type !== W_NUMBER) {
          if (w.type !== W_CONNECTOR && w.type !== W_PUNCT) out += connector;
          break;
        }
        if (pos >= runes.length) break;
        const last = w;
        [w, pos] = nextWord(runes, pos);
        if (w.type !== W_ALPHABET) {
          out += lowerWord(last, connector);
          if (w.type !== W_CONNECTOR && w.type !== W_PUNCT) out += connector;
          break;
        }
        out += connector + lowerWord(last, connector);
        while (w.type === W_ALPHABET || w.type === W_NUMBER) {
          out += lowerWord(w, connector);
          [w, pos] = nextWord(runes, pos);
        }
        if (w.type !== W_INVALID && w.type !== W_CONNECTOR && w.type !== W_PUNCT) out += connector;
      }
    }
  }
  return out + lowerWord(w, connector);
}

/** xstrings' ToPascalCase as Sprig's `camelcase` uses it: "http_server" → "HttpServer". */
function camelcase(s: string): string {
  const runes = [...s];
  let out = '';
  let i = 0;
  let r0 = '';
  for (; i < runes.length; i++) {
    r0 = runes[i]!;
    if (!isConnector(r0)) {
      r0 = mapRune(r0, true);
      i++;
      break;
    }
    out += r0;
    r0 = '';
  }
  if (i >= runes.length) return out + r0;
  for (; i < runes.length; i++) {
    const r1 = r0;
    r0 = runes[i]!;
    if (isConnector(r0) && isConnector(r1)) {
      out += r1;
      continue;
    }
    if (isConnector(r1)) r0 = mapRune(r0, true);
    else out += r1;
  }
  return out + r0;
}

// ---------------------------------------------------------------------------------
// Encoding

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c.charCodeAt(0), i]));

/** Go's `base64.StdEncoding.DecodeString`; on failure Sprig returns the error text instead. */
function base64Decode(s: string): string {
  const src = Buffer.from(s, 'latin1');
  const out: number[] = [];
  let si = 0;
  const corrupt = (n: number): string => `illegal base64 data at input byte ${n}`;
  while (si < src.length) {
    const quantum: number[] = [];
    let dlen = 4;
    let j = 0;
    let trailing: string | undefined;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out).toString('utf8');
        return corrupt(si - j);
      }
      const c = src[si]!;
      si++;
      const v = B64_INDEX.get(c);
      if (v !== undefined) {
        quantum.push(v);
        continue;
      }
      if (c === 0x0a || c === 0x0d) {
        j--;
        continue;
      }
      if (c !== 0x3d) return corrupt(si - 1);
      if (j === 0 || j === 1) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) trailing = corrupt(si);
      dlen = j;
      break;
    }
    while (quantum.length < 4) quantum.push(0);
    const val = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    out.push(...bytes.slice(0, dlen - 1));
    if (trailing !== undefined) return trailing;
    if (dlen < 4) break;
  }
  return Buffer.from(out).toString('utf8');
}

function hashHex(algorithm: string, s: string): string {
  return createHash(algorithm).update(s, 'utf8').digest('hex');
}

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const NUMERIC = '0123456789';
const ASCII_PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('') + ' ';

function randomString(alphabet: string, count: number): string {
  if (count <= 0) return '';
  let out = '';
  for (let i = 0; i < count; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

// ---------------------------------------------------------------------------------
// Regex wrappers: Sprig's Must-compile functions panic, which text/template reports.

function mustCompile(pattern: string): ReturnType<typeof compileRegexp> {
  try {
    return compileRegexp(pattern);
  } catch (e) {
    if (e instanceof RegexpError) throw new FunctionError(e.message);
    throw e;
  }
}

function regexMatch(pattern: TemplateValue, s: TemplateValue): boolean {
  const p = argString(pattern);
  const str = argString(s);
  try {
    return regexpMatch(compileRegexp(p), str);
  } catch (e) {
    if (e instanceof RegexpError) return false;
    throw e;
  }
}

// ---------------------------------------------------------------------------------
// Lists of strings

/** Sprig's `strslice`: a list's non-nil elements as strings; a scalar as a one-element list. */
export function toStringList(v: TemplateValue): string[] {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v) if (x !== undefined && x !== null) out.push(formatV(x));
    return out;
  }
  if (v === undefined || v === null) return [];
  return [formatV(v)];
}

/** Sprig's quote / squote / cat: non-nil values, quoted Go-style ('"'), in single quotes ("'") or bare, space-separated. */
function joinNonNil(values: readonly TemplateValue[], quote: string): string {
  let out = '';
  let first = true;
  for (const x of values) {
    if (x === undefined || x === null) continue;
    if (!first) out += ' ';
    first = false;
    const s = formatV(x);
    out += quote === '"' ? quoteString(s) : quote + s + quote;
  }
  return out;
}

/** Sprig's `untilStep`: from `start` towards `stop` (excluded) by `step`; empty when the step leads away. */
export function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function seq(...params: number[]): string {
  let list: number[];
  switch (params.length) {
    case 1: {
      const end = params[0]!;
      const inc = end < 1 ? -1 : 1;
      list = untilStep(1, end + inc, inc);
      break;
    }
    case 2: {
      const [start = 0, end = 0] = params;
      const step = end < start ? -1 : 1;
      list = untilStep(start, end + step, step);
      break;
    }
    case 3: {
      const [start = 0, step = 0, end = 0] = params;
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return '';
      }
      list = untilStep(start, end + inc, step);
      break;
    }
    default:
      return '';
  }
  return list.join(' ');
}

// ---------------------------------------------------------------------------------
// Math (Sprig converts every operand with cast.ToInt64 and returns int64)

function intDiv(a: number, b: number): number {
  if (b === 0) throw new FunctionError('runtime error: integer divide by zero');
  return Math.trunc(a / b);
}

function intMod(a: number, b: number): number {
  if (b === 0) throw new FunctionError('runtime error: integer divide by zero');
  return a % b || 0;
}

function round(a: TemplateValue, places: TemplateValue, roundOn: TemplateValue = 0.5): number {
  const p = argInt(places);
  const on = toFloat64(roundOn);
  const pow = 10 ** p;
  const digit = pow * toFloat64(a);
  const frac = digit - Math.trunc(digit);
  return (frac >= on ? Math.ceil(digit) : Math.floor(digit)) / pow;
}

function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) return 0;
  const n = BigInt(s);
  const max = 2n ** 63n - 1n;
  if (n > max) return Number(max);
  if (n < -max - 1n) return Number(-max - 1n);
  return Number(n);
}

/** Sprig's string, conversion and math functions. */
export const STRING_FUNCTIONS: Definitions = {
  // Defaults and JSON
  default: [1, ANY, (d, ...given) => (given.length === 0 || isEmpty(given[0]) ? d : given[0])],
  empty: [1, 1, isEmpty],
  coalesce: [
    0,
    ANY,
    (...v) => {
      for (const x of v) if (!isEmpty(x)) return x;
      return undefined;
    },
  ],
  all: [0, ANY, (...v) => v.every((x) => !isEmpty(x))],
  any: [0, ANY, (...v) => v.some((x) => !isEmpty(x))],
  ternary: [3, 3, (vt, vf, v) => (argBool(v) ? vt : vf)],
  fromJson: [
    1,
    1,
    (s) => {
      try {
        return JSON.parse(argString(s)) as TemplateValue;
      } catch (e) {
        if (e instanceof SyntaxError) return undefined;
        throw e;
      }
    },
  ],
  toJson: [1, 1, (v) => goJson(v, true)],
  toPrettyJson: [1, 1, (v) => goJson(v, true, '  ')],
  toRawJson: [1, 1, (v) => goJson(v, false)],

  // Conversions
  toString: [1, 1, formatV] as Definition,
  toStrings: [1, 1, toStringList],
  atoi: [1, 1, (s) => atoi(argString(s))],
  int: [1, 1, toInt64],
  int64: [1, 1, toInt64],
  float64: [1, 1, toFloat64],

  // Encoding and hashing
  b64enc: [1, 1, (s) => Buffer.from(argString(s), 'utf8').toString('base64')],
  b64dec: [1, 1, (s) => base64Decode(argString(s))],
  sha1sum: [1, 1, (s) => hashHex('sha1', argString(s))],
  sha256sum: [1, 1, (s) => hashHex('sha256', argString(s))],
  sha512sum: [1, 1, (s) => hashHex('sha512', argString(s))],
  uuidv4: [0, 0, () => randomUUID()],
  randAlphaNum: [1, 1, (n) => randomString(ALPHA + NUMERIC, argInt(n))],
  randAlpha: [1, 1, (n) => randomString(ALPHA, argInt(n))],
  randNumeric: [1, 1, (n) => randomString(NUMERIC, argInt(n))],
  randAscii: [1, 1, (n) => randomString(ASCII_PRINTABLE, argInt(n))],

  // Strings
  upper: [1, 1, (s) => toUpper(argString(s))],
  lower: [1, 1, (s) => toLower(argString(s))],
  title: [1, 1, (s) => title(argString(s))],
  untitle: [1, 1, (s) => untitle(argString(s))],
  trim: [1, 1, (s) => trimSpace(argString(s))],
  trimAll: [2, 2, (cutset, s) => trimCutset(argString(s), argString(cutset))],
  trimall: [2, 2, (cutset, s) => trimCutset(argString(s), argString(cutset))],
  trimPrefix: [2, 2, (p, s) => (argString(s).startsWith(argString(p)) ? (s as string).slice((p as string).length) : (s as string))],
  trimSuffix: [2, 2, (p, s) => (argString(s).endsWith(argString(p)) && (p as string) !== '' ? (s as string).slice(0, -(p as string).length) : (s as string))],
  nospace: [1, 1, (s) => argString(s).replace(ALL_SPACE, '')],
  trunc: [2, 2, (c, s) => trunc(argInt(c), argString(s))],
  abbrev: [2, 2, (w, s) => abbrev(argInt(w), argString(s))],
  replace: [3, 3, (o, n, s) => replaceAll(argString(s), argString(o), argString(n))],
  contains: [2, 2, (sub, s) => argString(s).includes(argString(sub))],
  hasPrefix: [2, 2, (p, s) => argString(s).startsWith(argString(p))],
  hasSuffix: [2, 2, (p, s) => argString(s).endsWith(argString(p))],
  split: [2, 2, (sep, s) => toIndexedMap(splitGo(argString(s), argString(sep)))],
  splitn: [3, 3, (sep, n, s) => toIndexedMap(splitN(argString(s), argString(sep), argInt(n)))],
  splitList: [2, 2, (sep, s) => splitGo(argString(s), argString(sep))],
  join: [2, 2, (sep, v) => toStringList(v).join(argString(sep))],
  quote: [0, ANY, (...v) => joinNonNil(v, '"')],
  squote: [0, ANY, (...v) => joinNonNil(v, "'")],
  cat: [0, ANY, (...v) => joinNonNil(v, '')],
  indent: [2, 2, (n, s) => indent(argInt(n), argString(s))],
  nindent: [2, 2, (n, s) => '\n' + indent(argInt(n), argString(s))],
  repeat: [2, 2, (n, s) => repeatGo(argString(s), argInt(n))],
  substr: [3, 3, (start, end, s) => substr(argInt(start), argInt(end), argString(s))],
  plural: [3, 3, (one, many, n) => (argInt(n) === 1 ? argString(one) : argString(many))],
  wrap: [2, 2, (n, s) => wrap(argString(s), argInt(n))],
  wrapWith: [3, 3, (n, sep, s) => wrap(argString(s), argInt(n), argString(sep), true)],
  snakecase: [1, 1, (s) => toDelimited(argString(s), '_')],
  kebabcase: [1, 1, (s) => toDelimited(argString(s), '-')],
  camelcase: [1, 1, (s) => camelcase(argString(s))],
  seq: [0, ANY, (...p) => seq(...p.map(argInt))],

  // Regular expressions (Go RE2 syntax)
  regexMatch: [2, 2, regexMatch],
  regexFind: [2, 2, (p, s) => regexpFindAll(mustCompile(argString(p)), argString(s), 1)[0]?.[0] ?? ''],
  regexFindAll: [3, 3, (p, s, n) => regexpFindAll(mustCompile(argString(p)), argString(s), argInt(n)).map((m) => m[0])],
  regexReplaceAll: [3, 3, (p, s, r) => regexpReplaceAll(mustCompile(argString(p)), argString(s), argString(r))],
  regexReplaceAllLiteral: [3, 3, (p, s, r) => regexpReplaceAll(mustCompile(argString(p)), argString(s), argString(r).replaceAll('$', '$$$$'))],
  regexQuoteMeta: [1, 1, (s) => quoteMeta(argString(s))],

  // Math
  add: [
    0,
    ANY,
    (...v) => {
      let a = 0;
      for (const x of v) a += toInt64(x);
      return a;
    },
  ],
  add1: [1, 1, (v) => toInt64(v) + 1],
  sub: [2, 2, (a, b) => toInt64(a) - toInt64(b)],
  mul: [
    1,
    ANY,
    (a, ...v) => {
      let r = toInt64(a);
      for (const x of v) r *= toInt64(x);
      return r;
    },
  ],
  div: [2, 2, (a, b) => intDiv(toInt64(a), toInt64(b))],
  mod: [2, 2, (a, b) => intMod(toInt64(a), toInt64(b))],
  max: [1, ANY, (a, ...v) => v.reduce<number>((m, x) => Math.max(m, toInt64(x)), toInt64(a))],
  biggest: [1, ANY, (a, ...v) => v.reduce<number>((m, x) => Math.max(m, toInt64(x)), toInt64(a))],
  min: [1, ANY, (a, ...v) => v.reduce<number>((m, x) => Math.min(m, toInt64(x)), toInt64(a))],
  floor: [1, 1, (a) => Math.floor(toFloat64(a))],
  ceil: [1, 1, (a) => Math.ceil(toFloat64(a))],
  round: [2, ANY, round],
};
