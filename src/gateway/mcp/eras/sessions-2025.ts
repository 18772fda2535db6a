/**
 * Streamable HTTP with sessions (protocol 2025-03-26 … 2025-11-25, and 2024-11-05 clients on it):
 * `initialize` opens a session (Mcp-Session-Id), later POSTs name it, a GET opens the session's
 * server stream (resumable with Last-Event-ID, held in the stream hub), DELETE ends it. A POST
 * may be a JSON-RPC batch (2025-03-26). Requests run through `answerInSession` and so through
 * `handleRequest` (src/gateway/mcp/methods.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancellation } from '../../../tools/cancellation.js';
import { GatewayError, toGatewayError } from '../../errors.js';
import type { SessionRecord } from '../../sessions/types.js';
import { streamChannel } from '../../sessions/types.js';
import type { JsonRpcId, JsonRpcMessage } from '../jsonrpc.js';
import { requestIdOf } from '../../../lib/request-context.js';
import { classify, errorMessage, idOf, resultMessage } from '../jsonrpc.js';
import { META, SESSION_VERSIONS, initializeResult } from '../protocol.js';
import { SSE_HEADERS } from '../sse.js';
import { AnswerStream } from '../agent-channel.js';
import type { HeldStream } from '../streams.js';
import { ADOPT_SUBSCRIPTIONS, CLOSE_STREAM } from '../streams.js';
import type { EraDeps, Target } from './era.js';
import { clientAddress, header, queryOf } from './era.js';
import type { RpcRequest } from './session-calls.js';
import { answerInSession, createSession, forwardAgentNotification, requireSession, sessionInfo } from './session-calls.js';

/** The 2025 Streamable HTTP endpoint: POST, GET and DELETE on `/mcp/{namespace}/{server}`. */
export class Sessions2025Era {
  constructor(private readonly deps: EraDeps) {}

  /** Answer a POST whose body (`body`, parsed) is one 2025 message. */
  async post(req: IncomingMessage, res: ServerResponse, target: Target, body: unknown, headerVersion: string | undefined): Promise<void> {
    const { answers } = this.deps;
    let message: JsonRpcMessage;
    try {
      message = classify(body);
    } catch (err) {
      return answers.error(res, 'sessions-2025', err, idOf(body));
    }
    if (message.kind === 'request' && message.method === 'initialize') return this.initialize(req, res, target, message.id, message.params);
    const found = requireSession(this.deps, req, target);
    const session = found instanceof Promise ? await found : found;
    if (headerVersion !== undefined && !SESSION_VERSIONS.includes(headerVersion as (typeof SESSION_VERSIONS)[number])) {
      throw new GatewayError('INVALID_REQUEST', `Bad Request: Unsupported protocol version: ${headerVersion} (supported versions: ${SESSION_VERSIONS.join(', ')})`);
    }
    if (message.kind !== 'request') {
      if (message.kind === 'notification' && message.method === 'notifications/cancelled') this.deps.streams.cancel(session.id, message.params.requestId);
      if (message.kind === 'notification') forwardAgentNotification(this.deps, target, session.id, message.method, message.params, req.headers);
      // The agent's answer to a request an upstream MCP server sent it through the gateway.
      if (message.kind === 'response') this.deps.streams.reply(session.id, body as Record<string, unknown>);
      return answers.accepted(res);
    }
    // The answer may turn into an SSE stream for progress (when the client gave a token) and for
    // what an upstream MCP server says during the call; a REST call without a token needs none.
    const token = (message.params._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const out = target.server.upstream || token !== undefined ? new AnswerStream(res, (header(req, 'accept') ?? '').includes('text/event-stream'), this.deps.streams) : undefined;
    // A client that closes its request (or the connection) has abandoned the call: abort it.
    // ('close' comes once: `on`, as `once` wraps the listener.)
    const cancellation = new Cancellation();
    let abandoned = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      abandoned = true;
      cancellation.cancel();
    });
    const answer = await answerInSession(this.deps, session, target, req.headers, queryOf(req), requestIdOf(res), message, cancellation, out);
    if (abandoned) return;
    if (out?.streaming) {
      this.deps.streams.event(res, answer);
      res.end();
    } else {
      answers.json(res, 200, answer);
    }
  }

  /**
   * A JSON-RPC batch (2025-03-26): at most `maxBatchEntries` messages, run `batchConcurrency` at a
   * time, answered in order within `maxBatchAnswerBytes`; closing the request aborts what runs.
   */
  async batch(req: IncomingMessage, res: ServerResponse, target: Target, batch: unknown[]): Promise<void> {
    if (batch.length === 0) throw new GatewayError('INVALID_REQUEST', 'Invalid Request: empty batch');
    const { maxBatchEntries, maxBatchAnswerBytes, batchConcurrency } = this.deps.limits;
    if (batch.length > maxBatchEntries) {
      this.deps.onLimit?.('maxBatchEntries');
      throw new GatewayError('BATCH_TOO_LARGE', `Invalid Request: a batch may hold at most ${maxBatchEntries} messages (maxBatchEntries); this one holds ${batch.length}`, { maxBatchEntries, entries: batch.length });
    }
    if (batch.some((m) => (m as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta?.[META.protocolVersion] !== undefined)) {
      throw new GatewayError('INVALID_REQUEST', 'Invalid Request: JSON-RPC batches may not contain requests for protocol revision 2026-07-28 or later');
    }
    const session = await requireSession(this.deps, req, target);
    const gone = new Cancellation();
    res.on('close', () => { if (!res.writableFinished) gone.cancel(); });
    const query = queryOf(req);
    const requestId = requestIdOf(res);
    const tooLarge = (id: JsonRpcId) => errorMessage(id, new GatewayError('BATCH_ANSWER_TOO_LARGE',
      `the batch's answer would be over ${maxBatchAnswerBytes} bytes (maxBatchAnswerBytes); send this request on its own`, { maxBatchAnswerBytes }), requestId);
    // Answers in the batch's order; the requests, with the size of the error that would replace
    // their answer. The answer's size: the brackets, each answer and its comma.
    const answers: (string | undefined)[] = new Array<string | undefined>(batch.length);
    const requests: { at: number; message: RpcRequest; refusal: number }[] = [];
    let bytes = 2;
    for (let at = 0; at < batch.length; at++) {
      const raw = batch[at];
      try {
        const message = classify(raw);
        if (message.kind === 'request') requests.push({ at, message, refusal: Buffer.byteLength(tooLarge(message.id)) + 1 });
      } catch (err) {
        answers[at] = errorMessage(idOf(raw), toGatewayError(err), requestId);
        bytes += Buffer.byteLength(answers[at] as string) + 1;
      }
    }
    // Room kept for the errors of the requests not answered yet, so that the whole answer stays within the cap.
    let reserved = requests.reduce((sum, r) => sum + r.refusal, 0);
    let full = bytes + reserved > maxBatchAnswerBytes;
    let failure: unknown;
    let next = 0;
    const place = (at: number, answer: string, refusal: number) => {
      answers[at] = answer;
      bytes += Buffer.byteLength(answer) + 1;
      reserved -= refusal;
    };
    const worker = async () => {
      while (next < requests.length && !gone.cancelled && failure === undefined) {
        const { at, message, refusal } = requests[next++] as (typeof requests)[number];
        if (full) {
          place(at, tooLarge(message.id), refusal);
          continue;
        }
        const cancellation = new Cancellation();
        const abort = () => cancellation.cancel();
        gone.onCancel(abort);
        try {
          const answer = await answerInSession(this.deps, session, target, req.headers, query, requestId, message, cancellation);
          if (!full && bytes + Buffer.byteLength(answer) + 1 + reserved - refusal <= maxBatchAnswerBytes) {
            place(at, answer, refusal);
          } else {
            if (!full) this.deps.onLimit?.('maxBatchAnswerBytes');
            full = true;
            place(at, tooLarge(message.id), refusal);
          }
        } catch (err) {
          // A 401/403 answers the whole request (with its headers): stop the other entries.
          failure = err;
          gone.cancel();
        } finally {
          gone.offCancel(abort);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(batchConcurrency, requests.length) }, worker));
    if (failure !== undefined) throw failure;
    if (gone.cancelled) return;
    const list = answers.filter((a): a is string => a !== undefined);
    if (list.length === 0) return this.deps.answers.accepted(res);
    this.deps.answers.json(res, 200, `[${list.join(',')}]`);
  }

  private async initialize(req: IncomingMessage, res: ServerResponse, target: Target, id: JsonRpcId, params: Record<string, unknown>): Promise<void> {
    const { server, consumer } = target;
    const result = initializeResult(server, params.protocolVersion);
    try {
      const session: SessionRecord = {
        id: randomUUID(), kind: 'streamable', namespace: server.namespace, server: server.name, protocolVersion: result.protocolVersion as string,
        ...sessionInfo(this.deps, params), consumerId: consumer?.id ?? null, ...clientAddress(req), headers: {}, createdAt: Date.now(),
      };
      await createSession(this.deps, session);
      res.setHeader('mcp-session-id', session.id);
    } catch (err) {
      // Refused (too large, a cap, Redis away): the answer names the request.
      return this.deps.answers.error(res, 'sessions-2025', err, id);
    }
    this.deps.answers.json(res, 200, resultMessage(id, result));
  }

  /** GET: the session's server stream, replacing an older one here or on another replica, resumed after Last-Event-ID. */
  async openStream(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    const { streams, bus } = this.deps;
    if (!header(req, 'mcp-session-id')) throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST, DELETE' });
    const session = await requireSession(this.deps, req, target);
    if (!(header(req, 'accept') ?? '').includes('text/event-stream')) throw new GatewayError('NOT_ACCEPTABLE', 'Not Acceptable: Client must accept text/event-stream');
    // The new stream replaces the session's older one, here or on another replica.
    streams.endSessionStreams(session.id);
    const token = randomUUID();
    await bus.publish(streamChannel(session.id), `${CLOSE_STREAM}${token}`);
    // Subscribe before answering, so that an unavailable session store is still a 503; live
    // messages that arrive while the missed ones are replayed wait behind the replay.
    const held: HeldStream = { res, serverKey: target.server.key, sessionId: session.id, pending: [], consumerId: session.consumerId };
    held.close = await bus.subscribe(streamChannel(session.id), (payload) => {
      if (payload === ADOPT_SUBSCRIPTIONS) adopt();
      else if (!payload.startsWith(CLOSE_STREAM)) streams.deliver(held, payload);
      else if (payload !== `${CLOSE_STREAM}${token}`) streams.endStream(held);
    });
    streams.add(held);
    // The session's subscriptions on a shared upstream connection follow its stream (here now).
    const adopt = () => { streams.adoptSubscriptions(session).catch((err: unknown) => this.deps.logger.debug({ err }, 'could not take over a session\'s resource subscriptions')); };
    adopt();
    req.once('close', () => streams.endStream(held));
    if (req.destroyed) return streams.endStream(held);
    res.writeHead(200, SSE_HEADERS);
    streams.write(res, 'retry: 1000\n\n');
    await streams.resume(held, session, header(req, 'last-event-id'));
  }

  /** DELETE: end the session and its stream, wherever it is held. */
  async endSession(req: IncomingMessage, res: ServerResponse, target: Target): Promise<void> {
    if (!header(req, 'mcp-session-id')) throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST' });
    const session = await requireSession(this.deps, req, target);
    await this.deps.sessions.delete(session.id);
    this.deps.streams.endSessionStreams(session.id);
    // Its upstream MCP connection (servers with `upstream.sessions: per-session`) ends with it.
    target.server.upstream?.endSession(session.id, session.upstream).catch((err: unknown) => this.deps.logger.debug({ err }, 'could not close an upstream MCP session'));
    // And the session's stream if another replica holds it.
    await this.deps.bus.publish(streamChannel(session.id), CLOSE_STREAM).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not close the ended session\'s stream on other replicas'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  }
}
