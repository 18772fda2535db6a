/**
 * The HTTP+SSE transport of protocol 2024-11-05: `GET …/sse` opens a session and its stream, whose
 * first event names the message endpoint; `POST …/message?sessionId=` is answered 202 and the
 * JSON-RPC answer goes out on the stream, through the message bus (channel
 * `mcp-server-sse:{sessionId}`), so the replica that receives a POST need not hold the stream.
 * Requests run through `answerInSession` and so through `handleRequest` (src/gateway/mcp/methods.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancellation } from '../../../tools/cancellation.js';
import { GatewayError, toGatewayError } from '../../errors.js';
import type { SessionRecord } from '../../sessions/types.js';
import { sseChannel } from '../../sessions/types.js';
import type { JsonRpcMessage } from '../jsonrpc.js';
import { requestIdOf } from '../../../lib/request-context.js';
import { classify, errorMessage, idOf, resultMessage } from '../jsonrpc.js';
import { initializeResult } from '../protocol.js';
import { SSE_HEADERS } from '../sse.js';
import type { HeldStream } from '../streams.js';
import type { EraDeps, Target } from './era.js';
import { clientAddress, header, queryOf, readJson } from './era.js';
import { SSE_QUERY, answerInSession, createSession, forwardAgentNotification, requireSession, sessionInfo } from './session-calls.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'content-type', 'accept', 'accept-encoding', 'last-event-id']);

/** The 2024 HTTP+SSE endpoints: `/mcp/{namespace}/{server}/sse` and `…/message`. */
export class Sse2024Era {
  constructor(private readonly deps: EraDeps) {}

  /** GET …/sse: open a session and hold its stream; `path` (after `/mcp/`) gives the message endpoint. */
  async open(req: IncomingMessage, res: ServerResponse, target: Target, path: string): Promise<void> {
    const { server, consumer } = target;
    const { streams, bus, sessions, logger } = this.deps;
    // Kept for the session's POSTs: end-to-end headers only, so also not those the GET's Connection header nominates (RFC 9110 §7.6.1).
    const nominated = new Set((header(req, 'connection') ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !HOP_BY_HOP.has(k) && !nominated.has(k)) headers[k] = v;
    const query = queryOf(req);
    if (query !== '') headers[SSE_QUERY] = query;
    const session: SessionRecord = {
      id: randomUUID(), kind: 'sse', namespace: server.namespace, server: server.name, protocolVersion: '2024-11-05',
      consumerId: consumer?.id ?? null, ...clientAddress(req), headers, createdAt: Date.now(),
    };
    await createSession(this.deps, session);
    const held: HeldStream = { res, serverKey: server.key, keepAliveSessionId: session.id, consumerId: session.consumerId };
    let unsubscribe: (() => Promise<void>) | undefined;
    let ended = false;
    // The stream is where the session's answers go: when it closes, the session ends and its calls
    // are abandoned, here and on the other replicas. Nothing of this may throw (Redis may be away).
    const end = () => {
      if (ended) return;
      ended = true;
      streams.remove(held);
      streams.cancelSession(session.id);
      server.upstream?.endSession(session.id, session.upstream).catch((err: unknown) => logger.debug({ err }, 'could not close an upstream MCP session'));
      unsubscribe?.().catch((err: unknown) => logger.debug({ err }, 'could not unsubscribe a closed legacy SSE stream'));
      sessions.delete(session.id).catch((err: unknown) => logger.warn({ err, session: session.id }, 'could not delete the session of a closed legacy SSE stream; it expires when idle'));
    };
    req.once('close', end);
    try {
      unsubscribe = await bus.subscribe(sseChannel(session.id), (payload) => streams.event(res, payload));
    } catch (err) {
      end();
      throw err;
    }
    if (ended) {
      unsubscribe().catch(() => undefined);
      return;
    }
    held.close = unsubscribe;
    res.writeHead(200, SSE_HEADERS);
    streams.add(held);
    const base = `/mcp/${path.replace(/\/sse\/?$/, '')}`;
    streams.write(res, `event: endpoint\ndata: ${base}/message?sessionId=${session.id}\n\n`);
  }

  /** POST …/message?sessionId=: accepted at once; the answer goes out on the session's stream, wherever it is held. */
  async message(req: IncomingMessage, res: ServerResponse, target: Target, sessionId: string | null): Promise<void> {
    const { answers, streams, bus, sessions, logger } = this.deps;
    if (!sessionId) throw new GatewayError('SESSION_REQUIRED', 'Bad Request: the sessionId query parameter is required');
    const session = await requireSession(this.deps, req, target, sessionId);
    const body = await readJson(this.deps, req);
    let message: JsonRpcMessage;
    try {
      message = classify(body);
    } catch (err) {
      return answers.error(res, 'sse-2024', err, idOf(body));
    }
    res.writeHead(202, { 'content-type': 'text/plain' });
    res.end('Accepted');
    if (message.kind === 'notification') {
      if (message.method === 'notifications/cancelled') streams.cancel(session.id, message.params.requestId);
      forwardAgentNotification(this.deps, target, session.id, message.method, message.params, { ...session.headers, ...req.headers });
      return;
    }
    // The agent's answer to a request an upstream MCP server sent it through the gateway.
    if (message.kind === 'response') return streams.reply(session.id, body as Record<string, unknown>);
    if (message.kind !== 'request') return;
    let answer: string;
    const requestId = requestIdOf(res);
    const cancellation = new Cancellation();
    try {
      if (message.method === 'initialize') {
        const info = sessionInfo(this.deps, message.params);
        const result = initializeResult(target.server, message.params.protocolVersion);
        await sessions.create({ ...session, protocolVersion: result.protocolVersion as string, ...info });
        answer = resultMessage(message.id, result);
      } else {
        // Aborted when the session's stream closes (StreamHub.cancelSession), not with this POST.
        answer = await answerInSession(this.deps, session, target, req.headers, '', requestId, message, cancellation);
      }
    } catch (err) {
      answer = errorMessage(message.id, toGatewayError(err, logger, requestId), requestId);
    }
    const receivers = await bus.publish(sseChannel(session.id), answer).catch((err: unknown) => {
      logger.warn({ err, session: session.id }, 'could not deliver a legacy SSE answer');
      return -1;
    });
    if (receivers === 0 && !cancellation.cancelled) {
      // No replica holds the stream (its holder died): end the session, so the client's next
      // POST gets 404 and it reconnects, instead of answers vanishing until the session expires.
      logger.warn({ session: session.id }, 'legacy SSE answer lost: no replica holds the session stream; ending the session');
      await sessions.delete(session.id).catch(() => undefined);
    }
  }
}
