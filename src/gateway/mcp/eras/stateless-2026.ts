/**
 * Protocol revision 2026-07-28, stateless: every request is a POST that carries its own `_meta`
 * envelope (protocol version, client capabilities) and names its method (and tool, prompt or
 * resource) in headers too; no session. Notifications are accepted and dropped (closing a
 * request's stream is its cancellation); `subscriptions/listen` holds a stream that is told of
 * list changes. Requests run through `handleRequest` (src/gateway/mcp/methods.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancellation } from '../../../tools/cancellation.js';
import { GatewayError } from '../../errors.js';
import type { JsonRpcId, JsonRpcMessage } from '../jsonrpc.js';
import { requestIdOf } from '../../../lib/request-context.js';
import { classify, idOf, notificationMessage, resultMessage } from '../jsonrpc.js';
import type { CallContext } from '../methods.js';
import { META, STATELESS_VERSIONS, knowsMethod, statelessResultMessage } from '../protocol.js';
import { SSE_HEADERS } from '../sse.js';
import type { HeldStream, ListenFilter } from '../streams.js';
import { InputRounds } from '../input-required.js';
import type { RoundHandle } from '../input-required.js';
import { AnswerStream } from '../agent-channel.js';
import type { EraDeps, Target } from './era.js';
import { clientAddress, header, queryOf, runMethod } from './era.js';

/** Methods whose 2026-07-28 results may be `input_required` (multi-round-trip requests). */
const MULTI_ROUND = new Set(['tools/call', 'prompts/get', 'resources/read']);

const HEADER_SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/** Decode an `=?base64?…?=` header value (2026-07-28); undefined when the sentinel is malformed. */
function decodeHeaderValue(v: string): string | undefined {
  const trimmed = v.trim();
  if (!trimmed.startsWith('=?base64?')) return trimmed;
  const m = HEADER_SENTINEL.exec(trimmed);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : undefined;
}

/** Whether a POST body is a 2026-07-28 request: it carries the envelope, or the header names a stateless version. */
export function isStateless(body: unknown, headerVersion: string | undefined): boolean {
  const claim = (body as { params?: { _meta?: Record<string, unknown> } } | null)?.params?._meta?.[META.protocolVersion];
  return claim !== undefined || STATELESS_VERSIONS.includes(headerVersion as (typeof STATELESS_VERSIONS)[number]);
}

/** The 2026-07-28 endpoint: one POST, one answer (or a listen stream). */
export class Stateless2026Era {
  /** Calls of upstream MCP servers waiting for agents' input (`input_required`). */
  private readonly rounds: InputRounds;

  constructor(private readonly deps: EraDeps) {
    this.rounds = new InputRounds({ sessions: deps.sessions, bus: deps.bus, logger: deps.logger });
  }

  /** Cancel the calls waiting for agents' input (shutdown). */
  close(): void {
    this.rounds.close();
  }

  /** Answer a POST whose body (`body`, parsed) is a 2026-07-28 message. */
  async post(req: IncomingMessage, res: ServerResponse, target: Target, body: unknown, headerVersion: string | undefined): Promise<void> {
    const { answers } = this.deps;
    const id = idOf(body);
    let message: JsonRpcMessage;
    try {
      message = classify(body);
      if (message.kind === 'response') throw new GatewayError('INVALID_REQUEST', 'Invalid Request: clients do not send responses in protocol revision 2026-07-28');
    } catch (err) {
      return answers.error(res, 'stateless-2026', err, id);
    }
    const meta = message.params._meta as Record<string, unknown> | undefined;
    if (message.kind === 'notification') {
      const methodHeader = header(req, 'mcp-method');
      if (methodHeader !== undefined && decodeHeaderValue(methodHeader) !== message.method) {
        return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the Mcp-Method header (${methodHeader}) disagrees with the body (${message.method})`);
      }
      // Closing the request's stream is its cancellation; request ids are not unique across
      // clients, so a notifications/cancelled cannot name one call safely and is only accepted.
      return answers.accepted(res);
    }
    if (typeof meta !== 'object' || meta === null) {
      return this.refuse(res, id, 'INVALID_ENVELOPE', `Invalid params: the MCP-Protocol-Version header names protocol revision ${headerVersion}, but the request is missing the required per-request envelope key(s): _meta`, { envelope: { missing: ['_meta'] } });
    }
    const version = meta[META.protocolVersion];
    if (typeof version !== 'string') return this.refuse(res, id, 'INVALID_ENVELOPE', `Invalid _meta envelope: ${META.protocolVersion}: must be a string`, { envelope: { key: META.protocolVersion, problem: 'invalid' } });
    const caps = meta[META.clientCapabilities];
    if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
      return this.refuse(res, id, 'INVALID_ENVELOPE', `Invalid _meta envelope for protocol revision ${version}: ${META.clientCapabilities}: missing`, { envelope: { key: META.clientCapabilities, problem: 'missing' } });
    }
    if (headerVersion !== undefined && headerVersion !== version) {
      return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the request headers and body disagree: the body envelope names protocol version ${version} but the MCP-Protocol-Version header names ${headerVersion}`, { mismatch: { header: headerVersion, body: version } });
    }
    const methodHeader = header(req, 'mcp-method');
    const decodedMethod = methodHeader === undefined ? undefined : decodeHeaderValue(methodHeader);
    if (decodedMethod !== undefined && decodedMethod !== message.method) {
      return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the request headers and body disagree: the body names method ${message.method} but the Mcp-Method header names ${decodedMethod}`, { mismatch: { header: decodedMethod, body: message.method } });
    }
    if (!STATELESS_VERSIONS.includes(version as (typeof STATELESS_VERSIONS)[number])) {
      return this.refuse(res, id, 'UNSUPPORTED_VERSION', `Unsupported protocol version: ${version}`, { supported: [...STATELESS_VERSIONS], requested: version });
    }
    if (headerVersion === undefined) return this.refuse(res, id, 'HEADER_MISMATCH', 'Bad Request: the required MCP-Protocol-Version header is absent', { mismatch: { header: '(missing)', body: version } });
    if (methodHeader === undefined) return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the body names method ${message.method} but the required Mcp-Method header is absent`, { mismatch: { header: '(missing)', body: message.method } });
    if (decodedMethod === undefined) return this.refuse(res, id, 'HEADER_MISMATCH', 'Bad Request: the Mcp-Method header has an invalid base64 value');
    const nameSource = message.method === 'resources/read' ? message.params.uri : message.method === 'tools/call' || message.method === 'prompts/get' ? message.params.name : undefined;
    if (nameSource !== undefined) {
      const nameHeader = header(req, 'mcp-name');
      const decodedName = nameHeader === undefined ? undefined : decodeHeaderValue(nameHeader);
      if (nameHeader === undefined) return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the body carries ${message.method === 'resources/read' ? 'params.uri' : 'params.name'}=${JSON.stringify(nameSource)} but the required Mcp-Name header is absent`, { mismatch: { header: '(missing)', body: nameSource } });
      if (decodedName !== String(nameSource)) return this.refuse(res, id, 'HEADER_MISMATCH', `Bad Request: the Mcp-Name header (${nameHeader}) disagrees with the body (${String(nameSource)})`, { mismatch: { header: nameHeader, body: nameSource } });
    }
    if (!knowsMethod('stateless', message.method)) return answers.error(res, 'stateless-2026', new GatewayError('METHOD_NOT_FOUND', 'Method not found'), message.id);
    if (message.method === 'subscriptions/listen') return this.listen(req, res, target, message.id, message.params);

    if (target.server.upstream && MULTI_ROUND.has(message.method)) return this.multiRound(req, res, target, message.id, message.method, message.params, caps as Record<string, unknown>);
    const cancellation = new Cancellation();
    res.on('close', () => { if (!res.writableFinished) cancellation.cancel(); }); // 'close' comes once: `on` (`once` wraps the listener)
    const ctx: CallContext = { server: target.server, consumer: target.consumer, clientHeaders: req.headers, clientQuery: queryOf(req), clientAddress: req.socket.remoteAddress || undefined, requestId: requestIdOf(res), cancellation, beforeExecute: target.beforeExecute, scopeChallenge: target.scopeChallenge };
    try {
      const result = await runMethod(this.deps, ctx, message.method, message.params, undefined, message.id);
      if (!cancellation.cancelled) answers.json(res, 200, statelessResultMessage(message.id, message.method, result, target.server, target.consumer));
    } catch (err) {
      if (!cancellation.cancelled) answers.error(res, 'stateless-2026', err, message.id);
    }
  }

  /**
   * A request to an upstream MCP server that may ask the agent questions (sampling, elicitation,
   * roots): answered with the result, or with `input_required` while the upstream call waits for
   * the agent's retry (src/gateway/mcp/input-required.ts).
   */
  private async multiRound(req: IncomingMessage, res: ServerResponse, target: Target, id: JsonRpcId, method: string, raw: Record<string, unknown>, caps: Record<string, unknown>): Promise<void> {
    const { answers } = this.deps;
    const { requestState, inputResponses, ...params } = raw;
    const consumerId = target.consumer?.id ?? null;
    // The upstream's progress goes out on this POST's answer, turned SSE stream (2026-07-28 allows
    // one), while it is the POST the call is answered on.
    const out = new AnswerStream(res, (header(req, 'accept') ?? '').includes('text/event-stream'), this.deps.streams);
    const token = (raw._meta as { progressToken?: unknown } | undefined)?.progressToken;
    const progress: { current?: ((p: number, total?: number, text?: string) => void) | undefined } = {};
    let round: RoundHandle;
    try {
      if (requestState !== undefined) {
        round = await this.rounds.resume(requestState, inputResponses ?? {}, target.server.key, consumerId);
      } else {
        const started = this.rounds.start(target.server.key, consumerId, caps, (agent, cancellation) => runMethod(this.deps, {
          server: target.server, consumer: target.consumer, clientHeaders: req.headers, clientQuery: queryOf(req), ...clientAddress(req), cancellation, beforeExecute: target.beforeExecute, scopeChallenge: target.scopeChallenge, agent,
        }, method, params, (p, total, text) => progress.current?.(p, total, text)));
        round = { next: () => started.next(), abandon: () => started.cancellation.cancel() };
      }
    } catch (err) {
      return answers.error(res, 'stateless-2026', err, id);
    }
    // An agent that goes away while the call runs abandons it.
    const current = round;
    res.on('close', () => { if (!res.writableFinished) current.abandon(); });
    if (token !== undefined && requestState === undefined) {
      progress.current = (p, total, text) => { out.send(notificationMessage('notifications/progress', { progressToken: token, progress: p, ...(total !== undefined ? { total } : {}), ...(text !== undefined ? { message: text } : {}) })); };
    }
    const outcome = await current.next();
    progress.current = undefined;
    if (res.writableEnded || res.destroyed) return;
    if (outcome.kind === 'failed') return answers.error(res, 'stateless-2026', outcome.error, id);
    // Kept for every replica before the agent learns the requestState (its retry may land anywhere).
    if (outcome.kind === 'input') await this.rounds.keep(outcome.requestState);
    const result = outcome.kind === 'done' ? outcome.result : { resultType: 'input_required', inputRequests: outcome.inputRequests, requestState: outcome.requestState };
    const answer = statelessResultMessage(id, method, result, target.server, target.consumer);
    if (!out.streaming) return answers.json(res, 200, answer);
    this.deps.streams.event(res, answer);
    res.end();
  }

  /** A request refused before it runs (HTTP 400 with the JSON-RPC error). */
  private refuse(res: ServerResponse, id: JsonRpcId | null, code: 'INVALID_ENVELOPE' | 'HEADER_MISMATCH' | 'UNSUPPORTED_VERSION', text: string, data?: unknown): void {
    this.deps.answers.error(res, 'stateless-2026', new GatewayError(code, text, data), id);
  }

  /** `subscriptions/listen`: acknowledge what is honoured, then hold the stream (or complete at once when nothing is). */
  private listen(req: IncomingMessage, res: ServerResponse, target: Target, id: JsonRpcId, params: Record<string, unknown>): void {
    const { answers, streams } = this.deps;
    const filter = params.notifications as Record<string, unknown> | undefined;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      return answers.error(res, 'stateless-2026', new GatewayError('INVALID_PARAMS', "Invalid params: 'notifications' is required and must be a valid SubscriptionFilter"), id);
    }
    const honored: ListenFilter = {};
    if (filter.toolsListChanged === true) honored.toolsListChanged = true;
    if (filter.promptsListChanged === true) honored.promptsListChanged = true;
    if (filter.resourcesListChanged === true && target.server.upstream) honored.resourcesListChanged = true;
    res.writeHead(200, SSE_HEADERS);
    streams.event(res, notificationMessage('notifications/subscriptions/acknowledged', { notifications: honored, _meta: { [META.subscriptionId]: id } }));
    if (Object.keys(honored).length === 0) {
      streams.event(res, resultMessage(id, { resultType: 'complete', _meta: { [META.subscriptionId]: id } }));
      res.end();
      return;
    }
    const held: HeldStream = { res, serverKey: target.server.key, subscriptionId: id, filter: honored, consumerId: target.consumer?.id ?? null };
    streams.add(held);
    req.once('close', () => streams.remove(held));
  }
}
