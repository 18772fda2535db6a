/**
 * What every era's endpoints get from the MCP handler (the ports, the limits, the stream hub and
 * the answer writer), and the small request helpers they share.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../../../lib/logger.js';
import type { GatewayLimits } from '../../limits.js';
import type { GatewayError } from '../../errors.js';
import type { CompiledConsumer, CompiledServer } from '../../snapshot.js';
import type { EventStore, MessageBus, SessionStore } from '../../sessions/types.js';
import type { Answers } from '../answers.js';
import { readJsonBody } from '../body.js';
import type { CallContext } from '../methods.js';
import type { BeforeExecute } from '../../auth/token-access.js';
import { handleRequest } from '../methods.js';
import { currentRequestScope } from '../../../lib/request-context.js';
import type { StreamHub } from '../streams.js';
import type { JsonRpcId } from '../jsonrpc.js';
import { ATTR, endSpan, spanShape, startServerSpan, traceIdOf, tracingEnabled, withSpan } from '../../../lib/tracing.js';
import type { SpanShape } from '../../../lib/tracing.js';
import { errorKindOf, toGatewayError } from '../../errors.js';
import type { CallReport } from '../../../tools/executor.js';
import type { CallFailure } from '../../activity.js';
import { META } from '../protocol.js';

/**
 * One MCP request as run (every era's requests through `runMethod`): for the metrics and the
 * access log. `tool` is the name the agent sent; `knownTool` says whether the snapshot lists it
 * (names it does not list never become metric labels).
 */
export interface RequestObservation {
  namespace: string;
  server: string;
  method: string;
  tool?: string | undefined;
  knownTool: boolean;
  /** `ok`; `error`: answered with a JSON-RPC error; `tool_error`: a tool result with `isError`. */
  outcome: 'ok' | 'error' | 'tool_error';
  /** What failed: a gateway error code (`INVALID_PARAMS`, `RATE_LIMITED`, `UPSTREAM_TIMEOUT`…) or a tool failure (`backend_status`, `backend_unavailable`…). */
  errorKind?: string | undefined;
  seconds: number;
  sessionId?: string | undefined;
  rpcId?: JsonRpcId | undefined;
  /** The HTTP request's id (`X-Request-Id`), for the access log line. */
  requestId?: string | undefined;
  traceId?: string | undefined;
  /** REST tools: the backend's HTTP status, and a failure's message (for the log line). */
  report?: CallReport | undefined;
  /** The agent's clientInfo name and version (session eras: from initialize; 2026: from the request's `_meta`). */
  agent?: { name?: string | undefined; version?: string | undefined } | undefined;
  /** A failed tools/call: its arguments and answer, for the Activity page's error samples (redacted there). */
  failure?: CallFailure | undefined;
}

/** The shared parts an era works with. */
export interface EraDeps {
  logger: Logger;
  sessions: SessionStore;
  bus: MessageBus;
  events: EventStore;
  limits: GatewayLimits;
  /** Largest request body. */
  bodyLimitBytes: number;
  streams: StreamHub;
  answers: Answers;
  /** Observes each request run by `runMethod` (metrics, access log). */
  onRequest?: ((observation: RequestObservation) => void) | undefined;
  /** Observes each request refused or connection closed by a limit, named as its option (for metrics). */
  onLimit?: ((limit: string) => void) | undefined;
}

/** The server an admitted request is for, and its consumer (null in an open namespace). */
export interface Target {
  server: CompiledServer;
  consumer: CompiledConsumer | null;
  /** Before a tool runs (rate limits, backend token exchange): the headers it may read (src/gateway/auth). */
  beforeExecute?: BeforeExecute | undefined;
  /** For an OAuth token's principal: the 403 step-up answer for a tool its scopes do not grant. */
  scopeChallenge?: ((tool: string) => GatewayError | undefined) | undefined;
}

/** A request header's (first) value. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The query string of a request, without `?`. */
export function queryOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** Where a request comes from, for the per-address session cap. */
export function clientAddress(req: IncomingMessage): { clientAddress?: string } {
  const address = req.socket.remoteAddress;
  return address ? { clientAddress: address } : {};
}

/** Read a request's JSON body under the gateway's limits. */
export function readJson(deps: EraDeps, req: IncomingMessage): Promise<unknown> {
  return readJsonBody(req, { bodyLimitBytes: deps.bodyLimitBytes, maxJsonDepth: deps.limits.maxJsonDepth });
}

/** The tool or prompt a request names, if any. */
function targetOf(method: string, params: Record<string, unknown>): string | undefined {
  if (method !== 'tools/call' && method !== 'prompts/get') return undefined;
  return typeof params.name === 'string' ? params.name : undefined;
}

/** The trace context an agent put in `params._meta` (the MCP semantic conventions' place for it). */
function metaOf(params: Record<string, unknown>): Record<string, unknown> | undefined {
  const meta = params._meta;
  return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta as Record<string, unknown> : undefined;
}

/** SERVER span shapes by server (a snapshot's: dropped with it), method and listed tool or prompt ('' for none). */
const serverShapes = new WeakMap<CompiledServer, Map<string, Map<string, SpanShape>>>();

/**
 * The name and the attributes every request of `method` (on `tool`, a tool or prompt the snapshot
 * lists) to `server` shares, encoded once (tracing on only): the span name's concatenation and
 * most of the attributes are then not made and written per request.
 */
function serverSpanShape(server: CompiledServer, method: string, tool: string | undefined): SpanShape {
  let byMethod = serverShapes.get(server);
  if (byMethod === undefined) serverShapes.set(server, byMethod = new Map());
  let byTool = byMethod.get(method);
  if (byTool === undefined) {
    if (byMethod.size >= 64) byMethod.clear(); // method names come from agents: bounded
    byMethod.set(method, byTool = new Map());
  }
  let shape = byTool.get(tool ?? '');
  if (shape === undefined) {
    if (byTool.size >= 4096) byTool.clear();
    const isCall = tool !== undefined && method === 'tools/call';
    shape = spanShape(tool !== undefined ? `${method} ${tool}` : method, {
      [ATTR.mcpMethod]: method, [ATTR.namespace]: server.namespace, [ATTR.server]: server.name,
      [ATTR.networkTransport]: 'tcp', [ATTR.networkProtocol]: 'http',
      [ATTR.toolName]: isCall ? tool : undefined, [ATTR.operation]: isCall ? 'execute_tool' : undefined,
      [ATTR.promptName]: tool !== undefined && method === 'prompts/get' ? tool : undefined,
    });
    byTool.set(tool ?? '', shape);
  }
  return shape;
}

/**
 * Run one method: timed and observed (metrics, access log), and traced when tracing is on (the
 * request's SERVER span, child of the agent's trace context, current while the method runs).
 */
export async function runMethod(deps: EraDeps, ctx: CallContext, method: string, params: Record<string, unknown>, onProgress?: (p: number, t?: number, message?: string) => void, rpcId?: JsonRpcId): Promise<Record<string, unknown>> {
  const { server } = ctx;
  const tool = targetOf(method, params);
  const knownTool = tool !== undefined && (method === 'tools/call'
    ? server.toolsByName.has(tool) || (server.virtual?.settled()?.byName.has(tool) ?? false)
    : server.prompts.some((p) => p.name === tool));
  const report: CallReport | undefined = method === 'tools/call' ? {} : undefined;
  if (report) ctx.report = report;
  // Tracing off: no attributes built, no span (one flag check). On: the shape holds what every
  // such request shares; the per-request attributes have literal keys (ATTR's names), one object
  // shape each, an attribute that does not apply undefined (not exported) rather than spread in.
  const span = !tracingEnabled() ? undefined : startServerSpan(serverSpanShape(server, method, knownTool ? tool : undefined), knownTool || tool === undefined
    ? { 'mcp.session.id': ctx.sessionId, 'jsonrpc.request.id': rpcId !== undefined ? String(rpcId) : undefined }
    : {
      'mcp.session.id': ctx.sessionId, 'jsonrpc.request.id': rpcId !== undefined ? String(rpcId) : undefined,
      // A name the snapshot does not list: an attribute of this span, not a shape of its own.
      'gen_ai.tool.name': method === 'tools/call' ? tool : undefined, 'gen_ai.operation.name': method === 'tools/call' ? 'execute_tool' : undefined,
      'gen_ai.prompt.name': method === 'prompts/get' ? tool : undefined,
    }, metaOf(params), ctx.clientHeaders);
  const started = performance.now();
  let outcome: RequestObservation['outcome'] = 'ok';
  let errorKind: string | undefined;
  let failure: CallFailure | undefined;
  try {
    const options = { onProgress };
    // The span travels in the call context to the tool's backend request; it is also made the
    // current span where the request runs in a request scope (log lines, upstream MCP servers),
    // and only there: entering a scope would switch on the storage the gateway keeps off when no
    // part of its snapshot needs it (lib/request-context.ts).
    if (span) ctx.span = span;
    const result = await (span && currentRequestScope() !== undefined ? withSpan(span, () => handleRequest(ctx, method, params, options)) : handleRequest(ctx, method, params, options));
    if (result.isError === true) {
      outcome = 'tool_error';
      errorKind = report?.errorKind ?? 'tool_error';
      if (report) failure = { arguments: params.arguments, answer: result, message: report.detail ?? firstText(result), clientHeaders: ctx.clientHeaders };
    }
    return result;
  } catch (err) {
    outcome = 'error';
    errorKind = errorKindOf(err);
    if (report) {
      const e = toGatewayError(err);
      failure = { arguments: params.arguments, answer: { error: { code: e.rpcCode, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) } }, message: e.message, clientHeaders: ctx.clientHeaders };
    }
    const rpc = (err as { rpcCode?: unknown }).rpcCode;
    if (span && typeof rpc === 'number') span.setAttribute(ATTR.rpcStatus, String(rpc));
    throw err;
  } finally {
    // A tool result with isError is the tool's error (`tool_error`, as the MCP conventions say), the call's own kind in the log and metrics.
    endSpan(span, outcome === 'ok' ? undefined : outcome === 'tool_error' ? 'tool_error' : errorKind, report?.detail);
    deps.onRequest?.({
      namespace: server.namespace, server: server.name, method, tool, knownTool, outcome, errorKind,
      seconds: (performance.now() - started) / 1000, sessionId: ctx.sessionId, rpcId, requestId: ctx.requestId, traceId: traceIdOf(span), report,
      agent: ctx.agentInfo ?? agentOfMeta(params), failure,
    });
  }
}

/** The 2026-07-28 client's name and version from the request's `_meta` envelope. */
function agentOfMeta(params: Record<string, unknown>): RequestObservation['agent'] {
  const info = metaOf(params)?.[META.clientInfo];
  if (typeof info !== 'object' || info === null) return undefined;
  const { name, version } = info as { name?: unknown; version?: unknown };
  return { name: typeof name === 'string' ? name : undefined, version: typeof version === 'string' ? version : undefined };
}

/** The first text of a tool result (its error message). */
function firstText(result: Record<string, unknown>): string {
  const content = result.content;
  if (!Array.isArray(content)) return '';
  const text = content.find((c: unknown) => typeof c === 'object' && c !== null && (c as { type?: unknown }).type === 'text') as { text?: unknown } | undefined;
  return typeof text?.text === 'string' ? text.text : '';
}
