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
import type { StreamHub } from '../streams.js';

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
  /** Observes each tools/call (for metrics). */
  onToolCall?: ((server: string, tool: string, seconds: number, isError: boolean) => void) | undefined;
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

/** Run one method (timing tools/call for the metrics). */
export async function runMethod(deps: EraDeps, ctx: CallContext, method: string, params: Record<string, unknown>, onProgress?: (p: number, t?: number, message?: string) => void): Promise<Record<string, unknown>> {
  if (method !== 'tools/call') return handleRequest(ctx, method, params, { onProgress });
  const started = performance.now();
  const result = await handleRequest(ctx, method, params, { onProgress });
  deps.onToolCall?.(ctx.server.key, String(params.name), (performance.now() - started) / 1000, result.isError === true);
  return result;
}
