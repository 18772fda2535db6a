/**
 * The scanner of Go's text/template, rewritten for JavaScript strings: it turns the
 * source into tokens, applying `{{-` / `-}}` trimming and dropping comments. On a lexical
 * error it emits a single `error` token and stops, so the parser reports whatever it
 * meets first, as Go does.
 */

/** Token kinds; the keyword kinds are listed in `KEYWORDS`. */
export type TokenType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

/** One token: its kind, source offset and text (the message for `error`). */
export interface Token {
  readonly type: TokenType;
  readonly pos: number;
  readonly val: string;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['.', 'dot'],
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);

const KEYWORD_TYPES: ReadonlySet<TokenType> = new Set(KEYWORDS.values());

/** Whether tokens of this kind print as `<val>` in Go's messages. */
export function isKeywordToken(type: TokenType): boolean {
  return KEYWORD_TYPES.has(type);
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const EOF = -1;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;

/** Go's isAlphaNumeric: `_`, a Unicode letter or a Unicode decimal digit. */
export function isAlphaNumeric(c: number): boolean {
  if (c < 0x80) {
    return c === 0x5f || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  }
  return c !== EOF && LETTER_OR_DIGIT.test(String.fromCodePoint(c));
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s.charCodeAt(at) === 0x2d && isSpace(s.charCodeAt(at + 1));
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpace(s.charCodeAt(at)) && s.charCodeAt(at + 1) === 0x2d;
}

/** Go's `%#U` of a rune: `U+0023 '#'`. */
export function formatRune(c: number): string {
  const hex = 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
  const printable = c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0) && !/^\p{C}$/u.test(String.fromCodePoint(c));
  return printable ? `${hex} '${String.fromCodePoint(c)}'` : hex;
}

/** Go's `%q` of a string (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (c) {
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x0b: out += '\\v'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
        else if (/^[\p{C}\p{Z}]$/u.test(ch) && c !== 0x20) {
          out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
        } else out += ch;
    }
  }
  return out + '"';
}

/** Scan the whole source. The last token is `eof` or `error`. */
export function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let start = 0;
  let width = 0;
  let parenDepth = 0;

  const next = (): number => {
    if (pos >= input.length) {
      width = 0;
      return EOF;
    }
    const c = input.codePointAt(pos) ?? EOF;
    width = c > 0xffff ? 2 : 1;
    pos += width;
    return c;
  };
  const backup = (): void => {
    pos -= width;
  };
  const peek = (): number => {
    const c = next();
    backup();
    return c;
  };
  const accept = (valid: string): boolean => {
    const c = next();
    if (c !== EOF && valid.includes(String.fromCodePoint(c))) return true;
    backup();
    return false;
  };
  const acceptRun = (valid: string): void => {
    for (;;) {
      const c = next();
      if (c === EOF || !valid.includes(String.fromCodePoint(c))) break;
    }
    backup();
  };
  const emit = (type: TokenType): void => {
    tokens.push({ type, pos: start, val: input.slice(start, pos) });
    start = pos;
  };
  const fail = (message: string): false => {
    tokens.push({ type: 'error', pos: start, val: message });
    return false;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(input, pos) && input.startsWith(RIGHT_DELIM, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(RIGHT_DELIM, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (): boolean => {
    const c = peek();
    if (isSpace(c)) return true;
    switch (c) {
      case EOF:
      case 0x2e: // .
      case 0x2c: // ,
      case 0x7c: // |
      case 0x3a: // :
      case 0x29: // )
      case 0x28: // (
        return true;
    }
    return input.startsWith(RIGHT_DELIM, pos);
  };
  const leftTrimLength = (from: number): number => {
    let i = from;
    while (i < input.length && isSpace(input.charCodeAt(i))) i++;
    return i - from;
  };

  // Each state function returns false when scanning must stop.
  const lexText = (): 'action' | 'comment' | false => {
    const x = input.indexOf(LEFT_DELIM, pos);
    if (x < 0) {
      pos = input.length;
      if (pos > start) emit('text');
      emit('eof');
      return false;
    }
    let textEnd = x;
    if (hasLeftTrimMarker(input, x + LEFT_DELIM.length)) {
      while (textEnd > start && isSpace(input.charCodeAt(textEnd - 1))) textEnd--;
    }
    if (textEnd > start) {
      pos = textEnd;
      emit('text');
    }
    pos = x;
    start = x;
    // The left delimiter, possibly with a trim marker, possibly opening a comment.
    pos += LEFT_DELIM.length;
    const after = hasLeftTrimMarker(input, pos) ? 2 : 0;
    if (input.startsWith(LEFT_COMMENT, pos + after)) {
      pos += after;
      start = pos;
      return 'comment';
    }
    emit('leftDelim');
    pos += after;
    start = pos;
    parenDepth = 0;
    return 'action';
  };

  const lexComment = (): boolean => {
    pos += LEFT_COMMENT.length;
    const i = input.indexOf(RIGHT_COMMENT, pos);
    if (i < 0) return fail('unclosed comment');
    pos = i + RIGHT_COMMENT.length;
    const { delim, trim } = atRightDelim();
    if (!delim) return fail('comment ends before closing delimiter');
    if (trim) pos += 2;
    pos += RIGHT_DELIM.length;
    if (trim) pos += leftTrimLength(pos);
    start = pos;
    return true;
  };

  const lexRightDelim = (): void => {
    const trim = hasRightTrimMarker(input, pos);
    if (trim) {
      pos += 2;
      start = pos;
    }
    pos += RIGHT_DELIM.length;
    emit('rightDelim');
    if (trim) {
      pos += leftTrimLength(pos);
      start = pos;
    }
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): boolean => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return true;
    }
    let c: number;
    for (;;) {
      c = next();
      if (!isAlphaNumeric(c)) {
        backup();
        break;
      }
    }
    if (!atTerminator()) return fail(`bad character ${formatRune(c)}`);
    emit(type);
    return true;
  };

  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peek())) {
      next();
      return false;
    }
    return true;
  };

  const lexNumber = (): boolean => {
    if (!scanNumber()) return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
    const sign = peek();
    if (sign === 0x2b || sign === 0x2d) {
      if (!scanNumber() || input.charCodeAt(pos - 1) !== 0x69) return fail(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
      emit('complex');
    } else {
      emit('number');
    }
    return true;
  };

  const lexQuoted = (quote: number, type: TokenType, what: string): boolean => {
    for (;;) {
      let c = next();
      if (c === 0x5c) {
        c = next();
        if (c !== EOF && c !== 0x0a) continue;
        return fail(`unterminated ${what}`);
      }
      if (c === EOF || c === 0x0a) return fail(`unterminated ${what}`);
      if (c === quote) break;
    }
    emit(type);
    return true;
  };

  // A '.' right after a field or variable, followed by a digit, is a path segment (`.items.0`),
  // where Go would scan a number. That is the one lexical extension over Go.
  const indexSegmentAhead = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev || (prev.type !== 'field' && prev.type !== 'variable' && prev.type !== 'rightParen')) return false;
    return prev.pos + prev.val.length === pos - 1 && isDigit(input.charCodeAt(pos));
  };

  const lexInsideAction = (): 'action' | 'text' | false => {
    const { delim } = atRightDelim();
    if (delim) {
      if (parenDepth === 0) {
        lexRightDelim();
        return 'text';
      }
      return fail('unclosed left paren');
    }
    const c = next();
    if (c === EOF) return fail('unclosed action');
    if (isSpace(c)) {
      backup();
      let spaces = 0;
      while (isSpace(peek())) {
        next();
        spaces++;
      }
      if (hasRightTrimMarker(input, pos - 1) && input.startsWith(RIGHT_DELIM, pos + 1)) {
        pos -= 1;
        if (spaces === 1) {
          lexRightDelim();
          return 'text';
        }
      }
      emit('space');
      return 'action';
    }
    switch (c) {
      case 0x3d: // =
        emit('assign');
        return 'action';
      case 0x3a: // :
        if (next() !== 0x3d) return fail('expected :=');
        emit('declare');
        return 'action';
      case 0x7c: // |
        emit('pipe');
        return 'action';
      case 0x22: // "
        return lexQuoted(0x22, 'string', 'quoted string') && 'action';
      case 0x60: // `
        for (;;) {
          const r = next();
          if (r === EOF) return fail('unterminated raw quoted string');
          if (r === 0x60) break;
        }
        emit('rawString');
        return 'action';
      case 0x24: // $
        if (atTerminator()) {
          emit('variable');
          return 'action';
        }
        return lexFieldOrVariable('variable') && 'action';
      case 0x27: // '
        return lexQuoted(0x27, 'charConstant', 'character constant') && 'action';
      case 0x28: // (
        emit('leftParen');
        parenDepth++;
        return 'action';
      case 0x29: // )
        parenDepth--;
        if (parenDepth < 0) return fail('unexpected right paren');
        emit('rightParen');
        return 'action';
    }
    if (c === 0x2e) {
      if (pos < input.length && (!isDigit(input.charCodeAt(pos)) || indexSegmentAhead())) {
        return lexFieldOrVariable('field') && 'action';
      }
      backup();
      return lexNumber() && 'action';
    }
    if (c === 0x2b || c === 0x2d || isDigit(c)) {
      backup();
      return lexNumber() && 'action';
    }
    if (isAlphaNumeric(c)) {
      for (;;) {
        const r = next();
        if (!isAlphaNumeric(r)) {
          backup();
          if (!atTerminator()) return fail(`bad character ${formatRune(r)}`);
          break;
        }
      }
      const word = input.slice(start, pos);
      const kw = KEYWORDS.get(word);
      if (kw) emit(kw);
      else if (word === 'true' || word === 'false') emit('bool');
      else emit('identifier');
      return 'action';
    }
    if (c <= 0x7f && c >= 0x20 && c !== 0x7f) {
      emit('char');
      return 'action';
    }
    return fail(`unrecognized character in action: ${formatRune(c)}`);
  };

  let state: 'text' | 'action' | 'comment' = 'text';
  for (;;) {
    if (state === 'text') {
      const r = lexText();
      if (r === false) break;
      state = r;
    } else if (state === 'comment') {
      if (!lexComment()) break;
      state = 'text';
    } else {
      const r = lexInsideAction();
      if (r === false) break;
      state = r;
    }
  }
  return tokens;
}
