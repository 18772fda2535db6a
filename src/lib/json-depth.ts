/**
 * A nesting limit for JSON text, checked before `JSON.parse` (registry bodies and parameters, the
 * gateway's MCP bodies): V8 parses a megabyte of `[[[…]]]`
 * in seconds, blocking every other request meanwhile, and what is built from it (schema checks,
 * copies) recurses. No real registry document nests deeper than a few dozen levels.
 *
 * Hand-written: one linear scan over the text, cheaper than any parser that could count depth.
 */
import { AppError } from './errors.js';

/** How deeply arrays and objects may nest in a JSON body or JSON-valued parameter. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The offset of the first `[` or `{` that opens level `max + 1`, or -1 when the text nests no
 * deeper than `max`. Brackets inside strings do not count. The text need not be valid JSON (the
 * parser that follows says what is wrong with it).
 */
export function jsonDepthExceeded(text: string, max = MAX_JSON_DEPTH): number {
  // A text shorter than the limit cannot nest deeper than it.
  if (text.length <= max) return -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return -1;
}

/** Throw `JSON_TOO_DEEP` (400, naming the limit and `field`) when `text` nests deeper than the limit. */
export function checkJsonDepth(text: string, field: string, max = MAX_JSON_DEPTH): void {
  const at = jsonDepthExceeded(text, max);
  if (at >= 0) throw new AppError('JSON_TOO_DEEP', `${field}: JSON nested deeper than ${max} levels (at offset ${at}); the limit is ${max}`, field);
}

/** `JSON.parse` after the depth check; a syntax error is `INVALID_JSON` naming `field`. */
export function parseJsonText(text: string, field: string): unknown {
  checkJsonDepth(text, field);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('INVALID_JSON', `${field} is not valid JSON: ${(err as Error).message}`, field);
  }
}
