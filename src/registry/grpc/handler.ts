/** What a request handler of the gRPC port works with, and its shape. */
import type { InstanceKey } from '../../model/model.js';
import type { Principal } from '../domain/auth.js';
import type { RegistryServices } from '../services.js';
import type { Connection } from './connection.js';
import type { Body } from './fields.js';

/** The gRPC server's shared state, as handlers use it. */
export interface GrpcDeps {
  services: RegistryServices;
  now(): number;
  /** The lease this node renews for the ephemeral instances its connections hold (`InstanceInput.holder`). */
  readonly holder: string;
  /** Record that `conn` registered the ephemeral instance `key` (it goes when `conn` closes). */
  claim(conn: Connection, key: InstanceKey): void;
  /** Forget that `conn` registered `key` (deregistered by the client). */
  release(conn: Connection, key: InstanceKey): void;
}

/** One request being handled: its connection, caller and headers. */
export interface RequestContext {
  conn: Connection;
  principal: Principal;
  headers: Record<string, string>;
}

/** A request type's handler: the response class name and the function that answers. */
export interface HandlerEntry {
  response: string;
  handle(body: Body, ctx: RequestContext): Promise<Record<string, unknown>>;
}
