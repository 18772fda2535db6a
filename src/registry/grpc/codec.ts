/**
 * Encoding and decoding of the Nacos gRPC `Payload` message (nacos_grpc.proto beside this file).
 *
 * Hand-written rather than generated (protobufjs / @grpc/proto-loader) because the wire format
 * is three tiny messages (Payload, Metadata with a string map, google.protobuf.Any) and the
 * decoder is where hostile input arrives: this one bounds every length against the frame,
 * caps the number and size of headers, rejects truncated or malformed fields with a message
 * naming what is wrong, and needs no .proto file loaded at run time. codec.test.ts checks it
 * against the .proto through @grpc/proto-loader, field for field.
 */

/** A decoded Payload: the class name, the client's IP, the headers and the JSON body (UTF-8 bytes). */
export interface Payload {
  type: string;
  clientIp: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A frame that is not a well-formed Payload. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** Most headers one Payload may carry. */
export const MAX_HEADERS = 128;
/** Longest header name or value, bytes. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Longest `metadata.type` or `clientIp`, bytes. */
const MAX_NAME_BYTES = 256;

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly end = buf.length, start = 0) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(what: string): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FrameError(`truncated varint in ${what}`);
      const b = this.buf[this.pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    throw new FrameError(`varint longer than 10 bytes in ${what}`);
  }

  /** The bounds of a length-delimited field's content. */
  bytes(what: string): [number, number] {
    const len = this.varint(what);
    const start = this.pos;
    if (len > this.end - start) throw new FrameError(`${what}: length ${len} runs past the end of the frame`);
    this.pos = start + len;
    return [start, start + len];
  }

  string(what: string, max: number): string {
    const [s, e] = this.bytes(what);
    if (e - s > max) throw new FrameError(`${what}: ${e - s} bytes, more than the ${max} allowed`);
    const text = this.buf.toString('utf8', s, e);
    return text;
  }

  skip(wireType: number, what: string): void {
    switch (wireType) {
      case 0: this.varint(what); return;
      case 1: this.advance(8, what); return;
      case 2: this.bytes(what); return;
      case 5: this.advance(4, what); return;
      default: throw new FrameError(`unsupported wire type ${wireType} in ${what}`);
    }
  }

  private advance(n: number, what: string): void {
    if (this.end - this.pos < n) throw new FrameError(`truncated fixed-size field in ${what}`);
    this.pos += n;
  }

  sub(range: [number, number]): Reader {
    return new Reader(this.buf, range[1], range[0]);
  }

  slice(range: [number, number]): Buffer {
    return this.buf.subarray(range[0], range[1]);
  }
}

function tagOf(r: Reader, what: string): { field: number; wire: number } {
  const tag = r.varint(what);
  const field = Math.floor(tag / 8);
  if (field === 0) throw new FrameError(`field number 0 in ${what}`);
  return { field, wire: tag & 7 };
}

function expectWire(wire: number, want: number, what: string): void {
  if (wire !== want) throw new FrameError(`${what} has wire type ${wire}, expected ${want}`);
}

function decodeHeaderEntry(r: Reader, headers: Record<string, string>): void {
  let key = '';
  let value = '';
  while (!r.done) {
    const { field, wire } = tagOf(r, 'metadata.headers entry');
    if (field === 1) { expectWire(wire, 2, 'metadata.headers key'); key = r.string('metadata.headers key', MAX_HEADER_BYTES); }
    else if (field === 2) { expectWire(wire, 2, 'metadata.headers value'); value = r.string('metadata.headers value', MAX_HEADER_BYTES); }
    else r.skip(wire, 'metadata.headers entry');
  }
  // Own-property store: a header named __proto__ is a plain header.
  Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
}

function decodeMetadata(r: Reader, out: Payload): void {
  let count = 0;
  while (!r.done) {
    const { field, wire } = tagOf(r, 'metadata');
    if (field === 3) { expectWire(wire, 2, 'metadata.type'); out.type = r.string('metadata.type', MAX_NAME_BYTES); }
    else if (field === 8) { expectWire(wire, 2, 'metadata.clientIp'); out.clientIp = r.string('metadata.clientIp', MAX_NAME_BYTES); }
    else if (field === 7) {
      expectWire(wire, 2, 'metadata.headers');
      if (++count > MAX_HEADERS) throw new FrameError(`metadata.headers: more than ${MAX_HEADERS} headers`);
      decodeHeaderEntry(r.sub(r.bytes('metadata.headers')), out.headers);
    } else r.skip(wire, 'metadata');
  }
}

function decodeAny(r: Reader): Buffer {
  let value: Buffer = Buffer.alloc(0);
  while (!r.done) {
    const { field, wire } = tagOf(r, 'body');
    if (field === 2) { expectWire(wire, 2, 'body.value'); value = r.slice(r.bytes('body.value')); }
    else r.skip(wire, 'body');
  }
  return value;
}

/** Decode one Payload; throws FrameError naming what is malformed. */
export function decodePayload(buf: Buffer): Payload {
  const out: Payload = { type: '', clientIp: '', headers: {}, body: Buffer.alloc(0) };
  const r = new Reader(buf);
  while (!r.done) {
    const { field, wire } = tagOf(r, 'payload');
    if (field === 2) { expectWire(wire, 2, 'metadata'); decodeMetadata(r.sub(r.bytes('metadata')), out); }
    else if (field === 3) { expectWire(wire, 2, 'body'); out.body = decodeAny(r.sub(r.bytes('body'))); }
    else r.skip(wire, 'payload');
  }
  return out;
}

/** Bytes of `n` as a protobuf varint. */
export function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

/** Write `n` as a protobuf varint at `at`; answers the offset after it. */
export function writeVarint(buf: Buffer, at: number, n: number): number {
  let v = n;
  let p = at;
  while (v >= 0x80) {
    buf[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[p++] = v;
  return p;
}

/** Bytes of a length-delimited field (field numbers below 16: a one-byte tag) of `len` content bytes. */
const fieldLength = (len: number) => 1 + varintLength(len) + len;

/** Write a length-delimited field's tag and length at `at`; answers the offset of its content. */
function fieldHeader(buf: Buffer, at: number, field: number, len: number): number {
  buf[at] = field * 8 + 2;
  return writeVarint(buf, at + 1, len);
}

/** Write a string field (left out when empty, as proto3 does); answers the offset after it. */
function writeText(buf: Buffer, at: number, field: number, value: string, len: number): number {
  if (len === 0) return at;
  const p = fieldHeader(buf, at, field, len);
  return p + buf.write(value, p, 'utf8');
}

/**
 * Encode one Payload (empty strings and an empty body are left out, as proto3 does): the sizes
 * first, then every field written into one buffer (a response or push is one allocation).
 */
export function encodePayload(p: { type: string; clientIp?: string; headers?: Record<string, string>; body: Buffer | string }): Buffer {
  const clientIp = p.clientIp ?? '';
  const typeLen = Buffer.byteLength(p.type);
  const ipLen = Buffer.byteLength(clientIp);
  const headers: [string, number, string, number, number][] = [];
  let metaLen = (typeLen > 0 ? fieldLength(typeLen) : 0) + (ipLen > 0 ? fieldLength(ipLen) : 0);
  for (const [k, v] of Object.entries(p.headers ?? {})) {
    const kLen = Buffer.byteLength(k);
    const vLen = Buffer.byteLength(v);
    const entryLen = (kLen > 0 ? fieldLength(kLen) : 0) + (vLen > 0 ? fieldLength(vLen) : 0);
    headers.push([k, kLen, v, vLen, entryLen]);
    metaLen += fieldLength(entryLen);
  }
  const body = typeof p.body === 'string' ? p.body : undefined;
  const bodyLen = body !== undefined ? Buffer.byteLength(body) : (p.body as Buffer).length;
  const anyLen = bodyLen > 0 ? fieldLength(bodyLen) : 0;
  const out = Buffer.allocUnsafe(fieldLength(metaLen) + fieldLength(anyLen));
  let at = fieldHeader(out, 0, 2, metaLen);
  at = writeText(out, at, 3, p.type, typeLen);
  for (const [k, kLen, v, vLen, entryLen] of headers) {
    at = fieldHeader(out, at, 7, entryLen);
    at = writeText(out, at, 1, k, kLen);
    at = writeText(out, at, 2, v, vLen);
  }
  at = writeText(out, at, 8, clientIp, ipLen);
  at = fieldHeader(out, at, 3, anyLen);
  if (bodyLen > 0) {
    at = fieldHeader(out, at, 2, bodyLen);
    if (body !== undefined) out.write(body, at, 'utf8');
    else (p.body as Buffer).copy(out, at);
  }
  return out;
}
