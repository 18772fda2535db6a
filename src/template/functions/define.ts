import type { TemplateValue } from '../values.js';

/**
 * A template function. Arguments arrive evaluated; throw `FunctionError` for a
 * runtime failure (the evaluator adds the template position).
 */
export type TemplateFunction = (...args: TemplateValue[]) => TemplateValue;

/** A function with its Go arity: [min args, max args (Infinity when variadic), implementation]. */
export type Definition = readonly [min: number, max: number, fn: TemplateFunction];

/** A group of functions by name. */
export type Definitions = Readonly<Record<string, Definition>>;

/** Variadic upper bound. */
export const ANY = Number.POSITIVE_INFINITY;
