/**
 * The registry's persistence port. One implementation (Kysely) serves SQLite, PostgreSQL
 * and MySQL/MariaDB; `store.contract.test.ts` runs the same suite against each real database.
 *
 * Rules every implementation keeps:
 * - every `write` takes the next global revision under a lock held until it commits (so writes
 *   are totally ordered across registry nodes, and revisions commit in order) and logs what it
 *   changed under that revision; concurrent writes may share one transaction (group commit),
 *   each still atomic on its own: one that fails changes nothing and fails no other;
 * - reads outside `write` see committed data only;
 * - heartbeats of healthy ephemeral instances take a fast path that changes no revision.
 *
 * Several registry nodes may share one database: `ClusterStore` is how they find each other,
 * elect the one node that runs the singleton jobs, and hear of each other's writes.
 */
import { randomBytes } from 'node:crypto';
import type { ActivityErrorSample, ActivityReport } from '../../model/activity.js';
import type { AuthorizationSettings } from '../../model/authorization.js';
import type {
  ApiToken, AuditEntity, AuditEntry, Change, ChangeEntity, Consumer, InstanceKey, Instance, McpServer, McpServerVersion, Namespace, Page,
  PublishEvent, Role, Service, User, VersionRevision,
} from '../../model/model.js';

/** Listing filter for services. */
export interface ServiceQuery {
  group?: string;
  /** Substring of the name. */
  search?: string;
  /** Order by group and name, descending with `desc`. */
  desc?: boolean;
  pageNo: number;
  pageSize: number;
}

/** The key of a service: unique per namespace and group. */
export interface ServiceKey {
  namespace: string;
  group: string;
  name: string;
}

/** Listing filter for instances. */
export interface InstanceQuery {
  namespace?: string;
  serviceId?: string;
  ephemeral?: boolean;
}

/** Listing filter for MCP servers. */
export interface McpServerQuery {
  /** Name filter; substring unless `exact`. */
  search?: string;
  exact?: boolean;
  protocol?: string;
  enabled?: boolean;
  /** Order (default: namespace, then name). */
  sort?: McpServerSort;
  pageNo: number;
  pageSize: number;
}

/** How MCP server listings can be ordered: by name or by last change, `-` for descending. */
export const MCP_SERVER_SORTS = ['name', '-name', 'updatedAt', '-updatedAt'] as const;
/** One of `MCP_SERVER_SORTS`. */
export type McpServerSort = (typeof MCP_SERVER_SORTS)[number];

/** A user row with its password hash (never leaves the registry). */
export interface UserRecord extends User {
  /** Stable id of this user: a user deleted and created again under the same name gets another. */
  id: string;
  /** Bumped by every password change; login tokens carry the generation they were issued under. */
  credentialGeneration: number;
  passwordHash: string;
}

/** An API token row with the hash of its secret. */
export interface ApiTokenRecord extends ApiToken {
  tokenHash: string;
}

/** An audit entry as a write records it: the store adds the transaction's revision and a sequence number. */
export type AuditRecord = Omit<AuditEntry, 'revision' | 'seq'>;

/** A filter of the audit log: every field given narrows it. Entries come newest first. */
export interface AuditQuery {
  /** Entries of these namespaces only (`*` holds users and tokens). */
  namespaces?: string[];
  /** The actor's name (user, token owner, `anonymous`, `system`). */
  actor?: string;
  entity?: AuditEntity;
  /** The entity's id or its name, exactly. */
  entityId?: string;
  /** A substring of the entity's name. */
  entityName?: string;
  /** The action, exactly (`version.publish`). */
  action?: string;
  /** From this time on (epoch ms, inclusive). */
  since?: number;
  /** Before this time (epoch ms, exclusive). */
  until?: number;
  /** Only entries older than this position (a page's last entry). */
  before?: { revision: number; seq: number };
  limit: number;
}

/** Reads, available outside and inside a write transaction. */
export interface StoreReader {
  /** The revision of the last committed write. */
  revision(): Promise<number>;
  getNamespace(id: string): Promise<Namespace | undefined>;
  listNamespaces(): Promise<Namespace[]>;
  /** A namespace's MCP authorization and rate-limit settings (secrets included), if set. */
  getNamespaceAuthorization(namespace: string): Promise<AuthorizationSettings | undefined>;
  /** Every namespace's settings that are set, by namespace. */
  listNamespaceAuthorization(): Promise<Record<string, AuthorizationSettings>>;
  /** How many services and MCP servers a namespace holds. */
  countNamespaceContents(namespace: string): Promise<{ services: number; mcpServers: number }>;
  getService(namespace: string, group: string, name: string): Promise<Service | undefined>;
  listServices(namespace: string, query: ServiceQuery): Promise<Page<Service>>;
  getInstance(namespace: string, group: string, service: string, ip: string, port: number, cluster: string): Promise<Instance | undefined>;
  getInstanceById(id: string): Promise<Instance | undefined>;
  /** The services with these keys, those that exist, in no particular order (one query for a batch). */
  getServices(keys: readonly ServiceKey[]): Promise<Service[]>;
  /** The instances at these addresses, those that exist, in no particular order (one query for a batch). */
  getInstances(keys: readonly InstanceKey[]): Promise<Instance[]>;
  /**
   * How many instances of one kind (ephemeral or persistent) each of these services holds
   * (services with none are left out). One kind per call: a service holds a single kind, so
   * asking for the other kind is an index seek that finds nothing, not a count of all its instances.
   */
  countInstanceKinds(serviceIds: readonly string[], ephemeral: boolean): Promise<{ serviceId: string; ephemeral: boolean; count: number }[]>;
  listInstances(query: InstanceQuery): Promise<Instance[]>;
  /**
   * Ephemeral instances past a deadline at `now`: healthy ones past their beat timeout, any past their delete timeout.
   * An instance held by a node's lease (`InstanceWrite.holder`) counts as having beaten when that lease was last renewed,
   * if later than its own last beat; its `lastBeat` here is that later time.
   */
  listExpiredInstances(now: number): Promise<Instance[]>;
  getMcpServer(namespace: string, key: { name: string } | { id: string }): Promise<McpServer | undefined>;
  listMcpServers(namespace: string | undefined, query: McpServerQuery): Promise<Page<McpServer>>;
  getVersion(serverId: string, version: string): Promise<McpServerVersion | undefined>;
  /** Every version of a server, oldest first. */
  listVersions(serverId: string): Promise<McpServerVersion[]>;
  /** A server's publish history, oldest first. */
  listPublishHistory(serverId: string): Promise<PublishEvent[]>;
  /** The kept contents of a version, by revision (none until it is first overwritten). */
  listRevisions(serverId: string, version: string): Promise<VersionRevision[]>;
  getUser(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<User[]>;
  getApiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  listApiTokens(username?: string): Promise<ApiToken[]>;
  getSetting(key: string): Promise<string | undefined>;
  /** Consumers of one namespace, or of all when `namespace` is undefined. */
  listConsumers(namespace?: string): Promise<Consumer[]>;
  /** Changes with a revision greater than `revision`, oldest first. */
  changesAfter(revision: number, limit: number): Promise<Change[]>;
  /** The lowest revision still in the change log (0 when it was never pruned). */
  changeLogFloor(): Promise<number>;
  /** Audit entries matching a filter, newest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Writes, only inside `Store.write`. */
export interface StoreWriter extends StoreReader {
  /** The revision this transaction commits as. */
  readonly txRevision: number;
  insertNamespace(ns: Namespace): Promise<void>;
  updateNamespace(ns: Namespace): Promise<void>;
  deleteNamespace(id: string): Promise<void>;
  /** Set (or, with undefined, remove) a namespace's authorization settings. */
  setNamespaceAuthorization(namespace: string, settings: AuthorizationSettings | undefined, at: number): Promise<void>;
  insertService(s: Service): Promise<void>;
  updateService(s: Service): Promise<void>;
  deleteService(id: string): Promise<void>;
  insertInstance(i: InstanceWrite): Promise<void>;
  /** Insert several instances, in as few statements as the database allows. */
  insertInstances(list: readonly InstanceWrite[]): Promise<void>;
  /** Update an instance; its holder changes only when `i.holder` is given (null: no holder). */
  updateInstance(i: InstanceWrite): Promise<void>;
  deleteInstance(id: string): Promise<void>;
  /** Delete several instances by id, in as few statements as the database allows. */
  deleteInstances(ids: readonly string[]): Promise<void>;
  insertMcpServer(s: McpServer): Promise<void>;
  updateMcpServer(s: McpServer): Promise<void>;
  deleteMcpServer(id: string): Promise<void>;
  /**
   * Insert a version, or replace it if it exists (drafts only: the domain checks), under a new
   * entity-tag, which it answers (`v.etag` is ignored). With `ifEtag`, only a stored version
   * holding that entity-tag is replaced, compared and set in one statement; answers undefined
   * (and changes nothing) when there is none.
   */
  putVersion(v: Omit<McpServerVersion, 'etag' | 'revision'> & { revision?: number }, options?: { ifEtag?: string }): Promise<string | undefined>;
  /** Delete a version with its kept revisions. */
  deleteVersion(serverId: string, version: string): Promise<void>;
  /** Keep one content of a version (revisions are never changed). */
  insertRevision(r: VersionRevision): Promise<void>;
  /** Append to a server's publish history (`seq` one above its last; the history goes with the server). */
  insertPublishEvent(e: PublishEvent): Promise<void>;
  insertUser(u: UserRecord): Promise<void>;
  /** Set a user's password hash and bump its credential generation (revoking its login tokens). */
  updateUserPassword(username: string, passwordHash: string): Promise<void>;
  setUserRoles(username: string, roles: { namespace: string; role: Role }[]): Promise<void>;
  deleteUser(username: string): Promise<void>;
  insertApiToken(t: ApiTokenRecord): Promise<void>;
  deleteApiToken(id: string): Promise<void>;
  setSetting(key: string, value: string): Promise<void>;
  insertConsumer(c: Consumer): Promise<void>;
  updateConsumer(c: Consumer): Promise<void>;
  deleteConsumer(id: string): Promise<void>;
  /** Log a change under this transaction's revision. */
  recordChange(namespace: string, entity: ChangeEntity, entityId: string, op: 'upsert' | 'delete'): Promise<void>;
  /** Record an audit entry under this transaction's revision: it commits, or rolls back, with the change. */
  recordAudit(entry: AuditRecord): Promise<void>;
}

/**
 * An instance as a write stores it. `holder` names the lease (`renewHolderLease`) that keeps an
 * ephemeral instance alive in place of its own beats: a registry node's, for the instances its
 * Nacos gRPC connections hold. Not part of the model: it never leaves the store.
 */
export type InstanceWrite = Instance & { holder?: string | null };

/** The address of an instance a heartbeat names. */
export type BeatKey = InstanceKey;

/** A registry node, as it registers itself in the database. */
export interface ClusterNodeRecord {
  id: string;
  /** Where the node's registry API listens (host:port). */
  address: string;
  version: string;
  roles: string[];
  /** First registration, by the database's clock (epoch ms). */
  startedAt: number;
  /** Last heartbeat, by the database's clock (epoch ms). */
  lastSeen: number;
  /** Whether the node held the leader lock at its last heartbeat. */
  isLeader: boolean;
  /** The newest revision the node had seen at its last heartbeat. */
  revision: number;
}

/**
 * A gateway's last report, as the registry node that took it wrote it (the console's Gateways
 * page lists these from every node alike).
 */
export interface GatewayReportRecord {
  /** The gateway's id (1-200 characters). */
  id: string;
  /** The registry node that took the report: the one the gateway follows. */
  node: string;
  /** `in-process` (the gateway of `mcpgate serve`) or `remote`. */
  kind: 'in-process' | 'remote';
  /** The registry revision the gateway serves. */
  revision: number;
  /** Watch connections the gateway held open on `node` when it wrote the row. */
  watchConnections: number;
  /** The peer address the node saw. */
  remoteAddress: string | null;
  /** The rest of the report, a JSON object (sessions, streams, address, version…), bounded by the caller. */
  status: string;
  /** When `node` last wrote the row, by the database's clock (epoch ms). */
  lastSeen: number;
}

/** One row to write: `claim` takes the row over from any node; otherwise it is updated only while it names this `node`. */
export type GatewayReportWrite = Omit<GatewayReportRecord, 'lastSeen'> & { claim: boolean };

/** The lease of a leader lock, as its holder last wrote it (times by the database's clock). */
export interface Lease {
  name: string;
  /** The node holding it. */
  holder: string;
  /** The database session that holds the lock. */
  sessionId: number;
  acquiredAt: number;
  expiresAt: number;
}

/**
 * One node's handle on a cluster-wide lock guarding singleton jobs. Where the database is
 * shared (PostgreSQL, MySQL) it is a session-level lock on a dedicated connection — the
 * database releases it the moment that connection dies — plus a lease row the holder renews
 * on every poll; a holder that stops renewing for the TTL (hung, cut off) is fenced off by
 * the next node, which ends its session. Where the database has one node (SQLite), the lock
 * is always held.
 */
export interface LeaderLock {
  /**
   * Take the lock if it is free (fencing a holder whose lease ran out), or renew it when held;
   * resolves whether this node holds it now. Never rejects: a failed or slow connection means
   * "not held" and is replaced on the next call.
   */
  poll(): Promise<boolean>;
  /** Whether this node holds the lock and its lease has not run out by this node's clock. */
  readonly held: boolean;
  /** Give the lock up; later polls answer false. */
  release(): Promise<void>;
  /** Drop the lock's connection as a crash would, without a goodbye (tests). Later polls reconnect. */
  destroy(): void;
}

/** What a leader lock tells its owner. */
export interface LeaderLockOptions {
  /** How long a lease lasts without renewal, ms. */
  ttlMs: number;
  /** The lock was lost other than by `release`: its connection broke, or the lease was taken over. */
  onLost?: (reason: string) => void;
  /** This node ended the session of a holder whose lease had run out. */
  onFenced?: (holder: { node: string | undefined; sessionId: number; terminated: boolean }) => void;
}

/** Revisions pushed by the database. */
export interface RevisionSubscription {
  /** Whether the listening connection is up now (it reconnects by itself). */
  readonly listening: boolean;
  /** Resolves once the first listening connection is up. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** How registry nodes sharing the database coordinate. */
export interface ClusterStore {
  /** The database's clock, epoch ms: the one clock leases and liveness are judged by. */
  databaseTime(): Promise<number>;
  /** Insert or refresh a node's row; `lastSeen` (and `startedAt` of a new row) come from the database's clock. */
  upsertNode(node: Omit<ClusterNodeRecord, 'startedAt' | 'lastSeen'>): Promise<void>;
  /** Every registered node, oldest first, with the database's time now (to judge liveness). */
  listNodes(): Promise<{ now: number; nodes: ClusterNodeRecord[] }>;
  /** Remove the rows of nodes not seen for `goneForMs`; answers how many went. */
  pruneNodes(goneForMs: number): Promise<number>;
  /** The lease of a lock (undefined: never taken, or a single-node database). */
  getLease(name: string): Promise<Lease | undefined>;
  /** A handle on the cluster-wide lock `name` for node `holder`. Nothing is taken until `poll`. */
  leaderLock(name: string, holder: string, options: LeaderLockOptions): LeaderLock;
  /**
   * Call `onRevision` as soon as the database announces a committed revision (written by any
   * node); undefined when the database cannot push, and nodes rely on polling `revision()`.
   */
  subscribeRevisions(onRevision: (revision: number) => void): RevisionSubscription | undefined;
  /**
   * Write gateway reports in one transaction, without a revision bump; `lastSeen` is the
   * database's clock. A row written with `claim: false` (a node refreshing or closing a watch
   * connection it holds) changes nothing once another node claimed the gateway.
   */
  putGatewayReports(rows: readonly GatewayReportWrite[]): Promise<void>;
  /** The most recently seen `limit` gateway reports, newest first, with the database's time now. */
  listGatewayReports(limit: number): Promise<{ now: number; reports: GatewayReportRecord[] }>;
  /** Remove reports not written for `goneForMs`; answers how many went. */
  pruneGatewayReports(goneForMs: number): Promise<number>;
}

/** The registry's persistence. */
export interface Store extends StoreReader, ClusterStore {
  /** Which database this is (for logs and metrics only; the core never branches on it). */
  readonly dialect: 'sqlite' | 'postgres' | 'mysql';
  /** Apply pending migrations. Safe to call from several nodes at once. */
  migrate(): Promise<void>;
  /**
   * Run `fn` atomically under the next revision, in the caller's async context. Writes made
   * while others commit are committed together (one transaction, a savepoint each), so `fn`
   * must not wait on another `write`. `relaxed`: the write only concerns ephemeral state, so
   * where the database allows it the commit does not wait for the disk.
   */
  write<T>(fn: (tx: StoreWriter) => Promise<T>, options?: { relaxed?: boolean }): Promise<T>;
  /**
   * Record heartbeats of healthy ephemeral instances, in one transaction and without a
   * revision bump. Answers, per beat, whether it matched such an instance; an unmatched beat
   * (unknown, persistent or unhealthy instance) changes nothing.
   */
  beatMany(beats: readonly BeatKey[], at: number): Promise<boolean[]>;
  /**
   * Renew the lease `holder` (a registry node's: every ephemeral instance written with that holder
   * counts as beating at `at`), without a revision bump. Answers false when there was no such lease
   * (first renewal, or pruned): it exists from now on.
   */
  renewHolderLease(holder: string, at: number): Promise<boolean>;
  /** Remove leases: `holder`'s (a node closing), or, with `before`, every lease not renewed since then (epoch ms). Answers how many went. */
  dropHolderLeases(which: { holder: string } | { before: number }): Promise<number>;
  /** Record a health-check success time without a revision bump. */
  touchInstance(id: string, at: number): Promise<void>;
  /** Record why the last health check of an instance failed (null: it passed), without a revision bump. */
  setHealthDetail(id: string, detail: string | null): Promise<void>;
  /**
   * Record when gateways last let consumer keys in, without a revision bump; a time older than
   * the one stored is ignored, unknown ids too.
   */
  touchConsumers(uses: readonly { id: string; at: number }[]): Promise<void>;
  /** Drop change-log rows older than `beforeRevision`. */
  pruneChanges(beforeRevision: number): Promise<void>;
  /** Drop audit entries recorded before `before` (epoch ms); answers how many went. */
  pruneAudit(before: number): Promise<number>;
  /**
   * Add gateways' activity counts to the stored ones (per namespace, server, tool and minute; error
   * kinds and agents too), without a revision bump, and keep their error samples (the newest
   * `MAX_SAMPLES_PER_TOOL` of each tool). Counts of one key from several reports, nodes or
   * replicas add up, whatever the order they arrive in.
   */
  addActivity(report: ActivityReport): Promise<void>;
  /** A namespace's activity since `from`, added up per server, tool and `stepMs` slot (a multiple of a minute). */
  readActivity(query: ActivityQuery): Promise<ActivityRead>;
  /** Error samples of a namespace since `from` (narrowed to a server and tool when given), newest first. */
  listActivityErrors(query: Omit<ActivityQuery, 'stepMs'> & { limit: number }): Promise<ActivityErrorSample[]>;
  /** Drop activity before `before` (epoch ms); answers how many rows went. */
  pruneActivity(before: number): Promise<number>;
  close(): Promise<void>;
}

/** What part of the activity to read. */
export interface ActivityQuery {
  namespace: string;
  /** Epoch ms; minutes starting at or after it count. */
  from: number;
  /** Slot length of the series, ms (a multiple of a minute). */
  stepMs: number;
  server?: string;
  tool?: string;
}

/** Activity as stored, added up: per slot, and per tool over the whole window for kinds and agents. */
export interface ActivityRead {
  slots: { server: string; tool: string; at: number; calls: number; errors: number; latency: number[]; latencySumMs: number }[];
  kinds: { server: string; tool: string; kind: string; count: number }[];
  agents: { server: string; tool: string; name: string; version: string; calls: number }[];
}

/** A unique constraint refused a write (two writers raced on a name). */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';
}

/** A new strong entity-tag for a version (quotes included): 128 random bits, so it never repeats. */
export function newEtag(): string {
  return `"${randomBytes(16).toString('base64url')}"`;
}
