/**
 * The gateways following the registry cluster, for the console's Gateways page: the in-process
 * one of `mcpgate serve`, and replicas that report themselves by heartbeat or on their watch
 * connection (`?gateway=<id>&revision=R`). Reports go to the shared database, so every registry
 * node lists every gateway alike. Also where agents reach the gateway.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid } from '../../../lib/errors.js';
import type { Principal } from '../../domain/auth.js';
import type { RegistryServices } from '../../services.js';
import type { GatewayReportWrite, Store } from '../../store/store.js';

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
  /** Virtual members left out of `virtualMembers` (a report keeps the first 50). */
  virtualMembersOmitted?: number | undefined;
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
  /**
   * `connected`: in process, or a watch connection is open on a live registry node; `reporting`: heartbeats
   * arrive; `stale`: silent for over 90 s (forgotten after 15 min).
   */
  state: 'connected' | 'reporting' | 'stale';
  /** Epoch ms of the last heartbeat or watch request (now, for in-process gateways). */
  lastSeen: number;
  /** Open watch connections of this gateway (on `node`). */
  watchConnections: number;
  /** The peer address the registry saw. */
  remoteAddress?: string | undefined;
  /** How many revisions the gateway is behind the registry. */
  lag: number;
  /** The registry node the gateway follows (the one that took its last report). */
  node: string;
  /** Where that node's registry API listens, when the node is registered. */
  nodeAddress?: string | undefined;
}

interface RemoteEntry extends GatewayStatus {
  id: string;
  lastSeen: number;
  watchConnections: number;
  remoteAddress?: string | undefined;
  /** What the next flush writes: `claim` (the gateway talked to this node), `update` (only while the row is this node's). */
  dirty?: 'claim' | 'update' | undefined;
  /** When the entry was last written (local clock). */
  written: number;
}

/** A gateway silent this long is `stale`, ms. */
export const GATEWAY_STALE_MS = 90_000;
/** A gateway silent this long is forgotten, ms. */
export const GATEWAY_FORGET_MS = 15 * 60_000;
/** Gateways one node keeps in memory between flushes (the oldest without a watch connection go first). */
const MAX_REMOTE = 5000;
/** Rows one listing reads. */
const MAX_LISTED = 5000;
/** Virtual members kept per report in the database (the rest are counted in `virtualMembersOmitted`). */
const MAX_STORED_MEMBERS = 50;

/** The store calls the directory uses (the registry's store; a subset for tests). */
export type GatewayReportStore = Pick<Store, 'putGatewayReports' | 'listGatewayReports' | 'pruneGatewayReports'>;

/** Options of a `GatewayDirectory`. */
export interface GatewayDirectoryOptions {
  /** This registry node's id (read at each flush). */
  nodeId: () => string;
  /** How often reports are written, batched, ms. Default 5000. */
  flushMs?: number;
  /** How often a gateway holding a watch connection (or in process) is written again without news, ms. Default 30000. */
  refreshMs?: number;
  now?: () => number;
  /** Silent this long: `stale`, ms. Default 90 s. */
  staleMs?: number;
  /** Silent this long: forgotten, ms. Default 15 min. */
  forgetMs?: number;
  /** Told of failed writes (the next flush retries). */
  onError?: (err: unknown) => void;
}

/**
 * The gateways of the whole registry cluster. Each node keeps what gateways tell it (heartbeats,
 * watch connections) in memory and writes it to the shared database in batches, at most once per
 * gateway per flush (a gateway reporting every second costs what one reporting every 5 s does);
 * every node lists from the database, so each shows every gateway alike.
 */
export class GatewayDirectory {
  private readonly local = new Map<string, LocalGateway>();
  private readonly remote = new Map<string, RemoteEntry>();
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly staleMs: number;
  private readonly forgetMs: number;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private localWritten = 0;
  private pruned = 0;
  private closed = false;

  constructor(private readonly store: GatewayReportStore, private readonly options: GatewayDirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? 30_000;
    this.staleMs = options.staleMs ?? GATEWAY_STALE_MS;
    this.forgetMs = options.forgetMs ?? GATEWAY_FORGET_MS;
    this.timer = setInterval(() => { void this.flush().catch((err: unknown) => this.options.onError?.(err)); }, options.flushMs ?? 5000);
    this.timer.unref();
  }

  /** Attach a gateway running in this process; answers the function that detaches it. */
  attachLocal(gateway: LocalGateway): () => void {
    this.local.set(gateway.id, gateway);
    this.localWritten = 0;
    return () => { if (this.local.get(gateway.id) === gateway) this.local.delete(gateway.id); };
  }

  /** A heartbeat of a remote gateway. */
  heartbeat(id: string, status: GatewayStatus, remoteAddress?: string): void {
    const entry = this.entry(id);
    Object.assign(entry, definedOnly(status), { lastSeen: this.now(), remoteAddress: remoteAddress ?? entry.remoteAddress, dirty: 'claim' });
  }

  /** A watch request of a remote gateway (`?gateway=<id>&revision=R`); answers the function to call when it closes. */
  watchOpened(id: string, revision: number | undefined, remoteAddress?: string): () => void {
    const entry = this.entry(id);
    entry.watchConnections++;
    entry.lastSeen = this.now();
    entry.dirty = 'claim';
    if (revision !== undefined && revision > entry.revision) entry.revision = revision;
    if (remoteAddress) entry.remoteAddress = remoteAddress;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      entry.watchConnections = Math.max(0, entry.watchConnections - 1);
      entry.lastSeen = this.now();
      // The gateway may follow another node already: the closing is written only while the row is still this node's.
      if (entry.dirty === undefined) entry.dirty = 'update';
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

  /** Write what changed since the last flush (one batch); overlapping calls share the write in flight, then write again. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing = this.write();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async write(): Promise<void> {
    const t = this.now();
    const node = this.options.nodeId();
    const rows: GatewayReportWrite[] = [];
    const taken: RemoteEntry[] = [];
    for (const [id, e] of this.remote) {
      if (e.watchConnections === 0 && t - e.lastSeen > this.forgetMs) {
        this.remote.delete(id);
        continue;
      }
      const refresh = e.watchConnections > 0 && t - e.written >= this.refreshMs;
      if (e.dirty === undefined && !refresh) continue;
      rows.push(reportRow(e, node, 'remote', e.dirty === 'claim'));
      taken.push(e);
    }
    const localDue = this.local.size > 0 && t - this.localWritten >= this.refreshMs;
    if (localDue) {
      for (const g of this.local.values()) rows.push(reportRow({ id: g.id, ...safeStatus(g), watchConnections: 0 }, node, 'in-process', true));
    }
    const dirty = taken.map((e) => e.dirty);
    for (const e of taken) e.dirty = undefined;
    try {
      await this.store.putGatewayReports(rows);
      for (const e of taken) e.written = t;
      if (localDue) this.localWritten = t;
    } catch (err) {
      // Written again by the next flush (a claim stays a claim).
      taken.forEach((e, i) => { e.dirty = e.dirty === 'claim' || dirty[i] === 'claim' ? 'claim' : e.dirty ?? dirty[i]; });
      throw err;
    }
    if (t - this.pruned >= 60_000) {
      this.pruned = t;
      await this.store.pruneGatewayReports(this.forgetMs);
    }
  }

  /**
   * Every gateway of the cluster, in-process ones of this node first (their live status). `nodes`:
   * the registry nodes known (address, alive), to say where each gateway is connected.
   */
  async list(registryRevision: number, nodes: ReadonlyMap<string, { address: string; alive: boolean }> = new Map()): Promise<GatewayView[]> {
    await this.flush();
    const t = this.now();
    const me = this.options.nodeId();
    const out: GatewayView[] = [];
    for (const g of this.local.values()) {
      const status = safeStatus(g);
      out.push({ ...status, id: g.id, kind: 'in-process', state: 'connected', lastSeen: t, watchConnections: 0, lag: Math.max(0, registryRevision - status.revision), node: me, nodeAddress: nodes.get(me)?.address });
    }
    const { now, reports } = await this.store.listGatewayReports(MAX_LISTED);
    for (const r of reports) {
      if (r.node === me && r.kind === 'in-process' && this.local.has(r.id)) continue;
      const age = now - r.lastSeen;
      if (age > this.forgetMs) continue;
      let status: GatewayStatus = { revision: r.revision };
      try {
        status = { ...(JSON.parse(r.status) as GatewayStatus), revision: r.revision };
      } catch {
        // a row that is not JSON lists with its revision only
      }
      const node = nodes.get(r.node);
      const nodeAlive = r.node === me || (node?.alive ?? false);
      const live = nodeAlive && age <= this.staleMs && (r.kind === 'in-process' || r.watchConnections > 0);
      const state = live ? 'connected' : age <= this.staleMs ? 'reporting' : 'stale';
      out.push({
        ...status, id: r.id, kind: r.kind, state, lastSeen: r.lastSeen, watchConnections: nodeAlive ? r.watchConnections : 0,
        remoteAddress: r.remoteAddress ?? undefined, lag: Math.max(0, registryRevision - r.revision), node: r.node, nodeAddress: node?.address,
      });
    }
    return out;
  }

  /** Stop the timer and write what is left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush().catch((err: unknown) => this.options.onError?.(err));
  }

  private entry(id: string): RemoteEntry {
    let entry = this.remote.get(id);
    if (!entry) {
      if (this.remote.size >= MAX_REMOTE) {
        let oldest: RemoteEntry | undefined;
        for (const e of this.remote.values()) if (e.watchConnections === 0 && (!oldest || e.lastSeen < oldest.lastSeen)) oldest = e;
        if (oldest) this.remote.delete(oldest.id);
      }
      entry = { id, revision: 0, lastSeen: this.now(), watchConnections: 0, written: 0 };
      this.remote.set(id, entry);
    }
    return entry;
  }
}

/** The row of one gateway: the status as JSON, bounded (at most `MAX_STORED_MEMBERS` virtual members). */
function reportRow(e: GatewayStatus & { id: string; watchConnections: number; remoteAddress?: string | undefined }, node: string, kind: 'in-process' | 'remote', claim: boolean): GatewayReportWrite {
  const { id, watchConnections, remoteAddress, revision, virtualMembers, ...rest } = e;
  const status: Record<string, unknown> = {};
  for (const k of ['sessions', 'streams', 'address', 'source', 'version', 'startedAt'] as const) if (rest[k] !== undefined) status[k] = rest[k];
  if (virtualMembers && virtualMembers.length > 0) {
    status['virtualMembers'] = virtualMembers.slice(0, MAX_STORED_MEMBERS);
    if (virtualMembers.length > MAX_STORED_MEMBERS) status['virtualMembersOmitted'] = virtualMembers.length - MAX_STORED_MEMBERS;
  }
  return { id, node, kind, revision, watchConnections, remoteAddress: remoteAddress?.slice(0, 64) ?? null, status: JSON.stringify(status), claim };
}

function safeStatus(g: LocalGateway): GatewayStatus {
  try {
    return g.status();
  } catch {
    return { revision: 0 };
  }
}

const directories = new WeakMap<RegistryServices, GatewayDirectory>();

/** The gateway directory of a registry (one per `RegistryServices`), writing to its store as its cluster node. */
export function gatewayDirectory(services: RegistryServices, onError?: (err: unknown) => void): GatewayDirectory {
  let d = directories.get(services);
  if (!d) {
    // Before `Registry.start` names the node (or without a cluster node, in tests): an id of this process.
    const fallback = `process-${randomBytes(4).toString('hex')}`;
    d = new GatewayDirectory(services.store, { nodeId: () => services.cluster?.id ?? fallback, ...(onError ? { onError } : {}) });
    directories.set(services, d);
  }
  return d;
}

/** Stop the directory of a registry, writing what is left (at registry shutdown, before the store closes). */
export async function closeGatewayDirectory(services: RegistryServices): Promise<void> {
  await directories.get(services)?.close();
  directories.delete(services);
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

  app.get('/gateways', { schema: { ...tag, summary: 'The gateways following any node of the registry cluster: registry node, snapshot revision, sessions, streams (a role on *)' } }, async (req) => {
    requireGlobalRole(req.principal, 'listing gateways');
    const registryRevision = svc.feed.revision;
    const nodes = new Map<string, { address: string; alive: boolean }>();
    if (svc.cluster) for (const n of (await svc.cluster.view()).nodes) nodes.set(n.id, { address: n.address, alive: n.alive });
    return { registryRevision, items: await gatewayDirectory(svc).list(registryRevision, nodes) };
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
