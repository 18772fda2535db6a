/**
 * OpenTelemetry tracing, off by default (`otlpEndpoint` turns it on): spans of the agent's MCP
 * request (SERVER), of each backend REST request and upstream MCP request (CLIENT), with W3C
 * `traceparent` taken from agents (HTTP header, or `params._meta` as the MCP semantic
 * conventions propagate it) and sent on to backends and upstream MCP servers; exported as
 * OTLP/HTTP protobuf.
 *
 * Off, every helper here answers `undefined` after one check of a module flag: no span objects,
 * no context switches, no header parsing on the request path.
 *
 * On, `@opentelemetry/api` stays the instrumentation surface (spans are its `Span`, a global
 * tracer provider, propagator and context manager are registered for any code that uses the
 * API), but the spans are this module's own lean records rather than the SDK's: the SDK's
 * per-span machinery (attribute copies and sanitising, span-context validation by regular
 * expressions, a context object per `with`, an OTLP object tree and `JSON.stringify` per batch)
 * cost the gateway about 170,000 instructions a tools/call, half a call's own work (measured
 * with bench/otel/instructions.ts; docs/benchmarks.md, "Tracing and access log"). Here a span is
 * one flat object: ids cut from a pooled random buffer, one clock read at start and end, the
 * caller's attribute object kept as given, the current span in the request's own
 * AsyncLocalStorage scope, batches encoded as protobuf into one reused buffer
 * (lib/otlp-protobuf.ts) and posted with undici.
 *
 * Attribute names follow the OpenTelemetry semantic conventions (HTTP client spans, and the
 * GenAI conventions' MCP spans, status "development"); they are written as strings here rather
 * than imported from the incubating entry point of `@opentelemetry/semantic-conventions`,
 * which its authors ask libraries not to depend on.
 */
import { randomFillSync } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type {
  AttributeValue, Attributes, Context, ContextManager, Link, Span, SpanContext, SpanOptions, SpanStatus, TraceState,
  TimeInput, Tracer, TracerProvider,
} from '@opentelemetry/api';
import type { Pool } from 'undici';
import { currentRequestScope, runInRequestScope } from './request-context.js';
import { ProtoWriter, encodeExportRequest, encodeShape, exportHeader } from './otlp-protobuf.js';
import type { EncodedShape, ExportHeader, SpanRecord } from './otlp-protobuf.js';

/** The semantic-convention attribute names this project writes. */
export const ATTR = {
  mcpMethod: 'mcp.method.name',
  mcpSession: 'mcp.session.id',
  mcpProtocolVersion: 'mcp.protocol.version',
  jsonrpcRequestId: 'jsonrpc.request.id',
  rpcStatus: 'rpc.response.status_code',
  toolName: 'gen_ai.tool.name',
  promptName: 'gen_ai.prompt.name',
  operation: 'gen_ai.operation.name',
  errorType: 'error.type',
  networkTransport: 'network.transport',
  networkProtocol: 'network.protocol.name',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  urlFull: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  /** mcpgate's own: the namespace and server of the endpoint (no convention covers them). */
  namespace: 'mcpgate.namespace',
  server: 'mcpgate.server',
} as const;

/** How tracing is set up. */
export interface TracingOptions {
  /** OTLP/HTTP receiver: a base URL (`http://collector:4318`, traces go to `/v1/traces`) or the full traces URL. */
  endpoint: string;
  /** `service.name` of the spans. */
  serviceName: string;
  /** Share of new traces recorded, 0..1 (a sampled parent is always followed). Default 1. */
  sampleRatio?: number;
  /** Attributes of the resource besides the service name (`service.instance.id`…). */
  resource?: Attributes;
  /**
   * Headers of every export request. Default: `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else
   * `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,key2=value2`, values URL-encoded), as the
   * OpenTelemetry exporters read them.
   */
  headers?: Record<string, string>;
  /** Spans held for export at most; spans ended beyond it are dropped and counted. Default 2048. */
  maxQueue?: number;
  /** Spans a request carries at most, and the queue length that starts an export at once. Default 512. */
  batchSize?: number;
  /** How often held spans are exported, ms. Default 1000. */
  intervalMs?: number;
  /** Time limit of one export request, ms. Default `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000. */
  timeoutMs?: number;
}

/** Tracing as started: flush and stop it. */
export interface TracingHandle {
  /** Export what is buffered now. */
  flush(): Promise<void>;
  /** Export what is buffered and turn tracing off. */
  shutdown(): Promise<void>;
}

/** Counts of the span export since the process started (the gateway's metrics read them). */
export interface TracingStats {
  /** Spans the receiver accepted (a 2xx answer). */
  exported: number;
  /** Spans dropped: ended while the queue was full. */
  dropped: number;
  /** Spans lost with an export request that failed (no answer, or not 2xx). */
  failed: number;
}

const stats: TracingStats = { exported: 0, dropped: 0, failed: 0 };

/** The span export's counts so far. */
export function tracingStats(): Readonly<TracingStats> {
  return stats;
}

let recorder: Recorder | undefined;

/** Whether tracing is on in this process. */
export function tracingEnabled(): boolean {
  return recorder !== undefined;
}

/** The OTLP traces URL of an endpoint option: a base URL gets `/v1/traces`. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!/\/v1\/traces\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

/** `key=value,key2=value2` with URL-encoded values (the OTLP exporters' `*_HEADERS` variables). */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = decodeURIComponent(part.slice(0, eq).trim());
    if (key !== '') headers[key.toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Ids and clock

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * Random ids cut from 4 KiB of random bytes: one call into the CSPRNG and one hex conversion per
 * ~170 spans. A span keeps its ids both as bytes (this buffer and an offset: the export copies
 * them as they are) and as hex (a slice of the buffer's hex, which V8 makes without copying at 13
 * characters or more: for `traceparent` and log lines). Each refill is a new buffer, as spans
 * waiting for the export still point into the previous one.
 */
let pool = Buffer.alloc(0);
let poolHex = '';
let poolAt = 0;

/** Take `bytes` random bytes from `pool` (refilled when short), never all zeros (an invalid id in W3C trace context); their offset. */
function takeId(bytes: number): number {
  for (;;) {
    if (poolAt + bytes > pool.length) {
      pool = Buffer.allocUnsafeSlow(4096);
      randomFillSync(pool);
      poolHex = pool.toString('hex');
      poolAt = 0;
    }
    const at = poolAt;
    poolAt += bytes;
    for (let i = at; i < at + bytes; i++) if (pool[i] !== 0) return at;
  }
}

/** Hex of `bytes` bytes taken at `at` (the current pool's). */
function idHex(at: number, bytes: number): string {
  return poolHex.slice(at * 2, (at + bytes) * 2);
}

const timeOrigin = performance.timeOrigin;

/** Unix time in ms with a fraction, from the monotonic clock. */
function nowMs(): number {
  return timeOrigin + performance.now();
}

/** A `TimeInput` of the API as Unix ms. */
function toMs(t: TimeInput | undefined): number {
  if (t === undefined) return nowMs();
  if (typeof t === 'number') return t < timeOrigin ? timeOrigin + t : t; // below the time origin: a performance.now() value, as the SDK reads it
  if (t instanceof Date) return t.getTime();
  return t[0] * 1000 + t[1] / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Spans

/** Span kinds of the API as OTLP's `Span.SpanKind` (the API's value + 1). */
const OTLP_KIND = [1, 2, 3, 4, 5] as const;

/** Trace context taken from an agent: the parent of a SERVER span. */
interface RemoteParent {
  readonly traceId: string;
  /** The ids as bytes, at offset 0 (trace id 16, span id 8). */
  readonly traceBytes: Buffer;
  readonly spanBytes: Buffer;
  readonly flags: number;
  readonly traceState: string | undefined;
}

/** A parent from its hex ids (valid ones: the caller checked). */
function remoteParent(traceId: string, spanId: string, flags: number, traceState: string | undefined): RemoteParent {
  return { traceId, traceBytes: Buffer.from(traceId, 'hex'), spanBytes: Buffer.from(spanId, 'hex'), flags, traceState };
}

/**
 * A span name and the attributes that repeat call after call (a server's tool, a backend),
 * encoded once for the export: see `spanShape`.
 */
export type SpanShape = EncodedShape;

/**
 * The name and shared attributes of spans that repeat, encoded once (callers keep it, per server
 * and tool, per backend): a span started with it has them copied into the export as bytes, where
 * an attribute object would be built per span and written out key by key. Give the attributes
 * that differ per span (session and request ids…) at start as usual.
 */
export function spanShape(name: string, attributes: Attributes): SpanShape {
  return encodeShape(name, attributes);
}

/**
 * One span: the API's `Span`, recorded into flat fields and, when sampled, handed to the
 * exporter as it ends. Unsampled spans carry their context (for `traceparent`) and record nothing.
 */
class LeanSpan implements Span, SpanRecord {
  readonly traceId: string;
  readonly traceBytes: Buffer;
  readonly traceAt: number;
  readonly spanId: string;
  readonly spanBytes: Buffer;
  readonly spanAt: number;
  readonly parentBytes: Buffer | undefined;
  readonly parentAt: number;
  readonly traceState: string | undefined;
  readonly flags: number;
  name: string;
  readonly shape: SpanShape | undefined;
  readonly kind: number;
  readonly startMs: number;
  endMs = 0;
  attributes: Attributes | undefined = undefined;
  extra: (string | AttributeValue | undefined)[] | undefined = undefined;
  statusCode = 0;
  statusMessage: string | undefined = undefined;
  droppedEvents = 0;
  droppedLinks = 0;
  private ended = false;
  private context: SpanContext | undefined = undefined;
  private header: string | undefined = undefined;

  constructor(
    private readonly owner: Recorder, name: string, shape: SpanShape | undefined, kind: SpanKind,
    traceId: string, traceBytes: Buffer, traceAt: number, parentBytes: Buffer | undefined, parentAt: number,
    flags: number, traceState: string | undefined, startMs: number,
  ) {
    this.traceId = traceId;
    this.traceBytes = traceBytes;
    this.traceAt = traceAt;
    const at = takeId(8);
    this.spanBytes = pool;
    this.spanAt = at;
    this.spanId = idHex(at, 8);
    this.parentBytes = parentBytes;
    this.parentAt = parentAt;
    this.flags = flags;
    this.traceState = traceState;
    this.name = name;
    this.shape = shape;
    this.kind = OTLP_KIND[kind] ?? 1;
    this.startMs = startMs;
  }

  /** The parent's span id as hex (undefined for a root span): made when asked, the export takes the bytes. */
  get parentSpanId(): string | undefined {
    return this.parentBytes?.toString('hex', this.parentAt, this.parentAt + 8);
  }

  spanContext(): SpanContext {
    return this.context ??= {
      traceId: this.traceId, spanId: this.spanId, traceFlags: this.flags & 0xff,
      ...(this.traceState !== undefined ? { traceState: this.owner.traceState(this.traceState) } : {}),
    };
  }

  /** The W3C `traceparent` making this span the parent. */
  traceparent(): string {
    return this.header ??= `00-${this.traceId}-${this.spanId}-${(this.flags & 1) === 1 ? '01' : '00'}`;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.ended || (this.flags & 1) === 0) return this;
    (this.extra ??= []).push(key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.ended || (this.flags & 1) === 0) return this;
    // The first object given is kept as it is (callers build a fresh one per span); later ones are copied.
    if (this.attributes === undefined) this.attributes = attributes;
    else for (const key in attributes) this.setAttribute(key, attributes[key] as AttributeValue);
    return this;
  }

  /** Events are not recorded (nothing in this process adds any): counted as dropped. */
  addEvent(): this {
    this.droppedEvents++;
    return this;
  }

  /** Links are not recorded (nothing in this process adds any): counted as dropped. */
  addLink(): this {
    this.droppedLinks++;
    return this;
  }

  addLinks(links: Link[]): this {
    this.droppedLinks += links.length;
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended || (this.statusCode === SpanStatusCode.OK && status.code !== SpanStatusCode.OK)) return this;
    this.statusCode = status.code;
    this.statusMessage = status.code === SpanStatusCode.ERROR ? status.message : undefined;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = endTime === undefined ? nowMs() : toMs(endTime);
    if ((this.flags & 1) === 1) this.owner.enqueue(this);
  }

  isRecording(): boolean {
    return !this.ended && (this.flags & 1) === 1;
  }

  recordException(): void {
    this.droppedEvents++;
  }
}

const SAMPLED = 0x01;
/** OTLP `SpanFlags`: whether the parent is remote is known (0x100), and it is (0x200). */
const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

/** The process's tracer: sampling, span creation and export. */
class Recorder {
  private readonly queue: LeanSpan[] = [];
  private readonly writer = new ProtoWriter(256 * 1024);
  private timer: NodeJS.Timeout | undefined;
  private soon = false;
  private inflight: Promise<void> | undefined;
  private readonly states = new Map<string, TraceState>();

  constructor(
    private readonly ratio: number, private readonly header: ExportHeader, private readonly client: Pool, private readonly path: string,
    private readonly headers: Record<string, string>, private readonly maxQueue: number, private readonly batchSize: number,
    intervalMs: number, private readonly timeoutMs: number, private readonly parseTraceState: (s: string) => TraceState,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Parent-based sampling: a parent's decision is followed; a new trace is recorded when its id falls under the ratio. */
  start(named: string | SpanShape, kind: SpanKind, parent: LeanSpan | RemoteParent | undefined): LeanSpan {
    const started = nowMs();
    // A shape gives the name with the shared attributes (`spanShape`).
    const shape = typeof named === 'string' ? undefined : named;
    const name = shape === undefined ? named as string : shape.name;
    if (parent instanceof LeanSpan) {
      return new LeanSpan(this, name, shape, kind, parent.traceId, parent.traceBytes, parent.traceAt, parent.spanBytes, parent.spanAt,
        (parent.flags & SAMPLED) | CONTEXT_HAS_IS_REMOTE, parent.traceState, started);
    }
    if (parent !== undefined) {
      return new LeanSpan(this, name, shape, kind, parent.traceId, parent.traceBytes, 0, parent.spanBytes, 0,
        (parent.flags & SAMPLED) | CONTEXT_HAS_IS_REMOTE | CONTEXT_IS_REMOTE, parent.traceState, started);
    }
    const at = takeId(16);
    const traceId = idHex(at, 16);
    // The trace id's last 8 hex digits as a fraction: the same trace gets the same decision everywhere this ratio applies.
    const sampled = this.ratio >= 1 || (this.ratio > 0 && Number.parseInt(traceId.slice(24), 16) / 4294967296 < this.ratio);
    return new LeanSpan(this, name, shape, kind, traceId, pool, at, undefined, 0, (sampled ? SAMPLED : 0) | CONTEXT_HAS_IS_REMOTE, undefined, started);
  }

  traceState(text: string): TraceState {
    let state = this.states.get(text);
    if (state === undefined) {
      if (this.states.size >= 256) this.states.clear();
      state = this.parseTraceState(text);
      this.states.set(text, state);
    }
    return state;
  }

  enqueue(span: LeanSpan): void {
    if (this.queue.length >= this.maxQueue) {
      stats.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.batchSize && !this.soon && this.inflight === undefined) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        if (this.inflight === undefined && this.queue.length >= this.batchSize) void this.run(0);
      });
    }
  }

  /** Export every span queued now (the interval, `flush`, shutdown), one request at a time, `batchSize` spans a request. */
  flush(): Promise<void> {
    if (this.inflight) return this.inflight.then(() => this.flush());
    if (this.queue.length === 0) return Promise.resolve();
    return this.run(this.queue.length);
  }

  private run(count: number): Promise<void> {
    const p = this.exportBatches(count).finally(() => {
      this.inflight = undefined;
      // A batch filled between the loop's last check and now (spans end in microtasks too): not left for the interval.
      if (this.queue.length >= this.batchSize) void this.run(0);
    });
    this.inflight = p;
    return p;
  }

  /**
   * Post the first `count` queued spans, then full batches while there are: spans that arrive
   * while a request is out wait for a full batch or the interval. (Draining whatever had arrived
   * after each request made a busy gateway post a small batch every round trip: about 10 µs of
   * CPU a call, most of tracing's cost; docs/benchmarks.md.)
   */
  private async exportBatches(count: number): Promise<void> {
    while (count > 0 || this.queue.length >= this.batchSize) {
      const batch = this.queue.splice(0, this.batchSize);
      count -= batch.length;
      encodeExportRequest(this.writer, this.header, batch);
      const body = this.writer.bytes();
      try {
        const res = await this.client.request({
          path: this.path, method: 'POST', headers: this.headers, body,
          headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) stats.exported += batch.length;
        else stats.failed += batch.length;
      } catch {
        stats.failed += batch.length;
      }
    }
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    await this.client.close();
  }
}

/** The API's tracer over the recorder, for code that uses `@opentelemetry/api` directly. */
class ApiTracer implements Tracer {
  constructor(private readonly owner: Recorder) {}

  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    const parentCtx = options?.root === true ? undefined : trace.getSpanContext(ctx ?? context.active());
    const local = ctx === undefined ? currentSpan() : trace.getSpan(ctx);
    let parent: LeanSpan | RemoteParent | undefined;
    if (local instanceof LeanSpan && options?.root !== true) parent = local;
    else if (parentCtx !== undefined && trace.isSpanContextValid(parentCtx)) {
      parent = remoteParent(parentCtx.traceId, parentCtx.spanId, parentCtx.traceFlags, parentCtx.traceState?.serialize());
    }
    const span = this.owner.start(name, options?.kind ?? SpanKind.INTERNAL, parent);
    if (options?.attributes) span.setAttributes({ ...options.attributes });
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as (span: Span) => ReturnType<F>;
    const options = (rest.length > 1 ? rest[0] : undefined) as SpanOptions | undefined;
    const ctx = (rest.length > 2 ? rest[1] : undefined) as Context | undefined;
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx ?? context.active(), span), fn, undefined, span) as ReturnType<F>;
  }
}

/** The API's tracer provider: one tracer for every name. */
class ApiTracerProvider implements TracerProvider {
  private readonly tracer: ApiTracer;

  constructor(owner: Recorder) {
    this.tracer = new ApiTracer(owner);
  }

  getTracer(): Tracer {
    return this.tracer;
  }
}

/**
 * Turn tracing on for this process: spans batched and posted as OTLP/HTTP protobuf to the
 * endpoint, W3C trace context as the propagator, the current span kept in the request's
 * AsyncLocalStorage scope so that it follows its request through every await. One process, one
 * setup: a second start is refused.
 */
export async function startTracing(opts: TracingOptions): Promise<TracingHandle> {
  if (recorder) throw new Error('tracing is already started in this process');
  const [{ Pool: UndiciPool }, { W3CTraceContextPropagator, TraceState: W3CTraceState }] = await Promise.all([import('undici'), import('@opentelemetry/core')]);
  const url = new URL(tracesUrl(opts.endpoint));
  const env = process.env;
  const headers = {
    ...(opts.headers ?? parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS)),
    'content-type': 'application/x-protobuf',
  };
  const timeoutMs = opts.timeoutMs ?? (Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT) || 10_000);
  const header = exportHeader({ 'service.name': opts.serviceName, ...opts.resource }, 'mcpgate');
  const started = new Recorder(
    opts.sampleRatio ?? 1, header, new UndiciPool(url.origin, { connections: 2 }), url.pathname + url.search, headers,
    opts.maxQueue ?? 2048, opts.batchSize ?? 512, opts.intervalMs ?? 1000, timeoutMs, (s) => new W3CTraceState(s),
  );
  context.setGlobalContextManager(new RequestScopeContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new ApiTracerProvider(started));
  recorder = started;
  return {
    flush: () => started.flush(),
    async shutdown() {
      if (recorder === started) recorder = undefined;
      await started.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The current span of the request being served: the scope's own, else one an API user made current. */
function currentSpan(): Span | undefined {
  const scope = currentRequestScope();
  if (scope === undefined) return undefined;
  if (scope.span !== undefined) return scope.span as Span;
  return scope.otel === undefined ? undefined : trace.getSpan(scope.otel as Context);
}

/**
 * The OpenTelemetry context kept in the request's own AsyncLocalStorage scope
 * (lib/request-context.ts) rather than in a second AsyncLocalStorage as
 * `@opentelemetry/context-async-hooks` does: on Node 20 each enabled AsyncLocalStorage stores
 * its value on every promise and async resource the process makes (about 10,000 instructions a
 * tools/call for a second one). This module's helpers put the current span in the scope
 * directly (`span`, no Context object made); an API user's `context.with` puts its Context there
 * (`otel`). Written here because the OpenTelemetry packages offer no context manager over an
 * existing store.
 */
class RequestScopeContextManager implements ContextManager {
  active(): Context {
    const scope = currentRequestScope();
    if (scope?.otel !== undefined) return scope.otel as Context;
    return scope?.span !== undefined ? trace.setSpan(ROOT_CONTEXT, scope.span as Span) : ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const scope = currentRequestScope();
    return runInRequestScope({ id: scope?.id, origin: scope?.origin, otel: ctx, span: undefined }, () => fn.apply(thisArg, args));
  }

  /** Functions only: nothing in this process binds an EventEmitter to a context, so other targets come back as they are. */
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (thisArg: unknown, args: unknown[]): unknown => this.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(thisArg, args));
    return function bound(this: unknown, ...args: unknown[]) { return run(this, args); } as T;
  }

  enable(): this { return this; }

  disable(): this { return this; }
}

/** `traceparent` / `tracestate` of node:http headers or an MCP `_meta` object. */
function carrierValue(carrier: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = carrier[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A W3C `traceparent` (and `tracestate`) as a parent; undefined when invalid (the request then starts a trace). */
function parseTraceparent(header: string, state: string | undefined): RemoteParent | undefined {
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is invalid; version 00 has nothing after the flags; later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined) || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return remoteParent(traceId, spanId, Number.parseInt(flags, 16), state === undefined || state.trim() === '' ? undefined : state);
}

/** Where an agent's trace context may come from, first found wins. */
export type TraceCarrier = Readonly<Record<string, unknown>> | undefined;

/**
 * Start the SERVER span of an agent's request, child of the trace context the agent sent (in
 * `params._meta`, else its HTTP headers); undefined when tracing is off. `name` is the span's
 * name, or a shape giving it with the attributes shared by many spans (`spanShape`).
 * `attributes` is kept as given (not copied): pass a fresh object.
 */
export function startServerSpan(name: string | SpanShape, attributes: Attributes, ...carriers: TraceCarrier[]): Span | undefined {
  if (!recorder) return undefined;
  let parent: RemoteParent | undefined;
  for (const c of carriers) {
    if (c === undefined) continue;
    const header = carrierValue(c, 'traceparent');
    if (header === undefined) continue;
    parent = parseTraceparent(header, carrierValue(c, 'tracestate'));
    break;
  }
  return recorder.start(name, SpanKind.SERVER, parent).setAttributes(attributes);
}

/**
 * Start a CLIENT span, child of `parent` when given (a caller that carries its request's span),
 * else of the current request's span; undefined when tracing is off. `name`: the span's name or a
 * shape (`spanShape`); `attributes` is kept as given.
 */
export function startClientSpan(name: string | SpanShape, attributes: Attributes, parent?: Span): Span | undefined {
  if (!recorder) return undefined;
  const current = parent ?? currentSpan();
  let from: LeanSpan | RemoteParent | undefined;
  if (current instanceof LeanSpan) from = current;
  else if (current !== undefined) {
    const c = current.spanContext();
    from = remoteParent(c.traceId, c.spanId, c.traceFlags, c.traceState?.serialize());
  }
  return recorder.start(name, SpanKind.CLIENT, from).setAttributes(attributes);
}

/** Run `fn` with `span` as the current span (log lines, child spans); `fn` itself when there is none. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  if (!span) return fn();
  const scope = currentRequestScope();
  return runInRequestScope({ id: scope?.id, origin: scope?.origin, otel: undefined, span }, fn);
}

/** The `traceparent` (and `tracestate`) headers that make `span` the parent of the receiver's spans. */
export function traceHeaders(span: Span | undefined): Record<string, string> | undefined {
  if (!span) return undefined;
  if (span instanceof LeanSpan) {
    return span.traceState === undefined ? { traceparent: span.traceparent() } : { traceparent: span.traceparent(), tracestate: span.traceState };
  }
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
  return headers;
}

/**
 * Add the `traceparent` (and `tracestate`) headers that make `span` the parent of the receiver's
 * spans to `headers` itself: a request whose headers object is its own needs no copy of it.
 */
export function addTraceHeaders(span: Span, headers: Record<string, unknown>): void {
  if (span instanceof LeanSpan) {
    headers.traceparent = span.traceparent();
    if (span.traceState !== undefined) headers.tracestate = span.traceState;
    return;
  }
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
}

/** End a span: an `errorType` marks it failed (`error.type`, status ERROR with `message`). */
export function endSpan(span: Span | undefined, errorType?: string, message?: string): void {
  if (!span) return;
  if (errorType !== undefined) {
    span.setAttribute(ATTR.errorType, errorType);
    span.setStatus(message !== undefined ? { code: SpanStatusCode.ERROR, message } : { code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The trace and span ids of the current span, for log lines; undefined when tracing is off or none is current. */
export function currentTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!recorder) return undefined;
  const span = currentSpan();
  if (!span) return undefined;
  if (span instanceof LeanSpan) return { trace_id: span.traceId, span_id: span.spanId };
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The trace id of a span (for the access log); undefined without one. */
export function traceIdOf(span: Span | undefined): string | undefined {
  if (span instanceof LeanSpan) return span.traceId;
  return span?.spanContext().traceId;
}
