/**
 * OTLP/HTTP protobuf encoding of a batch of spans (`ExportTraceServiceRequest` of
 * opentelemetry/proto/collector/trace/v1/trace_service.proto), written straight into one
 * reused buffer.
 *
 * Hand-written rather than the SDK's serializer (`@opentelemetry/otlp-transformer`) or
 * protobufjs: both first build an object tree per span (the SDK's transform to OTLP objects,
 * then a serializer walking it), which costs the gateway about 6 µs a call for its 2 spans and
 * was the largest single part of tracing's work (docs/benchmarks.md, "Tracing and access log").
 * The schema written here is fixed and small (one resource, one scope, spans with string,
 * number, boolean and array attributes and a status), so a writer of a few dozen lines covers
 * it; `otlp-protobuf.test.ts` decodes its output with protobufjs against a schema of our own
 * written from the OTLP specification (test/fixtures/otlp/trace-export.proto).
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';

/** What the encoder needs of a finished span. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  /** W3C trace flags (bit 0: sampled) with the OTLP `SpanFlags` context bits (0x100 known, 0x200 remote parent). */
  readonly flags: number;
  readonly name: string;
  /** OTLP `Span.SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Unix time in milliseconds, fraction included. */
  readonly startMs: number;
  readonly endMs: number;
  /** The attributes given at start, as the caller built them (not copied). */
  readonly attributes: Attributes | undefined;
  /** Attributes set later, as key, value pairs. */
  readonly extra: readonly (string | AttributeValue | undefined)[] | undefined;
  /** OTLP `Status.StatusCode`: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly statusMessage: string | undefined;
  readonly droppedEvents: number;
  readonly droppedLinks: number;
}

const TWO_32 = 4294967296;

/** A protobuf writer over one growing buffer. */
export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A varint of a non-negative integer below 2^53. */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 128) {
      b[p++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.pos = p;
  }

  /** An int64 varint: negative values as 10 bytes of two's complement. */
  int64(v: number): void {
    if (v >= 0) return this.varint(v);
    let hi = Math.floor(v / TWO_32);
    let lo = (v - hi * TWO_32) >>> 0;
    hi >>>= 0;
    this.ensure(10);
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | ((hi & 127) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo & 1;
  }

  /** Reserve `reserve` bytes for the length of a nested message; returns where it starts. */
  begin(reserve = 1): number {
    this.ensure(reserve);
    const at = this.pos;
    this.pos += reserve;
    return at;
  }

  /** Write the length of the message begun at `at`, moving its body when the length needs more or fewer bytes than reserved. */
  finish(at: number, reserve = 1): void {
    const len = this.pos - at - reserve;
    const size = len < 128 ? 1 : len < 16384 ? 2 : len < 2097152 ? 3 : len < 268435456 ? 4 : 5;
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    const end = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }

  /** A length-delimited UTF-8 string (the tag written by the caller). */
  string(s: string): void {
    const n = s.length;
    this.ensure(n * 3 + 5);
    if (n < 128) {
      // Short ASCII text byte by byte: cheaper than a call into the native UTF-8 writer.
      const b = this.buf;
      let p = this.pos + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.utf8(s);
        b[p++] = c;
      }
      b[this.pos] = n;
      this.pos = p;
      return;
    }
    this.utf8(s);
  }

  private utf8(s: string): void {
    const at = this.begin(1);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.finish(at, 1);
  }

  /** Length-delimited bytes from hex text (ids). */
  hex(h: string): void {
    this.ensure(h.length / 2 + 1);
    this.buf[this.pos++] = h.length / 2;
    this.pos += this.buf.write(h, this.pos, 'hex');
  }

  /** A fixed64 of Unix nanoseconds from milliseconds with a fraction (exact: no BigInt, no 2^53 overflow). */
  nanos(ms: number): void {
    const whole = Math.floor(ms);
    const frac = Math.round((ms - whole) * 1e6);
    // whole = a * 2^16 + b; whole * 1e6 = a * 1e6 * 2^16 + b * 1e6: each product below 2^53.
    const a = Math.floor(whole / 65536);
    const b = whole - a * 65536;
    const high = a * 1e6;
    let low = (high % 65536) * 65536 + b * 1e6 + frac;
    const hi = Math.floor(high / 65536) + Math.floor(low / TWO_32);
    low %= TWO_32;
    this.ensure(8);
    this.buf.writeUInt32LE(low, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** The bytes written so far, copied out. */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** An `AnyValue` (tag and length written by the caller). */
function anyValue(w: ProtoWriter, v: AttributeValue): void {
  if (typeof v === 'string') {
    w.byte(0x0a);
    w.string(v);
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      w.byte(0x18);
      w.int64(v);
    } else {
      w.byte(0x21);
      w.ensure(8);
      w.buf.writeDoubleLE(v, w.pos);
      w.pos += 8;
    }
  } else if (typeof v === 'boolean') {
    w.byte(0x10);
    w.byte(v ? 1 : 0);
  } else if (Array.isArray(v)) {
    w.byte(0x2a); // array_value: ArrayValue { repeated AnyValue values = 1 }
    const at = w.begin(1);
    for (const item of v) {
      w.byte(0x0a);
      const it = w.begin(1);
      if (item !== null && item !== undefined) anyValue(w, item);
      w.finish(it, 1);
    }
    w.finish(at, 1);
  }
}

/** A `KeyValue` with the given field tag; attributes whose value is undefined or null are left out. */
function keyValue(w: ProtoWriter, tag: number, key: string, v: AttributeValue | undefined): void {
  if (v === undefined || v === null) return;
  if (typeof v === 'string' && (cachedKeyValue(w, tag, key, v) || shortAsciiKeyValue(w, tag, key, v))) return;
  w.byte(tag);
  const at = w.begin(1);
  w.byte(0x0a);
  w.string(key);
  w.byte(0x12);
  const val = w.begin(1);
  anyValue(w, v);
  w.finish(val, 1);
  w.finish(at, 1);
}

/**
 * Attribute keys (a small fixed set: the semantic conventions' names) as their encoded
 * `KeyValue.key` field, made once: most of an attribute's bytes, not re-encoded per span.
 */
const keyFields = new Map<string, Uint8Array>();

function keyField(key: string): Uint8Array {
  let field = keyFields.get(key);
  if (field === undefined) {
    const k = new ProtoWriter(key.length * 3 + 6);
    k.byte(0x0a);
    k.string(key);
    field = k.bytes();
    if (keyFields.size < 1024) keyFields.set(key, field);
  }
  return field;
}

/**
 * Whole `KeyValue` messages (length included, tag not) of string attributes, by key and value.
 * Most of the gateway's attribute values repeat call after call (method, namespace, server,
 * tool, transport, backend URL and host): copied from here in one `set`, where writing them out
 * is a loop over every byte of key and value, most of the encoder's work. A key whose values keep
 * changing (session and request ids) stops being cached after `PAIRS_PER_KEY` values (`null`).
 */
const keyValues = new Map<string, Map<string, Uint8Array> | null>();
const PAIRS_PER_KEY = 64;
const CACHED_KEYS = 256;
/** Longer values are written out, not cached: the cache's memory stays small (256 × 64 × at most ~1 KiB). */
const CACHED_VALUE_CHARS = 256;

/** A string attribute from `keyValues`, added there when new; false, with nothing written, when its key is not cached. */
function cachedKeyValue(w: ProtoWriter, tag: number, key: string, v: string): boolean {
  if (v.length > CACHED_VALUE_CHARS) return false;
  let byValue = keyValues.get(key);
  if (byValue === null) return false;
  if (byValue === undefined) {
    if (keyValues.size >= CACHED_KEYS) return false;
    byValue = new Map();
    keyValues.set(key, byValue);
  }
  let encoded = byValue.get(v);
  if (encoded === undefined) {
    if (byValue.size >= PAIRS_PER_KEY) {
      keyValues.set(key, null);
      return false;
    }
    const kv = new ProtoWriter(key.length * 3 + v.length * 3 + 16);
    const at = kv.begin(1);
    kv.byte(0x0a);
    kv.string(key);
    kv.byte(0x12);
    const val = kv.begin(1);
    kv.byte(0x0a);
    kv.string(v);
    kv.finish(val, 1);
    kv.finish(at, 1);
    encoded = kv.bytes();
    byValue.set(v, encoded);
  }
  w.ensure(encoded.length + 1);
  w.buf[w.pos] = tag;
  w.buf.set(encoded, w.pos + 1);
  w.pos += encoded.length + 1;
  return true;
}

/**
 * The common case written in one pass: a string value of short ASCII text, whose lengths are
 * known before writing (no reserved length bytes to fix up). False, with nothing written, when
 * the value is not short ASCII.
 */
function shortAsciiKeyValue(w: ProtoWriter, tag: number, key: string, v: string): boolean {
  const n = v.length;
  const field = keyField(key);
  const kvLen = field.length + 4 + n; // key field, 0x12 + value length, 0x0a + string length, text
  if (kvLen >= 128) return false;
  w.ensure(kvLen + 2);
  const b = w.buf;
  const start = w.pos;
  let p = start + 2;
  for (let i = 0; i < field.length; i++) b[p++] = field[i] as number;
  b[p++] = 0x12;
  b[p++] = n + 2;
  b[p++] = 0x0a;
  b[p++] = n;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) return false;
    b[p++] = c;
  }
  b[start] = tag;
  b[start + 1] = kvLen;
  w.pos = p;
  return true;
}

/** `KeyValue` fields with the given tag, one per attribute. */
export function writeAttributes(w: ProtoWriter, tag: number, attributes: Attributes): void {
  for (const key in attributes) keyValue(w, tag, key, attributes[key]);
}

/** A `Span` message, tag included. */
function writeSpan(w: ProtoWriter, s: SpanRecord): void {
  w.byte(0x12); // ScopeSpans.spans = 2
  const at = w.begin(2);
  w.byte(0x0a); w.hex(s.traceId); // trace_id = 1
  w.byte(0x12); w.hex(s.spanId); // span_id = 2
  if (s.traceState !== undefined && s.traceState !== '') { w.byte(0x1a); w.string(s.traceState); } // trace_state = 3
  if (s.parentSpanId !== undefined) { w.byte(0x22); w.hex(s.parentSpanId); } // parent_span_id = 4
  w.byte(0x2a); w.string(s.name); // name = 5
  w.byte(0x30); w.varint(s.kind); // kind = 6
  w.byte(0x39); w.nanos(s.startMs); // start_time_unix_nano = 7
  w.byte(0x41); w.nanos(s.endMs); // end_time_unix_nano = 8
  if (s.attributes !== undefined) writeAttributes(w, 0x4a, s.attributes); // attributes = 9
  const extra = s.extra;
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) keyValue(w, 0x4a, extra[i] as string, extra[i + 1]);
  if (s.droppedEvents > 0) { w.byte(0x60); w.varint(s.droppedEvents); } // dropped_events_count = 12
  if (s.droppedLinks > 0) { w.byte(0x70); w.varint(s.droppedLinks); } // dropped_links_count = 14
  if (s.statusCode !== 0) { // status = 15
    w.byte(0x7a);
    const st = w.begin(1);
    if (s.statusMessage !== undefined) { w.byte(0x12); w.string(s.statusMessage); } // message = 2
    w.byte(0x18); w.varint(s.statusCode); // code = 3
    w.finish(st, 1);
  }
  w.byte(0x85); w.byte(0x01); // flags = 16, fixed32
  w.ensure(4);
  w.buf.writeUInt32LE(s.flags, w.pos);
  w.pos += 4;
  w.finish(at, 2);
}

/** The fixed part of every request: the resource and the instrumentation scope, encoded once. */
export interface ExportHeader {
  /** `ResourceSpans.resource = 1`, tag and length included. */
  readonly resource: Buffer;
  /** `ScopeSpans.scope = 1`, tag and length included. */
  readonly scope: Buffer;
}

/** Encode the resource's attributes and the scope's name and version once. */
export function exportHeader(resource: Attributes, scopeName: string, scopeVersion?: string): ExportHeader {
  const r = new ProtoWriter(1024);
  r.byte(0x0a);
  const ra = r.begin(2);
  writeAttributes(r, 0x0a, resource); // Resource.attributes = 1
  r.finish(ra, 2);
  const s = new ProtoWriter(256);
  s.byte(0x0a);
  const sa = s.begin(1);
  s.byte(0x0a); s.string(scopeName);
  if (scopeVersion !== undefined) { s.byte(0x12); s.string(scopeVersion); }
  s.finish(sa, 1);
  return { resource: r.bytes(), scope: s.bytes() };
}

/** An `ExportTraceServiceRequest` holding `spans` (one resource, one scope) in `w`, from its start. */
export function encodeExportRequest(w: ProtoWriter, header: ExportHeader, spans: readonly SpanRecord[]): void {
  w.pos = 0;
  w.byte(0x0a); // ExportTraceServiceRequest.resource_spans = 1
  const rs = w.begin(3);
  w.ensure(header.resource.length);
  w.pos += header.resource.copy(w.buf, w.pos);
  w.byte(0x12); // ResourceSpans.scope_spans = 2
  const ss = w.begin(3);
  w.ensure(header.scope.length);
  w.pos += header.scope.copy(w.buf, w.pos);
  for (const s of spans) writeSpan(w, s);
  w.finish(ss, 3);
  w.finish(rs, 3);
}
