/**
 * The MCP endpoints, for every protocol era at once, over node:http request and response objects
 * (a listening server, or light-my-request in tests: no socket needed):
 *
 * - `POST /mcp/{ns}/{server}`: 2026-07-28 stateless requests (told apart by their `_meta`
 *   envelope: eras/stateless-2026.ts) and 2025-03-26 … 2025-11-25 Streamable HTTP with sessions
 *   (eras/sessions-2025.ts);
 * - `GET` / `DELETE` on the same path: a 2025 session's server stream (resumable with
 *   Last-Event-ID) and its end;
 * - `GET /mcp/{ns}/{server}/sse` + `POST …/message?sessionId=`: the 2024 HTTP+SSE transport
 *   (eras/sse-2024.ts).
 *
 * Every request goes: access policy (Host/Origin, CORS, route, consumer key, allow-list) → era →
 * `handleRequest` (methods.ts) → answer (answers.ts, the one error writer). Open streams, their
 * notifications, resumption and cancellations live in the stream hub (streams.ts).
 *
 * The transport is ours rather than the SDK's server transports: one process must serve all
 * three eras on one path, share sessions and streams across replicas through the
 * SessionStore / MessageBus / EventStore ports, and stay on the request path's budget
 * (see docs/architecture.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.js';
import { AccessPolicy } from '../access-policy.js';
import { GatewayError } from '../errors.js';
import type { GatewayLimits } from '../limits.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { GatewaySnapshot } from '../snapshot.js';
import { EMPTY_SNAPSHOT } from '../snapshot.js';
import type { EventStore, MessageBus, SessionStore } from '../sessions/types.js';
import type { AgentChannel } from '../../tools/executor.js';
import { sessionAgent } from './agent-channel.js';
import { Answers } from './answers.js';
import type { EraDeps, RequestObservation, Target } from './eras/era.js';
import { header, queryOf, readJson } from './eras/era.js';
import { Sessions2025Era } from './eras/sessions-2025.js';
import { Sse2024Era } from './eras/sse-2024.js';
import { Stateless2026Era, isStateless } from './eras/stateless-2026.js';
import { StreamHub } from './streams.js';
import { WriteGuard } from './write-guard.js';

/** Options of the MCP endpoints. */
export interface McpHandlerOptions {
  logger: Logger;
  sessions: SessionStore;
  bus: MessageBus;
  events: EventStore;
  /** Who may reach what; loopback-only Host and Origin rules when omitted. */
  access?: AccessPolicy | undefined;
  /** Largest request body; default 4 MiB. */
  bodyLimitBytes?: number;
  /** Keep-alive period of open streams (and refresh of their sessions); default 15 s. */
  keepAliveMs?: number | undefined;
  /** Bounds on sessions, batches, JSON and slow clients; the defaults when omitted. */
  limits?: GatewayLimits | undefined;
  /** Observes each request an era runs (metrics, access log). */
  onRequest?: (observation: RequestObservation) => void;
  /** Observes each error answered with an HTTP error status or on a started stream (refusals before a method runs: access, sessions, envelope), by code. */
  onErrorAnswer?: (code: string) => void;
  /** Observes each request refused or connection closed by a limit, named as its option (for metrics). */
  onLimit?: (limit: string) => void;
}

/** Serves MCP for every server of the current snapshot: routes each request to its era. */
export class McpHandler {
  private snapshot: GatewaySnapshot = EMPTY_SNAPSHOT;
  private readonly access: AccessPolicy;
  private readonly guard: WriteGuard;
  private readonly streams: StreamHub;
  private readonly answers: Answers;
  private readonly stateless: Stateless2026Era;
  private readonly sessions: Sessions2025Era;
  private readonly sse: Sse2024Era;
  private readonly deps: EraDeps;

  constructor(opts: McpHandlerOptions) {
    const limits = opts.limits ?? DEFAULT_LIMITS;
    this.access = opts.access ?? new AccessPolicy({ bindHost: '127.0.0.1', onLimit: opts.onLimit });
    this.guard = new WriteGuard({
      maxBufferedBytes: limits.streamMaxBufferedBytes, writeTimeoutMs: limits.streamWriteTimeoutMs,
      onDrop: (reason, bytes) => {
        opts.logger.warn({ reason, bufferedBytes: bytes }, 'closed a connection whose client does not read what it is sent');
        opts.onLimit?.(reason);
      },
    });
    this.streams = new StreamHub({
      logger: opts.logger, sessions: opts.sessions, bus: opts.bus, events: opts.events, guard: this.guard,
      snapshot: () => this.snapshot, keepAliveMs: opts.keepAliveMs,
    });
    this.answers = new Answers(this.guard, opts.logger, opts.onErrorAnswer);
    const deps: EraDeps = this.deps = {
      logger: opts.logger, sessions: opts.sessions, bus: opts.bus, events: opts.events, limits,
      bodyLimitBytes: opts.bodyLimitBytes ?? 4 * 1024 * 1024, streams: this.streams, answers: this.answers,
      onRequest: opts.onRequest, onLimit: opts.onLimit,
    };
    this.stateless = new Stateless2026Era(deps);
    this.sessions = new Sessions2025Era(deps);
    this.sse = new Sse2024Era(deps);
  }

  /** The snapshot being served. */
  get current(): GatewaySnapshot {
    return this.snapshot;
  }

  /** How many streams this process holds open. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** The consumer keys let in since the last call, with when (reported to the registry: the console's "last used"). */
  takeConsumerUses(): { id: string; at: number }[] {
    return this.access.takeConsumerUses();
  }

  /** An upstream MCP server said one of its lists changed: tell the streams of its server (see `StreamHub.upstreamListChanged`). */
  upstreamListChanged(serverKey: string, method: string): void {
    this.streams.upstreamListChanged(serverKey, method);
  }

  /** A notification of an upstream MCP server outside requests (see `StreamHub.upstreamNotification`). */
  upstreamNotification(serverKey: string, sessionId: string | undefined, method: string, params: Record<string, unknown> | undefined): void {
    this.streams.upstreamNotification(serverKey, sessionId, method, params);
  }

  /**
   * The way to an agent session outside its calls (for a per-session upstream connection): its
   * stream, wherever it is held; undefined when the session is unknown.
   */
  async sessionAgent(sessionId: string): Promise<AgentChannel | undefined> {
    const session = await this.deps.sessions.get(sessionId);
    if (!session) return undefined;
    const { kind } = session;
    return sessionAgent(this.streams, session.id, session.capabilities as Record<string, unknown> | undefined, (payload) => this.streams.toSession(session.id, kind, payload));
  }

  /** Swap in a new snapshot and tell open streams whose server's tools or prompts changed. */
  setSnapshot(next: GatewaySnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    this.streams.snapshotChanged(previous, next);
  }

  /** Draining: end every held stream with an SSE `retry:` (its client reconnects elsewhere); calls running go on. Answers how many. */
  releaseStreams(retryMs: number): number {
    return this.streams.release(retryMs);
  }

  /** Close every held stream (shutdown): listen streams get their graceful end. */
  async close(): Promise<void> {
    this.stateless.close();
    await this.streams.close();
    this.guard.close();
  }

  /** Handle a request under `/mcp/`; `path` is the part after `/mcp/`. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const admission = this.access.admit(req, res, this.snapshot, path);
      const admitted = admission instanceof Promise ? await admission : admission;
      if (!admitted) return; // a CORS preflight, answered
      const { route } = admitted;
      const target: Target = admitted;
      if (route.kind === 'sse') {
        if (req.method !== 'GET') throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'GET' });
        return await this.sse.open(req, res, target, path);
      }
      if (route.kind === 'message') {
        if (req.method !== 'POST') throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'POST' });
        return await this.sse.message(req, res, target, new URLSearchParams(queryOf(req)).get('sessionId'));
      }
      switch (req.method) {
        case 'POST': {
          // A 2026-07-28 request, a 2025 message or a 2025 batch (here rather than in a method of its own: one promise fewer a call).
          const body = await readJson(this.deps, req);
          const headerVersion = header(req, 'mcp-protocol-version')?.trim();
          if (Array.isArray(body)) return await this.sessions.batch(req, res, target, body);
          if (isStateless(body, headerVersion)) return await this.stateless.post(req, res, target, body, headerVersion);
          return await this.sessions.post(req, res, target, body, headerVersion);
        }
        case 'GET':
          return await this.sessions.openStream(req, res, target);
        case 'DELETE':
          return await this.sessions.endSession(req, res, target);
        default:
          throw new GatewayError('METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: 'GET, POST, DELETE' });
      }
    } catch (err) {
      this.answers.error(res, 'none', err, null);
    }
  }
}
