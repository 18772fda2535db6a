/**
 * The tool runtime's port: what runs a tool call (`ToolExecutor`), what a call carries and
 * answers, and where backend addresses come from (`Upstream`). Adapters live in sibling
 * folders (`rest/`; upstream MCP servers next), each compiled once per snapshot.
 */
import type { Span } from '@opentelemetry/api';

/** One MCP content block of a tool result (upstream MCP servers may send any block the protocol has). */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string }
  | { type: 'resource' | 'resource_link'; [key: string]: unknown };

/** The result of `tools/call` (MCP `CallToolResult`). */
export interface CallToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Headers of the agent's HTTP request, names in lower case (as node:http gives them). */
export type ClientHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * What an executor reports of a call besides its result, for metrics and logs: why it failed
 * (`errorKind`: `backend_status`, `backend_unavailable`, `backend_timeout`, `cancelled`,
 * `response_too_large`, `request_refused`, `invalid_arguments`…), the backend's HTTP status, and
 * the failure's text.
 */
export interface CallReport {
  errorKind?: string;
  backendStatus?: number;
  /** The failure's text (as the result tells the agent). */
  detail?: string;
}

/** One tool call as an executor sees it: arguments already validated against the input schema. */
export interface ToolCallRequest {
  args: Record<string, unknown>;
  /** The agent's request headers (for credential passthrough; legacy SSE: those of the GET). */
  clientHeaders: ClientHeaders;
  /** Cancelled when the agent cancels or disconnects. */
  cancellation: CallCancellation;
  /**
   * The query string of the agent's request URL, without `?` (legacy SSE: that of the GET), for
   * credentials agents put in the URL; parsed only by a tool that takes one from there.
   */
  clientQuery?: string;
  /** The agent's session, when it has one (upstream MCP servers may keep a connection per session). */
  sessionId?: string | undefined;
  /** Progress of the call, relayed to the agent when it asked for it (upstream MCP servers report theirs). */
  onProgress?: ((progress: number, total?: number, message?: string) => void) | undefined;
  /**
   * The peer address of the agent's connection (`ip`, `ip:port` or `[ipv6]:port`), for the
   * Higress template functions `getSocketIP` / `getRealIP`; absent when the call has none.
   */
  clientAddress?: string | undefined;
  /** Filled by the executor when given: why the call failed, the backend's status. */
  report?: CallReport | undefined;
  /** The way back to the agent for what an upstream MCP server asks or says during the call (see `AgentChannel`). */
  agent?: AgentChannel | undefined;
  /** The agent's request's span (tracing on): the parent of the backend request's span, carried here rather than in a request scope. */
  span?: Span | undefined;
}

/**
 * The way back to the agent that made a call: an upstream MCP server's requests to the client
 * (`sampling/createMessage`, `elicitation/create`, `roots/list`) and its notifications
 * (`notifications/message`, resource updates) reach the agent through it, on the stream of the
 * request that caused them (2025 sessions, 2024 SSE) or as `input_required` results (2026-07-28).
 */
export interface AgentChannel {
  /** The agent's session (2025 sessions, 2024 SSE); undefined for a stateless agent. */
  readonly sessionId?: string | undefined;
  /** The capabilities the agent declared (its initialize, or its 2026-07-28 envelope). */
  readonly capabilities: Readonly<Record<string, unknown>> | undefined;
  /** Send a request to the agent and answer its result; a JSON-RPC error of the agent rejects with `AgentError`. */
  request(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** Send a notification to the agent (dropped when it cannot be delivered). */
  notify(method: string, params: Record<string, unknown> | undefined): void;
}

/** The agent answered a request of the upstream with a JSON-RPC error (relayed upstream as it is). */
export class AgentError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = 'AgentError';
  }
}

/** What an executor sees of a call's cancellation (see `Cancellation`). */
export interface CallCancellation {
  readonly cancelled: boolean;
  /** Run `listener` once when the call is cancelled; at once when it already is. */
  onCancel(listener: () => void): void;
  /** Forget a listener given to `onCancel`. */
  offCancel(listener: () => void): void;
}

/** Runs one kind of tool (REST template, upstream MCP...). Built once per snapshot, shared by all calls. */
export interface ToolExecutor {
  execute(call: ToolCallRequest): Promise<CallToolResult>;
}

/** A backend address chosen for one attempt. */
export interface UpstreamTarget {
  /** Base URL without a trailing slash, e.g. `http://10.0.0.1:8080` or `https://api.example.com/v1`. */
  baseUrl: string;
  /** Stable id of the instance, so a retry can exclude it. */
  id: string;
}

/** Where a server's backend requests go: a service's healthy instances, a direct address, or a URL. */
export interface Upstream {
  /** The next target by weighted round robin, skipping `exclude`; undefined when none is available. */
  pick(exclude?: ReadonlySet<string>): UpstreamTarget | undefined;
  /** How many targets there are to try. */
  readonly size: number;
}
