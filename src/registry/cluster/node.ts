import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/logger.js';
import type { ChangeFeed } from '../domain/context.js';
import type { ClusterNodeRecord, LeaderLock, Store } from '../store/store.js';

/** The lock that elects the node running the registry's singleton jobs. */
export const JOBS_LOCK = 'registry-jobs';

/** How a registry node takes part in the cluster. */
export interface ClusterNodeOptions {
  /** Where this node's registry API listens, as other nodes and operators reach it. */
  address: string;
  roles: string[];
  /** A lease not renewed for this long is up: another node fences the holder and takes over. */
  leaderLockTtlMs: number;
  /** How often the node refreshes its row; it counts as alive while seen within 3 intervals. */
  heartbeatMs: number;
  /** Rows of nodes not seen for this long are deleted (by the leader). */
  retentionMs: number;
  /** How often to poll the leader lock; default min(1 s, TTL / 3). */
  lockPollMs?: number;
  /** Default: host name, port and a random suffix. */
  id?: string;
}

/** One node in the answer of GET /api/v1/cluster: its record, and what this node makes of it. */
export interface ClusterNodeView extends Omit<ClusterNodeRecord, 'isLeader'> {
  /** Seen within 3 heartbeat intervals (by the database's clock). */
  alive: boolean;
  /** Holds the leader lock: runs expiry, health checks and pruning. */
  leader: boolean;
  /** The node answering this request. */
  self: boolean;
}

/** The cluster as one node sees it. */
export interface ClusterView {
  /** The node answering. */
  node: string;
  database: Store['dialect'];
  /** The newest revision the answering node knows of. */
  revision: number;
  /** How the answering node hears of other nodes' writes. */
  changes: 'push' | 'poll';
  leaderLockTtlMs: number;
  heartbeatMs: number;
  /** The lease of the leader lock (undefined for a single-node database, where the one node leads). */
  leader: { node: string; acquiredAt: number; expiresAt: number; expired: boolean } | null;
  nodes: ClusterNodeView[];
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mcpgate' && pkg.version) return pkg.version;
    } catch { /* not here */ }
    dir = dirname(dir);
  }
  return 'unknown';
}

const VERSION = packageVersion();

/**
 * This registry node in the cluster of nodes sharing its database: it registers itself
 * (and refreshes its row every `heartbeatMs`), and competes for the leader lock every
 * second. `elected` and `deposed` tell the registry when to start and stop its singleton
 * jobs; `isLeader` is checked again before each run.
 */
export class ClusterNode extends EventEmitter<{ elected: []; deposed: [string] }> {
  readonly id: string;
  private readonly lock: LeaderLock;
  private leader = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed,
    private readonly logger: Logger,
    private readonly options: ClusterNodeOptions,
  ) {
    super();
    this.id = options.id ?? `${hostname()}-${options.address.split(':').pop() ?? ''}-${randomBytes(3).toString('hex')}`;
    this.lock = store.leaderLock(JOBS_LOCK, this.id, {
      ttlMs: options.leaderLockTtlMs,
      onLost: (reason) => this.setLeader(false, reason),
      onFenced: (holder) => this.logger.warn({ holder }, holder.terminated
        ? 'ended the database session of a leader whose lease ran out (hung or cut off)'
        : 'a leader\'s lease ran out but its database session could not be ended; waiting for the database to drop it'),
    });
  }

  /** Whether this node holds the leader lock now (lease not run out by its own clock). */
  get isLeader(): boolean {
    return !this.stopped && this.lock.held;
  }

  /** Register, make the first bid for leadership, then keep both up in the background. */
  async start(): Promise<void> {
    await this.pollLock();
    await this.heartbeat();
    const lockPollMs = this.options.lockPollMs ?? Math.min(1000, Math.floor(this.options.leaderLockTtlMs / 3));
    const poll = setInterval(() => { void this.pollLock(); }, lockPollMs);
    const beat = setInterval(() => { void this.heartbeat(); }, this.options.heartbeatMs);
    poll.unref();
    beat.unref();
    this.timers.push(poll, beat);
  }

  private async pollLock(): Promise<void> {
    if (this.stopped) return;
    const held = await this.lock.poll();
    this.setLeader(held && this.lock.held, 'could not renew the leader lock');
  }

  private setLeader(held: boolean, reason: string): void {
    if (held === this.leader || this.stopped) return;
    this.leader = held;
    if (held) {
      this.logger.info({ node: this.id }, 'this registry node is now the leader (runs expiry, health checks, pruning)');
      this.emit('elected');
    } else {
      this.logger.warn({ node: this.id, reason }, 'this registry node is no longer the leader');
      this.emit('deposed', reason);
    }
    void this.heartbeat();
  }

  /** Refresh this node's row; failures are logged and retried at the next interval. */
  async heartbeat(): Promise<void> {
    try {
      await this.store.upsertNode({
        id: this.id, address: this.options.address, version: VERSION, roles: this.options.roles, isLeader: this.isLeader, revision: this.feed.revision,
      });
    } catch (err) {
      this.logger.warn({ err }, 'cluster heartbeat failed');
    }
  }

  /** How long rows of gone nodes are kept, ms. */
  get retentionMs(): number {
    return this.options.retentionMs;
  }

  /** Delete rows of nodes gone for longer than the retention (a leader's job). */
  async pruneGoneNodes(): Promise<number> {
    return this.store.pruneNodes(this.options.retentionMs);
  }

  /** The cluster as this node sees it. */
  async view(): Promise<ClusterView> {
    const [{ now, nodes }, lease] = await Promise.all([this.store.listNodes(), this.store.getLease(JOBS_LOCK)]);
    const aliveWithin = 3 * this.options.heartbeatMs;
    const current = lease && lease.expiresAt >= now ? lease : undefined;
    return {
      node: this.id, database: this.store.dialect, revision: this.feed.revision, changes: this.feed.source,
      leaderLockTtlMs: this.options.leaderLockTtlMs, heartbeatMs: this.options.heartbeatMs,
      leader: lease ? { node: lease.holder, acquiredAt: lease.acquiredAt, expiresAt: lease.expiresAt, expired: !current } : null,
      nodes: nodes.map((n) => {
        const self = n.id === this.id;
        const alive = self || now - n.lastSeen <= aliveWithin;
        const isLeader = self ? this.isLeader : n.isLeader;
        return {
          id: n.id, address: n.address, version: n.version, roles: n.roles, startedAt: n.startedAt, lastSeen: n.lastSeen, alive,
          leader: alive && isLeader && (lease === undefined || current?.holder === n.id),
          revision: self ? this.feed.revision : n.revision, self,
        };
      }),
    };
  }

  /** Give up leadership and the lock's connection, and record this node as not leading. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const wasLeader = this.leader;
    this.leader = false;
    this.stopped = true;
    await this.lock.release();
    if (wasLeader) this.emit('deposed', 'shutting down');
    await this.heartbeat();
  }
}
