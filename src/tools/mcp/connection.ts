/**
 * One connection to an upstream MCP server, on the official SDK's `Client` (2.x: it negotiates
 * the 2026-07-28 stateless era or the 2025 session era with the upstream): Streamable HTTP,
 * legacy HTTP+SSE, or a stdio child. Errors come out as the tool runtime's `ToolError`s
 * (UPSTREAM_UNREACHABLE, UPSTREAM_TIMEOUT, UPSTREAM_PROTOCOL, UPSTREAM_ERROR).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Client, ProtocolError, SSEClientTransport, SdkError, SdkErrorCode, SdkHttpError, StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import type { FetchLike, ServerCapabilities, Transport } from '@modelcontextprotocol/client';
import { fetch as undiciFetch } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../../lib/logger.js';
import { ToolError } from '../errors.js';
import type { CallCancellation } from '../executor.js';
import type { McpUpstreamOptions } from './config.js';
import type { UpstreamSessionState } from './session-state.js';
import { ChildStdioTransport, StdioProtocolError } from './stdio.js';

/** What the gateway calls itself to upstream servers. */
const CLIENT_INFO = { name: 'mcpgate', version: '0.1.0' };

/** Headers of the call being sent (credentials passed through), read by the transport's fetch. */
const callHeaders = new AsyncLocalStorage<Record<string, string>>();

/** Where and how to connect. */
export interface ConnectionTarget {
  /** The upstream's MCP URL (HTTP kinds). */
  url?: string;
  options: McpUpstreamOptions;
  /** Backend connections (HTTP kinds): the gateway's guarded dispatcher. */
  dispatcher?: Dispatcher | undefined;
  logger: Logger;
  /** Notifications the upstream sends outside a request's progress (list_changed, resources/updated, log messages). */
  onNotification?: ((method: string, params: Record<string, unknown> | undefined) => void) | undefined;
  /** Streamable HTTP: continue this upstream session (opened by another replica) instead of initializing a new one. */
  resume?: UpstreamSessionState | undefined;
}

/** Options of one request to the upstream. */
export interface UpstreamRequestOptions {
  timeoutMs: number;
  cancellation?: CallCancellation | undefined;
  /** Headers added to this request's HTTP exchange (credentials passed through). */
  headers?: Record<string, string> | undefined;
  /** The upstream's progress notifications for this request. */
  onProgress?: ((progress: number, total?: number, message?: string) => void) | undefined;
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Any failure of an upstream exchange as a ToolError with a stable code. */
export function toUpstreamError(err: unknown, what: string, timeoutMs?: number): ToolError {
  if (err instanceof ToolError) return err;
  if (err instanceof ProtocolError) {
    return new ToolError('UPSTREAM_ERROR', err.message.replace(/^MCP error -?\d+: /, ''), undefined, { rpcCode: err.code, data: err.data });
  }
  if (err instanceof StdioProtocolError) return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
  if (err instanceof SdkHttpError) {
    return new ToolError('UPSTREAM_PROTOCOL', `${what}: the upstream answered HTTP ${err.status}${err.statusText ? ` ${err.statusText}` : ''}`);
  }
  if (err instanceof SdkError) {
    switch (err.code) {
      case SdkErrorCode.RequestTimeout:
        return new ToolError('UPSTREAM_TIMEOUT', `${what}: no answer within ${timeoutMs ?? '?'} ms`);
      case SdkErrorCode.ConnectionClosed:
      case SdkErrorCode.NotConnected:
        return new ToolError('UPSTREAM_UNREACHABLE', `${what}: the upstream closed the connection`);
      case SdkErrorCode.EraNegotiationFailed: {
        const code = causeCode(err);
        if (code) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${code}`);
        return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
      }
      default:
        return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${err.message}`);
    }
  }
  const code = causeCode(err);
  if (code) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${code === 'ENOENT' ? 'the command was not found' : code}`);
  const message = err instanceof Error ? err.message : String(err);
  if (/fetch failed|socket|ECONN|network/i.test(message)) return new ToolError('UPSTREAM_UNREACHABLE', `${what}: ${message}`);
  return new ToolError('UPSTREAM_PROTOCOL', `${what}: ${message}`);
}

/** Whether an error says the upstream forgot our session (HTTP 404 on a session request). */
export function isSessionGone(err: unknown): boolean {
  return err instanceof SdkHttpError && err.status === 404;
}

/** A fetch that goes through the gateway's dispatcher and adds the current call's headers. */
function gatewayFetch(dispatcher: Dispatcher | undefined, staticHeaders: Record<string, string>): FetchLike {
  return (async (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(staticHeaders)) if (!headers.has(k)) headers.set(k, v);
    const extra = callHeaders.getStore();
    if (extra) for (const [k, v] of Object.entries(extra)) if (!headers.has(k)) headers.set(k, v);
    // The SDK passes a standard RequestInit; undici's fetch takes the same with a dispatcher.
    return undiciFetch(url, { ...(init as object), headers, ...(dispatcher ? { dispatcher } : {}) } as Parameters<typeof undiciFetch>[1]);
  }) as unknown as FetchLike;
}

/** Rejects after `ms` with UPSTREAM_TIMEOUT, whatever the SDK does (a guarantee against hangs). */
function deadline<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new ToolError('UPSTREAM_TIMEOUT', `${what}: no answer within ${ms} ms`));
    }, ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** An open, initialized connection to an upstream MCP server. */
export class UpstreamConnection {
  /** Requests running on it. */
  active = 0;
  /** When it was last used (epoch ms). */
  lastUsed = Date.now();
  private closedFlag = false;
  private closing = false;
  private readonly closeListeners: (() => void)[] = [];
  /** The last transport-level error (garbage on the wire), to explain a request that then timed out. */
  private lastError: { at: number; error: Error } | undefined;
  /** The upstream session this connection continued (no initialize of its own). */
  private resumed: UpstreamSessionState | undefined;

  private constructor(
    readonly client: Client,
    private readonly transport: Transport,
    private readonly logger: Logger,
  ) {}

  /** Connect and initialize (or discover); rejects with a ToolError within `connectTimeoutMs`. */
  static async open(target: ConnectionTarget): Promise<UpstreamConnection> {
    const { options, logger } = target;
    const mode = options.protocolVersion === '2026-07-28' ? { pin: '2026-07-28' } : options.protocolVersion;
    const client = new Client(CLIENT_INFO, {
      capabilities: {},
      versionNegotiation: { mode, probe: { timeoutMs: options.connectTimeoutMs } },
      defaultCacheTtlMs: 0,
    });
    let transport: Transport;
    if (options.kind === 'stdio') {
      if (!options.launch) throw new ToolError('UPSTREAM_UNREACHABLE', 'the stdio server has no command');
      transport = new ChildStdioTransport({ launch: options.launch, logger });
    } else {
      if (!target.url) throw new ToolError('UPSTREAM_UNREACHABLE', 'the MCP server has no usable upstream address');
      const url = new URL(target.url);
      const fetch = gatewayFetch(target.dispatcher, options.headers);
      transport = options.kind === 'sse'
        ? new SSEClientTransport(url, { fetch })
        : new StreamableHTTPClientTransport(url, { fetch, ...(target.resume ? { sessionId: target.resume.sessionId } : {}), reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } });
    }
    const connection = new UpstreamConnection(client, transport, logger);
    client.onerror = (error) => connection.noteError(error);
    const relay = target.onNotification;
    if (relay) {
      client.fallbackNotificationHandler = async (n) => {
        relay(n.method, n.params as Record<string, unknown> | undefined);
      };
    }
    client.onclose = () => connection.markClosed();
    const what = 'connecting to the upstream MCP server';
    const resume = options.kind === 'streamable' ? target.resume : undefined;
    try {
      if (resume) {
        // The session exists upstream: attach without initialize (a 404 on the first request re-initializes).
        await client.connect(transport, { prior: { kind: 'legacy' } });
        transport.setProtocolVersion?.(resume.protocolVersion);
        connection.resumed = resume;
        return connection;
      }
      await deadline(client.connect(transport, { timeout: options.connectTimeoutMs }), options.connectTimeoutMs + 100, what);
    } catch (err) {
      await connection.close();
      throw toUpstreamError(err, what, options.connectTimeoutMs);
    }
    return connection;
  }

  private noteError(error: Error): void {
    this.lastError = { at: Date.now(), error };
    this.logger.debug({ err: error }, 'upstream MCP transport error');
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const l of this.closeListeners.splice(0)) l();
  }

  /** Whether the connection can take requests. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Run `listener` once when the connection closes (the upstream went away, or `close`). */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** What the upstream offers (its initialize or discover answer). */
  get capabilities(): ServerCapabilities {
    return this.client.getServerCapabilities() ?? (this.resumed?.capabilities as ServerCapabilities | undefined) ?? {};
  }

  /** The 2025 upstream session this connection speaks in (Streamable HTTP with an `Mcp-Session-Id`), to be continued elsewhere. */
  get sessionState(): UpstreamSessionState | undefined {
    if (!(this.transport instanceof StreamableHTTPClientTransport)) return undefined;
    const sessionId = this.transport.sessionId;
    const protocolVersion = this.transport.protocolVersion;
    if (!sessionId || !protocolVersion) return undefined;
    return { sessionId, protocolVersion, capabilities: this.capabilities as Record<string, unknown> };
  }

  /** Whether it continued a session another connection opened (rather than initializing its own). */
  get isResumed(): boolean {
    return this.resumed !== undefined;
  }

  /** The upstream's `instructions`, if any. */
  get instructions(): string | undefined {
    return this.client.getInstructions();
  }

  /** The era the connection speaks: `modern` (2026-07-28) or `legacy` (2025 sessions, 2024 SSE). */
  get era(): string | undefined {
    return this.client.getProtocolEra();
  }

  /**
   * Send one request and answer its result; a failure is a ToolError (UPSTREAM_ERROR carrying
   * the upstream's JSON-RPC error; a timeout, a closed connection, garbage: the others).
   */
  async request(method: string, params: Record<string, unknown>, o: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    this.active++;
    this.lastUsed = Date.now();
    const started = Date.now();
    const abort = new AbortController();
    const onCancel = () => abort.abort();
    o.cancellation?.onCancel(onCancel);
    const what = `upstream ${method}`;
    try {
      // Sent inside the call's headers context, which the transport's fetch reads.
      const send = () => this.client.request({ method: method as 'tools/call', params }, {
        timeout: o.timeoutMs, maxTotalTimeout: o.timeoutMs, signal: abort.signal,
        ...(o.onProgress ? { onprogress: (p: { progress: number; total?: number; message?: string }) => o.onProgress?.(p.progress, p.total, p.message) } : {}),
      });
      const work = o.headers ? callHeaders.run(o.headers, send) : send();
      return (await deadline(work, o.timeoutMs + 100, what, () => abort.abort())) as unknown as Record<string, unknown>;
    } catch (err) {
      const e = toUpstreamError(err, what, o.timeoutMs);
      // A request that timed out after the upstream sent garbage failed because of the garbage.
      if (e.code === 'UPSTREAM_TIMEOUT' && this.lastError && this.lastError.at >= started) {
        throw toUpstreamError(this.lastError.error instanceof StdioProtocolError ? this.lastError.error : new StdioProtocolError(this.lastError.error.message), what);
      }
      // A forgotten session is the runtime's to handle (it initializes again); a lost upstream ends this connection.
      if (isSessionGone(err)) throw err;
      if (e.code === 'UPSTREAM_UNREACHABLE') this.markClosed();
      throw e;
    } finally {
      o.cancellation?.offCancel(onCancel);
      this.active--;
      this.lastUsed = Date.now();
    }
  }

  /** Whether the gateway closed the connection (rather than the upstream going away). */
  get closedByGateway(): boolean {
    return this.closing;
  }

  /**
   * Close the connection (a stdio child stopped; a 2025 session ended upstream unless
   * `endUpstreamSession` is false: other replicas continue it).
   */
  async close(endUpstreamSession = true): Promise<void> {
    this.closing = true;
    this.markClosed();
    try {
      if (endUpstreamSession && this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId) {
        await deadline(this.transport.terminateSession(), 2000, 'ending the upstream session').catch(() => undefined);
      }
      await this.client.close();
    } catch (err) {
      this.logger.debug({ err }, 'closing an upstream MCP connection failed');
    }
    if (this.transport instanceof ChildStdioTransport) await this.transport.close();
  }
}
