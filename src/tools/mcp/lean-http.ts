/**
 * The per-call path to a 2025-era Streamable HTTP upstream, without the SDK's transport.
 *
 * Hand-written on purpose (measured, bench/mcp/proxy.bench.ts): the SDK client's transport
 * spends per request a WHATWG `fetch` (a Request, a cloned body, a ReadableStream), a
 * TextDecoderStream and an EventSourceParserStream (three TransformStreams) for the answer, and
 * a zod validation of every message and result — several times the upstream's own CPU per call.
 * Here one `undici.request` on the gateway's keep-alive pool sends the request, and the answer
 * (JSON or an SSE stream) is parsed as it comes: only what the gateway reads is checked (the
 * JSON-RPC envelope, the answer's id, the result field it passes on), the result passes through
 * as it is. Messages of the upstream on the answer stream that are not the answer (its requests
 * to the client, notifications, answers to other requests) are handed to the SDK client as its
 * transport would, so relays, cancellation and notifications behave as on the SDK's path.
 *
 * Connection set-up (initialize, era negotiation), the standalone GET stream, session end, and
 * every other transport (2026-07-28 stateless, legacy SSE, stdio) stay on the SDK.
 */
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import { request as undiciRequest } from 'undici';
import type { Dispatcher } from 'undici';
import { SseParser } from '../../lib/sse-parser.js';
import { ToolError } from '../errors.js';

/**
 * Methods sent on the lean path, with the field of their result the gateway reads (it must be an
 * array); `null`: any object. Other methods go through the SDK client.
 */
export const LEAN_METHODS: ReadonlyMap<string, string | null> = new Map([
  ['tools/call', 'content'], ['tools/list', 'tools'], ['resources/list', 'resources'], ['resources/templates/list', 'resourceTemplates'],
  ['resources/read', 'contents'], ['prompts/list', 'prompts'], ['prompts/get', 'messages'], ['ping', null],
]);

/** Headers a call's passthrough may not set (the exchange's own). */
const RESERVED = new Set(['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'content-length', 'host', 'connection', 'transfer-encoding']);

/** A JSON-RPC message as read off the wire (checked only as far as used). */
export interface WireMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** One lean exchange: what to send and where the upstream's other messages go. */
export interface LeanExchange {
  url: string;
  dispatcher: Dispatcher | undefined;
  /** The server's static upstream headers, names in lower case. */
  staticHeaders: Readonly<Record<string, string>>;
  /** The call's passthrough headers (credentials, trace context). */
  headers: Record<string, string> | undefined;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  id: string;
  method: string;
  params: Record<string, unknown>;
  signal: AbortSignal;
  /** Every message of the upstream on the answer stream other than the answer itself. */
  onMessage(message: WireMessage): void;
  /** `${what}` of error messages, e.g. `upstream tools/call`. */
  what: string;
}

/** Server static headers in the form the lean path uses. */
export function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * The parser of an answer stream: calls `onData` with the data of each `message` event. Events
 * with empty data (a 2025-11-25 server's priming event: an id, `data:` and nothing) and events
 * of other names are not the upstream's messages.
 */
export function answerStreamParser(onData: (data: string) => void): SseParser {
  return new SseParser((e) => {
    if (e.event === 'message' && e.data !== '') onData(e.data);
  });
}

/** The answer's result, checked as far as the gateway reads it; a JSON-RPC error as the SDK's ProtocolError. */
function settle(message: WireMessage, what: string, method: string): Record<string, unknown> {
  if (message.error !== undefined) {
    const e = message.error as { code?: unknown; message?: unknown; data?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number' || typeof e.message !== 'string') {
      throw new ToolError('UPSTREAM_PROTOCOL', `${what}: the upstream answered a malformed JSON-RPC error`);
    }
    throw new ProtocolError(e.code, e.message, e.data);
  }
  const result = message.result;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new ToolError('UPSTREAM_PROTOCOL', `${what}: the result is not an object`);
  const field = LEAN_METHODS.get(method);
  if (field && !Array.isArray((result as Record<string, unknown>)[field])) throw new ToolError('UPSTREAM_PROTOCOL', `${what}: the result has no ${field} array`);
  return result as Record<string, unknown>;
}

/**
 * Send one request and resolve with its result (rejects with a ToolError, the SDK's
 * ProtocolError for a JSON-RPC error, or its SdkHttpError for an HTTP error status — a 404 is
 * a forgotten session, re-initialized by the runtime). Messages after the answer on the same
 * stream are still read and handed on until the upstream ends it.
 */
export async function leanRequest(x: LeanExchange): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { ...x.staticHeaders };
  if (x.headers) {
    for (const k in x.headers) {
      const name = k.toLowerCase();
      if (!(name in headers) && !RESERVED.has(name)) headers[name] = x.headers[k] as string;
    }
  }
  headers['content-type'] = 'application/json';
  headers.accept = 'application/json, text/event-stream';
  if (x.sessionId) headers['mcp-session-id'] = x.sessionId;
  if (x.protocolVersion) headers['mcp-protocol-version'] = x.protocolVersion;
  const response = await undiciRequest(x.url, {
    method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: x.id, method: x.method, params: x.params }), signal: x.signal,
    ...(x.dispatcher ? { dispatcher: x.dispatcher } : {}),
  });
  const { statusCode, body } = response;
  if (statusCode < 200 || statusCode >= 300) {
    const text = await body.text().catch(() => '');
    throw new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, { status: statusCode, statusText: '', text });
  }
  const contentType = String(response.headers['content-type'] ?? '').toLowerCase();
  let answer: Record<string, unknown> | undefined;
  let failure: unknown;
  let answered = false;
  const parse = (raw: string): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      throw new ToolError('UPSTREAM_PROTOCOL', `${x.what}: the upstream's answer is not JSON`);
    }
  };
  const take = (value: unknown): void => {
    const message = value as WireMessage;
    if (typeof message !== 'object' || message === null || Array.isArray(message) || message.jsonrpc !== '2.0') {
      throw new ToolError('UPSTREAM_PROTOCOL', `${x.what}: the upstream's answer is not a JSON-RPC message`);
    }
    if (message.method === undefined && message.id === x.id && !answered) {
      answered = true;
      try {
        answer = settle(message, x.what, x.method);
      } catch (err) {
        failure = err;
      }
      return;
    }
    x.onMessage(message);
  };
  if (contentType.startsWith('application/json')) {
    const parsed = parse(await body.text());
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) take(m);
  } else if (contentType.startsWith('text/event-stream')) {
    // The answer resolves the call as soon as it comes; the rest of the stream is read on.
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown) => {
        if (done) return;
        if (err !== undefined) {
          done = true;
          reject(err);
        } else if (answered) {
          done = true;
          if (failure !== undefined) reject(failure);
          else resolve(answer as Record<string, unknown>);
        }
      };
      const parser = answerStreamParser((data) => {
        try {
          take(parse(data));
        } catch (err) {
          finish(err);
          body.destroy();
          return;
        }
        finish();
      });
      body.on('data', (chunk: Buffer) => {
        try {
          parser.push(chunk);
        } catch (err) { // a line over the parser's bound: a broken stream
          finish(new ToolError('UPSTREAM_PROTOCOL', `${x.what}: ${err instanceof Error ? err.message : String(err)}`));
          body.destroy();
        }
      });
      body.on('end', () => {
        parser.end();
        if (!answered) finish(new ToolError('UPSTREAM_PROTOCOL', `${x.what}: the upstream ended its answer stream without answering`));
      });
      body.on('error', (err) => finish(err));
    });
  } else {
    await body.text().catch(() => '');
    throw new SdkError(SdkErrorCode.ClientHttpUnexpectedContent, `Unexpected content type: ${contentType}`, { contentType });
  }
  if (!answered) throw new ToolError('UPSTREAM_PROTOCOL', `${x.what}: the upstream answered without the answer to the request`);
  if (failure !== undefined) throw failure;
  return answer as Record<string, unknown>;
}
