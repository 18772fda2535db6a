/**
 * gjson's built-in modifiers (`@reverse`, `@keys`, …) over parsed JSON values. gjson's
 * modifiers rewrite JSON text; here they map a value to a value, which is the same
 * thing minus formatting (`@pretty` / `@ugly` only matter for `sortKeys`).
 */
import type { JsonValue } from '../values.js';
import { cloneJson, isObject, parseLeadingJson, resultBool, setKey, type Val } from './scalars.js';
import { compareStrings } from '../utf8.js';

/** A compiled path or modifier step: value in, value out. */
export type Evaluator = (v: Val) => Val;

/** Builds a modifier from its argument text (after `:`); `compile` compiles a nested GJSON path. */
export type ModifierFactory = (arg: string, compile: (path: string) => Evaluator) => Evaluator;

function boolOption(arg: string, name: string): boolean {
  if (arg === '') return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(arg);
  } catch {
    return false;
  }
  if (!isObject(parsed as Val)) return false;
  const opts = parsed as { [key: string]: JsonValue };
  return Object.hasOwn(opts, name) ? resultBool(opts[name]) : false;
}

const identity: Evaluator = (v) => v;

function sortKeysDeep(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (!isObject(v)) return v;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(v).sort(compareStrings)) setKey(out, key, sortKeysDeep(v[key] as JsonValue));
  return out;
}

function reverse(v: Val): Val {
  if (Array.isArray(v)) return v.slice().reverse();
  if (isObject(v)) {
    const out: { [key: string]: JsonValue } = {};
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      setKey(out, key, v[key] as JsonValue);
    }
    return out;
  }
  return v;
}

function flatten(arr: readonly JsonValue[], deep: boolean): JsonValue[] {
  const out: JsonValue[] = [];
  for (const e of arr) {
    if (Array.isArray(e)) {
      for (const inner of deep ? flatten(e, true) : e) out.push(inner);
    } else {
      out.push(e);
    }
  }
  return out;
}

function join(v: Val, preserve: boolean): Val {
  if (!Array.isArray(v)) return v;
  const out: { [key: string]: JsonValue } = {};
  for (const e of v) {
    if (!isObject(e)) continue;
    for (const key of Object.keys(e)) {
      if (preserve && Object.hasOwn(out, key)) continue;
      setKey(out, key, e[key] as JsonValue);
    }
  }
  return out;
}

function keys(v: Val): Val {
  if (v === undefined) return [];
  if (isObject(v)) return Object.keys(v);
  if (Array.isArray(v)) return v.map(() => null);
  return [null];
}

function values(v: Val): Val {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [v];
}

function fromStr(v: Val): Val {
  if (typeof v === 'string') return parseLeadingJson(v);
  return v === null ? undefined : v;
}

function group(v: Val): Val {
  if (!isObject(v)) return undefined;
  const rows: { [key: string]: JsonValue }[] = [];
  for (const key of Object.keys(v)) {
    const column = v[key];
    if (!Array.isArray(column)) continue;
    column.forEach((cell, i) => {
      const row = (rows[i] ??= {});
      setKey(row, key, cell);
    });
  }
  return rows;
}

function dig(all: JsonValue[], parent: Val, find: Evaluator): void {
  const found = find(parent);
  if (found !== undefined) all.push(found);
  if (Array.isArray(parent)) {
    for (const child of parent) dig(all, child, find);
  } else if (isObject(parent)) {
    for (const key of Object.keys(parent)) dig(all, parent[key], find);
  }
}

/** Every built-in modifier, by name (without the `@`). */
export const MODIFIERS: ReadonlyMap<string, ModifierFactory> = new Map<string, ModifierFactory>([
  ['pretty', (arg) => (boolOption(arg, 'sortKeys') ? (v) => (v === undefined ? v : sortKeysDeep(v)) : identity)],
  ['ugly', () => identity],
  ['this', () => identity],
  ['valid', () => identity],
  ['reverse', () => reverse],
  [
    'flatten',
    (arg) => {
      const deep = boolOption(arg, 'deep');
      return (v) => (Array.isArray(v) ? flatten(v, deep) : v);
    },
  ],
  [
    'join',
    (arg) => {
      const preserve = boolOption(arg, 'preserve');
      return (v) => join(v, preserve);
    },
  ],
  ['keys', () => keys],
  ['values', () => values],
  ['tostr', () => (v) => (v === undefined ? '' : JSON.stringify(v))],
  ['fromstr', () => fromStr],
  ['group', () => group],
  [
    'dig',
    (arg, compile) => {
      const find = compile(arg);
      return (v) => {
        const all: JsonValue[] = [];
        dig(all, v, find);
        return all;
      };
    },
  ],
]);

/** A fresh copy of a literal's value for each evaluation. */
export function literalEvaluator(value: Val): Evaluator {
  return value === null || typeof value !== 'object' ? () => value : () => cloneJson(value);
}
