/**
 * The gateway's errors, declared once. Each has the HTTP status and JSON-RPC code it answers
 * with; `mcp/` maps them to a response in one place.
 */
export const GATEWAY_ERRORS = {
  ROUTE_NOT_FOUND: { status: 404, rpc: -32000, doc: 'No MCP server at that namespace and name (or it is disabled).' },
  PARSE_ERROR: { status: 400, rpc: -32700, doc: 'The body is not valid JSON.' },
  INVALID_REQUEST: { status: 400, rpc: -32600, doc: 'The body is not a valid JSON-RPC message.' },
  METHOD_NOT_FOUND: { status: 200, rpc: -32601, doc: 'The JSON-RPC method does not exist (2026-07-28: HTTP 404).' },
  INVALID_PARAMS: { status: 200, rpc: -32602, doc: 'Invalid params: unknown tool or prompt, arguments not matching the input schema (the message names the argument), bad cursor.' },
  INTERNAL_ERROR: { status: 500, rpc: -32603, doc: 'An unexpected error; the log has the details.' },
  HEADER_MISMATCH: { status: 400, rpc: -32020, doc: '2026-07-28: a required MCP header is missing or disagrees with the body.' },
  UNSUPPORTED_VERSION: { status: 400, rpc: -32022, doc: 'The protocol version is not supported; `data.supported` lists those that are.' },
  SESSION_REQUIRED: { status: 400, rpc: -32000, doc: 'Mcp-Session-Id header is required (2025 sessions).' },
  SESSION_NOT_FOUND: { status: 404, rpc: -32001, doc: 'Unknown or ended session: initialize again.' },
  METHOD_NOT_ALLOWED: { status: 405, rpc: -32000, doc: 'HTTP method not allowed on this endpoint.' },
  NOT_ACCEPTABLE: { status: 406, rpc: -32000, doc: 'The Accept header does not allow the answer.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, rpc: -32000, doc: 'The body must be application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, rpc: -32000, doc: 'The body is over the limit (4 MiB).' },
  FORBIDDEN_ORIGIN: { status: 403, rpc: -32000, doc: 'The Origin header is not allowed.' },
  UNAUTHORIZED: { status: 401, rpc: -32000, doc: 'A consumer key is required (Authorization: Bearer or X-API-Key), or a credential the tool needs is missing.' },
  FORBIDDEN: { status: 403, rpc: -32000, doc: 'The consumer key may not use this server or tool.' },
  SERVICE_UNAVAILABLE: { status: 503, rpc: -32000, doc: 'The session store is unavailable; retry.' },
} as const;

/** A stable gateway error code. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** An error answered to an agent, with its stable code. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    /** JSON-RPC `error.data`. */
    readonly data?: unknown,
    /** Extra response headers (WWW-Authenticate, Allow). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }

  get rpcCode(): number {
    return GATEWAY_ERRORS[this.code].rpc;
  }
}
