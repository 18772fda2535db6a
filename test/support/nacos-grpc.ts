/**
 * A minimal Nacos gRPC client at the protocol level (frames, unary requests, the connection
 * stream and its pushes), for the gRPC port's protocol and bad-input tests and for
 * bench/grpc. The real clients (Java, Go, Python) are driven by test/nacos-grpc-clients.test.ts.
 */
import { EventEmitter } from 'node:events';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { decodePayload, encodePayload } from '../../src/registry/grpc/codec.js';

const identity = (b: Buffer): Buffer => b;
const ServiceClient = makeGenericClientConstructor({
  request: { path: '/Request/request', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  requestBiStream: { path: '/BiRequestStream/requestBiStream', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
}, 'Nacos');

type AnyClient = Client & {
  request(b: Buffer, cb: (err: ServiceError | null, res?: Buffer) => void): void;
  requestBiStream(): ClientDuplexStream<Buffer, Buffer>;
};

/** A decoded message: its class name and JSON body. */
export interface Message {
  type: string;
  body: Record<string, unknown>;
}

function decode(buf: Buffer): Message {
  const p = decodePayload(buf);
  return { type: p.type, body: JSON.parse(p.body.toString('utf8') || '{}') as Record<string, unknown> };
}

/** One client connection (one HTTP/2 connection to the gRPC port). */
export class NacosGrpcTestClient extends EventEmitter<{ push: [Message] }> {
  private readonly client: AnyClient;
  private stream: ClientDuplexStream<Buffer, Buffer> | undefined;
  readonly pushes: Message[] = [];
  private requestId = 1;
  streamError: ServiceError | undefined;
  streamEnded = false;
  /** Answer pushes with an ack (as real clients do). */
  ack = true;

  constructor(readonly port: number, readonly headers: Record<string, string> = {}) {
    super();
    this.client = new ServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
      // One connection per client, as Nacos clients hold one.
      'grpc.use_local_subchannel_pool': 1,
    }) as unknown as AnyClient;
  }

  /** Send raw bytes as a unary request. */
  raw(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.client.request(frame, (err, res) => (err ? reject(err) : resolve(res!))));
  }

  /** Send a request (JSON body) and decode the answer. */
  async request(type: string, body: Record<string, unknown> = {}, headers: Record<string, string> = this.headers): Promise<Message> {
    const frame = encodePayload({ type, headers, clientIp: '127.0.0.1', body: JSON.stringify({ requestId: String(this.requestId++), ...body }) });
    return decode(await this.raw(frame));
  }

  /** ServerCheck, then open the stream and send ConnectionSetupRequest; resolves with the connection id once set up. */
  async connect(opts: { abilities?: boolean; tenant?: string } = {}): Promise<string> {
    const check = await this.request('ServerCheckRequest');
    if (check.type !== 'ServerCheckResponse') throw new Error(`server check answered ${JSON.stringify(check)}`);
    const acked = this.openStream();
    this.send('ConnectionSetupRequest', { clientVersion: 'mcpgate-test', tenant: opts.tenant ?? '', labels: { source: 'sdk', module: 'naming' }, ...(opts.abilities === false ? {} : { abilityTable: { supportPersistentInstanceByGrpc: true } }) });
    if (opts.abilities !== false) await acked;
    else await this.untilRegistered();
    return String(check.body['connectionId']);
  }

  /** Open the connection stream (without setup); resolves when SetupAckRequest arrives. */
  openStream(): Promise<Message> {
    const stream = this.client.requestBiStream();
    this.stream = stream;
    stream.on('data', (buf: Buffer) => {
      const m = decode(buf);
      this.pushes.push(m);
      if (this.ack && m.type !== 'SetupAckRequest') {
        const ackType = m.type.replace(/Request$/, 'Response');
        stream.write(encodePayload({ type: ackType, body: JSON.stringify({ requestId: m.body['requestId'], resultCode: 200, errorCode: 0, success: true }) }));
      }
      this.emit('push', m);
    });
    stream.on('error', (err: ServiceError) => { this.streamError = err; });
    stream.on('end', () => { this.streamEnded = true; });
    return this.nextPush((m) => m.type === 'SetupAckRequest');
  }

  /** Write a frame (JSON body) up the stream. */
  send(type: string, body: Record<string, unknown>): void {
    this.stream?.write(encodePayload({ type, body: JSON.stringify(body) }));
  }

  /** Write raw bytes up the stream. */
  sendRaw(frame: Buffer): void {
    this.stream?.write(frame);
  }

  /** The next push (already received or coming) that matches. */
  nextPush(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const seen = this.pushes.find(match);
    if (seen) {
      this.pushes.splice(this.pushes.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.off('push', on); reject(new Error(`no matching push within ${timeoutMs} ms`)); }, timeoutMs);
      const on = (m: Message) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.off('push', on);
        this.pushes.splice(this.pushes.indexOf(m), 1);
        resolve(m);
      };
      this.on('push', on);
    });
  }

  /** Wait until a health check is answered as from a registered connection (setup without an ability table gets no ack). */
  private async untilRegistered(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const r = await this.request('HealthCheckRequest');
      if (r.type === 'HealthCheckResponse') return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('the connection never registered');
  }

  /** End the stream and the connection. */
  close(): void {
    this.stream?.end();
    this.stream?.cancel();
    this.client.close();
  }
}

/**
 * The Nacos v3 admin form of an MCP server `name` with one REST tool `get_weather` described as
 * `description`, backed by the service `${name}-api`; a PUT names the version latest (Nacos's overwrite).
 */
export function weatherMcpForm(name: string, version: string, description: string, method: 'POST' | 'PUT'): Record<string, string> {
  return {
    serverSpecification: JSON.stringify({ name, protocol: 'http', frontProtocol: 'mcp-streamable', description: 'weather', versionDetail: { version }, enabled: true }),
    toolSpecification: JSON.stringify({
      tools: [{ name: 'get_weather', description, inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
      toolsMeta: { get_weather: { enabled: true, templates: { 'json-go-template': { requestTemplate: { url: '/weather', method: 'GET', argsToUrlParam: true }, responseTemplate: { body: '{{.}}' } } } } },
    }),
    endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'public', groupName: 'DEFAULT_GROUP', serviceName: `${name}-api` } }),
    ...(method === 'PUT' ? { latest: 'true' } : {}),
  };
}
