// How values print and test true: shared by the evaluator (`{{ x }}`, `if`, `range`)
// and the functions.
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { formatNumber } from './ftoa.js';
import { durationString, timeRfc3339Nano, timeString } from './time.js';

/**
 * Go's truthiness: nil (missing or null), false, 0, "", and empty arrays and objects are
 * false; a time is always true; a duration is true unless zero.
 */
export function isTrue(v: TemplateValue): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'undefined':
      return false;
    default:
      if (v === null) return false;
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof GoTime) return true;
      if (v instanceof GoDuration) return v.nanoseconds !== 0;
      for (const _ in v) return true;
      return false;
  }
}

const MAYBE_TIME = /"(?:epochMs|nanoseconds)":/;

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof GoTime) return timeRfc3339Nano(value);
  if (value instanceof GoDuration) return value.nanoseconds;
  return value === undefined ? null : value;
}

/**
 * Compact JSON of a value; times encode as RFC 3339 strings and durations as
 * nanoseconds (as Go's encoding/json does), nil as null. No HTML escaping.
 */
export function jsonCompact(v: TemplateValue): string {
  if (v === undefined) return 'null';
  if (v instanceof GoTime || v instanceof GoDuration) return JSON.stringify(jsonReplacer('', v));
  const s = JSON.stringify(v);
  if (typeof v === 'object' && v !== null && MAYBE_TIME.test(s)) {
    return JSON.stringify(v, jsonReplacer);
  }
  return s;
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const LINE_SEPARATORS = /[\u2028\u2029]/g;

function escapeJsonChar(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * Go's encoding/json output: `escapeHTML` turns <, > and & into \u003c, \u003e, \u0026
 * (json.Marshal); U+2028 and U+2029 are always escaped; `indent` is MarshalIndent's.
 */
export function goJson(v: TemplateValue, escapeHTML: boolean, indent = ''): string {
  const s = indent === '' ? jsonCompact(v) : JSON.stringify(v === undefined ? null : v, jsonReplacer, indent);
  return s.replace(escapeHTML ? HTML_UNSAFE : LINE_SEPARATORS, escapeJsonChar);
}

/**
 * How `{{ x }}` prints a value: missing → "", JSON null → "null" (gjson_template prints a
 * present null as its raw JSON), strings raw, numbers without exponent (gjson's
 * `Result.String`), objects and arrays as compact JSON, times as Go's `Time.String()`,
 * durations as Go's `Duration.String()`.
 */
export function printValue(v: TemplateValue): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return formatNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '';
    default:
      if (v === null) return 'null';
      if (v instanceof GoTime) return timeString(v);
      if (v instanceof GoDuration) return durationString(BigInt(Math.trunc(v.nanoseconds)));
      return jsonCompact(v);
  }
}
