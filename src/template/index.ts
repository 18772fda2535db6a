/**
 * Go `text/template` evaluated over JSON, as Higress and Nacos tool definitions use it:
 * field chains are GJSON paths, `gjson "path"` takes full GJSON syntax, and the Go
 * builtins plus Sprig's text functions are available, and Higress's `getSocketIP` / `getRealIP`
 * (which read `RenderOptions.client`). Parse once, render many times.
 */
import { TemplateError } from './errors.js';
import type { CompiledRender } from './exec.js';
import { compile, hasFunction } from './exec.js';
import { parseSource } from './parser.js';
import type { ParsedSource } from './parser.js';
import { compileTracked } from './taint.js';
import type { CompiledTrackedRender, TaintOptions, TrackedOutput } from './taint.js';
import type { JsonValue } from './values.js';
import type { RenderClient } from './functions/index.js';

export { TemplateError };
export type { ExecContext, TemplateErrorCode } from './errors.js';
export { unionTaint } from './taint.js';
export type { OutputPiece, Taint, TaintOptions, TrackedOutput } from './taint.js';
export type { JsonValue, TemplateValue } from './values.js';
export type { RenderClient } from './functions/index.js';

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
  /** The agent's connection, read by the Higress functions `getSocketIP` and `getRealIP` (empty without it). */
  client?: RenderClient | undefined;
}

/** A parsed, compiled template: immutable, safe to render concurrently. */
export interface Template {
  readonly name: string;
  /**
   * True when the template is one `{{.}}` action and nothing else, so that it prints its data
   * whole. A caller that holds the data as JSON text may print that text instead of rendering:
   * Higress prints an object or array as its raw JSON text, where `render` prints compact JSON.
   */
  readonly printsDot: boolean;
  /** Render against plain JSON data; throws `TemplateError` on failure or exceeded budgets. */
  render(data: JsonValue | undefined, options?: RenderOptions): string;
}

/**
 * A template parsed with `taint` options: besides `render`, `renderTracked` tells which parts
 * of the output were printed from the untrusted part of the data (see docs/template-engine.md).
 */
export interface TrackedTemplate extends Template {
  readonly taint: TaintOptions;
  /** Render as `render` does, and answer the output as pieces, tainted where printed from untrusted data. */
  renderTracked(data: JsonValue | undefined, options?: RenderOptions): TrackedOutput;
}

/** Options of `parse`. */
export interface ParseTemplateOptions {
  /** Name of the template in error messages; default `template`. */
  name?: string;
  /** Compile a tracking render too (`renderTracked`), following this untrusted root. */
  taint?: TaintOptions;
}

class CompiledTemplate implements Template {
  constructor(
    readonly name: string,
    private readonly run: CompiledRender,
    readonly printsDot: boolean,
  ) {}

  render(data: JsonValue | undefined, options?: RenderOptions): string {
    return this.run(data, options?.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, options?.maxSteps ?? DEFAULT_MAX_STEPS, options?.client);
  }
}

class CompiledTrackedTemplate extends CompiledTemplate implements TrackedTemplate {
  constructor(
    name: string,
    run: CompiledRender,
    printsDot: boolean,
    readonly taint: TaintOptions,
    private readonly tracked: CompiledTrackedRender,
  ) {
    super(name, run, printsDot);
  }

  renderTracked(data: JsonValue | undefined, options?: RenderOptions): TrackedOutput {
    return this.tracked(data, options?.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, options?.maxSteps ?? DEFAULT_MAX_STEPS, options?.client);
  }
}

/** Whether the main tree is exactly `{{.}}` (spaces and trim markers allowed), with no other templates defined. */
function printsDotOnly(parsed: ParsedSource): boolean {
  const tree = parsed.trees.get(parsed.main);
  const only = tree?.root.nodes.length === 1 ? tree.root.nodes[0] : undefined;
  if (parsed.trees.size !== 1 || only?.type !== 'action') return false;
  const { decl, cmds } = only.pipe;
  return decl.length === 0 && cmds.length === 1 && cmds[0]?.args.length === 1 && cmds[0].args[0]?.type === 'dot';
}

/**
 * Parse and compile a template; throws `TemplateError` (TEMPLATE_PARSE) with line and column.
 * With `taint` options the template is compiled a second time into a tracking render.
 */
export function parse(source: string, options: ParseTemplateOptions & { taint: TaintOptions }): TrackedTemplate;
export function parse(source: string, options?: ParseTemplateOptions): Template;
export function parse(source: string, options?: ParseTemplateOptions): Template {
  const name = options?.name ?? 'template';
  try {
    const parsed = parseSource(source, { name, hasFunction });
    const taint = options?.taint;
    if (taint) {
      const frozen: TaintOptions = Object.freeze({ root: taint.root, escapers: Object.freeze([...(taint.escapers ?? [])]) });
      return new CompiledTrackedTemplate(name, compile(parsed, source), printsDotOnly(parsed), frozen, compileTracked(parsed, source, frozen));
    }
    return new CompiledTemplate(name, compile(parsed, source), printsDotOnly(parsed));
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    const detail = e instanceof RangeError ? 'template too deeply nested' : `internal error: ${e instanceof Error ? e.message : String(e)}`;
    throw new TemplateError('TEMPLATE_PARSE', detail, name, 1, 1);
  }
}
