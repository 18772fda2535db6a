/**
 * The template engine's one error type. Every failure of `parse` or `render` is a
 * `TemplateError` with a stable code, so callers (the registry on publish, the gateway
 * on a tool call) can map it without matching message text.
 */
export type TemplateErrorCode =
  /** The source does not parse (syntax, unknown function, bad variable...). */
  | 'TEMPLATE_PARSE'
  /** Execution failed (wrong argument type, index out of range, a function's error...). */
  | 'TEMPLATE_EXEC'
  /** Rendering took more evaluation steps than the budget allows. */
  | 'TEMPLATE_STEP_BUDGET'
  /** Rendering produced more output than the budget allows. */
  | 'TEMPLATE_OUTPUT_BUDGET';

/** Where an execution error happened: the template being executed and the node, as Go prints them. */
export interface ExecContext {
  /** Name of the executing template (the top-level one or a `define`). */
  readonly executing: string;
  /** The failing node in canonical source form, e.g. `index .a 5`. */
  readonly node: string;
}

/**
 * A parse or execution error with the template name and the 1-based line and column.
 * The message reads like Go's: `template: NAME:LINE:COL: DETAIL`, and for execution
 * errors `template: NAME:LINE:COL: executing "T" at <NODE>: DETAIL`.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly code: TemplateErrorCode,
    /** The message without position, in Go's wording where Go has one. */
    readonly detail: string,
    readonly templateName: string,
    readonly line: number,
    readonly column: number,
    readonly context?: ExecContext,
  ) {
    super(
      context
        ? `template: ${templateName}:${line}:${column}: executing ${JSON.stringify(context.executing)} at <${context.node}>: ${detail}`
        : `template: ${templateName}:${line}:${column}: ${detail}`,
    );
  }
}

/** The 1-based line and column (in UTF-16 code units) of an offset in the source. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), source.length);
  for (let i = source.indexOf('\n'); i !== -1 && i < end; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: end - lineStart + 1 };
}
