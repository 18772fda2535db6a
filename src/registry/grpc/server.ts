/**
 * The Nacos gRPC port (Nacos 2.x/3.x clients and Higress connect here; registry port + 1000 by
 * default): the `Request` unary service and the `BiRequestStream` connection stream of
 * nacos_grpc.proto, served with @grpc/grpc-js.
 *
 * A client's life, as Nacos clients live it:
 * 1. `ServerCheckRequest` (unary) → `ServerCheckResponse` with the connection id of its HTTP/2
 *    connection (known by its peer address) and ability negotiation on;
 * 2. it opens `requestBiStream` on the same connection and sends `ConnectionSetupRequest`; the
 *    connection is registered and, when the client sent an ability table, answered with
 *    `SetupAckRequest` and the server's abilities;
 * 3. its requests (unary) are answered by the handlers of naming.ts, config.ts and ai.ts; a
 *    request from a connection that did not set up is refused with 301 (clients reconnect), an
 *    unknown type with 302, a malformed body with 400, all as `ErrorResponse`, changing nothing;
 *    a request the handler refuses gets its own response type, failed, with the error code;
 * 4. pushes (pusher.ts) go down its stream; its acks come back up and are dropped;
 * 5. when the stream ends (the client closed, the network dropped, or the stream was not set
 *    up within `setupTimeoutMs`), the connection goes, and the ephemeral instances registered
 *    over it are deregistered. While it lives, they are kept alive by this node's lease: they
 *    name it as their holder, and the node renews it (one row) every `keepAliveMs`, so the
 *    registry's ephemeral expiry treats them as beating at its last renewal; another registry
 *    node that takes over expiry removes them ~30 s after this node dies.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { Counter, Gauge } from 'prom-client';
import type { Registry as PromRegistry } from 'prom-client';
import type { ServerDuplexStream, ServerErrorResponse, ServerUnaryCall, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import { AppError } from '../../lib/errors.js';
import { parseJsonText } from '../../lib/json-depth.js';
import { parseJsonInput } from '../../lib/json-input.js';
import type { Logger } from '../../lib/logger.js';
import type { InstanceKey } from '../../model/model.js';
import type { Principal } from '../domain/auth.js';
import { ANONYMOUS_ADMIN } from '../domain/auth.js';
import type { RegistryServices } from '../services.js';
import { aiHandlers } from './ai.js';
import { FrameError, decodePayload, encodePayload } from './codec.js';
import type { Payload } from './codec.js';
import { configHandlers } from './config.js';
import type { McpConfigReader } from '../domain/nacos-configs.js';
import { Connection } from './connection.js';
import { optObject, optString, optStringMap, parseBody } from './fields.js';
import type { GrpcDeps, HandlerEntry, RequestContext } from './handler.js';
import { instanceKeyId } from '../../model/model.js';
import { namingHandlers } from './naming.js';
import { NACOS_CODES, SERVER_ABILITIES, describeError, failed, ok } from './protocol.js';
import { Pusher } from './pusher.js';

/** How the gRPC port runs. */
export interface NacosGrpcOptions {
  host: string;
  port: number;
  /** Require a credential (`accessToken` header) on requests, as the HTTP APIs do. */
  authEnabled: boolean;
  logger: Logger;
  /** Largest frame accepted (larger: RESOURCE_EXHAUSTED, nothing read). */
  maxMessageBytes: number;
  /** A stream that has not sent ConnectionSetupRequest within this is ended. Default 10 000 ms. */
  setupTimeoutMs?: number;
  /** How often the lease of the ephemeral instances of open connections is renewed. Default 5000 ms. */
  keepAliveMs?: number;
  /** The name of that lease, unique among the registry nodes sharing the database. Default: host name and a random UUID. */
  holder?: string;
  /** Most connections at once; a setup beyond is refused (RESOURCE_EXHAUSTED). Default 20 000. */
  maxConnections?: number;
  /** Most bytes of pushes waiting for a client that does not read its stream; it is dropped beyond. Default 16 MiB. */
  maxPushBufferBytes?: number;
  /** Where to register the port's Prometheus metrics (the registry's `/metrics`). */
  metrics?: PromRegistry;
}

const identity = (b: Buffer): Buffer => b;

/** The most instances of a closed connection deregistered by one write. */
const DEREGISTER_BATCH = 200;

/** The two services of nacos_grpc.proto, with frames passed through as bytes (codec.ts decodes them). */
const REQUEST_SERVICE: ServiceDefinition = {
  request: {
    path: '/Request/request', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};
const STREAM_SERVICE: ServiceDefinition = {
  requestBiStream: {
    path: '/BiRequestStream/requestBiStream', requestStream: true, responseStream: true,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};

/** Case-insensitive header lookup (Nacos keeps request headers in a case-insensitive map). */
function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower && v !== '') return v;
  return undefined;
}

function respond(type: string, body: Record<string, unknown>, requestId: unknown): Buffer {
  // A copy and an assignment, not a spread and a conditional spread (~0.5 µs an answer on Node 20: a new hidden class each).
  const answer = Object.assign({}, body);
  if (typeof requestId === 'string') answer['requestId'] = requestId;
  return encodePayload({ type, body: JSON.stringify(answer) });
}

function errorResponse(errorCode: number, message: string, requestId?: unknown): Buffer {
  return respond('ErrorResponse', failed(errorCode, message), requestId);
}

/** The Nacos gRPC server of a registry node. */
export class NacosGrpcServer implements GrpcDeps {
  readonly services: RegistryServices;
  private readonly server: Server;
  private readonly handlers: Record<string, HandlerEntry>;
  private readonly reader: McpConfigReader;
  private readonly pusher: Pusher;
  private readonly logger: Logger;
  /** Connection ids handed out by ServerCheckRequest, by peer, until the stream sets up. */
  private readonly pending = new Map<string, { id: string; at: number }>();
  private readonly byPeer = new Map<string, Connection>();
  private readonly byId = new Map<string, Connection>();
  /** Which connection owns each ephemeral instance registered over gRPC. */
  private readonly owners = new Map<string, string>();
  private keepAlive: NodeJS.Timeout | undefined;
  /** This node's lease, named by the ephemeral instances its connections hold. */
  readonly holder: string;
  /** When the lease was last renewed (undefined: never yet). */
  private lastRenewal: number | undefined;
  /** Whether the next keep-alive round beats each instance (see `beatOwned`). */
  private beatEach = false;
  private readonly requests: Counter<'type' | 'code'> | undefined;
  private boundPort = 0;
  private closing = false;

  constructor(services: RegistryServices, private readonly options: NacosGrpcOptions) {
    this.services = services;
    this.logger = options.logger;
    this.holder = options.holder ?? `${hostname().slice(0, 80)}-${randomUUID()}`;
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': -1,
      // Dead peers are found by HTTP/2 pings, so their instances go without waiting for TCP.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      // No channelz service is served: its bookkeeping (counters and a timestamp per call and per message) is work nobody reads.
      'grpc.enable_channelz': 0,
    });
    this.reader = services.nacosConfigs;
    if (options.metrics) {
      const registers = [options.metrics];
      this.requests = new Counter({ name: 'mcpgate_grpc_requests_total', help: 'Nacos gRPC requests answered, by request type and Nacos result code (200: success).', labelNames: ['type', 'code'] as const, registers });
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const self = this;
      new Gauge({ name: 'mcpgate_grpc_connections', help: 'Nacos gRPC client connections set up.', registers, collect() { this.set(self.byId.size); } });
      new Gauge({ name: 'mcpgate_grpc_ephemeral_instances', help: 'Ephemeral instances held alive by Nacos gRPC connections.', registers, collect() { this.set(self.owners.size); } });
    }
    this.handlers = {
      HealthCheckRequest: { response: 'HealthCheckResponse', handle: async () => ok() },
      ...namingHandlers(this),
      ...configHandlers(this.reader),
      ...aiHandlers(this),
    };
    this.pusher = new Pusher(services, this.reader, {
      connections: () => this.byId.values(),
      principalOf: (conn) => conn.principal ?? (this.options.authEnabled ? { username: 'nobody', globalAdmin: false, roles: [] } : ANONYMOUS_ADMIN),
    }, this.logger);
    this.server.addService(REQUEST_SERVICE, { request: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => this.unary(call, cb) });
    this.server.addService(STREAM_SERVICE, { requestBiStream: (call: ServerDuplexStream<Buffer, Buffer>) => this.stream(call) });
  }

  now(): number {
    return Date.now();
  }

  /** Listen; resolves with the port bound. */
  async start(): Promise<number> {
    const host = this.options.host.includes(':') && !this.options.host.startsWith('[') ? `[${this.options.host}]` : this.options.host;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.options.port}`, ServerCredentials.createInsecure(), (err, port) => (err
        ? reject(new Error(`cannot listen on the Nacos gRPC port ${host}:${this.options.port} (${err.message}); choose another with --grpc-port (grpcPort), or turn it off with grpcPort: off`))
        : resolve(port)));
    });
    await this.beatOwned();
    this.keepAlive = setInterval(() => void this.beatOwned(), this.keepAliveMs);
    this.keepAlive.unref();
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  private get keepAliveMs(): number {
    return this.options.keepAliveMs ?? 5000;
  }

  /** How many client connections are set up. */
  get connectionCount(): number {
    return this.byId.size;
  }

  /** Stop: end every connection (deregistering their ephemeral instances) and close the port. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.pusher.stop();
    clearInterval(this.keepAlive);
    const open = [...this.byId.values()];
    await Promise.allSettled(open.map((c) => this.drop(c)));
    for (const c of open) c.end();
    await this.services.store.dropHolderLeases({ holder: this.holder })
      .catch((err: unknown) => this.logger.warn({ err }, 'removing the lease of the gRPC connections\' instances failed; it lapses'));
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { this.server.forceShutdown(); resolve(); }, 2000);
      this.server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
  }

  claim(conn: Connection, key: InstanceKey): void {
    const k = instanceKeyId(key);
    // The connection may have closed while the write ran: then the instance goes at once.
    if (!conn.isOpen || !this.byId.has(conn.id)) {
      void this.services.naming.deregisterInstance(key).catch(() => undefined);
      return;
    }
    const previous = this.owners.get(k);
    if (previous && previous !== conn.id) this.byId.get(previous)?.instances.delete(k);
    this.owners.set(k, conn.id);
    conn.instances.set(k, key);
  }

  release(conn: Connection, key: InstanceKey): void {
    const k = instanceKeyId(key);
    conn.instances.delete(k);
    if (this.owners.get(k) === conn.id) this.owners.delete(k);
  }

  // ---- unary requests ----

  private async unary(call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>): Promise<void> {
    let payload: Payload;
    try {
      payload = decodePayload(call.request);
    } catch (err) {
      const details = err instanceof FrameError ? err.message : 'unreadable frame';
      cb({ code: status.INVALID_ARGUMENT, details: `GRPC_MALFORMED_PAYLOAD: the frame is not a Nacos Payload: ${details}` } as ServerErrorResponse);
      return;
    }
    try {
      cb(null, await this.answer(call.getPeer(), payload));
    } catch (err) {
      this.logger.error({ err, type: payload.type }, 'gRPC request failed');
      cb(null, errorResponse(NACOS_CODES.SERVER_ERROR, 'INTERNAL: an unexpected error; the registry log has the details'));
    }
  }

  private async answer(peer: string, payload: Payload): Promise<Buffer> {
    const type = payload.type;
    if (type === 'ServerCheckRequest') {
      const id = this.byPeer.get(peer)?.id ?? this.pendingId(peer);
      this.count(type, 200);
      return respond('ServerCheckResponse', ok({ connectionId: id, supportAbilityNegotiation: true }), null);
    }
    const entry = Object.hasOwn(this.handlers, type) ? this.handlers[type] : undefined;
    if (!entry) {
      const shown = type === '' ? "no 'metadata.type'" : `'${type.slice(0, 100)}'`;
      this.count('unknown', NACOS_CODES.NO_HANDLER);
      return errorResponse(NACOS_CODES.NO_HANDLER, `GRPC_UNKNOWN_REQUEST: RequestHandler Not Found: no handler for request type ${shown}`);
    }
    const conn = this.byPeer.get(peer);
    if (!conn || !conn.isOpen) {
      this.count(type, NACOS_CODES.UN_REGISTER);
      return errorResponse(NACOS_CODES.UN_REGISTER, 'GRPC_CONNECTION_UNREGISTERED: Connection is unregistered: send ConnectionSetupRequest on the BiRequestStream first');
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(payload.body.toString('utf8'), type, parseJsonInput);
    } catch (err) {
      const why = err instanceof AppError ? err.message : 'the body is not valid JSON';
      this.count(type, NACOS_CODES.INVALID_PARAM);
      return errorResponse(NACOS_CODES.INVALID_PARAM, `GRPC_MALFORMED_PAYLOAD: the body of ${type} is not a JSON object: ${why}`);
    }
    const requestId = body['requestId'];
    try {
      const principal = await this.principal(payload.headers);
      conn.principal = principal;
      const ctx: RequestContext = { conn, principal, headers: payload.headers };
      const result = await entry.handle(body, ctx);
      this.count(type, result['success'] === false ? Number(result['errorCode']) : 200);
      return respond(entry.response, result, requestId);
    } catch (err) {
      const { errorCode, message, unexpected } = describeError(err);
      this.count(type, errorCode);
      if (unexpected) this.logger.error({ err, type }, 'gRPC request failed');
      // As Nacos' handlers do: the request's own response type, failed. (An ErrorResponse tells
      // clients the connection is in trouble: the Python client switches servers on one.)
      return respond(entry.response, failed(errorCode, message), requestId);
    }
  }

  /** Count an answer (`type` is a known request type or 'unknown': hostile names add no series). */
  private count(type: string, code: number): void {
    this.requests?.inc({ type, code: String(code) });
  }

  /** The caller, from the request's headers (`accessToken`, or `Authorization: Bearer`), as on HTTP. */
  private async principal(headers: Record<string, string>): Promise<Principal> {
    if (!this.options.authEnabled) return ANONYMOUS_ADMIN;
    const auth = header(headers, 'authorization');
    const token = header(headers, 'accessToken') ?? (auth?.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : undefined);
    if (!token) {
      throw new AppError('UNAUTHORIZED', 'log in first: Nacos clients log in with their username and password and send the token as the accessToken header of each request');
    }
    return this.services.auth.verifyToken(token);
  }

  private pendingId(peer: string): string {
    const now = Date.now();
    const hit = this.pending.get(peer);
    if (hit) return hit.id;
    if (this.pending.size >= 10_000) {
      for (const [p, e] of this.pending) if (now - e.at > 60_000 || this.pending.size >= 10_000) this.pending.delete(p);
    }
    const id = `${now}_${randomUUID().slice(0, 8)}_${peer}`;
    this.pending.set(peer, { id, at: now });
    return id;
  }

  // ---- the connection stream ----

  private stream(call: ServerDuplexStream<Buffer, Buffer>): void {
    const peer = call.getPeer();
    let conn: Connection | undefined;
    let ended = false;
    const fail = (code: status, details: string) => {
      if (ended) return;
      ended = true;
      call.emit('error', { code, details });
    };
    const setupTimer = setTimeout(() => {
      if (!conn) fail(status.DEADLINE_EXCEEDED, `no ConnectionSetupRequest within ${this.options.setupTimeoutMs ?? 10_000} ms of opening the stream`);
    }, this.options.setupTimeoutMs ?? 10_000);
    setupTimer.unref();
    const closed = () => {
      clearTimeout(setupTimer);
      ended = true;
      if (conn) void this.drop(conn);
    };
    call.on('data', (buf: Buffer) => {
      let payload: Payload;
      try {
        payload = decodePayload(buf);
      } catch (err) {
        this.logger.debug({ peer, err }, 'malformed frame on a gRPC stream');
        if (!conn) fail(status.INVALID_ARGUMENT, `GRPC_MALFORMED_PAYLOAD: the frame is not a Nacos Payload: ${err instanceof Error ? err.message : 'unreadable'}`);
        return;
      }
      if (payload.type === 'ConnectionSetupRequest') {
        if (conn) return;
        try {
          conn = this.setup(peer, call, payload);
          clearTimeout(setupTimer);
        } catch (err) {
          fail(err instanceof AppError && err.code !== 'GRPC_MALFORMED_PAYLOAD' ? status.RESOURCE_EXHAUSTED : status.INVALID_ARGUMENT, err instanceof Error ? err.message : 'setup failed');
        }
        return;
      }
      // Responses to pushes (acks) and anything else a client sends up the stream: nothing to do.
    });
    call.on('end', () => {
      closed();
      if (!ended) call.end();
    });
    call.on('cancelled', closed);
    call.on('error', closed);
    call.on('close', closed);
  }

  private setup(peer: string, call: ServerDuplexStream<Buffer, Buffer>, payload: Payload): Connection {
    let body: Record<string, unknown>;
    try {
      body = parseBody(payload.body.toString('utf8'), 'ConnectionSetupRequest', parseJsonText);
    } catch (err) {
      throw new AppError('GRPC_MALFORMED_PAYLOAD', `the body of ConnectionSetupRequest is not a JSON object: ${err instanceof Error ? err.message : ''}`);
    }
    if (this.byId.size >= (this.options.maxConnections ?? 20_000)) {
      throw new AppError('VALIDATION_FAILED', `the registry holds its most gRPC connections (${this.options.maxConnections ?? 20_000}); try another registry node`);
    }
    let labels: Record<string, string> = {};
    try {
      labels = optStringMap(body, 'labels') ?? {};
    } catch {
      labels = {};
    }
    const id = this.pending.get(peer)?.id ?? `${Date.now()}_${randomUUID().slice(0, 8)}_${peer}`;
    this.pending.delete(peer);
    const conn = new Connection(
      id, peer, payload.clientIp, String(optString(body, 'clientVersion') ?? ''), labels, String(optString(body, 'tenant') ?? ''), call,
      this.options.maxPushBufferBytes ?? 16 * 1024 * 1024,
      (c) => {
        this.logger.warn({ connection: c.id }, 'gRPC client does not read its pushes; dropping its connection');
        c.end();
        void this.drop(c);
      },
    );
    const old = this.byPeer.get(peer);
    if (old) void this.drop(old);
    this.byPeer.set(peer, conn);
    this.byId.set(id, conn);
    this.logger.debug({ connection: id, clientVersion: conn.clientVersion, module: labels['module'] }, 'gRPC connection set up');
    // Clients that negotiate abilities wait for the server's (Nacos 2.3+).
    if (optObject(body, 'abilityTable') !== undefined) conn.push('SetupAckRequest', { abilityTable: SERVER_ABILITIES });
    return conn;
  }

  /** Forget a connection and deregister the ephemeral instances it still owns. */
  private async drop(conn: Connection): Promise<void> {
    if (this.byId.get(conn.id) !== conn) return;
    this.byId.delete(conn.id);
    if (this.byPeer.get(conn.peer) === conn) this.byPeer.delete(conn.peer);
    conn.subscriptions.clear();
    conn.listens.clear();
    const owned = [...conn.instances].filter(([k]) => this.owners.get(k) === conn.id);
    conn.instances.clear();
    for (const [k] of owned) this.owners.delete(k);
    // A few writes of many instances each (one query, one delete, the logs' rows together), not a write per
    // instance: a client with many instances costs little, and many connections closing at once (a client
    // fleet restarting) do not hold up the registrations and pushes that follow.
    for (let i = 0; i < owned.length; i += DEREGISTER_BATCH) {
      const keys = owned.slice(i, i + DEREGISTER_BATCH).map(([, key]) => key);
      await this.services.naming.deregisterInstances(keys).catch((err: unknown) => this.logger.warn({ err, connection: conn.id }, 'deregistering the instances of a closed gRPC connection failed'));
    }
    if (owned.length > 0) this.logger.debug({ connection: conn.id, instances: owned.length }, 'gRPC connection closed; its ephemeral instances were deregistered');
  }

  /**
   * Keep the ephemeral instances of open connections alive: renew this node's lease, which they
   * name as their holder (one row whatever their number; no revision). When the lease was missing
   * (removed while this node was out of reach) or this renewal came late (the node stalled, or the
   * database was out of reach, maybe long enough for the expiry to turn some unhealthy), beat each
   * instance as well: that heals those turned unhealthy, and finds those removed.
   */
  private async beatOwned(): Promise<void> {
    const now = Date.now();
    let existed: boolean;
    try {
      existed = await this.services.store.renewHolderLease(this.holder, now);
    } catch (err) {
      this.logger.warn({ err }, 'renewing the lease of the gRPC connections\' instances failed; the next round retries');
      return;
    }
    const last = this.lastRenewal;
    if (last !== undefined && (!existed || now - last > 2 * this.keepAliveMs)) this.beatEach = true;
    this.lastRenewal = now;
    if (!this.beatEach) return;
    this.beatEach = false;
    const keys: InstanceKey[] = [];
    for (const conn of this.byId.values()) for (const key of conn.instances.values()) keys.push(key);
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      const matched = await this.services.store.beatMany(batch, now).catch((err: unknown) => {
        this.logger.warn({ err }, 'keeping gRPC instances alive failed; the next round retries');
        this.beatEach = true;
        return batch.map(() => true);
      });
      // Not matched: turned unhealthy (beats missed while the node was stalled) or removed by
      // someone else. The beat path heals an unhealthy one; a removed one stays removed.
      for (const [n, ok] of matched.entries()) {
        if (!ok) await this.services.naming.beat(batch[n]!).catch(() => 'not-found');
      }
    }
  }
}
