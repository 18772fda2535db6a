/**
 * The gateways following this registry node, for the console's Gateways page: the in-process
 * one of `mcpgate serve`, and replicas that report themselves by heartbeat or on their watch
 * connection (`?gateway=<id>&revision=R`). Also where agents reach the gateway.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { Principal } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';

/** What a gateway reports about itself. */
export interface GatewayStatus {
  /** Registry revision of the snapshot it serves. */
  revision: number;
  /** Open MCP sessions (2025 sessions and legacy SSE sessions), when it can count them. */
  sessions?: number | undefined;
  /** Open server streams (GET streams, legacy SSE, 2026 listen streams). */
  streams?: number | undefined;
  /** Where agents reach it, e.g. `http://10.0.0.5:8080`. */
  address?: string | undefined;
  /** Where it takes its configuration from (`in-process registry`, `registry http://r1:8848`). */
  source?: string | undefined;
  /** The mcpgate version it runs. */
  version?: string | undefined;
  startedAt?: number | undefined;
  /** Members of virtual servers that are down or not heard from yet (left out of their tools/list), or with tools left out for a name clash. */
  virtualMembers?: { server: string; member: string; state: 'pending' | 'down' | 'clash'; error?: string }[] | undefined;
}

/** A gateway in the registry's own process (`mcpgate serve`): asked for its status on each listing. */
export interface LocalGateway {
  id: string;
  status(): GatewayStatus;
}

/** One gateway as the console lists it. */
export interface GatewayView extends GatewayStatus {
  id: string;
  kind: 'in-process' | 'remote';
  /** `connected`: in process or a watch connection is open; `reporting`: heartbeats arrive; `stale`: silent for over 90 s. */
  state: 'connected' | 'reporting' | 'stale';
  /** Epoch ms of the last heartbeat or watch request (now, for in-process gateways). */
  lastSeen: number;
  /** Open watch connections of this gateway. */
  watchConnections: number;
  /** The peer address the registry saw. */
  remoteAddress?: string | undefined;
  /** How many revisions the gateway is behind the registry. */
  lag: number;
}

interface RemoteEntry extends GatewayStatus {
  id: string;
  lastSeen: number;
  watchConnections: number;
  remoteAddress?: string | undefined;
}

const STALE_MS = 90_000;
const FORGET_MS = 15 * 60_000;
const MAX_REMOTE = 1000;

/** The gateways following one registry node, as far as this node knows. */
export class GatewayDirectory {
  private readonly local = new Map<string, LocalGateway>();
  private readonly remote = new Map<string, RemoteEntry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Attach a gateway running in this process; answers the function that detaches it. */
  attachLocal(gateway: LocalGateway): () => void {
    this.local.set(gateway.id, gateway);
    return () => { if (this.local.get(gateway.id) === gateway) this.local.delete(gateway.id); };
  }

  /** A heartbeat of a remote gateway. */
  heartbeat(id: string, status: GatewayStatus, remoteAddress?: string): void {
    const entry = this.entry(id);
    Object.assign(entry, definedOnly(status), { lastSeen: this.now(), remoteAddress: remoteAddress ?? entry.remoteAddress });
  }

  /** A watch request of a remote gateway (`?gateway=<id>&revision=R`); answers the function to call when it closes. */
  watchOpened(id: string, revision: number | undefined, remoteAddress?: string): () => void {
    const entry = this.entry(id);
    entry.watchConnections++;
    entry.lastSeen = this.now();
    if (revision !== undefined && revision > entry.revision) entry.revision = revision;
    if (remoteAddress) entry.remoteAddress = remoteAddress;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      entry.watchConnections = Math.max(0, entry.watchConnections - 1);
      entry.lastSeen = this.now();
    };
  }

  /** The port the first in-process gateway listens on (`mcpgate serve`), if any. */
  localPort(): number | undefined {
    for (const g of this.local.values()) {
      try {
        const address = g.status().address;
        const port = address ? Number(new URL(address).port) : NaN;
        if (Number.isInteger(port) && port > 0) return port;
      } catch {
        // a gateway that cannot say where it listens is skipped
      }
    }
    return undefined;
  }

  /** Every gateway known, in-process first. */
  list(registryRevision: number): GatewayView[] {
    const t = this.now();
    const out: GatewayView[] = [];
    for (const g of this.local.values()) {
      let status: GatewayStatus;
      try {
        status = g.status();
      } catch {
        status = { revision: 0 };
      }
      out.push({ ...status, id: g.id, kind: 'in-process', state: 'connected', lastSeen: t, watchConnections: 0, lag: Math.max(0, registryRevision - status.revision) });
    }
    for (const [id, e] of this.remote) {
      if (e.watchConnections === 0 && t - e.lastSeen > FORGET_MS) {
        this.remote.delete(id);
        continue;
      }
      const state = e.watchConnections > 0 ? 'connected' : t - e.lastSeen <= STALE_MS ? 'reporting' : 'stale';
      out.push({ ...e, kind: 'remote', state, lag: Math.max(0, registryRevision - e.revision) });
    }
    return out;
  }

  private entry(id: string): RemoteEntry {
    let entry = this.remote.get(id);
    if (!entry) {
      if (this.remote.size >= MAX_REMOTE) {
        const oldest = [...this.remote.values()].filter((e) => e.watchConnections === 0).sort((a, b) => a.lastSeen - b.lastSeen)[0];
        if (oldest) this.remote.delete(oldest.id);
      }
      entry = { id, revision: 0, lastSeen: this.now(), watchConnections: 0 };
      this.remote.set(id, entry);
    }
    return entry;
  }
}

const directories = new WeakMap<RegistryServices, GatewayDirectory>();

/** The gateway directory of a registry (one per `RegistryServices`). */
export function gatewayDirectory(services: RegistryServices): GatewayDirectory {
  let d = directories.get(services);
  if (!d) {
    d = new GatewayDirectory();
    directories.set(services, d);
  }
  return d;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Whether a principal holds a role on every namespace (`*`). */
export function hasGlobalRole(p: Principal): boolean {
  return p.roles.some((r) => r.namespace === '*');
}

function requireGlobalRole(p: Principal, what: string): void {
  if (!hasGlobalRole(p)) throw new AppError('FORBIDDEN', `${what} needs a role on every namespace (*)`);
}

/** What a gateway id may look like. */
export const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/;

/** Where agents reach the gateway, for the console's agent URLs and client configurations. */
export interface ConsoleSettings {
  /** The gateway's origin as agents reach it (`MCPGATE_PUBLIC_GATEWAY_URL`), for agent URLs and client configurations. */
  publicGatewayUrl?: string;
  /** The gateway's port, for the console to build the agent URL from its own host when `publicGatewayUrl` is unset. */
  gatewayPort?: number;
}

/** Gateways following this registry may say who they are on their watch requests. */
export function observeWatchingGateways(app: FastifyInstance, svc: RegistryServices): void {
  const directory = gatewayDirectory(svc);
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/api/v1/watch/')) return;
    const q = req.query as Record<string, unknown> | undefined;
    const id = q?.gateway;
    if (typeof id !== 'string' || !GATEWAY_ID.test(id) || !req.principal || !hasGlobalRole(req.principal)) return;
    const revision = Number(q?.revision ?? q?.after);
    const closed = directory.watchOpened(id, Number.isInteger(revision) && revision >= 0 ? revision : undefined, req.ip);
    reply.raw.once('close', closed);
  });
}

/** `GET /console/settings`, `GET /gateways` and `POST /gateways/heartbeat` (under /api/v1). */
export function gatewayRoutes(app: FastifyInstance, svc: RegistryServices, opts: ConsoleSettings, tag: { tags: string[] }): void {
  app.get('/console/settings', { schema: { ...tag, summary: "Where agents reach the gateway, for the console's agent URLs and client configurations" } }, async () => ({
    publicGatewayUrl: opts.publicGatewayUrl ?? null, gatewayPort: gatewayDirectory(svc).localPort() ?? (opts.gatewayPort || 8080),
  }));

  app.get('/gateways', { schema: { ...tag, summary: 'The gateways following this registry node: snapshot revision, sessions, streams (a role on *)' } }, async (req) => {
    requireGlobalRole(req.principal, 'listing gateways');
    const registryRevision = svc.feed.revision;
    return { registryRevision, items: gatewayDirectory(svc).list(registryRevision) };
  });

  app.post('/gateways/heartbeat', {
    schema: {
      ...tag, summary: 'A gateway reports itself (what it serves and holds open); same rights as the watch API',
      body: {
        type: 'object', additionalProperties: false, required: ['id', 'revision'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 200 }, revision: { type: 'integer', minimum: 0 },
          sessions: { type: 'integer', minimum: 0 }, streams: { type: 'integer', minimum: 0 },
          address: { type: 'string', maxLength: 500 }, source: { type: 'string', maxLength: 500 }, version: { type: 'string', maxLength: 64 },
          startedAt: { type: 'integer', minimum: 0 },
          virtualMembers: {
            type: 'array', maxItems: 1000,
            items: {
              type: 'object', additionalProperties: false, required: ['server', 'member', 'state'],
              properties: { server: { type: 'string', maxLength: 400 }, member: { type: 'string', maxLength: 255 }, state: { type: 'string', enum: ['pending', 'down', 'clash'] }, error: { type: 'string', maxLength: 500 } },
            },
          },
          consumers: {
            type: 'array', maxItems: 10000,
            items: { type: 'object', additionalProperties: false, required: ['id', 'at'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, at: { type: 'integer', minimum: 0 } } },
          },
        },
      },
    },
  }, async (req) => {
    requireGlobalRole(req.principal, 'a gateway heartbeat');
    const b = req.body as GatewayStatus & { id: string; consumers?: { id: string; at: number }[] };
    if (!GATEWAY_ID.test(b.id)) throw invalid('id', 'must be 1-200 characters of letters, digits and _ . : @ / -');
    const { id, consumers, ...status } = b;
    gatewayDirectory(svc).heartbeat(id, status, req.ip);
    // When the gateway let consumer keys in (the console's "last used"); a time in the future counts as now.
    const now = Date.now();
    if (consumers && consumers.length > 0) await svc.store.touchConsumers(consumers.map((c) => ({ id: c.id, at: Math.min(c.at, now) })));
    return { registryRevision: svc.feed.revision };
  });
}
