// Sprig's list and dict functions. Dicts are plain JSON objects; `set` and `unset`
// modify their argument in place (templates rely on `{{ $_ := set $d "k" "v" }}`).
import { GoDuration, GoTime } from '../values.js';
import type { JsonValue, TemplateValue } from '../values.js';
import { ANY } from './define.js';
import type { Definitions } from './define.js';
import { FunctionError } from './errors.js';
import { formatV } from './fmt.js';
import { argInt, argMap, argString, goKindName, isEmpty, nilToNull } from './kinds.js';
import type { JsonObject } from './kinds.js';
import { toStringList, untilStep } from './strings.js';
import { compareStrings } from '../utf8.js';

function setKey(obj: JsonObject, key: string, value: TemplateValue): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value as JsonValue;
}

/** A list as a template value; at run time it may also hold times, durations and nils. */
function asList(v: readonly TemplateValue[]): TemplateValue {
  return v as JsonValue[];
}

function has(obj: JsonObject | undefined, key: string): obj is JsonObject {
  return obj !== undefined && Object.hasOwn(obj, key);
}

/** Deep equality of template values (Go's reflect.DeepEqual on JSON data). */
export function deepEqual(a: TemplateValue, b: TemplateValue): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof GoTime || b instanceof GoTime) {
    return a instanceof GoTime && b instanceof GoTime && a.epochMs === b.epochMs && a.nanos === b.nanos && a.zone === b.zone;
  }
  if (a instanceof GoDuration || b instanceof GoDuration) {
    return a instanceof GoDuration && b instanceof GoDuration && a.nanoseconds === b.nanoseconds;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !deepEqual((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  return true;
}

function listArg(v: TemplateValue, what: string, suffix = ''): TemplateValue[] {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null) throw new FunctionError('runtime error: invalid memory address or nil pointer dereference');
  throw new FunctionError(`${what} ${goKindName(v)}${suffix}`);
}

function dict(...kv: TemplateValue[]): JsonObject {
  const out: JsonObject = {};
  for (let i = 0; i < kv.length; i += 2) {
    setKey(out, formatV(kv[i]), i + 1 < kv.length ? nilToNull(kv[i + 1]) : '');
  }
  return out;
}

/** Sprig's list and dict functions. */
export const COLLECTION_FUNCTIONS: Definitions = {
  list: [0, ANY, (...v) => asList(v)],
  tuple: [0, ANY, (...v) => asList(v)],
  dict: [0, ANY, dict],
  get: [
    2,
    2,
    (d, k) => {
      const m = argMap(d);
      const key = argString(k);
      return has(m, key) ? m[key] : '';
    },
  ],
  set: [
    3,
    3,
    (d, k, v) => {
      const m = argMap(d);
      const key = argString(k);
      if (m === undefined) throw new FunctionError('assignment to entry in nil map');
      setKey(m, key, nilToNull(v));
      return m;
    },
  ],
  unset: [
    2,
    2,
    (d, k) => {
      const m = argMap(d);
      const key = argString(k);
      if (has(m, key)) delete m[key];
      return m;
    },
  ],
  hasKey: [2, 2, (d, k) => has(argMap(d), argString(k))],
  pluck: [
    1,
    ANY,
    (k, ...maps) => {
      const key = argString(k);
      const out: TemplateValue[] = [];
      for (const d of maps) {
        const m = argMap(d);
        if (has(m, key)) out.push(m[key]);
      }
      return asList(out);
    },
  ],
  keys: [
    0,
    ANY,
    (...maps) => {
      const out: string[] = [];
      for (const d of maps) {
        const m = argMap(d);
        if (m) out.push(...Object.keys(m));
      }
      return out;
    },
  ],
  values: [1, 1, (d) => Object.values(argMap(d) ?? {})],
  pick: [
    1,
    ANY,
    (d, ...ks) => {
      const m = argMap(d);
      const out: JsonObject = {};
      for (const k of ks) {
        const key = argString(k);
        if (has(m, key)) setKey(out, key, m[key]);
      }
      return out;
    },
  ],
  omit: [
    1,
    ANY,
    (d, ...ks) => {
      const m = argMap(d);
      const skip = new Set(ks.map(argString));
      const out: JsonObject = {};
      if (m) for (const key of Object.keys(m)) if (!skip.has(key)) setKey(out, key, m[key]);
      return out;
    },
  ],
  first: [1, 1, (l) => listArg(l, 'Cannot find first on type')[0]],
  last: [
    1,
    1,
    (l) => {
      const list = listArg(l, 'Cannot find last on type');
      return list[list.length - 1];
    },
  ],
  rest: [1, 1, (l) => asList(listArg(l, 'Cannot find rest on type').slice(1))],
  initial: [1, 1, (l) => asList(listArg(l, 'Cannot find initial on type').slice(0, -1))],
  append: [2, 2, (l, v) => asList([...listArg(l, 'Cannot push on type'), v])],
  push: [2, 2, (l, v) => asList([...listArg(l, 'Cannot push on type'), v])],
  prepend: [2, 2, (l, v) => asList([v, ...listArg(l, 'Cannot prepend on type')])],
  reverse: [1, 1, (l) => asList([...listArg(l, 'Cannot find reverse on type')].reverse())],
  compact: [1, 1, (l) => asList(listArg(l, 'Cannot compact on type').filter((x) => !isEmpty(x)))],
  uniq: [
    1,
    1,
    (l) => {
      const out: TemplateValue[] = [];
      for (const x of listArg(l, 'Cannot find uniq on type')) if (!out.some((y) => deepEqual(x, y))) out.push(x);
      return asList(out);
    },
  ],
  without: [1, ANY, (l, ...omit) => asList(listArg(l, 'Cannot find without on type').filter((x) => !omit.some((y) => deepEqual(x, y))))],
  has: [
    2,
    2,
    (needle, haystack) => {
      if (haystack === undefined || haystack === null) return false;
      return listArg(haystack, 'Cannot find has on type').some((x) => deepEqual(needle, x));
    },
  ],
  concat: [
    0,
    ANY,
    (...lists) => {
      const out: TemplateValue[] = [];
      for (const l of lists) out.push(...listArg(l, 'Cannot concat type', ' as list'));
      return asList(out);
    },
  ],
  sortAlpha: [
    1,
    1,
    (l) => {
      if (Array.isArray(l)) return toStringList(l).sort(compareStrings);
      return [l === undefined || l === null ? '<nil>' : formatV(l)];
    },
  ],
  until: [
    1,
    1,
    (n) => {
      const count = argInt(n);
      return untilStep(0, count, count < 0 ? -1 : 1);
    },
  ],
  untilStep: [3, 3, (a, b, c) => untilStep(argInt(a), argInt(b), argInt(c))],
};
