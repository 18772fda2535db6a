/**
 * A lean Nacos gRPC client for the load generator of bench/grpc: gRPC spoken over `node:http2`
 * directly, with frames pre-encoded, so that the benchmark measures the registry rather than its
 * own clients (64 registering connections and 1,000 subscribers cost about as much CPU through
 * @grpc/grpc-js as the registry did). Hand-written because what it leaves out is the point: no
 * channel, no call objects, no full decode of what the server sends. The grpc-js client
 * (test/support/nacos-grpc.ts) stays the one the tests use.
 *
 * - Each unary request is one HTTP/2 stream (`POST /Request/request`) carrying one gRPC message
 *   (a 5-byte prefix, then the Nacos Payload); the Payload's metadata (type, client IP, headers)
 *   is encoded once per request type and connection, and only the JSON body is written per
 *   request (`frame`).
 * - The connection stream (`/BiRequestStream/requestBiStream`) is set up as Nacos clients do
 *   (ServerCheckRequest, then ConnectionSetupRequest with an ability table, then SetupAckRequest);
 *   every push that comes down it is acknowledged, as clients must, with its response type and
 *   request id, found by a scan of the body rather than a JSON parse.
 */
import { connect } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { decodePayload, varintLength, writeVarint } from '../../src/registry/grpc/codec.js';

/** A length-delimited field: tag, length, content. */
function lengthDelimited(field: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + varintLength(content.length) + content.length);
  out[0] = (field << 3) | 2;
  content.copy(out, writeVarint(out, 1, content.length));
  return out;
}

/** The Payload's `metadata` field (field 2), encoded once: type, headers, client IP. */
function metadataField(type: string, headers: Record<string, string> = {}, clientIp = ''): Buffer {
  const parts: Buffer[] = [lengthDelimited(3, Buffer.from(type))];
  for (const [k, v] of Object.entries(headers)) parts.push(lengthDelimited(7, Buffer.concat([lengthDelimited(1, Buffer.from(k)), lengthDelimited(2, Buffer.from(v))])));
  if (clientIp !== '') parts.push(lengthDelimited(8, Buffer.from(clientIp)));
  return lengthDelimited(2, Buffer.concat(parts));
}

/**
 * A gRPC message (5-byte prefix and Payload) of a pre-encoded metadata field and a JSON body:
 * one allocation, the body written in place (its length and the `Any` around it are the only
 * other bytes that vary).
 */
export function frame(metadata: Buffer, body: string): Buffer {
  const bodyLen = Buffer.byteLength(body);
  const anyLen = 1 + varintLength(bodyLen) + bodyLen;
  const payloadLen = metadata.length + 1 + varintLength(anyLen) + anyLen;
  const out = Buffer.allocUnsafe(5 + payloadLen);
  out[0] = 0;
  out.writeUInt32BE(payloadLen, 1);
  let p = 5 + metadata.copy(out, 5);
  out[p++] = (3 << 3) | 2;
  p = writeVarint(out, p, anyLen);
  out[p++] = (2 << 3) | 2;
  p = writeVarint(out, p, bodyLen);
  out.write(body, p);
  return out;
}

/** Splits an HTTP/2 DATA stream into gRPC messages (a message may span chunks, a chunk hold several). */
class MessageReader {
  private pending: Buffer | undefined;

  constructor(private readonly onMessage: (m: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      this.onMessage(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    if (buf.length > 0) this.pending = buf;
  }
}

const REQUEST_HEADERS = { ':method': 'POST', ':path': '/Request/request', 'content-type': 'application/grpc', te: 'trailers' };
const STREAM_HEADERS = { ':method': 'POST', ':path': '/BiRequestStream/requestBiStream', 'content-type': 'application/grpc', te: 'trailers' };

/** The string value of `"name":"…"` in a JSON body, found by a scan (the values this reads hold no escapes). */
export function jsonString(body: Buffer, name: string): string | undefined {
  const key = `"${name}":"`;
  const at = body.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = body.indexOf(0x22, start);
  return end < 0 ? undefined : body.toString('latin1', start, end);
}

/** A push as the lean client sees it: its type and its JSON body, undecoded. */
export interface LeanPush {
  type: string;
  body: Buffer;
}

/** One client connection over node:http2. */
export class LeanNacosConnection {
  private session: ClientHttp2Session | undefined;
  private stream: ClientHttp2Stream | undefined;
  private readonly metadata = new Map<string, Buffer>();
  private nextId = 1;
  /** Called with every push (after its ack is written). */
  onPush: (p: LeanPush) => void = () => undefined;

  constructor(readonly port: number) {}

  /** The pre-encoded metadata field of a request type. */
  private meta(type: string): Buffer {
    let m = this.metadata.get(type);
    if (!m) this.metadata.set(type, m = metadataField(type, {}, '127.0.0.1'));
    return m;
  }

  /** A fresh request id on this connection. */
  requestId(): number {
    return this.nextId++;
  }

  /** Send a pre-encoded request frame (see `frame`); resolves with the response Payload's bytes. */
  unaryFrame(message: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = this.session!.request(REQUEST_HEADERS);
      let response: Buffer | undefined;
      const reader = new MessageReader((m) => { response = m; });
      let grpcStatus: string | undefined;
      req.on('response', (h) => { if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']); });
      req.on('trailers', (h) => { grpcStatus = String(h['grpc-status']); });
      req.on('data', (c: Buffer) => reader.push(c));
      req.on('error', reject);
      req.on('close', () => {
        if (response !== undefined && (grpcStatus === undefined || grpcStatus === '0')) resolve(response);
        else reject(new Error(`gRPC status ${grpcStatus ?? 'none'}`));
      });
      req.end(message);
    });
  }

  /** A request whose JSON body is `fields` with a fresh `requestId` first. */
  request(type: string, fieldsJson: string): Promise<Buffer> {
    const rest = fieldsJson.length > 2 ? `,${fieldsJson.slice(1)}` : '}';
    return this.unaryFrame(frame(this.meta(type), `{"requestId":"${this.nextId++}"${rest}`));
  }

  /** The pre-encoded metadata of `type` on this connection, for callers that build bodies themselves. */
  metadataOf(type: string): Buffer {
    return this.meta(type);
  }

  /** Connect as a Nacos client does; resolves once the server's SetupAckRequest has arrived. */
  async connect(): Promise<void> {
    this.session = connect(`http://127.0.0.1:${this.port}`);
    this.session.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      this.session!.once('connect', () => resolve());
      this.session!.once('error', reject);
    });
    const check = decodePayload(await this.request('ServerCheckRequest', '{}'));
    if (check.type !== 'ServerCheckResponse') throw new Error(`server check answered ${check.type}`);
    const stream = this.session.request(STREAM_HEADERS);
    this.stream = stream;
    stream.on('error', () => undefined);
    let acked: () => void = () => undefined;
    const setUp = new Promise<void>((resolve) => { acked = resolve; });
    const ackMeta = new Map<string, Buffer>();
    const reader = new MessageReader((m) => {
      const p = decodePayload(m);
      if (p.type === 'SetupAckRequest') {
        acked();
        return;
      }
      const requestId = jsonString(p.body, 'requestId') ?? '';
      const responseType = p.type.replace(/Request$/, 'Response');
      let meta = ackMeta.get(responseType);
      if (!meta) ackMeta.set(responseType, meta = metadataField(responseType));
      stream.write(frame(meta, `{"requestId":"${requestId}","resultCode":200,"errorCode":0,"success":true}`));
      this.onPush({ type: p.type, body: p.body });
    });
    stream.on('data', (c: Buffer) => reader.push(c));
    stream.write(frame(metadataField('ConnectionSetupRequest'), JSON.stringify({
      clientVersion: 'mcpgate-bench-lean', tenant: '', labels: { source: 'sdk', module: 'naming' }, abilityTable: { supportPersistentInstanceByGrpc: true },
    })));
    await setUp;
  }

  /** End the stream and the connection. */
  close(): void {
    this.stream?.end();
    this.session?.close();
  }
}
