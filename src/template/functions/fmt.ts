// Go's fmt.Sprint, Sprintln and Sprintf over template values. Values map onto Go
// types as gjson_template hands them to functions: integral numbers are `int`, other
// numbers `float64`, null and missing are nil, objects and arrays are their JSON text
// (a `string`), times are `time.Time` and durations `time.Duration` (both Stringers).
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { formatFloat } from './ftoa.js';
import { goTypeName, isGoInt } from './kinds.js';
import { jsonCompact } from './print.js';
import { durationString, timeString } from './time.js';
import { runeCount } from '../utf8.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function newFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: 0, widPresent: false, prec: 0, precPresent: false };
}

const PLAIN: Readonly<Flags> = newFlags();

/** The Go type name of a value as fmt sees it (`%T`, error forms): objects and arrays print as JSON text, so they are strings here. */
function fmtTypeName(v: TemplateValue): string {
  const t = goTypeName(v);
  return t === '[]interface {}' || t === 'map[string]interface {}' ? 'string' : t;
}

function writePadding(n: number, f: Readonly<Flags>, allowZero: boolean): string {
  if (n <= 0) return '';
  return (allowZero && f.zero && !f.minus ? '0' : ' ').repeat(n);
}

function pad(s: string, f: Readonly<Flags>, allowZero = true): string {
  if (!f.widPresent || f.wid === 0) return s;
  const fill = writePadding(f.wid - runeCount(s), f, allowZero);
  return f.minus ? s + fill : fill + s;
}

// ---------------------------------------------------------------------------------
// strconv.Quote

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `strconv.IsPrint`. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  if (cp >= 0xd800 && cp < 0xe000) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCharCode(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
    default:
      if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
      if (cp >= 0xd800 && cp < 0xe000) return asciiOnly ? '\\ufffd' : '\ufffd';
      if (cp < 0x10000) return '\\u' + hex(cp, 4);
      return '\\U' + hex(cp, 8);
  }
}

/** Go's `strconv.Quote` (or `QuoteToASCII`). */
export function quoteString(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0) ?? 0xfffd, 0x22, asciiOnly);
  return out + '"';
}

/** Go's `strconv.QuoteRune` (or `QuoteRuneToASCII`). */
function quoteRune(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || cp < 0 || (cp >= 0xd800 && cp < 0xe000)) cp = 0xfffd;
  return "'" + escapeRune(cp, 0x27, asciiOnly) + "'";
}

/** Go's `strconv.CanBackquote`. */
function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0xfeff || (cp < 0x20 && cp !== 0x09) || cp === 0x60 || cp === 0x7f) return false;
    if (cp >= 0xd800 && cp < 0xe000) return false;
  }
  return true;
}

/** Go's regexp/template `quote`: backquoted when possible, else strconv.Quote. */
export function backquoteOrQuote(s: string): string {
  return canBackquote(s) ? '`' + s + '`' : quoteString(s);
}

// ---------------------------------------------------------------------------------
// Verbs

function fmtS(s: string, f: Readonly<Flags>): string {
  if (f.precPresent) {
    let n = f.prec;
    let i = 0;
    for (const ch of s) {
      if (n-- <= 0) {
        s = s.slice(0, i);
        break;
      }
      i += ch.length;
    }
  }
  return pad(s, f, false);
}

function fmtQ(s: string, f: Readonly<Flags>): string {
  s = fmtS(s, { ...f, widPresent: false });
  const quoted = f.sharp && canBackquote(s) ? '`' + s + '`' : quoteString(s, f.plus);
  return pad(quoted, f, false);
}

function fmtSx(s: string, f: Readonly<Flags>, upper: boolean): string {
  let bytes: Uint8Array = Buffer.from(s, 'utf8');
  if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec);
  if (bytes.length === 0) return f.widPresent ? writePadding(f.wid, f, false) : '';
  const prefix = upper ? '0X' : '0x';
  let body = f.sharp ? prefix : '';
  for (let i = 0; i < bytes.length; i++) {
    if (f.space && i > 0) body += f.sharp ? ' ' + prefix : ' ';
    const h = hex(bytes[i] ?? 0, 2);
    body += upper ? h.toUpperCase() : h;
  }
  if (!f.widPresent || f.wid <= body.length) return body;
  const fill = ' '.repeat(f.wid - body.length);
  return f.minus ? body + fill : fill + body;
}

function fmtString(s: string, verb: string, f: Readonly<Flags>, arg: TemplateValue): string {
  switch (verb) {
    case 'v':
      return f.sharpV ? fmtQ(s, f) : fmtS(s, f);
    case 's':
      return fmtS(s, f);
    case 'x':
      return fmtSx(s, f, false);
    case 'X':
      return fmtSx(s, f, true);
    case 'q':
      return fmtQ(s, f);
    default:
      return badVerb(verb, arg, f);
  }
}

function fmtInteger(n: number, base: number, verb: string, f: Readonly<Flags>): string {
  const negative = n < 0;
  let digits = Number.isSafeInteger(n) ? Math.abs(n).toString(base) : (negative ? -BigInt(n) : BigInt(n)).toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  let prec = 0;
  if (f.precPresent) {
    prec = f.prec;
    if (prec === 0 && n === 0) return writePadding(f.wid, f, false);
  } else if (f.zero && !f.minus && f.widPresent) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = '0b' + digits;
    else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
    else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  if (negative) digits = '-' + digits;
  else if (f.plus) digits = '+' + digits;
  else if (f.space) digits = ' ' + digits;
  return pad(digits, f, false);
}

function toUint64(n: number): bigint {
  return BigInt.asUintN(64, BigInt(n));
}

function fmtUnicode(n: number, f: Readonly<Flags>): string {
  const u = toUint64(n);
  let prec = 4;
  if (f.precPresent && f.prec > 4) prec = f.prec;
  let out = 'U+' + u.toString(16).toUpperCase().padStart(prec, '0');
  if (f.sharp && u <= 0x10ffffn && isPrint(Number(u))) out += " '" + String.fromCodePoint(Number(u)) + "'";
  return pad(out, f, false);
}

function runeOf(n: number): string {
  const u = toUint64(n);
  if (u > 0x10ffffn || (u >= 0xd800n && u < 0xe000n)) return '\ufffd';
  return String.fromCodePoint(Number(u));
}

function fmtIntegerVerb(n: number, verb: string, f: Readonly<Flags>, arg: TemplateValue): string {
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInteger(n, 10, verb, f);
    case 'b':
      return fmtInteger(n, 2, verb, f);
    case 'o':
    case 'O':
      return fmtInteger(n, 8, verb, f);
    case 'x':
    case 'X':
      return fmtInteger(n, 16, verb, f);
    case 'c':
      return pad(runeOf(n), f);
    case 'q': {
      const u = toUint64(n);
      return pad(quoteRune(u > 0x10ffffn ? 0xfffd : Number(u), f.plus), f);
    }
    case 'U':
      return fmtUnicode(n, f);
    default:
      return badVerb(verb, arg, f);
  }
}

function hexFloat(x: number, prec: number, upper: boolean): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  const neg = x < 0 || Object.is(x, -0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  exp -= 1023;
  if (mant === 0n) exp = 0;
  // Shift so the leading 1 sits at bit 60, then 15 hex digits follow it.
  let m = mant;
  if (m !== 0n) {
    const len = m.toString(2).length;
    m <<= BigInt(60 - len + 1);
    exp -= 60 - len + 1 - 8;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(60 - 4 * prec);
    const extra = m & ((1n << shift) - 1n);
    m >>= shift;
    const half = 1n << (shift - 1n);
    if (extra > half || (extra === half && (m & 1n) === 1n)) m++;
    m <<= shift;
    if (m >> 61n !== 0n) {
      m >>= 1n;
      exp++;
    }
  }
  const lead = m === 0n ? 0n : m >> 60n;
  let frac = (m & ((1n << 60n) - 1n)).toString(16).padStart(15, '0');
  if (prec < 0) frac = frac.replace(/0+$/, '');
  else frac = frac.slice(0, prec).padEnd(prec, '0');
  let out = (neg ? '-' : '') + '0x' + lead.toString(16) + (frac === '' ? '' : '.' + frac);
  out += 'p' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  return upper ? out.toUpperCase() : out;
}

function binaryFloat(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  exp -= 1075;
  return (neg ? '-' : '') + mant.toString() + 'p' + (exp >= 0 ? '+' : '-') + Math.abs(exp);
}

function fmtFloat(x: number, verb: string, prec: number, f: Readonly<Flags>): string {
  if (f.precPresent) prec = f.prec;
  let num: string;
  switch (verb) {
    case 'b':
      num = binaryFloat(x);
      break;
    case 'x':
    case 'X':
      num = hexFloat(x, prec, verb === 'X');
      break;
    default:
      num = formatFloat(x, verb as 'e' | 'E' | 'f' | 'g' | 'G', prec);
  }
  if (num[0] !== '-' && num[0] !== '+') num = '+' + num;
  if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad(num, f, false);
  }
  if (f.sharp && verb !== 'b') {
    let digits = 0;
    if (verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec;
    let tail = '';
    let body = num;
    const e = verb === 'x' || verb === 'X' ? body.search(/[pP]/) : body.search(/[eEpP]/);
    if (e >= 0) {
      tail = body.slice(e);
      body = body.slice(0, e);
    }
    let sawNonzero = false;
    for (let i = 1; i < body.length; i++) {
      const c = body[i];
      if (c === '.') continue;
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
    if (!body.includes('.')) {
      if (body.length === 2 && body[1] === '0') digits--;
      body += '.';
    }
    if (digits > 0) body += '0'.repeat(digits);
    num = body + tail;
  }
  if (f.plus || num[0] !== '+') {
    if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
      return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(num, f);
  }
  return pad(num.slice(1), f);
}

function fmtFloatVerb(x: number, verb: string, f: Readonly<Flags>, arg: TemplateValue): string {
  switch (verb) {
    case 'v':
      return fmtFloat(x, 'g', -1, f);
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      return fmtFloat(x, verb, -1, f);
    case 'f':
    case 'e':
    case 'E':
      return fmtFloat(x, verb, 6, f);
    case 'F':
      return fmtFloat(x, 'f', 6, f);
    default:
      return badVerb(verb, arg, f);
  }
}

function badVerb(verb: string, arg: TemplateValue, f: Readonly<Flags>): string {
  let out = '%!' + verb + '(';
  if (arg === undefined || arg === null) out += '<nil>';
  else out += fmtTypeName(arg) + '=' + printArg(arg, 'v', f, true);
  return out + ')';
}

/** Verbs that format any number as float64, so `%.2f` of 10 is "10.00" rather than `%!f(int=10)`. */
const FLOAT_VERBS = new Set(['e', 'E', 'f', 'F', 'g', 'G']);

function printArg(arg: TemplateValue, verb: string, f: Readonly<Flags>, erroring = false): string {
  if (arg === undefined || arg === null) {
    return verb === 'T' || verb === 'v' ? pad('<nil>', f, false) : badVerb(verb, arg, f);
  }
  if (verb === 'T') return fmtS(fmtTypeName(arg), f);
  if (verb === 'p') return badVerb(verb, arg, f);
  switch (typeof arg) {
    case 'string':
      return fmtString(arg, verb, f, arg);
    case 'boolean':
      return verb === 't' || verb === 'v' ? pad(arg ? 'true' : 'false', f) : badVerb(verb, arg, f);
    case 'number':
      return isGoInt(arg) && !FLOAT_VERBS.has(verb) ? fmtIntegerVerb(arg, verb, f, arg) : fmtFloatVerb(arg, verb, f, arg);
    default:
      if (arg instanceof GoDuration) {
        if (!erroring && (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q')) {
          return fmtString(durationString(BigInt(Math.trunc(arg.nanoseconds))), verb, f, arg);
        }
        return fmtIntegerVerb(Math.trunc(arg.nanoseconds), verb, f, arg);
      }
      if (arg instanceof GoTime) {
        if (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q' || erroring) {
          return fmtString(timeString(arg), erroring ? 'v' : verb, f, arg);
        }
        return badVerb(verb, arg, f);
      }
      return fmtString(jsonCompact(arg), verb, f, arg);
  }
}

function isStringOperand(v: TemplateValue): boolean {
  return typeof v === 'string' || (typeof v === 'object' && v !== null && !(v instanceof GoTime) && !(v instanceof GoDuration));
}

/** One value as Go's `%v` prints it (Sprig's `toString`). */
export function formatV(v: TemplateValue): string {
  if (typeof v === 'string') return v;
  return printArg(v, 'v', PLAIN);
}

/** Go's `fmt.Sprint`: a space between operands when neither side is a string. */
export function sprint(args: readonly TemplateValue[]): string {
  let out = '';
  let prevString = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const isString = isStringOperand(arg);
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatV(arg);
    prevString = isString;
  }
  return out;
}

/** Go's `fmt.Sprintln`: operands always separated by spaces, then a newline. */
export function sprintln(args: readonly TemplateValue[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0) out += ' ';
    out += formatV(args[i]);
  }
  return out + '\n';
}

function tooLarge(n: number): boolean {
  return n > 1e6 || n < -1e6;
}

function parseNum(s: string, start: number): [number, boolean, number] {
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    if (tooLarge(num)) return [0, false, s.length];
    num = num * 10 + (c - 0x30);
    isNum = true;
  }
  return [num, isNum, i];
}

/** Mutable state of one Sprintf call. */
interface PrintfState {
  argNum: number;
  reordered: boolean;
  afterIndex: boolean;
  goodArgNum: boolean;
}

/** Parses an explicit argument index `[n]` at `i`; returns the index after it. */
function argNumber(st: PrintfState, format: string, i: number, numArgs: number): number {
  if (i >= format.length || format[i] !== '[') return i;
  st.reordered = true;
  const close = format.indexOf(']', i + 1);
  if (close < 0) {
    st.goodArgNum = false;
    return i + 1;
  }
  const [width, ok, newi] = parseNum(format, i + 1);
  if (!ok || newi !== close) {
    st.goodArgNum = false;
    return close + 1;
  }
  const index = width - 1;
  if (index >= 0 && index < numArgs) st.argNum = index;
  else st.goodArgNum = false;
  st.afterIndex = true;
  return close + 1;
}

/** Takes a `*` width or precision from the arguments. */
function intFromArg(st: PrintfState, args: readonly TemplateValue[]): [number, boolean] {
  let num = 0;
  let isInt = false;
  if (st.argNum < args.length) {
    const a = args[st.argNum];
    if (typeof a === 'number' && isGoInt(a)) {
      num = a;
      isInt = true;
    } else if (a instanceof GoDuration) {
      num = a.nanoseconds;
      isInt = true;
    }
    st.argNum++;
    if (tooLarge(num)) {
      num = 0;
      isInt = false;
    }
  }
  return [num, isInt];
}

function extra(args: readonly TemplateValue[], from: number): string {
  let out = '%!(EXTRA ';
  for (let k = from; k < args.length; k++) {
    const arg = args[k];
    if (k > from) out += ', ';
    out += arg === undefined || arg === null ? '<nil>' : fmtTypeName(arg) + '=' + printArg(arg, 'v', PLAIN);
  }
  return out + ')';
}

/** Go's `fmt.Sprintf`, with Go's in-band error forms (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`). */
export function sprintf(format: string, args: readonly TemplateValue[]): string {
  const end = format.length;
  let i = format.indexOf('%');
  if (i < 0) return args.length === 0 ? format : format + extra(args, 0);
  let out = format.slice(0, i);
  const st: PrintfState = { argNum: 0, reordered: false, afterIndex: false, goodArgNum: true };
  while (i < end) {
    st.goodArgNum = true;
    const lasti = i;
    while (i < end && format.charCodeAt(i) !== 0x25) i++;
    if (i > lasti) out += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    const f = newFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = true;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    st.afterIndex = false;
    i = argNumber(st, format, i, args.length);
    if (i < end && format[i] === '*') {
      i++;
      [f.wid, f.widPresent] = intFromArg(st, args);
      if (!f.widPresent) out += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      st.afterIndex = false;
    } else {
      [f.wid, f.widPresent, i] = parseNum(format, i);
      if (st.afterIndex && f.widPresent) st.goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (st.afterIndex) st.goodArgNum = false;
      st.afterIndex = false;
      i = argNumber(st, format, i, args.length);
      if (i < end && format[i] === '*') {
        i++;
        [f.prec, f.precPresent] = intFromArg(st, args);
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) out += '%!(BADPREC)';
        st.afterIndex = false;
      } else {
        [f.prec, f.precPresent, i] = parseNum(format, i);
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!st.afterIndex) i = argNumber(st, format, i, args.length);
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const c = format.charCodeAt(i);
    const verb = c >= 0xd800 && c < 0xdc00 ? String.fromCodePoint(format.codePointAt(i) ?? c) : format[i]!;
    i += verb.length;
    if (verb === '%') {
      out += '%';
    } else if (!st.goodArgNum) {
      out += '%!' + verb + '(BADINDEX)';
    } else if (st.argNum >= args.length) {
      out += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      out += printArg(args[st.argNum], verb, f);
      st.argNum++;
    }
  }
  if (!st.reordered && st.argNum < args.length) out += extra(args, st.argNum);
  return out;
}
