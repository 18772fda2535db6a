/**
 * The tool runtime's errors, declared once: what a tool refuses of a call before its backend
 * answers. Tools know nothing of HTTP or JSON-RPC: the gateway turns these into its answers in
 * one place (`toGatewayError`, src/gateway/errors.ts), the console's "try it" into its own.
 */
export const TOOL_ERRORS = {
  INVALID_ARGUMENT: {
    doc: 'An argument value the tool cannot send (a path value that climbs out, a header value with control characters, a URL host it may not call); the message names the argument. Agents get it as a tool result with `isError: true`, so that the model corrects its call.',
  },
  CREDENTIAL_REQUIRED: {
    doc: 'The tool passes the agent\'s credential through, the request carries none, and the server configures no fallback; `challenge` is the WWW-Authenticate value to answer with.',
  },
} as const;

/** A stable tool error code. */
export type ToolErrorCode = keyof typeof TOOL_ERRORS;

/** A call a tool refuses, with its stable code. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly code: ToolErrorCode,
    message: string,
    /** CREDENTIAL_REQUIRED: the WWW-Authenticate challenge naming the credential the tool takes. */
    readonly challenge?: string,
  ) {
    super(message);
  }
}
