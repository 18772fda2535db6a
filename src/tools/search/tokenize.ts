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

/** Han (with extensions and compatibility ideographs), kana, Hangul: scripts written without spaces between words. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/**
 * One token of the raw text: a run of CJK characters, or a run of letters and digits (with the
 * marks that combine with them). Everything else — spaces, `_`, `-`, `.`, `/`, punctuation,
 * emoji — separates tokens.
 */
const RUN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}\p{M}])+/gu;
/** camelCase and PascalCase boundaries: `getUser` → `get User`, `HTTPServer` → `HTTP Server`. */
const CAMEL = /(\p{Ll})(\p{Lu})|(\p{Lu})(\p{Lu}\p{Ll})/gu;

const VOWEL = /[aeiouy]/;

/**
 * A light English stemmer: the plural, `-ing`, `-ed` and final-`e` steps of Porter's algorithm,
 * enough for "issues"/"issue", "creating"/"create"/"created" and "queries"/"query" to meet.
 * Short words and words without a vowel left are kept as they are. Applied to queries and
 * descriptors alike, so a stem only has to be consistent, not a dictionary word.
 */
export function stem(word: string): string {
  if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
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

/**
 * The search terms of a text, in order, duplicates kept (term frequency counts). Anything that
 * is not a string yields no term. Only the first {@link MAX_TEXT_CHARS} characters are read.
 */
export function tokenize(text: unknown): string[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  const input = (text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text).normalize('NFKC');
  const out: string[] = [];
  for (const [run] of input.matchAll(RUN)) {
    if (CJK.test(run)) {
      cjkTerms(run, out);
      continue;
    }
    for (const part of run.replace(CAMEL, '$1$3 $2$4').split(' ')) {
      const word = part.toLowerCase();
      if (word.length === 0 || STOP_WORDS.has(word)) continue;
      const term = stem(word);
      out.push(term.length > MAX_TERM_CHARS ? term.slice(0, MAX_TERM_CHARS) : term);
    }
  }
  return out;
}
