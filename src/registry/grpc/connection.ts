/**
 * One Nacos client connection: the HTTP/2 connection a client opened, known by its peer
 * address from its ServerCheckRequest, registered when it sends ConnectionSetupRequest on its
 * bi-directional stream, and gone when that stream ends. What the client did over it (ephemeral
 * instances, service subscriptions, config listeners) lives and dies with it.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { InstanceKey } from '../../model/model.js';
import type { Principal } from '../domain/auth.js';
import { encodePayload } from './codec.js';

/** A service subscription of a connection. */
export interface Subscription {
  namespace: string;
  group: string;
  service: string;
  clusters: string;
}

/** A config a connection listens to, with the MD5 of the content it was last told of. */
export interface ConfigListen {
  tenant: string;
  namespace: string;
  group: string;
  dataId: string;
  md5: string;
}

/**
 * Push request ids: one sequence for all connections (a client needs them unique on its own
 * connection only), so that the same push to many connections is one frame, encoded once.
 */
let pushSequence = 0;

/** A push encoded once, to write to any number of connections. */
export interface EncodedPush {
  readonly requestId: string;
  readonly frame: Buffer;
}

/** Encode a push whose fields are already JSON (an object's text), under the next push request id. */
export function encodePush(type: string, fieldsJson: string): EncodedPush {
  const requestId = String(++pushSequence);
  const module = type === 'NotifySubscriberRequest' ? 'naming' : type === 'ConfigChangeNotifyRequest' ? 'config' : 'internal';
  const rest = fieldsJson.length > 2 ? `,${fieldsJson.slice(1)}` : '}';
  const body = `{"headers":{},"requestId":"${requestId}","module":"${module}"${rest}`;
  return { requestId, frame: encodePayload({ type, body }) };
}

/** A client connection after setup. */
export class Connection {
  /** Ephemeral instances registered over this connection, by instance key. */
  readonly instances = new Map<string, InstanceKey>();
  /** Service subscriptions, by `namespace\ngroup\nservice\nclusters`. */
  readonly subscriptions = new Map<string, Subscription>();
  /** Config listeners, by `namespace\ngroup\ndataId`. */
  readonly listens = new Map<string, ConfigListen>();
  /** Who the client last authenticated as (config pushes are read as them). */
  principal: Principal | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    readonly peer: string,
    readonly clientIp: string,
    readonly clientVersion: string,
    readonly labels: Record<string, string>,
    readonly tenant: string,
    private readonly stream: ServerDuplexStream<Buffer, Buffer>,
    /** Most bytes waiting to be written to a client that does not read its stream before it is dropped. */
    private readonly maxBufferedBytes: number,
    private readonly onOverflow: (conn: Connection) => void,
  ) {}

  get isOpen(): boolean {
    return !this.closed && !this.stream.destroyed && !this.stream.cancelled;
  }

  /** Send a server request (a push) on the stream; returns its requestId, or undefined if the connection is gone. */
  push(type: string, fields: Record<string, unknown>): string | undefined {
    return this.isOpen ? this.pushEncoded(encodePush(type, JSON.stringify(fields))) : undefined;
  }

  /** Send a push encoded once for many connections (`encodePush`); returns its requestId, or undefined if the connection is gone. */
  pushEncoded(push: EncodedPush): string | undefined {
    if (!this.isOpen) return undefined;
    this.stream.write(push.frame);
    if (this.stream.writableLength > this.maxBufferedBytes) this.onOverflow(this);
    return push.requestId;
  }

  /** End the stream (the client reconnects and redoes its registrations). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.stream.end();
    } catch {
      // Already torn down.
    }
  }
}
