// Go RE2 regular expressions on JavaScript's engine: the pattern is translated to an
// equivalent `u`-mode RegExp (Go's `.`, `\s`, `$`, `(?m)` and POSIX classes keep their
// RE2 meaning); constructs RE2 rejects (lookaround, backreferences) are rejected with
// Go's message, and the few RE2 features JS lacks (scoped or mid-pattern flags, `(?U)`)
// are refused. Matching loops follow Go's rules for empty matches.
import { backquoteOrQuote } from './fmt.js';
import { codePointWidth } from '../utf8.js';

/** A translated, compiled pattern. */
export interface GoRegexp {
  readonly re: RegExp;
  /** Capture-group names by group index (index 0 is the whole match). */
  readonly names: readonly string[];
}

/** A pattern Go would refuse to compile, with Go's `regexp: Compile(...)` message. */
export class RegexpError extends Error {
  override readonly name: string = 'RegexpError';
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
const GO_SPACE = '\\t\\n\\f\\r ';
const GENERAL_CATEGORY = /^(?:[LMNPSZC]|L[ultmo]|M[nce]|N[dlo]|P[cdseifo]|S[mcko]|Z[slp]|C[cfos])$/;

class Fail extends Error {
  constructor(
    readonly code: string,
    readonly fragment: string,
  ) {
    super(code);
  }
}

function unicodeClass(name: string, negated: boolean): string {
  let neg = negated;
  let n = name;
  if (n.startsWith('^')) {
    neg = !neg;
    n = n.slice(1);
  }
  let body: string;
  if (n === 'Any') body = 'Any';
  else if (GENERAL_CATEGORY.test(n)) body = n;
  else if (/^[A-Za-z_]+$/.test(n)) body = 'Script=' + n;
  else throw new Fail('invalid character class range', `\\p{${name}}`);
  return (neg ? '\\P{' : '\\p{') + body + '}';
}

function hexEscape(cp: number): string {
  return '\\u{' + cp.toString(16) + '}';
}

/** Translates one escape at `src[i] === '\\'`; returns [js, nextIndex]. */
function translateEscape(src: string, i: number, inClass: boolean): [string, number] {
  const c = src[i + 1];
  if (c === undefined) throw new Fail('trailing backslash at end of expression', '');
  switch (c) {
    case 'a':
      return ['\\x07', i + 2];
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return ['\\' + c, i + 2];
    case 'b':
    case 'B':
      if (inClass) throw new Fail('invalid escape sequence', '\\' + c);
      return ['\\' + c, i + 2];
    case 's':
      return [inClass ? GO_SPACE : `[${GO_SPACE}]`, i + 2];
    case 'S':
      return [inClass ? '\\S' : `[^${GO_SPACE}]`, i + 2];
    case 'A':
      if (inClass) throw new Fail('invalid escape sequence', '\\A');
      return ['(?<![\\s\\S])', i + 2];
    case 'z':
      if (inClass) throw new Fail('invalid escape sequence', '\\z');
      return ['(?![\\s\\S])', i + 2];
    case 'x': {
      if (src[i + 2] === '{') {
        const close = src.indexOf('}', i + 3);
        const digits = close < 0 ? '' : src.slice(i + 3, close);
        if (!/^[0-9A-Fa-f]+$/.test(digits) || Number.parseInt(digits, 16) > 0x10ffff) {
          throw new Fail('invalid escape sequence', src.slice(i, close < 0 ? src.length : close + 1));
        }
        return [hexEscape(Number.parseInt(digits, 16)), close + 1];
      }
      const digits = src.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(digits)) throw new Fail('invalid escape sequence', src.slice(i, i + 4));
      return [hexEscape(Number.parseInt(digits, 16)), i + 4];
    }
    case 'p':
    case 'P': {
      if (src[i + 2] === '{') {
        const close = src.indexOf('}', i + 3);
        if (close < 0) throw new Fail('invalid character class range', src.slice(i));
        return [unicodeClass(src.slice(i + 3, close), c === 'P'), close + 1];
      }
      const name = src[i + 2];
      if (name === undefined) throw new Fail('invalid character class range', src.slice(i));
      return [unicodeClass(name, c === 'P'), i + 3];
    }
    case 'Q': {
      const close = src.indexOf('\\E', i + 2);
      const literal = close < 0 ? src.slice(i + 2) : src.slice(i + 2, close);
      let out = '';
      for (const ch of literal) out += literalChar(ch, inClass);
      return [out, close < 0 ? src.length : close + 2];
    }
    default:
      break;
  }
  if (c >= '0' && c <= '7') {
    const m = /^[0-7]{1,3}/.exec(src.slice(i + 1)) ?? ['0'];
    const digits = m[0];
    if (c !== '0' && digits.length === 1) throw new Fail('invalid escape sequence', '\\' + c);
    return [hexEscape(Number.parseInt(digits, 8)), i + 1 + digits.length];
  }
  const code = c.charCodeAt(0);
  if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return [literalChar(c, inClass), i + 2];
  throw new Fail('invalid escape sequence', '\\' + c);
}

function literalChar(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return '\\' + ch;
  return ch;
}

function translateClass(src: string, start: number): [string, number] {
  let i = start + 1;
  let out = '[';
  if (src[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    if (i >= src.length) throw new Fail('missing closing ]', src.slice(start));
    const c = src[i]!;
    if (c === ']' && !first) return [out + ']', i + 1];
    first = false;
    if (c === '[' && src[i + 1] === ':') {
      const close = src.indexOf(':]', i + 2);
      if (close >= 0) {
        const name = src.slice(i + 2, close);
        const expansion = POSIX_CLASSES[name];
        if (name.startsWith('^')) throw new Fail('negated POSIX classes are not supported', `[:${name}:]`);
        if (expansion === undefined) throw new Fail('invalid character class range', `[:${name}:]`);
        out += expansion;
        i = close + 2;
        continue;
      }
    }
    if (c === '\\') {
      const [js, next] = translateEscape(src, i, true);
      out += js;
      i = next;
      continue;
    }
    if (c === '[' || c === ']') out += '\\' + c;
    else out += c;
    i++;
  }
}

function translate(src: string): { source: string; flags: string; names: string[] } {
  let i = 0;
  let ignoreCase = false;
  let dotAll = false;
  let multiLine = false;
  for (;;) {
    const m = /^\(\?([imsU]*)(?:-([imsU]*))?\)/.exec(src.slice(i));
    if (!m) break;
    for (const f of m[1] ?? '') {
      if (f === 'U') throw new Fail('ungreedy mode is not supported', m[0]);
      if (f === 'i') ignoreCase = true;
      if (f === 's') dotAll = true;
      if (f === 'm') multiLine = true;
    }
    for (const f of m[2] ?? '') {
      if (f === 'i') ignoreCase = false;
      if (f === 's') dotAll = false;
      if (f === 'm') multiLine = false;
    }
    i += m[0].length;
  }
  const names: string[] = [''];
  let out = '';
  let depth = 0;
  let canRepeat = false;
  let lastWasRepeat = false;
  while (i < src.length) {
    const c = src[i]!;
    switch (c) {
      case '\\': {
        const [js, next] = translateEscape(src, i, false);
        out += js;
        i = next;
        canRepeat = true;
        lastWasRepeat = false;
        continue;
      }
      case '[': {
        const [js, next] = translateClass(src, i);
        out += js;
        i = next;
        canRepeat = true;
        lastWasRepeat = false;
        continue;
      }
      case '(': {
        if (src[i + 1] === '?') {
          const rest = src.slice(i);
          if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) throw new Fail('invalid or unsupported Perl syntax', rest.slice(0, 4));
          const named = /^\(\?P?<([^>]*)>/.exec(rest);
          if (named) {
            const name = named[1] ?? '';
            if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Fail('invalid named capture', named[0]);
            if (names.includes(name)) throw new Fail('duplicate capture group name', name);
            names.push(name);
            out += '(';
            i += named[0].length;
          } else if (rest.startsWith('(?:')) {
            out += '(?:';
            i += 3;
          } else if (/^\(\?[imsU-]*[:)]/.test(rest)) {
            throw new Fail('flags inside the pattern are not supported (only a leading (?flags) is)', /^\(\?[imsU-]*[:)]/.exec(rest)?.[0] ?? '(?');
          } else {
            throw new Fail('invalid or unsupported Perl syntax', rest.slice(0, 3));
          }
        } else {
          names.push('');
          out += '(';
          i++;
        }
        depth++;
        canRepeat = false;
        lastWasRepeat = false;
        continue;
      }
      case ')':
        if (depth === 0) throw new Fail('unexpected )', src);
        depth--;
        out += ')';
        i++;
        canRepeat = true;
        lastWasRepeat = false;
        continue;
      case '*':
      case '+':
      case '?':
      case '{': {
        let op: string = c;
        if (c === '{') {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
          if (!m) {
            out += '\\{';
            i++;
            canRepeat = true;
            lastWasRepeat = false;
            continue;
          }
          const min = Number(m[1]);
          const max = m[3] === undefined || m[3] === '' ? min : Number(m[3]);
          if (min > 1000 || max > 1000 || (m[3] !== undefined && m[3] !== '' && max < min)) throw new Fail('invalid repeat count', m[0]);
          op = m[0];
        }
        if (lastWasRepeat) throw new Fail('invalid nested repetition operator', src.slice(i - 1, i + op.length));
        if (!canRepeat) throw new Fail('missing argument to repetition operator', op);
        out += op;
        i += op.length;
        if (src[i] === '?') {
          out += '?';
          i++;
        }
        lastWasRepeat = true;
        continue;
      }
      case '.':
        out += dotAll ? '[\\s\\S]' : '[^\\n]';
        break;
      case '^':
        out += multiLine ? '(?<![^\\n])' : '^';
        i++;
        canRepeat = false;
        lastWasRepeat = false;
        continue;
      case '$':
        out += multiLine ? '(?![^\\n])' : '$';
        i++;
        canRepeat = false;
        lastWasRepeat = false;
        continue;
      case '|':
        out += '|';
        i++;
        canRepeat = false;
        lastWasRepeat = false;
        continue;
      case ']':
      case '}':
      case '/':
        out += '\\' + c;
        break;
      default: {
        const cp = src.codePointAt(i) ?? 0;
        const ch = String.fromCodePoint(cp);
        out += ch;
        i += ch.length;
        canRepeat = true;
        lastWasRepeat = false;
        continue;
      }
    }
    i++;
    canRepeat = true;
    lastWasRepeat = false;
  }
  if (depth > 0) throw new Fail('missing closing )', src);
  return { source: out, flags: ignoreCase ? 'giu' : 'gu', names };
}

const CACHE_LIMIT = 256;
const cache = new Map<string, GoRegexp | RegexpError>();

/** Go's `regexp.Compile` (cached); throws RegexpError with Go's `regexp: Compile(...)` wording. */
export function compileRegexp(pattern: string): GoRegexp {
  let entry = cache.get(pattern);
  if (entry === undefined) {
    try {
      const { source, flags, names } = translate(pattern);
      entry = { re: new RegExp(source, flags), names };
    } catch (e) {
      const detail = e instanceof Fail ? `${e.code}: ${backquoteOrQuote(e.fragment)}` : `${(e as Error).message}`;
      entry = new RegexpError(`regexp: Compile(${backquoteOrQuote(pattern)}): error parsing regexp: ${detail}`);
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, entry);
  }
  if (entry instanceof RegexpError) throw entry;
  return entry;
}

function execAt(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

/** Go's `MatchString`. */
export function regexpMatch(r: GoRegexp, s: string): boolean {
  return execAt(r.re, s, 0) !== null;
}

/** Go's `FindAllStringSubmatch` match list (n < 0: all), with Go's empty-match rules. */
export function regexpFindAll(r: GoRegexp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    const m = execAt(r.re, s, pos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === pos) {
      if (start === prevEnd) accept = false;
      pos = pos < s.length ? pos + codePointWidth(s, pos) : s.length + 1;
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

type Piece = string | number | { name: string };

function parseTemplate(template: string): Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    literal += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < template.length) {
      const cp = template.codePointAt(j) ?? 0;
      const ch = String.fromCodePoint(cp);
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      j += ch.length;
    }
    const name = template.slice(nameStart, j);
    if (name === '' || (brace && template[j] !== '}')) {
      literal += '$';
      continue;
    }
    if (brace) j++;
    if (literal) pieces.push(literal);
    literal = '';
    if (/^\d+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 9) pieces.push(Number(name));
    else pieces.push({ name });
    i = j;
  }
  literal += template.slice(i);
  if (literal) pieces.push(literal);
  return pieces;
}

function expand(pieces: readonly Piece[], m: RegExpExecArray, names: readonly string[]): string {
  let out = '';
  for (const p of pieces) {
    if (typeof p === 'string') out += p;
    else if (typeof p === 'number') out += m[p] ?? '';
    else {
      const index = names.indexOf(p.name, 1);
      if (index > 0) out += m[index] ?? '';
    }
  }
  return out;
}

/** Go's `ReplaceAllString`: `$1`, `${1}`, `$name`, `${name}` expand (`$1x` names group "1x"), `$$` is `$`. */
export function regexpReplaceAll(r: GoRegexp, s: string, template: string): string {
  const pieces = parseTemplate(template);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    const m = execAt(r.re, s, searchPos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += s.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(pieces, m, r.names);
    lastMatchEnd = end;
    const width = searchPos < s.length ? codePointWidth(s, searchPos) : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + s.slice(lastMatchEnd);
}

/** Go's `regexp.QuoteMeta`. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
