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

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function field(number: number, content: Buffer): Buffer[] {
  return [varint(number * 8 + 2), varint(content.length), content];
}

function text(number: number, value: string): Buffer[] {
  return value === '' ? [] : field(number, Buffer.from(value, 'utf8'));
}

/** Encode one Payload (empty strings and an empty body are left out, as proto3 does). */
export function encodePayload(p: { type: string; clientIp?: string; headers?: Record<string, string>; body: Buffer | string }): Buffer {
  const meta: Buffer[] = [...text(3, p.type)];
  for (const [k, v] of Object.entries(p.headers ?? {})) meta.push(...field(7, Buffer.concat([...text(1, k), ...text(2, v)])));
  meta.push(...text(8, p.clientIp ?? ''));
  const body = typeof p.body === 'string' ? Buffer.from(p.body, 'utf8') : p.body;
  const any = body.length > 0 ? Buffer.concat(field(2, body)) : Buffer.alloc(0);
  return Buffer.concat([...field(2, Buffer.concat(meta)), ...field(3, any)]);
}
