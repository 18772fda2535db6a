/**
 * Go `text/template` evaluated over JSON, as Higress and Nacos tool definitions use it:
 * field chains are GJSON paths, `gjson "path"` takes full GJSON syntax, and the Go
 * builtins plus Sprig's text functions are available. Parse once, render many times.
 */
import { TemplateError } from './errors.js';
import type { CompiledRender } from './exec.js';
import { compile, hasFunction } from './exec.js';
import { parseSource } from './parser.js';
import type { JsonValue } from './values.js';

export { TemplateError };
export type { ExecContext, TemplateErrorCode } from './errors.js';
export type { JsonValue, TemplateValue } from './values.js';

/** Default `maxOutputBytes`: 1 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** Default `maxSteps`: evaluated nodes, function calls and range iterations. */
export const DEFAULT_MAX_STEPS = 1_000_000;

/** Budgets for one render. */
export interface RenderOptions {
  /** Maximum UTF-8 size of the output; default 1 MiB. */
  maxOutputBytes?: number;
  /** Maximum evaluation steps (actions, function calls, range iterations); default 1,000,000. */
  maxSteps?: number;
}

/** A parsed, compiled template: immutable, safe to render concurrently. */
export interface Template {
  readonly name: string;
  /** Render against plain JSON data; throws `TemplateError` on failure or exceeded budgets. */
  render(data: JsonValue | undefined, options?: RenderOptions): string;
}

class CompiledTemplate implements Template {
  constructor(
    readonly name: string,
    private readonly run: CompiledRender,
  ) {}

  render(data: JsonValue | undefined, options?: RenderOptions): string {
    return this.run(data, options?.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, options?.maxSteps ?? DEFAULT_MAX_STEPS);
  }
}

/** Parse and compile a template; throws `TemplateError` (TEMPLATE_PARSE) with line and column. */
export function parse(source: string, options?: { name?: string }): Template {
  const name = options?.name ?? 'template';
  try {
    const parsed = parseSource(source, { name, hasFunction });
    return new CompiledTemplate(name, compile(parsed, source));
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    const detail = e instanceof RangeError ? 'template too deeply nested' : `internal error: ${e instanceof Error ? e.message : String(e)}`;
    throw new TemplateError('TEMPLATE_PARSE', detail, name, 1, 1);
  }
}
