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
  /**
   * The trace id: 16 bytes at `traceAt` of `traceBytes`. Ids are kept as bytes where they were
   * made (a pooled random buffer, or the parent's) and copied into the export as they are: no
   * hex decoding per span.
   */
  readonly traceBytes: Buffer;
  readonly traceAt: number;
  /** The span id: 8 bytes at `spanAt` of `spanBytes`. */
  readonly spanBytes: Buffer;
  readonly spanAt: number;
  /** The parent's span id, 8 bytes at `parentAt`; undefined for a root span. */
  readonly parentBytes: Buffer | undefined;
  readonly parentAt: number;
  readonly traceState: string | undefined;
  /** W3C trace flags (bit 0: sampled) with the OTLP `SpanFlags` context bits (0x100 known, 0x200 remote parent). */
  readonly flags: number;
  readonly name: string;
  /** The name and the attributes that repeat span after span, encoded once (`encodeShape`); undefined: none. */
  readonly shape: EncodedShape | undefined;
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

/**
 * A span name and attributes that many spans share (a server's tool, a backend), encoded once:
 * a span carrying it has those fields copied into the export in one `set` instead of written out
 * attribute by attribute.
 */
export interface EncodedShape {
  readonly name: string;
  /** `Span.name = 5`, tag and length included. */
  readonly nameField: Buffer;
  /** `Span.attributes = 9` fields, tags and lengths included. */
  readonly fixed: Buffer;
}

/** Encode a span name and its shared attributes (those whose value is undefined are left out). */
export function encodeShape(name: string, attributes: Attributes): EncodedShape {
  const n = new ProtoWriter(name.length * 3 + 8);
  n.byte(0x2a);
  n.string(name);
  const a = new ProtoWriter(256);
  for (const key in attributes) writeKeyValue(a, 0x4a, key, attributes[key]);
  return { name, nameField: n.bytes(), fixed: a.bytes() };
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
  if (typeof v === 'string' ? cachedKeyValue(w, tag, key, v) || shortAsciiKeyValue(w, tag, key, v) : Number.isSafeInteger(v) && cachedKeyValue(w, tag, key, v as number)) return;
  writeKeyValue(w, tag, key, v);
}

/** A `KeyValue` written out in full (no cache). */
function writeKeyValue(w: ProtoWriter, tag: number, key: string, v: AttributeValue | undefined): void {
  if (v === undefined || v === null) return;
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
 * Whole `KeyValue` messages (length included, tag not) of string and integer attributes, by key
 * and value. Most of the gateway's attribute values repeat call after call (backend URL, HTTP
 * status): copied from here in one `set`, where writing them out is a loop over every byte of key
 * and value. A key whose values keep changing (session and request ids) stops being cached after
 * `PAIRS_PER_KEY` values (`null`).
 */
const keyValues = new Map<string, Map<string | number, Uint8Array> | null>();
const PAIRS_PER_KEY = 64;
const CACHED_KEYS = 256;
/** Longer values are written out, not cached: the cache's memory stays small (256 × 64 × at most ~1 KiB). */
const CACHED_VALUE_CHARS = 256;

/** A string or integer attribute from `keyValues`, added there when new; false, with nothing written, when its key is not cached. */
function cachedKeyValue(w: ProtoWriter, tag: number, key: string, v: string | number): boolean {
  if (typeof v === 'string' && v.length > CACHED_VALUE_CHARS) return false;
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
    const kv = new ProtoWriter(key.length * 3 + 800);
    writeKeyValue(kv, 0, key, v);
    encoded = kv.bytes().subarray(1); // without the tag (0: one byte)
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

/** `n` bytes of `src` from `from` into `b` at `p` (ids: shorter than a call into a native copy). */
function copyBytes(b: Buffer, p: number, src: Buffer, from: number, n: number): void {
  for (let i = 0; i < n; i++) b[p + i] = src[from + i] as number;
}

/** A fixed64 of Unix nanoseconds from milliseconds with a fraction at `p` of `b` (exact: no BigInt, no 2^53 overflow). */
function putNanos(b: Buffer, p: number, ms: number): void {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  // whole = a * 2^16 + c; whole * 1e6 = a * 1e6 * 2^16 + c * 1e6: each product below 2^53.
  const a = Math.floor(whole / 65536);
  const c = whole - a * 65536;
  const high = a * 1e6;
  let low = (high % 65536) * 65536 + c * 1e6 + frac;
  const hi = (Math.floor(high / 65536) + Math.floor(low / TWO_32)) >>> 0;
  low = (low % TWO_32) >>> 0;
  b[p] = low & 0xff; b[p + 1] = (low >>> 8) & 0xff; b[p + 2] = (low >>> 16) & 0xff; b[p + 3] = low >>> 24;
  b[p + 4] = hi & 0xff; b[p + 5] = (hi >>> 8) & 0xff; b[p + 6] = (hi >>> 16) & 0xff; b[p + 7] = hi >>> 24;
}

/** Bytes of a span's fixed-size fields at most: tag and length 3, ids 18 + 10 + 10, kind 2, times 18, flags 6. */
const SPAN_FIXED_BYTES = 67;

/**
 * A `Span` message, tag included. The fixed-size fields (ids, kind, times, flags) and a shape's
 * encoded name and attributes go in one pass after one `ensure`; the rest through the writer.
 * Field order is free in protobuf, so the shared fields come first.
 */
function writeSpan(w: ProtoWriter, s: SpanRecord): void {
  const shape = s.shape;
  const nameField = shape !== undefined && shape.name === s.name ? shape.nameField : undefined;
  w.ensure(SPAN_FIXED_BYTES + (nameField === undefined ? 0 : nameField.length) + (shape === undefined ? 0 : shape.fixed.length));
  const b = w.buf;
  let p = w.pos;
  b[p] = 0x12; // ScopeSpans.spans = 2
  const at = p + 1;
  p += 3; // 2 bytes kept for the length
  b[p] = 0x0a; b[p + 1] = 16; copyBytes(b, p + 2, s.traceBytes, s.traceAt, 16); p += 18; // trace_id = 1
  b[p] = 0x12; b[p + 1] = 8; copyBytes(b, p + 2, s.spanBytes, s.spanAt, 8); p += 10; // span_id = 2
  if (s.parentBytes !== undefined) { b[p] = 0x22; b[p + 1] = 8; copyBytes(b, p + 2, s.parentBytes, s.parentAt, 8); p += 10; } // parent_span_id = 4
  b[p] = 0x30; b[p + 1] = s.kind; p += 2; // kind = 6 (1..5: one byte)
  b[p] = 0x39; putNanos(b, p + 1, s.startMs); p += 9; // start_time_unix_nano = 7
  b[p] = 0x41; putNanos(b, p + 1, s.endMs); p += 9; // end_time_unix_nano = 8
  const flags = s.flags;
  b[p] = 0x85; b[p + 1] = 0x01; // flags = 16, fixed32
  b[p + 2] = flags & 0xff; b[p + 3] = (flags >>> 8) & 0xff; b[p + 4] = (flags >>> 16) & 0xff; b[p + 5] = flags >>> 24; p += 6;
  if (nameField !== undefined) { b.set(nameField, p); p += nameField.length; } // name = 5
  if (shape !== undefined) { b.set(shape.fixed, p); p += shape.fixed.length; } // attributes = 9
  w.pos = p;
  if (nameField === undefined) { w.byte(0x2a); w.string(s.name); } // name = 5
  if (s.traceState !== undefined && s.traceState !== '') { w.byte(0x1a); w.string(s.traceState); } // trace_state = 3
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
