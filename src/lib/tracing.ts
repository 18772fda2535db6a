/**
 * OpenTelemetry tracing, off by default (`otlpEndpoint` turns it on): spans of the agent's MCP
 * request (SERVER), of each backend REST request and upstream MCP request (CLIENT), with W3C
 * `traceparent` taken from agents (HTTP header, or `params._meta` as the MCP semantic
 * conventions propagate it) and sent on to backends and upstream MCP servers; exported as
 * OTLP/HTTP JSON.
 *
 * Off, every helper here answers `undefined` after one check of a module flag: no span objects,
 * no context switches, no header parsing on the request path.
 *
 * Attribute names follow the OpenTelemetry semantic conventions (HTTP client spans, and the
 * GenAI conventions' MCP spans, status "development"); they are written as strings here rather
 * than imported from the incubating entry point of `@opentelemetry/semantic-conventions`,
 * which its authors ask libraries not to depend on.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Attributes, Context, ContextManager, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import { currentRequestScope, runInRequestScope } from './request-context.js';

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
}

/** Tracing as started: flush and stop it. */
export interface TracingHandle {
  /** Export what is buffered now. */
  flush(): Promise<void>;
  /** Export what is buffered and turn tracing off. */
  shutdown(): Promise<void>;
}

let tracer: Tracer | undefined;

/** Whether tracing is on in this process. */
export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

/** The OTLP traces URL of an endpoint option: a base URL gets `/v1/traces`. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!/\/v1\/traces\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

/**
 * Turn tracing on for this process: spans batched and posted as OTLP/HTTP JSON to the endpoint,
 * W3C trace context as the propagator, the context kept in the request's AsyncLocalStorage scope
 * so that a span follows its request through every await. One process, one setup: a second
 * start is refused. The SDK is loaded here only, so that a process with tracing off never loads it.
 */
export async function startTracing(opts: TracingOptions): Promise<TracingHandle> {
  if (tracer) throw new Error('tracing is already started in this process');
  const [{ W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
    import('@opentelemetry/core'), import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-base'),
  ]);
  const { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk;
  const ratio = opts.sampleRatio ?? 1;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName, ...opts.resource }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) }), { scheduledDelayMillis: 1000 })],
  });
  // The context in the request's own AsyncLocalStorage scope (RequestScopeContextManager below).
  context.setGlobalContextManager(new RequestScopeContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer('mcpgate');
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      tracer = undefined;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/**
 * The OpenTelemetry context kept in the request's own AsyncLocalStorage scope
 * (lib/request-context.ts) instead of the second AsyncLocalStorage that
 * `@opentelemetry/context-async-hooks` enables: on Node 20 each enabled AsyncLocalStorage stores
 * its value on every promise and async resource the process makes (a property added to each:
 * about 10,000 instructions a tools/call for the second one, counted with
 * bench/otel/instructions.ts; docs/benchmarks.md, "Tracing and access log"). `with` runs in a
 * copy of the current scope holding the new context. Written here because the OpenTelemetry
 * packages offer no context manager over an existing store.
 */
class RequestScopeContextManager implements ContextManager {
  active(): Context {
    return (currentRequestScope()?.otel as Context | undefined) ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const scope = currentRequestScope();
    return runInRequestScope({ ...scope, id: scope?.id, otel: ctx }, () => fn.apply(thisArg, args));
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

/** Reads `traceparent` / `tracestate` from node:http headers or an MCP `_meta` object. */
const carrierGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  },
};

/** Where an agent's trace context may come from, first found wins. */
export type TraceCarrier = Readonly<Record<string, unknown>> | undefined;

/**
 * Start the SERVER span of an agent's request, child of the trace context the agent sent (in
 * `params._meta`, else its HTTP headers); undefined when tracing is off.
 */
export function startServerSpan(name: string, attributes: Attributes, ...carriers: TraceCarrier[]): Span | undefined {
  if (!tracer) return undefined;
  let parent: Context = ROOT_CONTEXT;
  for (const c of carriers) {
    if (c !== undefined && (typeof c.traceparent === 'string' || Array.isArray(c.traceparent))) {
      parent = propagation.extract(ROOT_CONTEXT, c, carrierGetter);
      break;
    }
  }
  // Attributes set on the started span rather than given to startSpan: the SDK copies those given
  // to startSpan twice (before and after sampling) and then once more into the span, and this
  // process's samplers (parent-based, trace-id ratio) do not read them: about 15,000
  // instructions a call less (bench/otel/instructions.ts).
  return tracer.startSpan(name, { kind: SpanKind.SERVER }, parent).setAttributes(attributes);
}

/** Start a CLIENT span, child of the span of the current request; undefined when tracing is off. */
export function startClientSpan(name: string, attributes: Attributes): Span | undefined {
  if (!tracer) return undefined;
  // Attributes after start, as for the SERVER span.
  return tracer.startSpan(name, { kind: SpanKind.CLIENT }, context.active()).setAttributes(attributes);
}

/** Run `fn` with `span` as the current span (log lines, child spans); `fn` itself when there is none. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

/** The `traceparent` (and `tracestate`) headers that make `span` the parent of the receiver's spans. */
export function traceHeaders(span: Span | undefined): Record<string, string> | undefined {
  if (!span) return undefined;
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
  return headers;
}

/** End a span: an `errorType` marks it failed (`error.type`, status ERROR with `message`). */
export function endSpan(span: Span | undefined, errorType?: string, message?: string): void {
  if (!span) return;
  if (errorType !== undefined) {
    span.setAttribute(ATTR.errorType, errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined ? { message } : {}) });
  }
  span.end();
}

/** The trace and span ids of the current span, for log lines; undefined when tracing is off or none is current. */
export function currentTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!tracer) return undefined;
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The trace id of a span (for the access log); undefined without one. */
export function traceIdOf(span: Span | undefined): string | undefined {
  return span?.spanContext().traceId;
}
