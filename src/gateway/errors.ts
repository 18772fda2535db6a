/**
 * The gateway's errors, declared once. Each has the HTTP status and JSON-RPC code it answers
 * with. `toGatewayError` is where every other error (the tools', the session store's,
 * unexpected ones) becomes one of them; `mcp/answers.ts` writes them, per era.
 */
import type { Logger } from '../lib/logger.js';
import { ToolError } from '../tools/errors.js';
import type { CallToolResult } from '../tools/executor.js';
import { SessionLimitError, SessionStateUnavailableError, SubscriptionLimitError } from './sessions/types.js';

export const GATEWAY_ERRORS = {
  ROUTE_NOT_FOUND: { status: 404, rpc: -32000, doc: 'No MCP server at that namespace and name (or it is disabled).' },
  PARSE_ERROR: { status: 400, rpc: -32700, doc: 'The body is not valid JSON.' },
  JSON_TOO_DEEP: { status: 400, rpc: -32700, doc: 'The body nests arrays and objects deeper than `maxJsonDepth` (default 64); refused before it is parsed.' },
  INVALID_REQUEST: { status: 400, rpc: -32600, doc: 'The body is not a valid JSON-RPC message.' },
  BATCH_TOO_LARGE: { status: 400, rpc: -32600, doc: 'A JSON-RPC batch holds more messages than `maxBatchEntries` (default 100); nothing of it was run.' },
  BATCH_ANSWER_TOO_LARGE: { status: 200, rpc: -32000, doc: 'In a batch answer: this entry\'s answer would take the whole answer over `maxBatchAnswerBytes` (default 16 MiB), so it was dropped (or the entry not run); send it on its own.' },
  METHOD_NOT_FOUND: { status: 200, rpc: -32601, doc: 'The JSON-RPC method does not exist (2026-07-28: HTTP 404).' },
  INVALID_PARAMS: { status: 200, rpc: -32602, doc: 'Invalid params: unknown tool or prompt, `arguments` that is not an object, bad cursor. (Arguments that do not match the tool\'s input schema, or that the tool refuses, are a tool result with `isError: true` naming the argument, so that the model can correct itself.)' },
  SUBSCRIPTION_LIMIT: { status: 200, rpc: -32000, doc: 'resources/subscribe: the session holds the most resource subscriptions allowed (100, every server together); unsubscribe from one first. Nothing was sent upstream.' },
  INTERNAL_ERROR: { status: 500, rpc: -32603, doc: 'An unexpected error; the log has the details.' },
  INVALID_ENVELOPE: { status: 400, rpc: -32602, doc: '2026-07-28: the request\'s `_meta` envelope is missing, or its protocol version or client capabilities are malformed; `data.envelope` names the key and the problem.' },
  HEADER_MISMATCH: { status: 400, rpc: -32020, doc: '2026-07-28: a required MCP header is missing or disagrees with the body.' },
  UNSUPPORTED_VERSION: { status: 400, rpc: -32022, doc: 'The protocol version is not supported; `data.supported` lists those that are.' },
  SESSION_REQUIRED: { status: 400, rpc: -32000, doc: 'Mcp-Session-Id header is required (2025 sessions).' },
  SESSION_NOT_FOUND: { status: 404, rpc: -32001, doc: 'Unknown or ended session, or a session opened with another consumer key: initialize again.' },
  SESSION_INFO_TOO_LARGE: { status: 400, rpc: -32602, doc: 'initialize: the client\'s `clientInfo` (name, version, title) and `capabilities` take more than `sessionInfoMaxBytes` (default 4 KiB), which is what a session keeps of them.' },
  SESSION_LIMIT: { status: 429, rpc: -32000, doc: 'The consumer key or the client address already holds `maxSessionsPerKey` / `maxSessionsPerAddress` sessions (`data.limit` names the cap): end one (DELETE) or let one expire.' },
  SESSION_CAPACITY: { status: 503, rpc: -32000, doc: 'The gateway holds `maxSessions` sessions and none has been idle for `sessionEvictIdleSeconds` to make room; retry later (Retry-After).' },
  METHOD_NOT_ALLOWED: { status: 405, rpc: -32000, doc: 'HTTP method not allowed on this endpoint.' },
  NOT_ACCEPTABLE: { status: 406, rpc: -32000, doc: 'The Accept header does not allow the answer.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, rpc: -32000, doc: 'The body must be application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, rpc: -32000, doc: 'The body is over the limit (4 MiB).' },
  FORBIDDEN_ORIGIN: { status: 403, rpc: -32000, doc: 'The request comes from a browser page of an origin that is not allowed (`allowedOrigins`; loopback origins and the gateway\'s own are).' },
  FORBIDDEN_HOST: { status: 403, rpc: -32000, doc: 'The Host header is not a name of this gateway (DNS rebinding protection): bound to loopback only `localhost` and loopback IP literals are, else the bound address, the machine\'s name and `allowedHosts`.' },
  UNAUTHORIZED: { status: 401, rpc: -32000, doc: 'A consumer key is required (Authorization: Bearer or X-API-Key), or a credential the tool needs is missing.' },
  FORBIDDEN: { status: 403, rpc: -32000, doc: 'The consumer key may not use this server or tool.' },
  INVALID_TOKEN: { status: 401, rpc: -32000, doc: 'OAuth: the access token is malformed, unsigned (`alg: none`), signed by an unknown key or wrongly, expired, not yet valid, from an untrusted issuer or for another audience; `WWW-Authenticate` has `error="invalid_token"` and the endpoint\'s `resource_metadata`.' },
  INSUFFICIENT_SCOPE: { status: 403, rpc: -32000, doc: 'OAuth: the access token lacks a required scope, or no scope grants this server; `WWW-Authenticate` has `error="insufficient_scope"` and `scope` names what is needed.' },
  RATE_LIMITED: { status: 429, rpc: -32029, doc: 'The caller (consumer key or token subject), or its calls of this tool, went over the rate limit; retry after `Retry-After` seconds (`data.retryAfterSeconds` inside a session; `data.limit` is `perCaller` or `perTool`).' },
  TOKEN_EXCHANGE_FAILED: { status: 502, rpc: -32000, doc: 'The token endpoint refused to exchange the caller\'s token for the backend\'s (RFC 8693); the log has its answer.' },
  SERVICE_UNAVAILABLE: { status: 503, rpc: -32000, doc: 'The session store is unavailable, or (OAuth) the authorization server\'s keys, metadata or introspection endpoint could not be reached; retry (Retry-After).' },
  UPSTREAM_UNREACHABLE: { status: 200, rpc: -32010, doc: 'The upstream MCP server could not be reached: connection refused, no usable instance, its stdio command did not start or exited; after a failure the gateway retries with backoff (250 ms doubling to 30 s) and answers this at once meanwhile.' },
  UPSTREAM_TIMEOUT: { status: 200, rpc: -32011, doc: 'The upstream MCP server did not answer within the timeout (`config.upstream.timeoutMs`, else 30 s); the request was cancelled upstream.' },
  UPSTREAM_PROTOCOL: { status: 200, rpc: -32012, doc: 'The upstream MCP server answered with something that is not MCP: not JSON, malformed JSON-RPC, a result of the wrong shape, an HTTP error status.' },
  UPSTREAM_BUSY: { status: 200, rpc: -32013, doc: 'The upstream stdio server already runs `config.upstream.maxProcesses` processes and all are busy; retry later.' },
  INPUT_STATE_UNKNOWN: { status: 200, rpc: -32602, doc: '2026-07-28: a retry\'s `requestState` names no call of an upstream MCP server waiting for the agent\'s input (it ended, waited over 120 s, belongs to another server or consumer key, or the replica running it is gone; a call held by another live replica is continued there); send the request again without `requestState` and `inputResponses`.' },
  INPUT_ROUNDS_FULL: { status: 200, rpc: -32013, doc: '2026-07-28: the replica already holds 10,000 calls of upstream MCP servers waiting for agents\' input (`input_required`); retry later.' },
  UPSTREAM_ERROR: { status: 200, rpc: -32603, doc: 'The upstream MCP server answered with a JSON-RPC error: its code, message and data are relayed as they are (the code shown here is only the fallback).' },
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
    /** UPSTREAM_ERROR: the JSON-RPC code the upstream answered with, relayed. */
    private readonly relayedRpc?: number,
  ) {
    super(message);
  }

  get status(): number {
    return GATEWAY_ERRORS[this.code].status;
  }

  get rpcCode(): number {
    return this.relayedRpc ?? GATEWAY_ERRORS[this.code].rpc;
  }
}

/**
 * Any thrown value as a GatewayError: a tool's refusal (an argument: INVALID_PARAMS; a missing
 * credential: UNAUTHORIZED with its challenge; an upstream MCP server's failure: UPSTREAM_*, its
 * JSON-RPC error relayed as UPSTREAM_ERROR), the session store's (SERVICE_UNAVAILABLE,
 * SESSION_LIMIT, SESSION_CAPACITY), and unexpected ones, logged and answered as internal errors.
 * `requestId` names the request on the log line (where no request scope carries it).
 */
export function toGatewayError(err: unknown, logger?: Logger, requestId?: string): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof ToolError) {
    switch (err.code) {
      case 'CREDENTIAL_REQUIRED':
        return new GatewayError('UNAUTHORIZED', err.message, undefined, err.challenge === undefined ? undefined : { 'www-authenticate': err.challenge });
      case 'INVALID_ARGUMENT':
        return new GatewayError('INVALID_PARAMS', err.message);
      case 'UPSTREAM_ERROR':
        return new GatewayError('UPSTREAM_ERROR', err.message, err.upstream?.data, undefined, err.upstream?.rpcCode);
      default:
        logger?.warn({ code: err.code, err: err.message, ...reqIdOf(requestId) }, 'upstream MCP server failed');
        return new GatewayError(err.code, err.message);
    }
  }
  if (err instanceof SessionStateUnavailableError) {
    logger?.warn({ err: err.message, ...reqIdOf(requestId) }, 'session state unavailable');
    return new GatewayError('SERVICE_UNAVAILABLE', `Service Unavailable: ${err.message}; retry shortly`, undefined, { 'retry-after': '1' });
  }
  if (err instanceof SessionLimitError) {
    return err.limit === 'maxSessions'
      ? new GatewayError('SESSION_CAPACITY', `Service Unavailable: ${err.message}; retry later`, { limit: err.limit, max: err.max }, { 'retry-after': '30' })
      : new GatewayError('SESSION_LIMIT', `Too Many Sessions: ${err.message}`, { limit: err.limit, max: err.max });
  }
  if (err instanceof SubscriptionLimitError) return new GatewayError('SUBSCRIPTION_LIMIT', err.message, { max: err.max });
  logger?.error({ err, ...reqIdOf(requestId) }, 'MCP request failed');
  return new GatewayError('INTERNAL_ERROR', 'Internal error');
}

/** A log line's `reqId` field, when there is an id (an undefined field would hide the request scope's). */
function reqIdOf(requestId: string | undefined): { reqId?: string } {
  return requestId === undefined ? {} : { reqId: requestId };
}

/** The stable code of a thrown value, as `toGatewayError` would answer it (without logging): for metrics and the access log. */
export function errorKindOf(err: unknown): string {
  if (err instanceof GatewayError || err instanceof ToolError) return err.code;
  if (err instanceof SessionStateUnavailableError) return 'SERVICE_UNAVAILABLE';
  if (err instanceof SessionLimitError) return err.limit === 'maxSessions' ? 'SESSION_CAPACITY' : 'SESSION_LIMIT';
  if (err instanceof SubscriptionLimitError) return 'SUBSCRIPTION_LIMIT';
  return 'INTERNAL_ERROR';
}

/**
 * What a tools/call answers when its tool refused the call: an argument the tool refuses is a
 * tool result with `isError: true` naming it (SEP-1303), so that the model corrects its call;
 * anything else is thrown on, to be answered as `toGatewayError` says.
 */
export function toolRefusal(tool: string, err: unknown): CallToolResult {
  if (err instanceof ToolError && err.code === 'INVALID_ARGUMENT') return inputError(`Invalid arguments for tool ${tool}: ${err.message}`);
  throw err;
}

/** A tools/call result reporting an input error to the model. */
export function inputError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
