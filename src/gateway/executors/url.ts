/**
 * URL building blocks of the REST executor: Go's query encoding (what Higress sends), path
 * and host values escaped or refused, and the analysis of a rendered URL template into
 * origin, path and query pieces with the `{name}` placeholders of path arguments.
 */
import { GatewayError } from '../errors.js';

const QUERY_SAFE = /^[A-Za-z0-9\-_.~]*$/;
const QUERY_EXTRA = /%20|[!'()*]/g;
const QUERY_EXTRA_CODES: Readonly<Record<string, string>> = { '%20': '+', '!': '%21', "'": '%27', '(': '%28', ')': '%29', '*': '%2A' };
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const PATH_UNSAFE_CHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;
const PCT_TRIPLET = /^%[0-9A-Fa-f]{2}/;
const HOST_LABELS = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces lone surrogates with U+FFFD, so that the string has a UTF-8 encoding. */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/** Go's `url.QueryEscape`: unreserved characters kept, space as `+`, everything else `%XX` of its UTF-8 bytes. */
export function queryEscape(value: string): string {
  if (QUERY_SAFE.test(value)) return value;
  return encodeURIComponent(wellFormed(value)).replace(QUERY_EXTRA, (m) => QUERY_EXTRA_CODES[m] ?? m);
}

function queryUnescape(value: string): string {
  const spaced = value.includes('+') ? value.replaceAll('+', ' ') : value;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** Query parameters in first-seen order, each with its values (Go's `url.Values`). */
export type QueryValues = Map<string, string[]>;

/** Parses a raw query string (without `?`) as Go's `url.ParseQuery` does, tolerating bad escapes. */
export function parseQuery(raw: string, into: QueryValues = new Map()): QueryValues {
  if (raw === '') return into;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : queryUnescape(pair.slice(eq + 1));
    const values = into.get(key);
    if (values) values.push(value);
    else into.set(key, [value]);
  }
  return into;
}

/** Go's `url.Values.Encode`: keys sorted, `key=value` pairs joined by `&`. */
export function encodeQuery(values: QueryValues): string {
  if (values.size === 0) return '';
  const keys = [...values.keys()].sort();
  let out = '';
  for (const key of keys) {
    const k = queryEscape(key);
    for (const v of values.get(key) as string[]) out += `${out === '' ? '' : '&'}${k}=${queryEscape(v)}`;
  }
  return out;
}

/** Percent-encodes what a path may not hold, keeping `/`, sub-delims and valid `%XX` escapes (Go's `EscapedPath`). */
export function escapePath(path: string): string {
  if (PATH_SAFE.test(path)) return path;
  let out = '';
  for (const ch of path) out += ch !== '%' && PATH_UNSAFE_CHAR.test(ch) ? encodeURIComponent(wellFormed(ch)) : ch;
  return fixPercents(out);
}

/** Turns each `%` that does not start a valid escape into `%25`. */
function fixPercents(path: string): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    if (!PCT_TRIPLET.test(path.slice(i, i + 3))) {
      out += `${path.slice(from, i)}%25`;
      from = i + 1;
    }
  }
  return from === 0 ? path : out + path.slice(from);
}

function refuse(arg: string, why: string): GatewayError {
  return new GatewayError('INVALID_PARAMS', `argument '${arg}': ${why}`);
}

function decodeOnce(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function checkPathForm(arg: string, form: string): void {
  if (hasControl(form)) throw refuse(arg, 'a path value may not contain control characters');
  if (form.includes('?') || form.includes('#')) throw refuse(arg, 'a path value may not contain "?" or "#"');
  if (form.includes('\\')) throw refuse(arg, 'a path value may not contain a backslash');
  if (form.includes('//')) throw refuse(arg, 'a path value may not contain an empty segment ("//")');
  if (form.includes('.')) {
    for (const segment of form.split('/')) {
      if (segment === '.' || segment === '..') throw refuse(arg, 'a path value may not contain "." or ".." segments');
    }
  }
}

/**
 * A path argument's value, escaped for the URL path. `/` survives (sub-paths are how real
 * definitions use path arguments); `?`, `#`, backslashes, `//`, control characters and
 * dot segments are refused, also when percent-encoded (decoded up to three times).
 */
export function encodePathValue(arg: string, value: string): string {
  if (PATH_SAFE.test(value)) {
    checkPathForm(arg, value);
    return value;
  }
  let form = value;
  checkPathForm(arg, form);
  for (let i = 0; i < 3 && form.includes('%'); i++) {
    const decoded = decodeOnce(form);
    if (decoded === undefined || decoded === form) break;
    checkPathForm(arg, decoded);
    form = decoded;
  }
  return escapePath(wellFormed(value));
}

/** A value placed inside the host of the URL: host name labels only. */
export function encodeHostValue(arg: string, value: string): string {
  if (!HOST_LABELS.test(value) || value.includes('..')) throw refuse(arg, 'a value inside the URL host must be a host name (letters, digits, "-" and ".")');
  return value;
}

/** Where a `{name}` placeholder sits in the URL. */
export type PlaceholderContext = 'host' | 'path' | 'query';

/** A piece of a URL part: literal text, or the placeholder of a path argument. */
export type UrlPiece = string | { readonly arg: string; readonly context: PlaceholderContext; readonly literal: string };

/** A rendered URL template split into its parts, ready to receive path arguments. */
export interface UrlPlan {
  /** `scheme://authority` of an absolute URL; undefined for a URL relative to the upstream. */
  readonly origin: readonly UrlPiece[] | undefined;
  readonly path: readonly UrlPiece[];
  /** The raw query (without `?` and fragment), or undefined when there is none. */
  readonly query: readonly UrlPiece[] | undefined;
}

function splitPlaceholders(text: string, pathArgs: ReadonlySet<string>, context: PlaceholderContext, out: UrlPiece[], escape: (s: string) => string): void {
  let from = 0;
  let literal = '';
  if (pathArgs.size > 0) {
    for (let open = text.indexOf('{'); open >= 0; open = text.indexOf('{', open + 1)) {
      const close = text.indexOf('}', open + 1);
      if (close < 0) break;
      const name = text.slice(open + 1, close);
      if (!pathArgs.has(name)) continue;
      literal += text.slice(from, open);
      if (literal !== '') out.push(escape(literal));
      literal = '';
      out.push({ arg: name, context, literal: escape(text.slice(open, close + 1)) });
      from = close + 1;
      open = close;
    }
  }
  literal += text.slice(from);
  if (literal !== '') out.push(escape(literal));
}

const keep = (s: string): string => s;

/**
 * Splits a rendered URL template into origin, path and query, finding the `{name}`
 * placeholders of path arguments and the part each one sits in. The fragment is dropped.
 */
export function planUrl(rendered: string, pathArgs: ReadonlySet<string>): UrlPlan {
  let rest = rendered.trim();
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const qmark = rest.indexOf('?');
  const rawQuery = qmark >= 0 ? rest.slice(qmark + 1) : undefined;
  if (qmark >= 0) rest = rest.slice(0, qmark);
  let origin: UrlPiece[] | undefined;
  const scheme = SCHEME.exec(rest);
  if (scheme) {
    const slash = rest.indexOf('/', scheme[0].length);
    const end = slash < 0 ? rest.length : slash;
    origin = [];
    splitPlaceholders(rest.slice(0, end), pathArgs, 'host', origin, keep);
    rest = rest.slice(end);
  }
  const path: UrlPiece[] = [];
  splitPlaceholders(rest, pathArgs, 'path', path, escapePath);
  let query: UrlPiece[] | undefined;
  if (rawQuery !== undefined) {
    query = [];
    splitPlaceholders(rawQuery, pathArgs, 'query', query, keep);
  }
  return { origin, path, query };
}
