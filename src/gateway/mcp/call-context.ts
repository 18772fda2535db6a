/** What a method handler needs besides its params (methods.ts, virtual-methods.ts). */
import type { Span } from '@opentelemetry/api';
import type { BeforeExecute } from '../auth/token-access.js';
import type { AgentChannel, CallCancellation, CallReport, ClientHeaders } from '../../tools/executor.js';
import type { CompiledConsumer, CompiledServer } from '../snapshot.js';
import type { GatewayError } from '../errors.js';

/** Who is calling and how: what a method handler needs besides its params. */
export interface CallContext {
  server: CompiledServer;
  consumer: CompiledConsumer | null;
  clientHeaders: ClientHeaders;
  /** The query string of the agent's request (see `ToolCallRequest.clientQuery`). */
  clientQuery: string;
  /** The agent's connection peer (see `ToolCallRequest.clientAddress`). */
  clientAddress?: string | undefined;
  /** The id of the request being served (`X-Request-Id`), for its log lines where no request scope carries it. */
  requestId?: string | undefined;
  cancellation: CallCancellation;
  /** The agent's session (2025 sessions, legacy SSE), for upstream MCP servers with a connection per session. */
  sessionId?: string | undefined;
  /** Run before a tool's executor (rate limits, backend token exchange): the headers the tool may read, or a thrown GatewayError. */
  beforeExecute?: BeforeExecute | undefined;
  /** The way back to the agent, for what an upstream MCP server asks or says during the request. */
  agent?: AgentChannel | undefined;
  /** The session's resource subscriptions (session eras), recorded to relay the upstream's updates. */
  subscriptions?: ResourceSubscriptions | undefined;
  /** For an OAuth token's principal: the 403 step-up answer for a tool of the server its scopes do not grant. */
  scopeChallenge?: ((tool: string) => GatewayError | undefined) | undefined;
  /** The agent's clientInfo (name, version) as its session's initialize gave it (session eras). */
  agentInfo?: { name?: string | undefined; version?: string | undefined } | undefined;
  /** tools/call: what the tool reports of a failure (filled by the executor; read by metrics and the access log). */
  report?: CallReport | undefined;
  /** The request's SERVER span (tracing on; set by `runMethod`): the parent of its tool's backend span. */
  span?: Span | undefined;
}

/** Options of tools/call beyond the context. */
export interface CallOptions {
  /** Called with progress updates when the client asked for them. */
  onProgress?: (progress: number, total?: number, message?: string) => void;
}


/** Where a session's subscriptions to an upstream MCP server's resources are kept. */
export interface ResourceSubscriptions {
  subscribe(uri: string): Promise<void>;
  /** Answers whether other sessions still want the resource (then the upstream's subscription stays). */
  unsubscribe(uri: string): Promise<boolean>;
  /**
   * The same session's subscriptions to a virtual server member's resources: recorded under the
   * member, its updates delivered with `shown(uri)` (the URI the agent subscribed to).
   */
  forMember?(memberKey: string, shown: (uri: string) => string): ResourceSubscriptions;
  /** The subscriptions changed upstream (subscribed or unsubscribed there): the replica holding the session's stream takes them over. */
  changed?(): void;
}
