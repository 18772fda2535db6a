// The function table templates call: Go's builtins plus Sprig's text functions
// (nothing that reads the environment, the file system or the network).
import { GoDuration, GoTime } from '../values.js';
import type { TemplateValue } from '../values.js';
import { gjsonGet } from '../gjson/gjson.js';
import { BUILTINS } from './builtins.js';
import { COLLECTION_FUNCTIONS } from './collections.js';
import { DATE_FUNCTIONS } from './dates.js';
import type { Definitions, TemplateFunction } from './define.js';
import { ArgumentError } from './errors.js';
import { argString, asJson } from './kinds.js';
import { STRING_FUNCTIONS } from './strings.js';

export type { TemplateFunction } from './define.js';
export { CLIENT_FUNCTIONS, addressOf } from './client.js';
export type { ClientFunction, RenderClient } from './client.js';
export { ArgumentError, FunctionError } from './errors.js';
export { isTrue, printValue } from './print.js';

/** `gjson PATH DATA` (`DATA | gjson PATH`); the evaluator implements the one-argument form on dot. */
const GJSON: Definitions = {
  gjson: [2, 2, (path, data) => gjsonGet(data instanceof GoTime || data instanceof GoDuration ? undefined : asJson(data), argString(path))],
};

function arityMessage(name: string, min: number, max: number, got: number): string {
  if (max === Number.POSITIVE_INFINITY) return `wrong number of args for ${name}: want at least ${min} got ${got}`;
  if (min === max) return `wrong number of args for ${name}: want ${min} got ${got}`;
  return got < min ? `wrong number of args for ${name}: want at least ${min} got ${got}` : `wrong number of args for ${name}: want at most ${max} got ${got}`;
}

function checked(name: string, min: number, max: number, fn: TemplateFunction): TemplateFunction {
  switch (min === max ? min : -1) {
    case 0:
      return (...args: TemplateValue[]) => {
        if (args.length !== 0) throw new ArgumentError(arityMessage(name, min, max, args.length));
        return fn();
      };
    case 1:
      return (...args: TemplateValue[]) => {
        if (args.length !== 1) throw new ArgumentError(arityMessage(name, min, max, args.length));
        return fn(args[0]);
      };
    case 2:
      return (...args: TemplateValue[]) => {
        if (args.length !== 2) throw new ArgumentError(arityMessage(name, min, max, args.length));
        return fn(args[0], args[1]);
      };
    default:
      return (...args: TemplateValue[]) => {
        if (args.length < min || args.length > max) throw new ArgumentError(arityMessage(name, min, max, args.length));
        return fn(...args);
      };
  }
}

function build(...groups: Definitions[]): [Map<string, TemplateFunction>, Map<string, readonly [number, number]>] {
  const fns = new Map<string, TemplateFunction>();
  const arity = new Map<string, readonly [number, number]>();
  for (const group of groups) {
    for (const [name, [min, max, fn]] of Object.entries(group)) {
      fns.set(name, checked(name, min, max, fn));
      arity.set(name, [min, max]);
    }
  }
  return [fns, arity];
}

const [functions, arities] = build(BUILTINS, STRING_FUNCTIONS, COLLECTION_FUNCTIONS, DATE_FUNCTIONS, GJSON);

/** Every function a template may call, by name (Go builtins and Sprig's text functions). */
export const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = functions;

/** Each function's Go arity as [min, max] (max is Infinity for variadic functions). */
export const FUNCTION_ARITY: ReadonlyMap<string, readonly [number, number]> = arities;

/**
 * Names the evaluator must handle itself: `and`/`or` short-circuit (FUNCTIONS has
 * eager versions with the same results), `gjson` reads dot, and `call` needs the
 * callee's source text for Go's "non-function X of type T" message.
 */
export const EVALUATOR_HANDLED: ReadonlySet<string> = new Set(['and', 'or', 'gjson', 'call']);
