/**
 * How values go on the wire to a backend, shared by the REST adapter's parts: header names and
 * values, cookies, arguments as text, and telling a JSON body from text.
 */
import type { JsonValue } from '../../template/index.js';
import { wellFormed } from './url.js';

/** A JSON value as the templates take it. */
export type Json = JsonValue;

/** Request headers as undici takes them (lower-case names). */
export type Headers = Record<string, string | string[]>;

/** An HTTP header name (RFC 9110 token). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers undici refuses or manages itself; template and argument headers may not set them. */
export const RESERVED_REQUEST_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'expect', 'te', 'trailer']);

const NON_ASCII = /[\u0080-\uffff]/;
const COOKIE_UNSAFE = /[^\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]/;
const COOKIE_UNSAFE_ALL = /[^\u0021\u0023-\u002b\u002d-\u003a\u003c-\u005b\u005d-\u007e]/gu;
const JSON_START = /^\s*[[{"\-0-9tfn]/;

/** An argument's value as text: strings as they are, numbers and booleans printed, the rest as JSON. */
export function argToString(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    default:
      return JSON.stringify(value) ?? '';
  }
}

/** Sets an own property, `__proto__` included (as data, never as the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when a header value holds a control character other than tab (CR and LF would split the header). */
export function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** A header value as undici sends it: UTF-8 bytes carried in a latin1 string (what Envoy sends for Higress). */
export function wireValue(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** A cookie value with the characters a cookie may not hold percent-encoded. */
export function cookieValue(value: string): string {
  return COOKIE_UNSAFE.test(value) ? wellFormed(value).replace(COOKIE_UNSAFE_ALL, (c) => encodeURIComponent(c)) : value;
}

/** A body's JSON value, when it is JSON. */
export function tryJson(body: string): { ok: true; value: Json } | { ok: false } {
  if (!JSON_START.test(body)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body) as Json };
  } catch {
    return { ok: false };
  }
}
