// How template values map onto Go types: type names for messages, typed-parameter
// checks (what Go's reflection does before calling a function), and Sprig's casts.
import { GoDuration, GoTime } from '../values.js';
import type { JsonValue, TemplateValue } from '../values.js';
import { ArgumentError } from './errors.js';

/** A JSON object as templates see it. */
export type JsonObject = { [key: string]: JsonValue };

const INT64_LIMIT = 2 ** 63;

/** Whether a number is what Go sees as an `int` (integral and within int64). */
export function isGoInt(n: number): boolean {
  return Number.isInteger(n) && n < INT64_LIMIT && n >= -INT64_LIMIT;
}

/** Whether a value is a JSON object (not an array, time or duration). */
export function isObject(v: TemplateValue): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoTime) && !(v instanceof GoDuration);
}

/** The Go type a value has when handed to a function (`int` for integral numbers, like gjson_template). */
export function goTypeName(v: TemplateValue): string {
  switch (typeof v) {
    case 'undefined':
      return '<nil>';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return isGoInt(v) ? 'int' : 'float64';
    default:
      if (v === null) return '<nil>';
      if (Array.isArray(v)) return '[]interface {}';
      if (v instanceof GoTime) return 'time.Time';
      if (v instanceof GoDuration) return 'time.Duration';
      return 'map[string]interface {}';
  }
}

/** Go's reflect.Kind name of a value, as Sprig's list errors print it. */
export function goKindName(v: TemplateValue): string {
  if (Array.isArray(v)) return 'slice';
  if (v instanceof GoTime) return 'struct';
  if (v instanceof GoDuration) return 'int64';
  if (isObject(v)) return 'map';
  return goTypeName(v);
}

function wrongType(expected: string, v: TemplateValue): ArgumentError {
  if (v === undefined || v === null) return new ArgumentError(`invalid value; expected ${expected}`);
  return new ArgumentError(`wrong type for value; expected ${expected}; got ${goTypeName(v)}`);
}

/** A `string` parameter. */
export function argString(v: TemplateValue): string {
  if (typeof v === 'string') return v;
  throw wrongType('string', v);
}

/** An `int` parameter: an integral number (time.Duration converts, as Go's int-like types do). */
export function argInt(v: TemplateValue): number {
  if (typeof v === 'number' && isGoInt(v)) return v;
  if (v instanceof GoDuration) return v.nanoseconds;
  throw wrongType('int', v);
}

/** A `bool` parameter. */
export function argBool(v: TemplateValue): boolean {
  if (typeof v === 'boolean') return v;
  throw wrongType('bool', v);
}

/** A `map[string]interface{}` parameter; nil gives Go's nil map (`undefined`). */
export function argMap(v: TemplateValue): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  throw wrongType('map[string]interface {}', v);
}

/** A `time.Time` parameter. */
export function argTime(v: TemplateValue): GoTime {
  if (v instanceof GoTime) return v;
  throw wrongType('time.Time', v);
}

const DECIMAL_NUMBER = /^([-+]?\d*)(\.\d*)?$/;
const GO_INT_LITERAL = /^[-+]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?\d)*)$/;

/** Go's `strconv.ParseInt(s, 0, 64)`; NaN when it fails. */
export function parseGoInt(s: string): number {
  if (!GO_INT_LITERAL.test(s)) return NaN;
  let t = s.replace(/_/g, '');
  let neg = false;
  if (t[0] === '-' || t[0] === '+') {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  let big: bigint;
  if (/^0[oO]/.test(t)) big = BigInt('0o' + t.slice(2));
  else if (/^0[0-7]+$/.test(t)) big = BigInt('0o' + t.slice(1));
  else big = BigInt(t);
  if (neg) big = -big;
  if (big >= 2n ** 63n || big < -(2n ** 63n)) return NaN;
  return Number(big);
}

/** spf13/cast's ToInt64 as Sprig uses it: numbers truncate, strings parse (base prefixes too), anything else is 0. */
export function toInt64(v: TemplateValue): number {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) return 0;
      return Math.trunc(v) || 0;
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      if (v === '') return 0;
      let s = v;
      if (s.includes('.')) {
        const m = DECIMAL_NUMBER.exec(s);
        if (m) {
          s = m[1] ?? '';
          if (s === '' || s === '-' || s === '+') s += '0';
        }
      }
      const n = parseGoInt(s);
      return Number.isNaN(n) ? 0 : n;
    }
    default:
      if (v instanceof GoDuration) return v.nanoseconds;
      return 0;
  }
}

const GO_FLOAT = /^[-+]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][-+]?\d(?:_?\d)*)?|\d(?:_?\d)*\.(?:[eE][-+]?\d+)?|inf(?:inity)?|nan|0[xX](?:_?[0-9a-fA-F])*\.?(?:_?[0-9a-fA-F])*[pP][-+]?\d+)$/i;

/** Go's `strconv.ParseFloat(s, 64)`; NaN (and a false `ok`) when it fails. */
export function parseGoFloat(s: string): { value: number; ok: boolean } {
  if (!GO_FLOAT.test(s)) return { value: NaN, ok: false };
  const t = s.replace(/_/g, '').toLowerCase();
  const sign = t.startsWith('-') ? -1 : 1;
  const body = t.replace(/^[-+]/, '');
  if (body.startsWith('inf')) return { value: sign * Infinity, ok: true };
  if (body === 'nan') return { value: NaN, ok: true };
  if (body.startsWith('0x')) {
    const [mant = '', exp = '0'] = body.slice(2).split('p');
    const [ip = '', fp = ''] = mant.split('.');
    const digits = ip + fp;
    const value = (digits === '' ? 0 : Number.parseInt(digits, 16)) * 2 ** (Number(exp) - 4 * fp.length);
    return { value: sign * value, ok: true };
  }
  return { value: sign * Number(body), ok: true };
}

/** spf13/cast's ToFloat64 as Sprig uses it. */
export function toFloat64(v: TemplateValue): number {
  switch (typeof v) {
    case 'number':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'string': {
      if (v === '') return 0;
      const r = parseGoFloat(v);
      return r.ok ? r.value : 0;
    }
    default:
      if (v instanceof GoDuration) return v.nanoseconds;
      return 0;
  }
}

/** Sprig's `empty`: Go's zero value test (nil, 0, false, "", empty list or map; a time is never empty). */
export function isEmpty(v: TemplateValue): boolean {
  switch (typeof v) {
    case 'undefined':
      return true;
    case 'string':
      return v.length === 0;
    case 'number':
      return v === 0;
    case 'boolean':
      return !v;
    default:
      if (v === null) return true;
      if (Array.isArray(v)) return v.length === 0;
      if (v instanceof GoTime) return false;
      if (v instanceof GoDuration) return v.nanoseconds === 0;
      for (const _ in v) return false;
      return true;
  }
}

/** Converts a Go nil to JSON null, for storing into maps that are later printed as JSON. */
export function nilToNull(v: TemplateValue): TemplateValue {
  return v === undefined ? null : v;
}

/** Narrows a value known to be plain JSON. */
export function asJson(v: TemplateValue): JsonValue | undefined {
  return v as JsonValue | undefined;
}
