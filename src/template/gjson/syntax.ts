/**
 * The string-level rules of GJSON path syntax, following tidwall/gjson's own splitting
 * functions (parseObjectPath, parseArrayPath, parseQuery, splitPossiblePipe,
 * parseSubSelectors, execModifier, execStatic) so that every path splits exactly as
 * gjson splits it, odd corners included. Evaluation lives in gjson.ts.
 */
import { MODIFIERS } from './modifiers.js';
import { isEscapedQuote, squash, unescapeJson } from './scalars.js';

/** How a path component reads when the current value is an object. */
export interface ObjectPathParts {
  /** The key (escapes removed) or wildcard pattern. */
  part: string;
  wild: boolean;
  /** The rest of the path after a `.`, applied to the matched value. */
  more: string | undefined;
  /** The rest after `|` (or a `.` before a modifier / multipath), applied to the result. */
  pipe: string | undefined;
}

/** A `#(…)` / `#(…)#` query. */
export interface QueryParts {
  path: string;
  op: string;
  value: string;
  all: boolean;
}

/** How a path component reads when the current value is an array. */
export interface ArrayPathParts {
  part: string;
  /** The component contains `#`. */
  arrch: boolean;
  /** `#.rest`: map `rest` over the elements. */
  alogok: boolean;
  more: string | undefined;
  pipe: string | undefined;
  query: QueryParts | undefined;
}

function isWs(s: string, i: number): boolean {
  return s.charCodeAt(i) <= 0x20;
}

/** Go gjson's `trim`: strips bytes <= ' ' at both ends. */
export function trimGo(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s, a)) a++;
  while (b > a && isWs(s, b - 1)) b--;
  return s.slice(a, b);
}

/** Whether `s[i]` starts a component that `.` hands over like `|`: a known modifier, `[` or `{`. */
function isDotPiperChar(s: string, i: number): boolean {
  const c = s[i];
  if (c === '@') {
    let j = i + 1;
    while (j < s.length && s[j] !== '.' && s[j] !== '|' && s[j] !== ':') j++;
    return MODIFIERS.has(s.slice(i + 1, j));
  }
  return c === '[' || c === '{';
}

/** Splits the first component off `path` for an object (gjson's parseObjectPath). */
export function parseObjectPath(path: string): ObjectPathParts {
  let part = '';
  let wild = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '|') return { part, wild, more: undefined, pipe: path.slice(i + 1) };
    if (c === '.') {
      if (i < path.length - 1 && isDotPiperChar(path, i + 1)) {
        return { part, wild, more: undefined, pipe: path.slice(i + 1) };
      }
      return { part, wild, more: path.slice(i + 1), pipe: undefined };
    }
    if (c === '\\') {
      i++;
      if (i < path.length) part += path[i];
      continue;
    }
    if (c === '*' || c === '?') wild = true;
    part += c;
  }
  return { part, wild, more: undefined, pipe: undefined };
}

interface ParsedQuery {
  path: string;
  op: string;
  value: string;
  /** Index just past the closing bracket. */
  end: number;
  escaped: boolean;
}

/** Parses `#(path op value)` at the start of `query` (gjson's parseQuery). */
export function parseQuery(query: string): ParsedQuery | undefined {
  if (query.length < 2 || query[0] !== '#' || (query[1] !== '(' && query[1] !== '[')) return undefined;
  let i = 2;
  let j = 0;
  let depth = 1;
  let escaped = false;
  for (; i < query.length; i++) {
    const c = query[i];
    if (depth === 1 && j === 0 && (c === '!' || c === '=' || c === '<' || c === '>' || c === '%')) {
      j = i;
      continue;
    }
    if (c === '\\') {
      i++;
    } else if (c === '[' || c === '(') {
      depth++;
    } else if (c === ']' || c === ')') {
      depth--;
      if (depth === 0) break;
    } else if (c === '"') {
      for (i++; i < query.length; i++) {
        if (query[i] === '\\') {
          escaped = true;
          i++;
        } else if (query[i] === '"') {
          break;
        }
      }
    }
  }
  if (depth > 0) return undefined;
  if (j === 0) return { path: trimGo(query.slice(2, i)), op: '', value: '', end: i + 1, escaped };
  let value = trimGo(query.slice(j, i));
  let opSize = 0;
  const c0 = value[0];
  const c1 = value[1];
  if (value.length === 1) opSize = 1;
  else if (c0 === '!' && (c1 === '=' || c1 === '%')) opSize = 2;
  else if ((c0 === '<' || c0 === '>') && c1 === '=') opSize = 2;
  else if (c0 === '=' && c1 === '=') {
    value = value.slice(1);
    opSize = 1;
  } else if (c0 === '<' || c0 === '>' || c0 === '=' || c0 === '%') opSize = 1;
  return {
    path: trimGo(query.slice(2, j)),
    op: value.slice(0, opSize),
    value: trimGo(value.slice(opSize)),
    end: i + 1,
    escaped,
  };
}

/** Splits the first component off `path` for an array (gjson's parseArrayPath). */
export function parseArrayPath(path: string): ArrayPathParts {
  const r: ArrayPathParts = { part: path, arrch: false, alogok: false, more: undefined, pipe: undefined, query: undefined };
  scan: for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '|') {
      r.part = path.slice(0, i);
      r.pipe = path.slice(i + 1);
      return r;
    }
    if (c === '.') {
      r.part = path.slice(0, i);
      if (!r.arrch && i < path.length - 1 && isDotPiperChar(path, i + 1)) r.pipe = path.slice(i + 1);
      else r.more = path.slice(i + 1);
      return r;
    }
    if (c !== '#') continue;
    r.arrch = true;
    if (i !== 0 || path.length < 2) continue;
    if (path[1] === '.') {
      r.alogok = true;
    } else if (path[1] === '[' || path[1] === '(') {
      const query: QueryParts = { path: '', op: '', value: '', all: false };
      r.query = query;
      const q = parseQuery(path);
      if (q === undefined) break scan;
      let value = q.value;
      if (value.length >= 2 && value[0] === '"' && value[value.length - 1] === '"') {
        value = value.slice(1, -1);
        if (q.escaped) value = unescapeJson(value);
      }
      query.path = q.path;
      query.op = q.op;
      query.value = value;
      i = q.end - 1;
      if (path[i + 1] === '#') query.all = true;
    }
  }
  r.part = path;
  return r;
}

/**
 * Splits `left|right` where the `|` is outside any `.#(…)` query, so that `right` applies
 * to the whole result of `left` (gjson's splitPossiblePipe).
 */
export function splitPossiblePipe(path: string): [string, string] | undefined {
  if (!path.includes('|')) return undefined;
  const n = path.length;
  if (path[0] === '{') {
    const inner = squash(path.slice(1));
    if (inner.length < n - 1) {
      const left = path.slice(0, inner.length + 1);
      const remain = path.slice(left.length);
      if (remain[0] === '|') return [left, remain.slice(1)];
    }
    return undefined;
  }
  for (let i = 0; i < n; i++) {
    const c = path[i];
    if (c === '\\') {
      i++;
    } else if (c === '.') {
      if (i === n - 1) return undefined;
      if (path[i + 1] !== '#') continue;
      i += 2;
      if (i === n) return undefined;
      const open = path[i];
      if (open !== '[' && open !== '(') continue;
      const close = open === '[' ? ']' : ')';
      let depth = 1;
      for (i++; i < n; i++) {
        const d = path[i];
        if (d === '\\') {
          i++;
        } else if (d === open) {
          depth++;
        } else if (d === close) {
          depth--;
          if (depth === 0) break;
        } else if (d === '"') {
          for (i++; i < n; i++) {
            if (path[i] === '\\') i++;
            else if (path[i] === '"') break;
          }
        }
      }
    } else if (c === '|') {
      return [path.slice(0, i), path.slice(i + 1)];
    }
  }
  return undefined;
}

/** One member of a `[…]` / `{…}` multipath: an optional `name:` and its path. */
export interface SubSelector {
  name: string;
  path: string;
}

/** Splits a multipath `[a,b]` / `{a,"k":b}` (gjson's parseSubSelectors); `rest` follows the closing bracket. */
export function parseSubSelectors(path: string): { sels: SubSelector[]; rest: string } | undefined {
  const sels: SubSelector[] = [];
  let modifier = 0;
  let depth = 1;
  let colon = 0;
  let start = 1;
  const push = (i: number): void => {
    if (colon === 0) sels.push({ name: '', path: path.slice(start, i) });
    else sels.push({ name: path.slice(start, colon), path: path.slice(colon + 1, i) });
    colon = 0;
    modifier = 0;
    start = i + 1;
  };
  for (let i = 1; i < path.length; i++) {
    switch (path[i]) {
      case '\\':
        i++;
        break;
      case '@':
        if (modifier === 0 && (path[i - 1] === '.' || path[i - 1] === '|')) modifier = i;
        break;
      case ':':
        if (modifier === 0 && colon === 0 && depth === 1) colon = i;
        break;
      case ',':
        if (depth === 1) push(i);
        break;
      case '"':
        for (i++; i < path.length; i++) {
          if (path[i] === '\\') i++;
          else if (path[i] === '"') break;
        }
        break;
      case '[':
      case '(':
      case '{':
        depth++;
        break;
      case ']':
      case ')':
      case '}':
        depth--;
        if (depth === 0) {
          push(i);
          return { sels, rest: path.slice(i + 1) };
        }
        break;
    }
  }
  return undefined;
}

/** The last `.`/`|`-separated component of a path, naming an unnamed `{…}` member (gjson's nameOfLast). */
export function nameOfLast(path: string): string {
  for (let i = path.length - 1; i >= 0; i--) {
    if ((path[i] === '|' || path[i] === '.') && !(i > 0 && path[i - 1] === '\\')) return path.slice(i + 1);
  }
  return path;
}

/** Whether a component may serve as an object key name in a multipath (gjson's isSimpleName). */
export function isSimpleName(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    if (component.charCodeAt(i) < 0x20) return false;
    switch (component[i]) {
      case '[':
      case ']':
      case '{':
      case '}':
      case '(':
      case ')':
      case '#':
      case '|':
      case '!':
        return false;
    }
  }
  return true;
}

/** `@name[:arg]rest`, when `name` is a known modifier (gjson's execModifier, minus running it). */
export function parseModifier(path: string): { name: string; arg: string; rest: string } | undefined {
  let name = path.slice(1);
  let rest = '';
  let hasArg = false;
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (c === ':') {
      rest = path.slice(i + 1);
      name = path.slice(1, i);
      hasArg = rest.length > 0;
      break;
    }
    if (c === '|' || c === '.') {
      rest = path.slice(i);
      name = path.slice(1, i);
      break;
    }
  }
  if (!MODIFIERS.has(name)) return undefined;
  let arg = '';
  if (hasArg) {
    const c0 = rest[0];
    if (c0 === '{' || c0 === '[' || c0 === '"') {
      arg = squash(rest);
      rest = rest.slice(arg.length);
    } else {
      let i = 0;
      for (; i < rest.length; i++) {
        const c = rest[i];
        if (c === '|') break;
        if (c === '{' || c === '[' || c === '"' || c === '(') i += squash(rest.slice(i)).length - 1;
      }
      arg = rest.slice(0, i);
      rest = rest.slice(i);
    }
  }
  return { name, arg, rest };
}

/** gjson's parseSquash from the first character: a bracket-balanced prefix of a literal. */
function literalPrefix(s: string): string {
  let depth = 1;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const start = ++i;
      while (i < s.length && !(s[i] === '"' && !isEscapedQuote(s, i, start))) i++;
    } else if (c === '{' || c === '[' || c === '(') {
      depth++;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return s.slice(0, i + 1);
    }
  }
  return s;
}

/** `!literal rest` (gjson's execStatic): the literal's JSON text and what follows it. */
export function parseStatic(path: string): { raw: string; rest: string } | undefined {
  const body = path.slice(1);
  if (body.length > 0 && '{["+-0123456789'.includes(body[0] as string)) {
    const raw = literalPrefix(body);
    return { raw, rest: body.slice(raw.length) };
  }
  let name = body;
  let rest = '';
  for (let i = 1; i < path.length; i++) {
    if (path[i] === '|' || path[i] === '.') {
      rest = path.slice(i);
      name = path.slice(1, i);
      break;
    }
  }
  switch (name.toLowerCase()) {
    case 'true':
    case 'false':
    case 'null':
    case 'nan':
    case 'inf':
      return { raw: name, rest };
    default:
      return undefined;
  }
}
