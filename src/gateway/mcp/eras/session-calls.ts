/**
 * What the two session eras (2025 Streamable HTTP and the 2024 HTTP+SSE transport) share: opening
 * a session within the caps, finding the session a request names, and answering one request of a
 * session as a JSON-RPC message.
 */
import type { IncomingMessage } from 'node:http';
import type { Cancellation } from '../../../tools/cancellation.js';
import type { ClientHeaders } from '../../../tools/executor.js';
import { GatewayError, toGatewayError } from '../../errors.js';
import type { SessionRecord } from '../../sessions/types.js';
import { SessionLimitError } from '../../sessions/types.js';
import type { JsonRpcMessage } from '../jsonrpc.js';
import { errorMessage, notificationMessage, resultMessage } from '../jsonrpc.js';
import type { CallContext } from '../methods.js';
import { knowsMethod } from '../protocol.js';
import type { AnswerStream } from '../agent-channel.js';
import { sessionAgent } from '../agent-channel.js';
import type { EraDeps, Target } from './era.js';
import { header, runMethod } from './era.js';

/**
 * Where a 2024 SSE session keeps the query string of its GET: among its headers (sealed with
 * them in Redis) under a name no header can have, so it is never forwarded as one.
 */
export const SSE_QUERY = '?';

/** A JSON-RPC request, as classified. */
export type RpcRequest = Extract<JsonRpcMessage, { kind: 'request' }>;

/** Store a new session, counting a cap that refuses it. */
export async function createSession(deps: EraDeps, session: SessionRecord): Promise<void> {
  try {
    await deps.sessions.create(session);
  } catch (err) {
    if (err instanceof SessionLimitError) deps.onLimit?.(err.limit);
    throw err;
  }
}

/**
 * The session a request names, of this server and opened with the request's consumer key: a
 * session of another key (or opened with one, asked for without) is not found, as an unknown one.
 * At once (no promise) when the store holds its sessions in this process (`getHeld`); throws
 * GatewayError (or rejects, when the answer is a promise).
 */
export function requireSession(deps: EraDeps, req: IncomingMessage, target: Target, id = header(req, 'mcp-session-id')): SessionRecord | Promise<SessionRecord> {
  if (!id) throw new GatewayError('SESSION_REQUIRED', 'Bad Request: Mcp-Session-Id header is required');
  const { sessions } = deps;
  return sessions.getHeld ? sessionOf(target, sessions.getHeld(id)) : sessions.get(id).then((s) => sessionOf(target, s));
}

function sessionOf({ server, consumer }: Target, session: SessionRecord | undefined): SessionRecord {
  if (!session || session.namespace !== server.namespace || session.server !== server.name || session.consumerId !== (consumer?.id ?? null)) {
    throw new GatewayError('SESSION_NOT_FOUND', 'Session not found');
  }
  return session;
}

/**
 * What a session keeps of the client's initialize: its name, version and title, and its
 * capabilities, within `sessionInfoMaxBytes` (an initialize over it is refused, naming the sizes).
 */
export function sessionInfo(deps: EraDeps, params: Record<string, unknown>): Pick<SessionRecord, 'clientInfo' | 'capabilities'> {
  const info = params.clientInfo;
  let clientInfo: Record<string, string> | undefined;
  if (typeof info === 'object' && info !== null) {
    clientInfo = {};
    for (const k of ['name', 'version', 'title'] as const) {
      const v = (info as Record<string, unknown>)[k];
      if (typeof v === 'string') clientInfo[k] = v;
    }
  }
  const kept = { clientInfo, capabilities: params.capabilities };
  const size = Buffer.byteLength(JSON.stringify(kept) ?? '');
  const max = deps.limits.sessionInfoMaxBytes;
  if (size > max) {
    deps.onLimit?.('sessionInfoMaxBytes');
    throw new GatewayError('SESSION_INFO_TOO_LARGE', `Invalid params: initialize's clientInfo (name, version, title) and capabilities take ${size} bytes; a session keeps at most ${max} (sessionInfoMaxBytes)`, { size, sessionInfoMaxBytes: max });
  }
  return kept;
}

/** Notifications of agents that the upstream MCP server of their session is told of. */
const FORWARDED_NOTIFICATIONS: ReadonlySet<string> = new Set(['notifications/roots/list_changed']);

/**
 * A notification of the agent that concerns its upstream MCP server (its roots changed): sent on
 * the session's upstream connection (per-session servers; with stdio and SSE, on every replica
 * holding one), or on the shared one when the roots it holds are this session's, in the
 * background; the upstream's roots/list that follows comes back to the agent on its stream.
 */
export function forwardAgentNotification(deps: EraDeps, target: Target, sessionId: string, method: string, params: unknown, headers: ClientHeaders): void {
  const runtime = target.server.upstream;
  if (!runtime || !FORWARDED_NOTIFICATIONS.has(method)) return;
  const sent = typeof params === 'object' && params !== null && !Array.isArray(params) ? params as Record<string, unknown> : undefined;
  runtime.notify(method, sent, { sessionId, clientHeaders: headers }).catch((err: unknown) => deps.logger.debug({ err, method }, 'could not forward an agent\'s notification upstream'));
  // Per-replica connections (stdio children, SSE): the other replicas' connections of the session are told too.
  if (runtime.perReplicaSessions) deps.streams.notifyUpstreamReplicas(target.server.key, sessionId, method, sent);
}

/**
 * Answer one request of a session as a JSON-RPC message (result or error); `cancellation` aborts
 * it. Progress (when the client gave a token) and what an upstream MCP server asks or says
 * during the request go out on `out`, the request's own answer turned SSE stream, else on the
 * session's stream. A refused key (401/403) is thrown, to answer the whole HTTP request with its
 * headers, unless the answer already streams. `requestId`: the HTTP request's (`requestIdOf`).
 */
export async function answerInSession(deps: EraDeps, session: SessionRecord, target: Target, headers: ClientHeaders, query: string, requestId: string | undefined, message: RpcRequest, cancellation: Cancellation, out?: AnswerStream): Promise<string> {
  if (!knowsMethod('session', message.method)) return errorMessage(message.id, new GatewayError('METHOD_NOT_FOUND', 'Method not found'), requestId);
  if (message.method === 'initialize') return errorMessage(message.id, new GatewayError('INVALID_REQUEST', 'Invalid Request: Server already initialized'), requestId);
  const untrack = deps.streams.track(session.id, message.id, cancellation);
  // 2024 SSE: the GET's headers and query carry into the session's POSTs (sent to our message endpoint).
  const sse = session.kind === 'sse';
  const effectiveHeaders = sse ? { ...session.headers, ...headers } : headers;
  const clientQuery = sse ? session.headers[SSE_QUERY] ?? '' : query;
  const { streams } = deps;
  const kind = session.kind;
  const agent = target.server.upstream
    ? sessionAgent(streams, session.id, session.capabilities as Record<string, unknown> | undefined, (payload) => out?.send(payload) || streams.toSession(session.id, kind, payload))
    : undefined;
  const subscriptions = target.server.upstream || target.server.virtual ? streams.sessionSubscriptions(target.server.key, session.id, kind) : undefined;
  const ctx: CallContext = {
    server: target.server, consumer: target.consumer, clientHeaders: effectiveHeaders, clientQuery, clientAddress: session.clientAddress, requestId, cancellation, sessionId: session.id,
    beforeExecute: target.beforeExecute, scopeChallenge: target.scopeChallenge, agent, subscriptions,
    agentInfo: session.clientInfo as CallContext['agentInfo'],
  };
  const token = (message.params._meta as { progressToken?: unknown } | undefined)?.progressToken;
  const onProgress = out && token !== undefined
    ? (p: number, total?: number, text?: string) => { out.send(notificationMessage('notifications/progress', { progressToken: token, progress: p, ...(total !== undefined ? { total } : {}), ...(text !== undefined ? { message: text } : {}) })); }
    : undefined;
  try {
    return resultMessage(message.id, await runMethod(deps, ctx, message.method, message.params, onProgress, message.id));
  } catch (err) {
    const e = toGatewayError(err, deps.logger, requestId);
    if ((e.code === 'UNAUTHORIZED' || e.code === 'FORBIDDEN' || e.code === 'INSUFFICIENT_SCOPE') && !out?.streaming) throw e;
    return errorMessage(message.id, e, requestId);
  } finally {
    untrack();
  }
}
