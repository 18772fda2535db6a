/**
 * The span processor behind `otlpEndpoint`: each sampled span is written as its OTLP/HTTP JSON
 * text the moment it ends, and only that text is batched (512 spans or 1 s, whichever comes
 * first) and posted through the OpenTelemetry exporter's own HTTP transport (retries, timeout,
 * concurrency limit, `OTEL_EXPORTER_OTLP_*` headers), with a resource and scope encoded once.
 *
 * Hand-written instead of the SDK's BatchSpanProcessor + OTLPTraceExporter, for cost (see
 * docs/benchmarks.md, "Tracing and access log"): that pair keeps every ended span object (its
 * attributes, context, resource links, events and links arrays) until the batch is exported, so
 * at a few thousand calls a second the spans outlive the young generation and are copied and
 * promoted by the garbage collector, and the OTLP transformer then rebuilds each one as a second
 * object tree before `JSON.stringify`. Here the span object dies young, one small buffer per span
 * waits instead (as UTF-8 bytes), and the request's JSON is the spans' bytes joined. The format is the one
 * `@opentelemetry/otlp-transformer`'s JSON serializer writes (ids as hex, times as decimal
 * nanosecond strings, span kind and flags as in OTLP).
 */
import { TraceFlags, diag } from '@opentelemetry/api';
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Spans per export request, as the SDK's BatchSpanProcessor's default. */
const MAX_BATCH = 512;
/** Spans waiting at most: more are dropped (and counted in a diag warning), as the SDK's queue does. */
const MAX_QUEUE = 2048;
const DELAY_MS = 1000;

// OTLP span flags: the low byte is the W3C trace flags; bit 8 says whether bit 9 (parent is remote) is known.
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/** An HrTime as OTLP JSON's decimal nanoseconds string. */
function nanos(t: HrTime): string {
  const ns = String(Math.trunc(t[1]));
  return t[0] === 0 ? ns : `${Math.trunc(t[0])}${'000000000'.slice(ns.length)}${ns}`;
}

/** An attribute value as an OTLP JSON AnyValue. */
function anyValue(v: AttributeValue | undefined | null): string {
  switch (typeof v) {
    case 'string': return `{"stringValue":${JSON.stringify(v)}}`;
    // JSON.stringify as the OTel serializer does (NaN and infinities become null).
    case 'number': return `{"${Number.isInteger(v) ? 'intValue' : 'doubleValue'}":${JSON.stringify(v)}}`;
    case 'boolean': return `{"boolValue":${v}}`;
    default: return Array.isArray(v) ? `{"arrayValue":{"values":[${v.map((x) => anyValue(x)).join(',')}]}}` : '{}';
  }
}

/** Attributes as an OTLP JSON KeyValue list. */
export function attributesJson(attributes: Attributes): string {
  let out = '';
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    out += `${out === '' ? '' : ','}{"key":${JSON.stringify(key)},"value":${anyValue(value)}}`;
  }
  return `[${out}]`;
}

/** One ended span as its OTLP JSON `Span` object. */
export function spanJson(span: ReadableSpan): string {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  const traceState = ctx.traceState?.serialize();
  const events = span.events.map((e) => `{"attributes":${attributesJson(e.attributes ?? {})},"name":${JSON.stringify(e.name)},"timeUnixNano":"${nanos(e.time)}","droppedAttributesCount":${e.droppedAttributesCount ?? 0}}`);
  const links = span.links.map((l) => `{"attributes":${attributesJson(l.attributes ?? {})},"spanId":"${l.context.spanId}","traceId":"${l.context.traceId}",${l.context.traceState ? `"traceState":${JSON.stringify(l.context.traceState.serialize())},` : ''}"droppedAttributesCount":${l.droppedAttributesCount ?? 0},"flags":${(l.context.traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (l.context.isRemote ? FLAGS_IS_REMOTE : 0)}}`);
  const { code, message } = span.status;
  return `{"traceId":"${ctx.traceId}","spanId":"${ctx.spanId}"${parent?.spanId ? `,"parentSpanId":"${parent.spanId}"` : ''}${traceState ? `,"traceState":${JSON.stringify(traceState)}` : ''}`
    + `,"name":${JSON.stringify(span.name)},"kind":${span.kind + 1},"startTimeUnixNano":"${nanos(span.startTime)}","endTimeUnixNano":"${nanos(span.endTime)}"`
    + `,"attributes":${attributesJson(span.attributes)},"droppedAttributesCount":${span.droppedAttributesCount}`
    + `,"events":[${events.join(',')}],"droppedEventsCount":${span.droppedEventsCount}`
    + `,"status":{"code":${code}${message !== undefined ? `,"message":${JSON.stringify(message)}` : ''}}`
    + `,"links":[${links.join(',')}],"droppedLinksCount":${span.droppedLinksCount}`
    + `,"flags":${(ctx.traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (parent?.isRemote ? FLAGS_IS_REMOTE : 0)}}`;
}

/** The start of an export request up to its spans: the resource and scope of `span`, which every span of its tracer shares. */
export function requestHead(span: ReadableSpan): string {
  const { name, version } = span.instrumentationScope;
  return `{"resourceSpans":[{"resource":{"attributes":${attributesJson(span.resource.attributes)},"droppedAttributesCount":0},"scopeSpans":[{"scope":{"name":${JSON.stringify(name)}${version !== undefined ? `,"version":${JSON.stringify(version)}` : ''}},"spans":[`;
}

/**
 * Spans serialised at their end, batched as text, posted as OTLP/HTTP JSON to `url` (the traces
 * URL). Only sampled spans are exported, as the SDK's processors do. One tracer per processor:
 * the resource and scope are the first span's.
 */
export class SerializingSpanProcessor implements SpanProcessor {
  private readonly exporter: OTLPExporterBase<Buffer[]>;
  /**
   * Each span's JSON as UTF-8 bytes: a string built by concatenation is a tree of its pieces
   * (a V8 cons string) until flattened, and kept as such until the export it would be promoted
   * with all its pieces: the bytes are one small object, their memory outside the JS heap.
   */
  private queue: Buffer[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private head: Buffer | undefined;

  constructor(url: string) {
    const comma = Buffer.from(',');
    const tail = Buffer.from(']}]}]}');
    const serializer = {
      serializeRequest: (spans: Buffer[]): Uint8Array => {
        const parts = [this.head ?? Buffer.alloc(0)];
        spans.forEach((s, i) => { if (i > 0) parts.push(comma); parts.push(s); });
        parts.push(tail);
        return Buffer.concat(parts);
      },
      deserializeResponse: () => ({}),
    };
    const options = convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' });
    this.exporter = new OTLPExporterBase(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', { name: 'span', countItems: (r: Buffer[]) => r.length }, undefined));
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= MAX_QUEUE) {
      if (this.dropped++ === 0) diag.warn('tracing: the export queue is full, spans dropped');
      return;
    }
    this.head ??= Buffer.from(requestHead(span));
    this.queue.push(Buffer.from(spanJson(span)));
    if (this.queue.length >= MAX_BATCH) this.exportQueued();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.exportQueued(), DELAY_MS);
      this.timer.unref();
    }
  }

  /** Post what is queued, in batches of at most MAX_BATCH. */
  private exportQueued(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    while (this.queue.length > 0) {
      const batch = this.queue.length <= MAX_BATCH ? this.queue : this.queue.slice(0, MAX_BATCH);
      this.queue = this.queue.length <= MAX_BATCH ? [] : this.queue.slice(MAX_BATCH);
      const done: Promise<void> = new Promise<ExportResult>((resolve) => this.exporter.export(batch, resolve)).then((r) => {
        if (r.code !== ExportResultCode.SUCCESS) diag.error('tracing: span export failed', r.error);
      }).finally(() => this.inFlight.delete(done));
      this.inFlight.add(done);
    }
    if (this.dropped > 1) diag.warn(`tracing: ${this.dropped} spans dropped, the export queue was full`);
    this.dropped = 0;
  }

  async forceFlush(): Promise<void> {
    this.exportQueued();
    await Promise.all([...this.inFlight]);
    await this.exporter.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
    await this.exporter.shutdown();
  }
}
