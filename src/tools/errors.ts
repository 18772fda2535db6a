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
  UPSTREAM_UNREACHABLE: {
    doc: 'An upstream MCP server could not be reached: connection refused, no usable instance, its stdio command did not start or exited, or it refused the initialization.',
  },
  UPSTREAM_TIMEOUT: {
    doc: 'An upstream MCP server did not answer within the call\'s timeout (the tool\'s, else the server\'s `upstream.timeoutMs`, else 30 s).',
  },
  UPSTREAM_PROTOCOL: {
    doc: 'An upstream MCP server answered with something that is not MCP: not JSON, malformed JSON-RPC, a result of the wrong shape, an HTTP error status.',
  },
  UPSTREAM_BUSY: {
    doc: 'The upstream stdio server runs as many processes as `upstream.maxProcesses` allows and none is free; retry later.',
  },
  UPSTREAM_ERROR: {
    doc: 'An upstream MCP server answered the request with a JSON-RPC error; `rpcCode`, the message and `data` are relayed as it sent them.',
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
    /** UPSTREAM_ERROR: the JSON-RPC error code and data the upstream answered with. */
    readonly upstream?: { rpcCode: number; data?: unknown },
  ) {
    super(message);
  }
}
