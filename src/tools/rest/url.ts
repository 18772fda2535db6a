/**
 * URL building blocks of the REST executor: Go's query encoding (what Higress sends), path
 * and host values escaped or refused, and the analysis of a rendered URL template into
 * origin, path and query pieces: the `{name}` placeholders of path arguments and the text the
 * template printed from arguments (taint-tracked), each placed by where it sits in the URL.
 */
import { ToolError } from '../errors.js';
import type { OutputPiece, Taint, TrackedOutput } from '../../template/index.js';

const QUERY_SAFE = /^[A-Za-z0-9\-_.~]*$/;
const QUERY_EXTRA = /%20|[!'()*]/g;
const QUERY_EXTRA_CODES: Readonly<Record<string, string>> = { '%20': '+', '!': '%21', "'": '%27', '(': '%28', ')': '%29', '*': '%2A' };
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const PATH_UNSAFE_CHAR = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/;
const PCT_TRIPLET = /^%[0-9A-Fa-f]{2}/;
const HOST_LABELS = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const LABEL_PART = /^[A-Za-z0-9-]+$/;
const SPACE = /\s/;
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

function refuse(arg: string, why: string): ToolError {
  return new ToolError('INVALID_ARGUMENT', `argument '${arg}': ${why}`);
}

/** An input error naming the arguments a tainted value came from. */
function refuseTainted(taint: Taint, why: string): ToolError {
  const keys = taint.keys;
  if (keys === null) return new ToolError('INVALID_ARGUMENT', `arguments: ${why}`);
  if (keys.length === 1) return refuse(keys[0] as string, why);
  return new ToolError('INVALID_ARGUMENT', `arguments ${keys.map((k) => `'${k}'`).join(', ')}: ${why}`);
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

/** Where a piece of a URL sits. */
export type UrlContext = 'userinfo' | 'host' | 'port' | 'path' | 'query';

/**
 * A piece of a URL part: literal text; the `{name}` placeholder of a path argument; or the
 * `slot`-th piece the template printed from arguments (see `printedPieces`), placed when the
 * request is built. A plan holds no argument text, so one plan serves every call whose render
 * has the same skeleton (`skeletonKey`).
 */
export type UrlPiece =
  | string
  | { readonly arg: string; readonly context: UrlContext; readonly literal: string }
  | { readonly slot: number; readonly context: UrlContext };

/** The values a plan's pieces receive: the call's arguments and the pieces its URL printed from them. */
export interface PlaceValues {
  readonly args: Record<string, unknown>;
  /** The tainted pieces of the call's tracking render, in order (`printedPieces`). */
  readonly printed: readonly OutputPiece[];
  /** How an argument value is written as text. */
  readonly toText: (value: unknown) => string;
  /** The arguments whose values may span path segments. */
  readonly subPathArgs: ReadonlySet<string>;
}

/** A rendered URL template split into its parts, ready to receive arguments. */
export interface UrlPlan {
  /** `scheme://authority` of an absolute URL; undefined for a URL relative to the upstream. */
  readonly origin: readonly UrlPiece[] | undefined;
  readonly path: readonly UrlPiece[];
  /** The raw query (without `?` and fragment), or undefined when there is none. */
  readonly query: readonly UrlPiece[] | undefined;
}

function splitPlaceholders(text: string, pathArgs: ReadonlySet<string>, context: UrlContext, out: UrlPiece[], escape: (s: string) => string): void {
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

/** The pieces of a tracking render that were printed from arguments, in order: slot `i` is the `i`-th. */
export function printedPieces(rendered: TrackedOutput): OutputPiece[] {
  return rendered.pieces.filter((p) => p.taint !== undefined);
}

/**
 * What a URL plan depends on: the template's own text, and where values printed from arguments
 * sit (not their text, which never delimits). Two renders with the same key have the same plan,
 * except for a scheme that printed text would complete, which `checkScheme` refuses per call.
 */
export function skeletonKey(rendered: TrackedOutput): string {
  let key = '';
  for (const p of rendered.pieces) key += p.taint ? '\u0000' : `${p.text.length}\u0001${p.text}`;
  return key;
}

/** Refuses a rendered URL whose scheme (`x://`) has text printed from arguments in it. */
export function checkScheme(rendered: TrackedOutput): void {
  let from = 0;
  const first = rendered.pieces[0];
  if (first && !first.taint) while (from < first.text.length && SPACE.test(first.text[from] as string)) from++;
  const scheme = SCHEME.exec(from === 0 ? rendered.text : rendered.text.slice(from));
  if (!scheme) return;
  const end = from + scheme[0].length;
  let at = 0;
  for (const p of rendered.pieces) {
    if (at >= end) return;
    if (p.taint && at + p.text.length > from) throw refuseTainted(p.taint, 'a value may not set the URL scheme');
    at += p.text.length;
  }
}

/** The rendered URL with, for each character, whether it was printed from arguments. */
class RenderedUrl {
  readonly text: string;
  private readonly pieces: readonly OutputPiece[];
  private readonly starts: number[] = [];
  /** For each piece, its slot among the printed ones, or -1. */
  private readonly slots: number[] = [];
  /** Empty printed pieces already placed: one at a boundary goes to the part on its left, once. */
  private readonly claimed = new Set<number>();

  constructor(rendered: string | TrackedOutput) {
    this.pieces = typeof rendered === 'string' ? [{ text: rendered }] : rendered.pieces;
    let at = 0;
    let slot = 0;
    for (const p of this.pieces) {
      this.starts.push(at);
      this.slots.push(p.taint ? slot++ : -1);
      at += p.text.length;
    }
    this.text = typeof rendered === 'string' ? rendered : rendered.text;
  }

  /** Index of the last piece starting at or before `at` (binary search: output may be large). */
  private pieceAt(at: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The taint of the first tainted character in [from, to), if any. */
  taintIn(from: number, to: number): Taint | undefined {
    for (let i = this.pieceAt(from); i < this.pieces.length && (this.starts[i] as number) < to; i++) {
      const p = this.pieces[i] as OutputPiece;
      if (p.taint && (this.starts[i] as number) + p.text.length > from) return p.taint;
    }
    return undefined;
  }

  private cleanAt(i: number): boolean {
    return this.taintIn(i, i + 1) === undefined;
  }

  /** The first `ch` in [from, to) that the template wrote (not printed from arguments), or -1. */
  indexOfClean(ch: string, from: number, to: number): number {
    for (let i = this.text.indexOf(ch, from); i >= 0 && i < to; i = this.text.indexOf(ch, i + 1)) if (this.cleanAt(i)) return i;
    return -1;
  }

  /** The last such `ch` in [from, to), or -1. */
  lastIndexOfClean(ch: string, from: number, to: number): number {
    for (let i = this.text.lastIndexOf(ch, to - 1); i >= from; i = i > 0 ? this.text.lastIndexOf(ch, i - 1) : -1) if (this.cleanAt(i)) return i;
    return -1;
  }

  /** Trims whitespace the template wrote at both ends. */
  trimmed(): [number, number] {
    let from = 0;
    let to = this.text.length;
    while (from < to && SPACE.test(this.text[from] as string) && this.cleanAt(from)) from++;
    while (to > from && SPACE.test(this.text[to - 1] as string) && this.cleanAt(to - 1)) to--;
    return [from, to];
  }

  /** The pieces of [from, to): literal text split at placeholders, printed text as such. */
  plan(from: number, to: number, context: UrlContext, pathArgs: ReadonlySet<string>, out: UrlPiece[], escape: (s: string) => string): void {
    let i = this.pieceAt(from);
    while (i > 0 && this.starts[i - 1] === from) i--;
    for (; i < this.pieces.length && (this.starts[i] as number) <= to; i++) {
      const p = this.pieces[i] as OutputPiece;
      const start = this.starts[i] as number;
      const a = Math.max(from, start);
      const b = Math.min(to, start + p.text.length);
      // An argument that printed nothing still shows where it was placed: in the part a value
      // there would be in (parts are planned left to right, so the left one at a boundary).
      if (a > b || (a === b && (p.text !== '' || !p.taint || this.claimed.has(i)))) continue;
      if (a === b) this.claimed.add(i);
      const text = p.text.slice(a - start, b - start);
      if (p.taint) out.push({ slot: this.slots[i] as number, context });
      else splitPlaceholders(text, pathArgs, context, out, escape);
    }
  }
}

/**
 * Splits a rendered URL template into origin, path and query, finding the `{name}`
 * placeholders of path arguments and the part each one sits in. The fragment is dropped.
 * Given the pieces of a tracking render, only characters the template wrote delimit the parts:
 * text printed from arguments is data wherever it sits, and may not set the scheme (an input
 * error naming the argument).
 */
export function planUrl(rendered: string | TrackedOutput, pathArgs: ReadonlySet<string>): UrlPlan {
  const url = new RenderedUrl(rendered);
  let [from, to] = url.trimmed();
  const hash = url.indexOfClean('#', from, to);
  if (hash >= 0) to = hash;
  const qmark = url.indexOfClean('?', from, to);
  const beforeQuery = qmark >= 0 ? qmark : to;
  let origin: UrlPiece[] | undefined;
  const scheme = SCHEME.exec(url.text.slice(from, beforeQuery));
  if (scheme) {
    const authority = from + scheme[0].length;
    const schemeTaint = url.taintIn(from, authority);
    if (schemeTaint) throw refuseTainted(schemeTaint, 'a value may not set the URL scheme');
    const slash = url.indexOfClean('/', authority, beforeQuery);
    const end = slash < 0 ? beforeQuery : slash;
    origin = [url.text.slice(from, authority)];
    let hostFrom = authority;
    const at = url.lastIndexOfClean('@', authority, end);
    if (at >= 0) {
      url.plan(authority, at, 'userinfo', pathArgs, origin, keep);
      origin.push('@');
      hostFrom = at + 1;
    }
    let hostTo = end;
    if (url.text[hostFrom] === '[' && url.indexOfClean('[', hostFrom, hostFrom + 1) === hostFrom) {
      const close = url.indexOfClean(']', hostFrom, end);
      hostTo = close < 0 ? end : close + 1;
    } else {
      const colon = url.indexOfClean(':', hostFrom, end);
      if (colon >= 0) hostTo = colon;
    }
    url.plan(hostFrom, hostTo, 'host', pathArgs, origin, keep);
    url.plan(hostTo, end, 'port', pathArgs, origin, keep);
    from = end;
  }
  const path: UrlPiece[] = [];
  url.plan(from, beforeQuery, 'path', pathArgs, path, escapePath);
  let query: UrlPiece[] | undefined;
  if (qmark >= 0) {
    query = [];
    url.plan(qmark + 1, to, 'query', pathArgs, query, keep);
  }
  return { origin, path, query };
}

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

/** Percent-encodes a value as one path segment: everything but unreserved characters. */
function encodeSegment(value: string): string {
  return UNRESERVED.test(value) ? value : encodeURIComponent(wellFormed(value));
}

function decodes(segment: string, to: (s: string) => boolean): boolean {
  let form = segment;
  for (let i = 0; i < 4; i++) {
    if (to(form)) return true;
    if (!form.includes('%')) return false;
    const decoded = decodeOnce(form);
    if (decoded === undefined || decoded === form) return false;
    form = decoded;
  }
  return false;
}

const isDotSegment = (s: string): boolean => s === '.' || s === '..';
/** Longer than `..` percent-encoded three times over (`%25252E%25252E`): not a dot segment. */
const MAX_DOT_SEGMENT_LENGTH = 14;
/** A character no spelling of `.` or `..` (percent-encoded up to three times) has. */
const NOT_IN_DOTS = /[^.%25eE]/;

/** Start of the segment of `path` holding position `at` (a character that is not `/`, or an empty value's place). */
function segmentStart(path: string, at: number): number {
  return path.lastIndexOf('/', at - 1) + 1;
}

/** Whether the segment starting at `start` is a `.` or `..` segment, also percent-encoded. */
function isDotSegmentAt(path: string, start: number): boolean {
  let end = path.indexOf('/', start);
  if (end < 0) end = path.length;
  return end - start <= MAX_DOT_SEGMENT_LENGTH && decodes(path.slice(start, end), isDotSegment);
}

/** Why a piece is refused in a part of the URL an argument may not set. */
const NOT_SETTABLE: Readonly<Record<'userinfo' | 'port', string>> = {
  userinfo: 'a value may not set the user information of the URL',
  port: 'a value may not set the URL port',
};

/** The text and taint of a printed piece of the call. */
function printedAt(values: PlaceValues, slot: number): OutputPiece & { readonly taint: Taint } {
  const p = values.printed[slot];
  if (!p?.taint) throw new Error(`URL plan slot ${slot} has no printed piece`);
  return p as OutputPiece & { readonly taint: Taint };
}

/**
 * Joins the path pieces with the arguments placed: placeholders as sub-paths (`/` kept, what
 * a sub-path may not hold refused); printed text percent-encoded as one segment (`/`, `?`,
 * `#`, `%` encoded) unless every argument it came from may span segments, and left as it is
 * when an escaper (`urlquery`) already encoded it. A `.` or `..` segment that an argument
 * takes part in is refused, also when percent-encoded.
 */
export function joinPath(pieces: readonly UrlPiece[], values: PlaceValues): string {
  let out = '';
  // Where arguments were placed: start, end, and the piece (for the message), in order.
  let touched: (number | Exclude<UrlPiece, string>)[] | undefined;
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    const start = out.length;
    let placed: string;
    if ('arg' in piece) {
      const value = Object.hasOwn(values.args, piece.arg) ? values.args[piece.arg] : undefined;
      if (value === undefined) {
        out += piece.literal;
        continue;
      }
      placed = encodePathValue(piece.arg, values.toText(value));
    } else {
      const { taint, text } = printedAt(values, piece.slot);
      const subPath = taint.keys !== null && taint.keys.length > 0 && taint.keys.every((k) => values.subPathArgs.has(k));
      if (subPath) placed = encodePathValue((taint.keys as readonly string[]).join(', '), text);
      else placed = taint.escapedBy !== undefined ? text : encodeSegment(text);
    }
    out += placed;
    // A value in one segment with a character no dot segment has cannot take part in one.
    if (!NOT_IN_DOTS.test(placed) || placed.includes('/')) (touched ??= []).push(start, out.length, piece);
  }
  if (touched) {
    // The segments where each placed value starts and ends (inside, a value has no dot segment:
    // it is one encoded segment, or a sub-path checked whole), each segment once.
    let checked = -1;
    for (let i = 0; i < touched.length; i += 3) {
      const from = touched[i] as number;
      const to = touched[i + 1] as number;
      const head = from === to || out[from] !== '/' ? segmentStart(out, from) : -1;
      const tail = from < to && out[to - 1] !== '/' ? segmentStart(out, to - 1) : -1;
      for (const start of [head, tail]) {
        if (start < 0 || start === checked) continue;
        checked = start;
        if (!isDotSegmentAt(out, start)) continue;
        const piece = touched[i + 2] as Exclude<UrlPiece, string>;
        throw 'arg' in piece
          ? refuse(piece.arg, 'a path value may not contain "." or ".." segments')
          : refuseTainted(printedAt(values, piece.slot).taint, 'a path value may not make a "." or ".." segment');
      }
    }
  }
  return out;
}

/** Joins the query pieces: placeholders and printed text query-escaped as values, escaper output as it is. */
export function joinQuery(pieces: readonly UrlPiece[], values: PlaceValues): string {
  let out = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') out += piece;
    else if ('arg' in piece) {
      const value = Object.hasOwn(values.args, piece.arg) ? values.args[piece.arg] : undefined;
      out += value === undefined ? piece.literal : queryEscape(values.toText(value));
    } else {
      const { taint, text } = printedAt(values, piece.slot);
      out += taint.escapedBy !== undefined ? text : queryEscape(text);
    }
  }
  return out;
}

/** A host that arguments chose: what checking it needs, and what to say when it is refused. */
export class ArgumentHost {
  constructor(
    private readonly pieces: readonly UrlPiece[],
    private readonly values: PlaceValues,
    /** Some value holds a dot: the host must be in the server's allow-list. */
    readonly needsAllowList: boolean,
  ) {}

  /** The host with `*` where arguments placed text: the pattern their values fill (`49999-*.e2b.dev`). */
  pattern(): string {
    let pattern = '';
    for (const piece of this.pieces) {
      if (typeof piece === 'string') pattern += piece;
      else if ('arg' in piece && !Object.hasOwn(this.values.args, piece.arg)) pattern += piece.literal;
      else pattern += '*';
    }
    return patternHost(pattern);
  }

  /** An input error naming the arguments that chose the host. */
  refuse(why: string): ToolError {
    let any = false;
    const names: string[] = [];
    for (const piece of this.pieces) {
      if (typeof piece === 'string') continue;
      if ('arg' in piece) {
        if (Object.hasOwn(this.values.args, piece.arg) && !names.includes(piece.arg)) names.push(piece.arg);
        continue;
      }
      const keys = printedAt(this.values, piece.slot).taint.keys;
      if (keys === null) any = true;
      else for (const k of keys) if (!names.includes(k)) names.push(k);
    }
    const label = any || names.length === 0 ? 'arguments' : names.length === 1 ? `argument '${names[0] ?? ''}'` : `arguments ${names.map((n) => `'${n}'`).join(', ')}`;
    return new ToolError('INVALID_ARGUMENT', `${label}: ${why}`);
  }
}

/** The origin of an absolute URL with arguments placed, and the host to check when arguments chose it. */
export interface PlacedOrigin {
  readonly origin: string;
  readonly argumentHost?: ArgumentHost;
}

/**
 * Joins the origin pieces. A value in the host must be host-name characters; it fills part of
 * one label (no dot) unless the host is then checked against an allow-list (`needsAllowList`).
 * A value in the user information or the port is refused.
 */
export function joinOrigin(pieces: readonly UrlPiece[], values: PlaceValues): PlacedOrigin {
  let origin = '';
  let chosen = false;
  let needsAllowList = false;
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      origin += piece;
      continue;
    }
    let value: string;
    let fail: (why: string) => ToolError;
    if ('arg' in piece) {
      const v = Object.hasOwn(values.args, piece.arg) ? values.args[piece.arg] : undefined;
      if (v === undefined) {
        origin += piece.literal;
        continue;
      }
      const arg = piece.arg;
      value = values.toText(v);
      fail = (why) => refuse(arg, why);
    } else {
      const printed = printedAt(values, piece.slot);
      value = printed.text;
      fail = (why) => refuseTainted(printed.taint, why);
    }
    if (piece.context !== 'host') throw fail(NOT_SETTABLE[piece.context === 'userinfo' ? 'userinfo' : 'port']);
    if (!LABEL_PART.test(value)) {
      if (!HOST_LABELS.test(value) || value.includes('..')) throw fail('a value inside the URL host must be letters, digits and "-" (part of a host name)');
      needsAllowList = true;
    }
    chosen = true;
    origin += value;
  }
  return chosen ? { origin, argumentHost: new ArgumentHost(pieces, values, needsAllowList) } : { origin };
}

/** The host part of an origin pattern (`http://49999-*.e2b.dev:8080` → `49999-*.e2b.dev`). */
function patternHost(pattern: string): string {
  const scheme = SCHEME.exec(pattern);
  let host = scheme ? pattern.slice(scheme[0].length) : pattern;
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/**
 * Whether a host name matches an allow-list entry: the exact name, or `*.suffix` for any name
 * ending in `.suffix`. Case-insensitive; a trailing dot is ignored.
 */
export function hostAllowed(hostname: string, allowList: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  for (const entry of allowList) {
    const e = entry.toLowerCase().replace(/\.$/, '');
    if (e.startsWith('*.') ? host.endsWith(e.slice(1)) && host.length > e.length - 1 : host === e) return true;
  }
  return false;
}
