/**
 * The one writer of the MCP endpoints' answers: JSON-RPC results and errors as JSON bodies, 202s,
 * errors on a stream that has started, and the plain JSON errors of the gateway's other paths.
 * An error's JSON-RPC code and HTTP status come from its declaration (src/gateway/errors.ts); the
 * status an era answers with where it differs is decided here, and only here.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import { requestIdOf } from '../../lib/request-context.js';
import type { GatewayError, GatewayErrorCode } from '../errors.js';
import { toGatewayError } from '../errors.js';
import type { JsonRpcId } from './jsonrpc.js';
import { errorMessage } from './jsonrpc.js';
import { messageEvent } from './sse.js';
import type { WriteGuard } from './write-guard.js';

/**
 * Which transport an answer goes out on: `stateless-2026` (2026-07-28), `sessions-2025` (2025
 * Streamable HTTP), `sse-2024` (the 2024 HTTP+SSE transport's message endpoint), or `none`
 * (refused before an era was told: access, route, body).
 */
export type AnswerEra = 'stateless-2026' | 'sessions-2025' | 'sse-2024' | 'none';

/** HTTP statuses that differ from an error's declared one, by era. */
const STATUS_BY_ERA: Readonly<Record<AnswerEra, Partial<Record<GatewayErrorCode, number>>>> = {
  // 2026-07-28: a method the server does not have is HTTP 404 (the request names it in Mcp-Method).
  'stateless-2026': { METHOD_NOT_FOUND: 404 },
  'sessions-2025': {},
  'sse-2024': {},
  none: {},
};

/** The HTTP status of an error answer: the era's, else the declared one; a 200 without an id is a 400. */
export function statusOf(era: AnswerEra, err: GatewayError, id: JsonRpcId | null): number {
  const status = STATUS_BY_ERA[era][err.code] ?? err.status;
  return status === 200 && id === null ? 400 : status;
}

/** Writes answers through the write guard (slow clients are dropped). */
export class Answers {
  constructor(private readonly guard: WriteGuard, private readonly logger: Logger, private readonly onError?: (code: string) => void) {}

  /** A JSON body (a content-length makes it one write instead of a chunked stream). */
  json(res: ServerResponse, status: number, body: string): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    this.guard.watch(res);
  }

  /** A 202 without a body (a notification or response accepted). */
  accepted(res: ServerResponse): void {
    res.writeHead(202);
    res.end();
  }

  /** The one place an error of the MCP endpoints becomes an answer: its status and headers, or an event on a started stream. */
  error(res: ServerResponse, era: AnswerEra, err: unknown, id: JsonRpcId | null): void {
    const requestId = requestIdOf(res);
    const e = toGatewayError(err, this.logger, requestId);
    this.onError?.(e.code);
    if (res.headersSent) {
      if (!res.writableEnded) {
        this.guard.writeStream(res, messageEvent(errorMessage(id, e, requestId)));
        res.end();
      }
      return;
    }
    for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
    this.json(res, statusOf(era, e, id), errorMessage(id, e, requestId));
  }
}

/** An error of the gateway's other paths (probes, unknown paths) as `{error: {code, message}}`. */
export function plainError(res: ServerResponse, err: GatewayError | { status: number; code: string; message: string }): void {
  const requestId = requestIdOf(res);
  plainJson(res, err.status, { error: { code: err.code, message: err.message, ...(requestId ? { requestId } : {}) } });
}

/** A JSON answer of the gateway's other paths. */
export function plainJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
