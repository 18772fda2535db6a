/**
 * Text → search terms, the same way for tool descriptors and for queries: identifiers split at
 * snake_case, kebab-case, dots and camelCase boundaries; English words lower-cased, stop words
 * dropped and lightly stemmed; Chinese, Japanese and Korean runs cut into overlapping character
 * bigrams (the way Lucene's CJK analyzer does: these scripts put no spaces between words, and a
 * bigram index needs no dictionary).
 *
 * Hand-written rather than taken from a library: the tokenizers of the JavaScript search
 * libraries (minisearch, wink-nlp, lunr) split on spaces and punctuation only — none splits
 * camelCase identifiers or indexes CJK text — so this part would be ours either way.
 */

/** Longest text read from one input; the rest is ignored (bounds the work a hostile input causes). */
export const MAX_TEXT_CHARS = 20_000;
/** Longest term kept; longer runs (hashes, base64) are cut to this length. */
export const MAX_TERM_CHARS = 40;

/**
 * Words too common in tool descriptions and agent queries to tell tools apart. Deliberately
 * short: "get", "list", "create" and other verbs stay, they separate `get_issue` from `list_issues`.
 */
const STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'about', 'all', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'by', 'can', 'could', 'do', 'does',
  'for', 'from', 'give', 'given', 'has', 'have', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its',
  'me', 'my', 'need', 'of', 'on', 'one', 'or', 'our', 'please', 'should', 'some', 'that', 'the',
  'their', 'them', 'then', 'there', 'these', 'this', 'those', 'to', 'us', 'use', 'used', 'using',
  'via', 'want', 'was', 'we', 'were', 'what', 'when', 'where', 'which', 'who', 'whose', 'will',
  'with', 'would', 'you', 'your',
]);

/** Character classes of the scanner. */
const SEPARATOR = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
/** A letter without case (Arabic, Thai, Devanagari...) or a combining mark: part of a word, never a boundary. */
const CASELESS = 4;
/** Han, kana, Hangul: scripts written without spaces between words. */
const CJK = 5;

const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const NUMBER = /\p{N}/u;

/**
 * The class of one code point. ASCII is decided by ranges and CJK by the Unicode blocks of Han
 * (with extensions and compatibility ideographs), kana and Hangul; only other non-ASCII
 * characters go through a Unicode-property test. A hand-written scanner rather than a Unicode
 * regular expression: the regex version took ~50 µs per description, six times the whole build.
 */
function classOf(cp: number, ch: string): number {
  if (cp < 0x80) {
    if (cp >= 0x61 && cp <= 0x7a) return LOWER;
    if (cp >= 0x41 && cp <= 0x5a) return UPPER;
    if (cp >= 0x30 && cp <= 0x39) return DIGIT;
    return SEPARATOR;
  }
  if (
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK unified ideographs
    (cp >= 0x3400 && cp <= 0x4dbf) || // extension A
    (cp >= 0x3040 && cp <= 0x30ff && cp !== 0x30fb) || // hiragana, katakana (not the middle dot)
    (cp >= 0xac00 && cp <= 0xd7af) || // Hangul syllables
    (cp >= 0x1100 && cp <= 0x11ff) || // Hangul jamo
    (cp >= 0x3130 && cp <= 0x318f) || // Hangul compatibility jamo
    (cp >= 0x31f0 && cp <= 0x31ff) || // katakana phonetic extensions
    (cp >= 0xf900 && cp <= 0xfaff) || // compatibility ideographs
    (cp >= 0x20000 && cp <= 0x3134f) || // extensions B to G
    cp === 0x3005 || cp === 0x3007 // 々, 〇
  ) {
    return CJK;
  }
  if (LETTER_OR_MARK.test(ch)) {
    const lower = ch.toLowerCase();
    if (lower !== ch) return UPPER;
    return ch.toUpperCase() !== ch ? LOWER : CASELESS;
  }
  return NUMBER.test(ch) ? DIGIT : SEPARATOR;
}

const VOWEL = /[aeiouy]/;
/** Words the suffix rules would wrongly merge with another ("news" is not the plural of "new"). */
const STEM_EXCEPTIONS: ReadonlySet<string> = new Set(['news', 'series', 'species', 'always', 'perhaps']);

/** Whether a text is plain ASCII, which NFKC leaves as it is. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function isAsciiLowercase(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return false;
  }
  return true;
}

/**
 * A light English stemmer: the plural, `-ing`, `-ed` and final-`e` steps of Porter's algorithm,
 * enough for "issues"/"issue", "creating"/"create"/"created" and "queries"/"query" to meet.
 * Short words and words without a vowel left are kept as they are. Applied to queries and
 * descriptors alike, so a stem only has to be consistent, not a dictionary word.
 */
export function stem(word: string): string {
  if (word.length <= 3 || STEM_EXCEPTIONS.has(word) || !isAsciiLowercase(word)) return word;
  let w = word;
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const suffix of ['ing', 'ed']) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3 && VOWEL.test(w.slice(0, -suffix.length))) {
      w = w.slice(0, -suffix.length);
      // running → run, stopped → stop (but not "fill", "pass", "buzz")
      const last = w.at(-1);
      if (last !== undefined && last === w.at(-2) && !'lsz'.includes(last)) w = w.slice(0, -1);
      break;
    }
  }
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  if (w.endsWith('y') && w.length > 3 && !VOWEL.test(w.at(-2) ?? 'a')) w = `${w.slice(0, -1)}i`;
  return w;
}

/** Appends the terms of one CJK run: its overlapping bigrams, or the character itself when the run is one character long. */
function cjkTerms(run: string, out: string[]): void {
  const chars = Array.from(run);
  if (chars.length === 1) {
    out.push(run);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) out.push(`${chars[i]}${chars[i + 1]}`);
}

/** Appends the term of one word (a letter-and-digit part of an identifier), unless it is a stop word. */
function wordTerm(part: string, out: string[]): void {
  const word = part.toLowerCase();
  if (STOP_WORDS.has(word)) return;
  const term = stem(word);
  out.push(term.length > MAX_TERM_CHARS ? term.slice(0, MAX_TERM_CHARS) : term);
}

/**
 * The search terms of a text, in order, duplicates kept (term frequency counts). Anything that
 * is not a string yields no term. Only the first {@link MAX_TEXT_CHARS} characters are read.
 *
 * Letters and digits make words; everything else (spaces, `_`, `-`, `.`, `/`, punctuation,
 * emoji) separates them. Inside a word, a new word starts at a camelCase or PascalCase boundary
 * (`getUser` → get, user; `HTTPServer` → http, server) and where letters meet digits
 * (`forecast15days` → forecast, 15, day; queries are cut the same way, so `pm2.5` meets `PM2.5`).
 */
export function tokenize(text: unknown): string[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  let input = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
  if (!isAscii(input)) input = input.normalize('NFKC');
  const out: string[] = [];
  const n = input.length;
  let i = 0;
  while (i < n) {
    const cp = input.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const kind = classOf(cp, width === 1 ? input[i]! : input.slice(i, i + 2));
    if (kind === SEPARATOR) {
      i += width;
      continue;
    }
    if (kind === CJK) {
      const start = i;
      i += width;
      while (i < n) {
        const next = input.codePointAt(i)!;
        const w = next > 0xffff ? 2 : 1;
        if (classOf(next, w === 1 ? input[i]! : input.slice(i, i + 2)) !== CJK) break;
        i += w;
      }
      cjkTerms(input.slice(start, i), out);
      continue;
    }
    let start = i;
    let previous = kind;
    i += width;
    while (i < n) {
      const next = input.codePointAt(i)!;
      const w = next > 0xffff ? 2 : 1;
      let k = classOf(next, w === 1 ? input[i]! : input.slice(i, i + 2));
      if (k === SEPARATOR || k === CJK) break;
      if (k === CASELESS) k = previous === DIGIT ? LOWER : previous;
      const boundary =
        (previous === LOWER && k === UPPER) ||
        (previous === UPPER && k === UPPER && i + w < n && classOf(input.codePointAt(i + w)!, input[i + w]!) === LOWER) ||
        (previous === DIGIT) !== (k === DIGIT);
      if (boundary) {
        wordTerm(input.slice(start, i), out);
        start = i;
      }
      previous = k;
      i += w;
    }
    wordTerm(input.slice(start, i), out);
  }
  return out;
}
