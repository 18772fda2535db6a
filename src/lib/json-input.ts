/**
 * Limits on JSON taken from a request, checked once at the edge: how deep it nests (recursive
 * code further on — JSON.stringify when storing, schema compilers — would overflow the stack),
 * and no NUL character in any string or key (databases cannot store it in text).
 */
import { invalid } from './errors.js';
import { MAX_JSON_DEPTH, parseJsonText } from './json-depth.js';
/** Field paths in messages name at most this many levels. */
const NAMED_LEVELS = 8;

/** Throws `VALIDATION_FAILED` naming the field when `value` nests deeper than `MAX_JSON_DEPTH` or holds a NUL character. */
export function checkJsonInput(value: unknown, field: string): void {
  const stack: [unknown, string, number][] = [[value, field, 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) throw invalid(path || 'body', 'must not contain a NUL character');
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) throw invalid(path || 'body', `nests deeper than ${MAX_JSON_DEPTH} levels`);
    const named = depth < NAMED_LEVELS;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], named ? `${path}[${i}]` : path, depth + 1]);
      continue;
    }
    for (const [k, x] of Object.entries(v)) {
      const child = named ? (path ? `${path}.${k}` : k) : path;
      if (k.includes('\0')) throw invalid(child.replace(/\0/g, '\\0') || 'body', 'must not contain a NUL character');
      stack.push([x, child, depth + 1]);
    }
  }
}

/**
 * Whether JSON text may hold a NUL character in a string or key once parsed: only as a raw NUL
 * or the escape `\u0000`. Text without either needs no `checkJsonInput` walk after a parse whose
 * depth was checked on the text (`parseJsonText`): the walk would find nothing.
 */
export function jsonTextMayHoldNul(text: string): boolean {
  return text.includes('\0') || text.includes('\\u0000');
}

/**
 * JSON text taken from a request, parsed under the same limits: `INVALID_JSON` naming the field
 * when malformed or nested too deep (checked on the text), `VALIDATION_FAILED` when a string or
 * key holds a NUL — walked for only when the text may hold one.
 */
export function parseJsonInput(text: string, field: string): unknown {
  const value = parseJsonText(text, field);
  if (jsonTextMayHoldNul(text)) checkJsonInput(value, field);
  return value;
}
