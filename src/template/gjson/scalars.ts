/**
 * Scalar helpers with Go semantics, as gjson relies on them: `strconv.ParseFloat`,
 * `strconv.ParseBool`, byte-order string comparison, gjson's lenient `Parse` of a
 * JSON text prefix and its string unescaping.
 */
import type { JsonValue } from '../values.js';

/** A path result: a JSON value, or `undefined` when nothing exists (gjson's `!Exists()`). */
export type Val = JsonValue | undefined;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;

/** Go's `strconv.ParseFloat(s, 64)` value: 0 on a syntax error, ±Inf on overflow. */
export function goParseFloat(s: string): number {
  if (DECIMAL.test(s)) return Number(s);
  const lower = s.toLowerCase();
  const unsigned = lower[0] === '+' || lower[0] === '-' ? lower.slice(1) : lower;
  if (unsigned === 'inf' || unsigned === 'infinity') return lower[0] === '-' ? -Infinity : Infinity;
  if (lower === 'nan') return NaN;
  const hex = HEX_FLOAT.exec(s);
  if (hex !== null) {
    const whole = hex[2] ?? '';
    const frac = hex[3] ?? '';
    if (whole === '' && frac === '') return 0;
    const mantissa = parseInt(whole + frac || '0', 16);
    const value = mantissa * 2 ** (Number(hex[4]) - 4 * frac.length);
    return hex[1] === '-' ? -value : value;
  }
  return 0;
}

/** Go's `strconv.ParseBool(strings.ToLower(s))`; `undefined` when it fails. */
export function goParseBoolLower(s: string): boolean | undefined {
  switch (s.toLowerCase()) {
    case '1':
    case 't':
    case 'true':
      return true;
    case '0':
    case 'f':
    case 'false':
      return false;
    default:
      return undefined;
  }
}

/** gjson's `Result.Bool()` for a value. */
export function resultBool(v: Val): boolean {
  if (v === true) return true;
  if (typeof v === 'string') return goParseBoolLower(v) ?? false;
  if (typeof v === 'number') return v !== 0;
  return false;
}

/** True when the `"` at `i` is escaped: an odd run of backslashes precedes it (not before `start`). */
export function isEscapedQuote(s: string, i: number, start: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= start && s.charCodeAt(j) === 0x5c; j--) n++;
  return n % 2 === 1;
}

function hex4(s: string): number {
  return /^[0-9a-fA-F]{4}$/.test(s) ? parseInt(s, 16) : 0;
}

function isSurrogate(r: number): boolean {
  return r >= 0xd800 && r <= 0xdfff;
}

/** gjson's `unescape`: decodes JSON escapes, stopping at a control character or a bad escape. */
export function unescapeJson(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) return out;
    if (c !== 0x5c) {
      out += s[i];
      continue;
    }
    i++;
    if (i >= s.length) return out;
    switch (s[i]) {
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '"':
        out += '"';
        break;
      case 'u': {
        if (i + 5 > s.length) return out;
        let r = hex4(s.slice(i + 1, i + 5));
        i += 5;
        if (isSurrogate(r)) {
          if (s.length - i >= 6 && s[i] === '\\' && s[i + 1] === 'u') {
            const low = hex4(s.slice(i + 2, i + 6));
            r = r < 0xdc00 && low >= 0xdc00 && low <= 0xdfff ? 0x10000 + ((r - 0xd800) << 10) + (low - 0xdc00) : 0xfffd;
            i += 6;
          } else {
            r = 0xfffd;
          }
        }
        out += String.fromCodePoint(r);
        i--;
        break;
      }
      default:
        return out;
    }
  }
  return out;
}

function leadingString(json: string): string {
  for (let i = 1; i < json.length; i++) {
    const c = json[i];
    if (c === '"') return json.slice(1, i);
    if (c === '\\') {
      for (i++; i < json.length; i++) {
        if (json[i] === '"' && !isEscapedQuote(json, i, 1)) return unescapeJson(json.slice(1, i));
      }
      return unescapeJson(json.slice(1, i));
    }
  }
  return json.slice(1);
}

function leadingNumber(json: string): number {
  for (let i = 1; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c <= 0x20 || c === 0x2c || c === 0x5d || c === 0x7d) return goParseFloat(json.slice(0, i));
  }
  return goParseFloat(json);
}

/**
 * The balanced `{…}` / `[…]` / `(…)` / `"…"` prefix of `json` (gjson's `squash`); the
 * whole input when it is unbalanced.
 */
export function squash(json: string): string {
  let i = 0;
  let depth = 0;
  if (json.length === 0) return json;
  if (json[0] !== '"') {
    i = 1;
    depth = 1;
  }
  for (; i < json.length; i++) {
    switch (json[i]) {
      case '"': {
        i++;
        const start = i;
        while (i < json.length && !(json[i] === '"' && !isEscapedQuote(json, i, start))) i++;
        if (depth === 0) return i >= json.length ? json : json.slice(0, i + 1);
        break;
      }
      case '{':
      case '[':
      case '(':
        depth++;
        break;
      case '}':
      case ']':
      case ')':
        depth--;
        if (depth === 0) return json.slice(0, i + 1);
        break;
    }
  }
  return json;
}

function parseContainer(raw: string): Val {
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    try {
      return JSON.parse(squash(raw)) as JsonValue;
    } catch {
      return undefined;
    }
  }
}

/**
 * gjson's `Parse(text)`: the first JSON value in `text`, read leniently (a number runs to
 * the next delimiter, `t…`/`f…` are booleans, `nan`/`inf` are numbers). Objects and arrays
 * must be valid JSON here (gjson would keep broken raw text around).
 */
export function parseLeadingJson(text: string): Val {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') return parseContainer(text.slice(i));
    if (text.charCodeAt(i) <= 0x20) continue;
    switch (c) {
      case '+':
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
      case 'i':
      case 'I':
      case 'N':
        return leadingNumber(text.slice(i));
      case 'n':
        return i + 1 < text.length && text[i + 1] !== 'u' ? leadingNumber(text.slice(i)) : null;
      case 't':
        return true;
      case 'f':
        return false;
      case '"':
        return leadingString(text.slice(i));
      default:
        return undefined;
    }
  }
  return undefined;
}

/** A deep copy of a JSON value (literals are shared by every evaluation of a compiled path). */
export function cloneJson<T extends Val>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((e) => cloneJson(e)) as T;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(v)) setKey(out, key, cloneJson(v[key] as JsonValue));
  return out as T;
}

/** Sets an own property, including `__proto__`, which plain assignment would treat as the prototype. */
export function setKey(obj: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** True for a JSON object (not an array, not null). */
export function isObject(v: Val): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
