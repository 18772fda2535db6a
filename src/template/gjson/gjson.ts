/**
 * GJSON paths (https://github.com/tidwall/gjson, SYNTAX.md) evaluated over parsed JSON
 * values: the path language of Higress / Nacos tool templates.
 *
 * gjson walks raw JSON text; this engine walks `JSON.parse` output, with these
 * consequences:
 * - Object key order is JS order: integer-like keys ("0", "42") come first, ascending,
 *   then the others in insertion order. That order decides which key a wildcard
 *   (`a*`) finds first and the order of `@keys`, `@values`, `@reverse`, `@join`.
 * - Duplicate keys cannot exist; where gjson would emit two (`{…}` multipaths that name
 *   two members alike, `@join:{"preserve":true}`) the first one is kept, which is also
 *   what a later gjson lookup of that key would find.
 * - Values carry no formatting, so `@pretty` / `@ugly` return their input (`@pretty`
 *   still honours `sortKeys`) and `@tostr` gives compact JSON.
 * - A path applied to a string finds nothing (gjson would scan the string's raw text
 *   for a `{` or `[`), and a `!literal` that is not valid JSON yields nothing (gjson
 *   returns the broken text).
 *
 * Everything else follows gjson's own splitting and matching code, corners included
 * (`|` vs `.` after queries, a `#(…)#` without matches giving `[]`, malformed paths
 * giving what gjson gives for them). Compiling and evaluating never throw.
 */
import type { JsonValue } from '../values.js';
import { Glob } from './match.js';
import { literalEvaluator, MODIFIERS, type Evaluator } from './modifiers.js';
import { goParseBoolLower, goParseFloat, parseLeadingJson, setKey, type Val } from './scalars.js';
import { compareStrings } from '../utf8.js';
import {
  isSimpleName,
  nameOfLast,
  parseArrayPath,
  parseModifier,
  parseObjectPath,
  parseStatic,
  parseSubSelectors,
  splitPossiblePipe,
} from './syntax.js';

/** A parsed path, compiled once; `get` returns `undefined` when nothing matches. */
export interface CompiledPath {
  get(data: JsonValue | undefined): JsonValue | undefined;
}

type JsonObject = { [key: string]: JsonValue };

/** The state gjson threads through one component walk: the result so far and a pending `|` path. */
interface Walk {
  value: Val;
  pipe: CompiledPath | undefined;
}

// ---------------------------------------------------------------------------------
// Plain key chains: the template engine's `.a.b.c`, compiled to a loop of lookups.

const SPECIAL = /[\\|#@*?![\]{}()]/;

/** True when `path` is only plain keys joined by single dots (`args.city`, `items.0.name`). */
export function isSimplePath(path: string): boolean {
  if (path.length === 0 || path[0] === '.' || path[path.length - 1] === '.') return false;
  return !SPECIAL.test(path) && !path.includes('..');
}

function arrayIndex(key: string): number {
  if (key.length === 0) return -1;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(key);
}

class KeyChain implements CompiledPath {
  private readonly keys: readonly string[];
  private readonly indexes: readonly number[];
  /** Keys that name an `Object.prototype` member, so a plain lookup could find an inherited one. */
  private readonly inherited: readonly boolean[];

  constructor(path: string) {
    this.keys = path.split('.');
    this.indexes = this.keys.map(arrayIndex);
    this.inherited = this.keys.map((k) => k in Object.prototype);
  }

  get(data: Val): Val {
    const { keys, indexes, inherited } = this;
    let cur = data;
    for (let i = 0; i < keys.length; i++) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      if (Array.isArray(cur)) {
        const ix = indexes[i] as number;
        if (ix < 0) return undefined;
        cur = cur[ix];
      } else {
        const key = keys[i] as string;
        if (inherited[i] === true && !Object.hasOwn(cur, key)) return undefined;
        cur = cur[key];
      }
    }
    return cur;
  }
}

// ---------------------------------------------------------------------------------
// Components: one path string read per gjson's parseObjectPath / parseArrayPath. The
// same text splits differently on an object and on an array, so each reading is
// compiled on first use.

interface ObjectStep {
  key: string;
  glob: Glob | undefined;
  more: Component | undefined;
  pipe: CompiledPath | undefined;
}

interface Query {
  path: CompiledPath;
  pathEmpty: boolean;
  op: string;
  value: string;
  num: number;
  glob: Glob | undefined;
  /** For `~true` / `~false` / `~null` / `~*`: the truthiness test, or 'unknown' for another word. */
  tilde: 'true' | 'false' | 'null' | '*' | 'unknown' | undefined;
  all: boolean;
}

interface Split {
  left: CompiledPath;
  right: CompiledPath | undefined;
}

const enum ArrayKind {
  Index,
  Count,
  Map,
  Query,
  Nothing,
}

interface ArrayStep {
  kind: ArrayKind;
  index: number;
  more: Component | undefined;
  pipe: CompiledPath | undefined;
  /** For Map (`#.rest`) and Query with a rest: per-element path and trailing `|` path. */
  split: Split | undefined;
  query: Query | undefined;
}

class Component {
  private objectStep: ObjectStep | undefined;
  private arrayStep: ArrayStep | undefined;

  constructor(private readonly source: string) {}

  get onObject(): ObjectStep {
    return (this.objectStep ??= compileObjectStep(this.source));
  }

  get onArray(): ArrayStep {
    return (this.arrayStep ??= compileArrayStep(this.source));
  }
}

function compileObjectStep(path: string): ObjectStep {
  const r = parseObjectPath(path);
  return {
    key: r.part,
    glob: r.wild ? new Glob(r.part) : undefined,
    more: r.more === undefined ? undefined : new Component(r.more),
    pipe: r.pipe === undefined ? undefined : compileGet(r.pipe),
  };
}

function compileSplit(path: string): Split {
  const parts = splitPossiblePipe(path);
  if (parts === undefined) return { left: compileGet(path), right: undefined };
  return { left: compileGet(parts[0]), right: compileGet(parts[1]) };
}

function tildeOf(value: string): Query['tilde'] {
  if (value[0] !== '~') return undefined;
  const word = value.slice(1);
  return word === 'true' || word === 'false' || word === 'null' || word === '*' ? word : 'unknown';
}

function compileArrayStep(path: string): ArrayStep {
  const r = parseArrayPath(path);
  const step: ArrayStep = {
    kind: ArrayKind.Nothing,
    index: -1,
    more: undefined,
    pipe: r.pipe === undefined ? undefined : compileGet(r.pipe),
    split: undefined,
    query: undefined,
  };
  if (r.query !== undefined) {
    const q = r.query;
    step.kind = ArrayKind.Query;
    step.query = {
      path: compileGet(q.path),
      pathEmpty: q.path === '',
      op: q.op,
      value: q.value,
      num: goParseFloat(q.value),
      glob: q.op === '%' || q.op === '!%' ? new Glob(q.value) : undefined,
      tilde: tildeOf(q.value),
      all: q.all,
    };
    if (r.more !== undefined) step.split = compileSplit(r.more);
  } else if (r.arrch) {
    if (r.part === '#') {
      step.kind = r.alogok ? ArrayKind.Map : ArrayKind.Count;
      if (r.alogok) step.split = compileSplit(r.more ?? '');
    }
  } else {
    step.kind = ArrayKind.Index;
    step.index = arrayIndex(r.part);
    if (r.more !== undefined) step.more = new Component(r.more);
  }
  return step;
}

function descend(walk: Walk, v: Val, more: Component | undefined): boolean {
  if (more === undefined) {
    walk.value = v;
    return true;
  }
  if (typeof v !== 'object' || v === null) return false;
  return Array.isArray(v) ? walkArray(walk, v, more.onArray) : walkObject(walk, v, more.onObject);
}

function walkObject(walk: Walk, obj: JsonObject, step: ObjectStep): boolean {
  if (step.pipe !== undefined) walk.pipe = step.pipe;
  if (step.glob === undefined) {
    return Object.hasOwn(obj, step.key) && descend(walk, obj[step.key], step.more);
  }
  for (const key of Object.keys(obj)) {
    if (step.glob.match(key) && descend(walk, obj[key], step.more)) return true;
  }
  return false;
}

function walkArray(walk: Walk, arr: readonly JsonValue[], step: ArrayStep): boolean {
  if (step.pipe !== undefined) walk.pipe = step.pipe;
  switch (step.kind) {
    case ArrayKind.Index:
      return step.index >= 0 && step.index < arr.length && descend(walk, arr[step.index], step.more);
    case ArrayKind.Count:
      walk.value = arr.length;
      return true;
    case ArrayKind.Map: {
      const split = step.split as Split;
      if (split.right !== undefined) walk.pipe = split.right;
      const out: JsonValue[] = [];
      for (const e of arr) {
        const r = split.left.get(e);
        if (r !== undefined) out.push(r);
      }
      walk.value = out;
      return true;
    }
    case ArrayKind.Query:
      return runQuery(walk, arr, step, step.query as Query);
    case ArrayKind.Nothing:
      return false;
  }
}

function runQuery(walk: Walk, arr: readonly JsonValue[], step: ArrayStep, q: Query): boolean {
  let matches: JsonValue[] | undefined;
  for (const e of arr) {
    let res: Val;
    if (typeof e === 'object' && e !== null) res = q.path.get(e);
    else if (q.pathEmpty) res = e;
    else continue;
    if (!queryMatches(q, res)) continue;
    if (step.split !== undefined) {
      if (step.split.right !== undefined) walk.pipe = step.split.right;
      res = step.split.left.get(e);
    } else {
      res = e;
    }
    if (!q.all) {
      walk.value = res;
      return true;
    }
    if (res !== undefined) (matches ??= []).push(res);
  }
  if (walk.value === undefined && q.all) walk.value = matches ?? [];
  return false;
}

function truthiness(tilde: Query['tilde'], v: Val): boolean | undefined {
  switch (tilde) {
    case '*':
      return v !== undefined;
    case 'null':
      return v === null || v === undefined;
    case 'true':
      return v === true || (typeof v === 'string' ? goParseBoolLower(v) === true : typeof v === 'number' && v !== 0);
    case 'false':
      return (
        v === undefined ||
        v === null ||
        v === false ||
        (typeof v === 'string' ? goParseBoolLower(v) === false : typeof v === 'number' && v === 0)
      );
    default:
      return undefined;
  }
}

/** gjson's queryMatches: the comparison kind follows the element's type, not the literal's. */
function queryMatches(q: Query, value: Val): boolean {
  let rpv = q.value;
  let v = value;
  if (q.tilde !== undefined) {
    const ish = truthiness(q.tilde, v);
    if (ish === undefined) return false;
    rpv = 'true';
    v = ish;
  }
  if (v === undefined) return false;
  if (q.op === '') return true;
  switch (typeof v) {
    case 'string':
      switch (q.op) {
        case '=':
          return v === rpv;
        case '!=':
          return v !== rpv;
        case '<':
          return compareStrings(v, rpv) < 0;
        case '<=':
          return compareStrings(v, rpv) <= 0;
        case '>':
          return compareStrings(v, rpv) > 0;
        case '>=':
          return compareStrings(v, rpv) >= 0;
        case '%':
          return (q.glob as Glob).match(v);
        case '!%':
          return !(q.glob as Glob).match(v);
      }
      return false;
    case 'number': {
      const n = q.num;
      switch (q.op) {
        case '=':
          return v === n;
        case '!=':
          return v !== n;
        case '<':
          return v < n;
        case '<=':
          return v <= n;
        case '>':
          return v > n;
        case '>=':
          return v >= n;
      }
      return false;
    }
    case 'boolean':
      if (v) {
        switch (q.op) {
          case '=':
            return rpv === 'true';
          case '!=':
            return rpv !== 'true';
          case '>':
            return rpv === 'false';
          case '>=':
            return true;
        }
      } else {
        switch (q.op) {
          case '=':
            return rpv === 'false';
          case '!=':
            return rpv !== 'false';
          case '<':
            return rpv === 'true';
          case '<=':
            return true;
        }
      }
      return false;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------
// Whole paths (gjson's Get): modifiers, literals and multipaths at the front, then
// components, then any pending `|` path.

class ComponentPath implements CompiledPath {
  private readonly component: Component;

  constructor(path: string) {
    this.component = new Component(path);
  }

  get(data: Val): Val {
    if (typeof data !== 'object' || data === null) return undefined;
    const walk: Walk = { value: undefined, pipe: undefined };
    if (Array.isArray(data)) walkArray(walk, data, this.component.onArray);
    else walkObject(walk, data, this.component.onObject);
    return walk.pipe === undefined ? walk.value : walk.pipe.get(walk.value);
  }
}

/** `..path`: JSON Lines mode; a parsed value is a stream of one document. */
class LinesPath implements CompiledPath {
  private readonly component: Component;

  constructor(path: string) {
    this.component = new Component(path);
  }

  get(data: Val): Val {
    const walk: Walk = { value: undefined, pipe: undefined };
    walkArray(walk, data === undefined ? [] : [data], this.component.onArray);
    return walk.pipe === undefined ? walk.value : walk.pipe.get(walk.value);
  }
}

class StepPath implements CompiledPath {
  constructor(
    private readonly step: Evaluator,
    private readonly rest: CompiledPath | undefined,
  ) {}

  get(data: Val): Val {
    const v = this.step(data);
    return this.rest === undefined ? v : this.rest.get(v);
  }
}

interface Member {
  key: string;
  path: CompiledPath;
}

class MultiPath implements CompiledPath {
  constructor(
    private readonly members: readonly Member[],
    private readonly asObject: boolean,
    private readonly rest: CompiledPath | undefined,
  ) {}

  get(data: Val): Val {
    let out: JsonValue;
    if (this.asObject) {
      const obj: JsonObject = {};
      for (const m of this.members) {
        const v = m.path.get(data);
        if (v !== undefined && !Object.hasOwn(obj, m.key)) setKey(obj, m.key, v);
      }
      out = obj;
    } else {
      const arr: JsonValue[] = [];
      for (const m of this.members) {
        const v = m.path.get(data);
        if (v !== undefined) arr.push(v);
      }
      out = arr;
    }
    return this.rest === undefined ? out : this.rest.get(out);
  }
}

function memberKey(name: string, path: string): string {
  if (name.length > 0) {
    if (name[0] === '"') {
      try {
        const decoded: unknown = JSON.parse(name);
        if (typeof decoded === 'string') return decoded;
      } catch {
        // not a JSON string: the name is taken literally, quotes included
      }
    }
    return name;
  }
  const last = nameOfLast(path);
  return isSimpleName(last) ? last : '_';
}

function restAfter(rest: string): CompiledPath | undefined {
  return rest[0] === '|' || rest[0] === '.' ? compileGet(rest.slice(1)) : undefined;
}

const evaluatorOf = (path: string): Evaluator => {
  const compiled = compileGet(path);
  return (v) => compiled.get(v);
};

function compileGet(source: string): CompiledPath {
  let path = source;
  if (path.length > 1) {
    const c0 = path[0];
    if (c0 === '@') {
      const m = parseModifier(path);
      if (m !== undefined) {
        const factory = MODIFIERS.get(m.name);
        if (factory !== undefined) return new StepPath(factory(m.arg, evaluatorOf), restAfter(m.rest));
      }
    } else if (c0 === '!') {
      const s = parseStatic(path);
      if (s !== undefined) return new StepPath(literalEvaluator(parseLeadingJson(s.raw)), restAfter(s.rest));
    }
    if (c0 === '[' || c0 === '{') {
      const sub = parseSubSelectors(path);
      if (sub !== undefined && (sub.rest === '' || sub.rest[0] === '|' || sub.rest[0] === '.')) {
        const members = sub.sels.map((s) => ({ key: memberKey(s.name, s.path), path: compileGet(s.path) }));
        return new MultiPath(members, c0 === '{', sub.rest === '' ? undefined : compileGet(sub.rest.slice(1)));
      }
      // As in gjson, a multipath that does not close leaves an empty path, and one
      // followed by anything but `.`/`|` leaves what follows it.
      path = sub === undefined ? '' : sub.rest;
    }
  }
  if (path.length >= 2 && path[0] === '.' && path[1] === '.') return new LinesPath(path.slice(2));
  if (isSimplePath(path)) return new KeyChain(path);
  return new ComponentPath(path);
}

// ---------------------------------------------------------------------------------
// Public API

const NOTHING: CompiledPath = { get: () => undefined };

/** Contains the rare failure (a stack overflow on a pathologically deep path or document). */
class GuardedPath implements CompiledPath {
  constructor(private readonly inner: CompiledPath) {}

  get(data: Val): Val {
    try {
      return this.inner.get(data);
    } catch {
      return undefined;
    }
  }
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, CompiledPath>();

/** Compiles a GJSON path (cached); never throws: a path gjson cannot use matches nothing. */
export function compilePath(path: string): CompiledPath {
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  let compiled: CompiledPath;
  try {
    compiled = isSimplePath(path) ? new KeyChain(path) : new GuardedPath(compileGet(path));
  } catch {
    compiled = NOTHING;
  }
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(path, compiled);
  return compiled;
}

/** Evaluates a GJSON path against a parsed JSON value; `undefined` means no result. */
export function gjsonGet(data: JsonValue | undefined, path: string): JsonValue | undefined {
  return compilePath(path).get(data);
}
