import { randomUUID } from 'node:crypto';
import { CompiledQuery, Kysely, Migrator, sql } from 'kysely';
import type { Compilable, Generated, InsertQueryBuilder, QueryResult, Selectable, Transaction } from 'kysely';
import { Batcher } from '../../lib/batcher.js';
import type { BatchItem, BatchOutcome } from '../../lib/batcher.js';
import { AppError } from '../../lib/errors.js';
import type {
  AllowEntry, ApiToken, AuditActor, AuditEntity, AuditEntry, Change, ChangeEntity, Consumer, HealthCheck, Instance, InstanceKey, McpServer, McpServerSpec,
  McpServerVersion, Namespace, Page, PublishAction, PublishEvent, Role, Service, User, VersionRevision, VersionStatus,
} from '../../model/model.js';
import { beatTimings, instanceKeyId } from '../../model/model.js';
import type { ActivityBucket, ActivityErrorSample, ActivityReport } from '../../model/activity.js';
import { bucketKey, LATENCY_BUCKETS, MAX_SAMPLES_PER_TOOL, mergeBucket, MINUTE_MS } from '../../model/activity.js';
import type { AuthorizationSettings } from '../../model/authorization.js';
import type { StoreDialect, TypedColumn } from './dialects/dialect.js';
import { SessionLeaderLock, SingleNodeLock } from './leader-lock.js';
import type { LeaseStatements } from './leader-lock.js';
import { migrations } from './migrations.js';
import { RevisionListener } from './revision-listener.js';
import type {
  ActivityQuery, ActivityRead, ApiTokenRecord, AuditQuery, AuditRecord, BeatKey, ClusterNodeRecord, GatewayReportRecord, GatewayReportWrite, InstanceQuery, LeaderLock, LeaderLockOptions, Lease, McpServerQuery,
  InstanceWrite, RevisionSubscription, ServiceKey, ServiceQuery, Store, StoreReader, StoreWriter, UserRecord,
} from './store.js';
import { newEtag, UniqueViolationError } from './store.js';

interface Tables {
  mg_meta: { id: number; revision: number };
  mg_settings: { key: string; value: string };
  mg_namespaces: { id: string; name: string; description: string; created_at: number; updated_at: number };
  mg_namespace_authorization: { namespace: string; settings: string; updated_at: number };
  mg_services: {
    id: string; namespace: string; group_name: string; name: string; metadata: string; protect_threshold: number;
    selector: string; created_at: number; updated_at: number;
  };
  mg_instances: {
    id: string; namespace: string; service_id: string; group_name: string; service_name: string; ip: string; port: number;
    cluster: string; weight: number; enabled: number; healthy: number; ephemeral: number; metadata: string;
    health_check: string | null; last_beat: number; created_at: number; updated_at: number;
    beat_timeout: number; delete_timeout: number; health_detail: Generated<string | null>; holder: Generated<string | null>;
  };
  mg_instance_leases: { holder: string; renewed_at: number };
  mg_mcp_servers: {
    id: string; namespace: string; name: string; description: string; protocol: string; front_protocol: string;
    endpoint: string; enabled: number; passthrough: string; published_version: string | null;
    latest_version: string | null; created_at: number; updated_at: number;
  };
  mg_mcp_server_versions: {
    server_id: string; version: string; status: string; spec: string; created_at: number; published_at: number | null; etag: string;
    revision: Generated<number>;
  };
  mg_mcp_version_revisions: {
    server_id: string; version: string; revision: number; spec: string; created_at: number; actor: string;
  };
  mg_users: { username: string; password_hash: string; created_at: number; user_id: string | null; credential_generation: Generated<number> };
  mg_user_roles: { username: string; namespace: string; role: string };
  mg_api_tokens: {
    id: string; username: string; name: string; token_hash: string; created_at: number; expires_at: number | null;
    last_used_at: number | null;
  };
  mg_consumers: {
    id: string; namespace: string; name: string; key_hash: string; key_prefix: string; allow: string | null; created_at: number;
    last_used_at: Generated<number | null>;
  };
  mg_publish_history: {
    server_id: string; seq: number; action: string; version: string; previous_version: string | null; actor: string; note: string; at: number;
    revision: number | null; previous_revision: number | null;
  };
  mg_change_log: {
    revision: number; seq: Generated<number>; namespace: string; entity: string; entity_id: string; op: string; at: number;
  };
  mg_nodes: {
    id: string; address: string; version: string; roles: string; started_at: number; last_seen: number; is_leader: number; revision: number;
  };
  mg_gateway_reports: {
    id: string; node: string; kind: string; revision: number; watch_connections: number; remote_address: string | null; status: string; last_seen: number;
  };
  mg_leases: { name: string; holder: string; session_id: number; acquired_at: number; expires_at: number };
  mg_audit: {
    revision: number; seq: number; at: number; namespace: string; actor_kind: string; actor: string; token_id: string | null;
    address: string | null; route: string | null; action: string; entity: string; entity_id: string; entity_name: string;
    before_json: string | null; after_json: string | null; secrets_changed: string | null;
  };
  mg_activity: ActivityRow;
  mg_activity_kinds: { namespace: string; server: string; tool: string; minute: number; kind: string; count: number };
  mg_activity_agents: { namespace: string; server: string; tool: string; minute: number; agent: string; agent_version: string; calls: number };
  mg_activity_errors: {
    id: string; namespace: string; server: string; tool: string; at: number; kind: string; message: string; agent: string; agent_version: string;
    gateway: string | null; request: string; answer: string;
  };
}

/** A tool's minute of activity: counts and the latency histogram's buckets `l0`…`l11` (LATENCY_BUCKETS). */
type ActivityRow = {
  namespace: string; server: string; tool: string; minute: number; calls: number; errors: number; latency_sum: number;
} & Record<`l${number}`, number>;

/** Rows per multi-row insert of activity (parameters per statement stay under every database's bound). */
const ACTIVITY_ROWS_PER_INSERT = 40;

type Db = Kysely<Tables>;

/** Keys looked up per query by the batch reads (a statement's parameters are bounded). */
const KEYS_PER_QUERY = 100;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const bool = (v: unknown): boolean => num(v) !== 0;
const flag = (b: boolean): number => (b ? 1 : 0);

function toNamespace(r: Selectable<Tables['mg_namespaces']>): Namespace {
  return { id: r.id, name: r.name, description: r.description, createdAt: num(r.created_at), updatedAt: num(r.updated_at) };
}

function toService(r: Selectable<Tables['mg_services']>): Service {
  return {
    id: r.id, namespace: r.namespace, group: r.group_name, name: r.name, metadata: JSON.parse(r.metadata) as Record<string, string>,
    protectThreshold: num(r.protect_threshold), selector: r.selector, createdAt: num(r.created_at), updatedAt: num(r.updated_at),
  };
}

function toInstance(r: Selectable<Tables['mg_instances']>): Instance {
  return {
    id: r.id, namespace: r.namespace, serviceId: r.service_id, group: r.group_name, serviceName: r.service_name, ip: r.ip,
    port: num(r.port), cluster: r.cluster, weight: num(r.weight), enabled: bool(r.enabled), healthy: bool(r.healthy),
    ephemeral: bool(r.ephemeral), metadata: JSON.parse(r.metadata) as Record<string, string>,
    healthCheck: r.health_check ? (JSON.parse(r.health_check) as HealthCheck) : null, lastBeat: num(r.last_beat),
    createdAt: num(r.created_at), updatedAt: num(r.updated_at), ...(r.health_detail !== null ? { healthDetail: r.health_detail } : {}),
  };
}

/**
 * The row of an instance (its health detail is written only by `setHealthDetail`). A plain literal: a spread in
 * it made V8 build each row the slow way, ~30 µs a registration on the gRPC benchmark.
 */
type InstanceRow = Omit<Tables['mg_instances'], 'health_detail' | 'holder'> & { holder: string | null };
function instanceRow(i: InstanceWrite): InstanceRow {
  const timings = beatTimings(i.metadata);
  return {
    holder: i.holder ?? null,
    beat_timeout: timings.timeout, delete_timeout: timings.deleteTimeout,
    id: i.id, namespace: i.namespace, service_id: i.serviceId, group_name: i.group, service_name: i.serviceName, ip: i.ip,
    port: i.port, cluster: i.cluster, weight: i.weight, enabled: flag(i.enabled), healthy: flag(i.healthy),
    ephemeral: flag(i.ephemeral), metadata: JSON.stringify(i.metadata),
    health_check: i.healthCheck ? JSON.stringify(i.healthCheck) : null, last_beat: i.lastBeat, created_at: i.createdAt,
    updated_at: i.updatedAt,
  };
}

function toMcpServer(r: Selectable<Tables['mg_mcp_servers']>): McpServer {
  return {
    id: r.id, namespace: r.namespace, name: r.name, description: r.description, protocol: r.protocol as McpServer['protocol'],
    frontProtocol: r.front_protocol as McpServer['frontProtocol'], endpoint: JSON.parse(r.endpoint) as McpServer['endpoint'],
    enabled: bool(r.enabled), passthrough: JSON.parse(r.passthrough) as McpServer['passthrough'],
    publishedVersion: r.published_version, latestVersion: r.latest_version, createdAt: num(r.created_at), updatedAt: num(r.updated_at),
  };
}

function mcpServerRow(s: McpServer): Tables['mg_mcp_servers'] {
  return {
    id: s.id, namespace: s.namespace, name: s.name, description: s.description, protocol: s.protocol,
    front_protocol: s.frontProtocol, endpoint: JSON.stringify(s.endpoint), enabled: flag(s.enabled),
    passthrough: JSON.stringify(s.passthrough), published_version: s.publishedVersion, latest_version: s.latestVersion,
    created_at: s.createdAt, updated_at: s.updatedAt,
  };
}

function toVersion(r: Selectable<Tables['mg_mcp_server_versions']>): McpServerVersion {
  return {
    serverId: r.server_id, version: r.version, status: r.status as VersionStatus, spec: JSON.parse(r.spec) as McpServerSpec,
    createdAt: num(r.created_at), publishedAt: r.published_at === null ? null : num(r.published_at), etag: r.etag,
    revision: num(r.revision),
  };
}

function toRevision(r: Selectable<Tables['mg_mcp_version_revisions']>): VersionRevision {
  return {
    serverId: r.server_id, version: r.version, revision: num(r.revision), spec: JSON.parse(r.spec) as McpServerSpec,
    createdAt: num(r.created_at), actor: r.actor,
  };
}

function toApiToken(r: Selectable<Tables['mg_api_tokens']>): ApiTokenRecord {
  return {
    id: r.id, username: r.username, name: r.name, tokenHash: r.token_hash, createdAt: num(r.created_at),
    expiresAt: r.expires_at === null ? null : num(r.expires_at), lastUsedAt: r.last_used_at === null ? null : num(r.last_used_at),
  };
}

const publicToken = ({ tokenHash: _h, ...t }: ApiTokenRecord): ApiToken => t;

function toAuditEntry(r: Selectable<Tables['mg_audit']>): AuditEntry {
  const actor: AuditActor = { kind: r.actor_kind as AuditActor['kind'], name: r.actor, ...(r.token_id !== null ? { tokenId: r.token_id } : {}) };
  return {
    revision: num(r.revision), seq: num(r.seq), at: num(r.at), namespace: r.namespace, actor, address: r.address, route: r.route,
    action: r.action, entity: r.entity as AuditEntity, entityId: r.entity_id, entityName: r.entity_name,
    before: r.before_json === null ? null : (JSON.parse(r.before_json) as unknown),
    after: r.after_json === null ? null : (JSON.parse(r.after_json) as unknown),
    secretsChanged: r.secrets_changed === null ? [] : (JSON.parse(r.secrets_changed) as string[]),
  };
}

/** A string cut to a column's length (bounded columns refuse longer values on PostgreSQL and MySQL). */
function fit(value: string, length: number): string {
  return value.length <= length ? value : value.slice(0, length);
}

/** A substring LIKE pattern with `%`, `_` and `!` escaped by `!` (a backslash means different things per dialect). */
function likePattern(s: string): string {
  return `%${s.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * Statements whose text depends only on how many rows or keys they carry (multi-row inserts,
 * lookups by many keys), compiled by Kysely once per shape and then run with new parameters:
 * Kysely takes about 15 µs per row to build and compile such a statement, which at thousands
 * of registrations a second was a large share of the registry's CPU. A shape is cached only
 * when the parameters Kysely produced are exactly the ones given (so none was inlined).
 */
class ShapeCache {
  private readonly texts = new Map<string, string>();

  constructor(private readonly prepare: StoreDialect['prepare']) {}

  /**
   * The text of a statement built without Kysely whose text never changes (one per table: the
   * dialect's array statements), made once and prepared by the driver on each connection.
   */
  fixed(shape: string, make: () => string): string {
    let text = this.texts.get(shape);
    if (text === undefined) {
      this.texts.set(shape, text = make());
      this.prepare?.(text);
    }
    return text;
  }

  async execute<R>(db: Db | Transaction<Tables>, shape: string, parameters: readonly unknown[], build: () => Compilable<R>, prepared = false): Promise<R[]> {
    return (await this.result(db, shape, parameters, build, prepared)).rows;
  }

  /**
   * As `execute`, answering the whole result (`numAffectedRows` of an update). `prepared`: a shape
   * run on every batch or beat whose text never changes, which the driver prepares per connection.
   */
  async result<R>(db: Db | Transaction<Tables>, shape: string, parameters: readonly unknown[], build: () => Compilable<R>, prepared = false): Promise<QueryResult<R>> {
    const text = this.texts.get(shape);
    if (text !== undefined) return db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
    const compiled = build().compile();
    if (this.texts.size < 2000 && compiled.parameters.length === parameters.length && compiled.parameters.every((v, i) => v === parameters[i])) {
      this.texts.set(shape, compiled.sql);
      if (prepared) this.prepare?.(compiled.sql);
    }
    return db.executeQuery(compiled);
  }
}

/** Every value of `rows`, row after row, in the order of `columns`. */
function flatten<T>(rows: readonly T[], columns: readonly (keyof T)[]): unknown[] {
  const out: unknown[] = [];
  for (const r of rows) for (const c of columns) out.push(r[c]);
  return out;
}

/** The unique keys of services and instances, as lookups by many keys bind them. */
const SERVICE_KEY: readonly TypedColumn[] = [{ name: 'namespace', type: 'text' }, { name: 'group_name', type: 'text' }, { name: 'name', type: 'text' }];
const INSTANCE_KEY: readonly TypedColumn[] = [
  { name: 'namespace', type: 'text' }, { name: 'group_name', type: 'text' }, { name: 'service_name', type: 'text' }, { name: 'ip', type: 'text' },
  { name: 'port', type: 'integer' }, { name: 'cluster', type: 'text' },
];
const SERVICE_SELECT = ['id', 'namespace', 'group_name', 'name', 'metadata', 'protect_threshold', 'selector', 'created_at', 'updated_at'] as const;

/** The columns of the batch inserts, with their types (for inserts that bind one array per column). */
const textColumn = (name: string): TypedColumn => ({ name, type: 'text' });
const INSTANCE_TYPED: readonly TypedColumn[] = [
  { name: 'beat_timeout', type: 'bigint' }, { name: 'delete_timeout', type: 'bigint' }, textColumn('id'), textColumn('namespace'), textColumn('service_id'),
  textColumn('group_name'), textColumn('service_name'), textColumn('ip'), { name: 'port', type: 'integer' }, textColumn('cluster'), { name: 'weight', type: 'double' },
  { name: 'enabled', type: 'smallint' }, { name: 'healthy', type: 'smallint' }, { name: 'ephemeral', type: 'smallint' }, textColumn('metadata'),
  textColumn('health_check'), { name: 'last_beat', type: 'bigint' }, { name: 'created_at', type: 'bigint' }, { name: 'updated_at', type: 'bigint' },
  textColumn('holder'),
];
const CHANGE_TYPED: readonly TypedColumn[] = [
  { name: 'revision', type: 'bigint' }, { name: 'seq', type: 'integer' }, textColumn('namespace'), textColumn('entity'), textColumn('entity_id'), textColumn('op'),
  { name: 'at', type: 'bigint' },
];
const AUDIT_TYPED: readonly TypedColumn[] = [
  { name: 'revision', type: 'bigint' }, { name: 'seq', type: 'integer' }, { name: 'at', type: 'bigint' }, textColumn('namespace'), textColumn('actor_kind'),
  textColumn('actor'), textColumn('token_id'), textColumn('address'), textColumn('route'), textColumn('action'), textColumn('entity'), textColumn('entity_id'), textColumn('entity_name'),
  textColumn('before_json'), textColumn('after_json'), textColumn('secrets_changed'),
];

/** The keys of instances as one array per column of `INSTANCE_KEY`, in its order. */
function instanceKeyArrays(keys: readonly InstanceKey[]): unknown[][] {
  return [keys.map((k) => k.namespace), keys.map((k) => k.group), keys.map((k) => k.service), keys.map((k) => k.ip), keys.map((k) => k.port), keys.map((k) => k.cluster)];
}

/** Every value of `rows` by column: one array per column, in the order of `columns`. */
function columnArrays<T>(rows: readonly T[], columns: readonly (keyof T)[]): unknown[][] {
  return columns.map((c) => rows.map((r) => r[c]));
}

const CHANGE_COLUMNS = CHANGE_TYPED.map((c) => c.name) as readonly (keyof ChangeRow)[];
const AUDIT_COLUMNS = AUDIT_TYPED.map((c) => c.name) as readonly (keyof AuditRow)[];
const INSTANCE_COLUMNS = INSTANCE_TYPED.map((c) => c.name) as readonly (keyof InstanceRow)[];
const INSTANCE_SELECT = [...INSTANCE_COLUMNS, 'health_detail'];

/** Reads shared by the root connection and transactions. */
class KyselyReader implements StoreReader {
  constructor(protected readonly db: Db | Transaction<Tables>, protected readonly shapes: ShapeCache, protected readonly adapter: StoreDialect) {}

  async revision(): Promise<number> {
    const r = await this.db.selectFrom('mg_meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
    return num(r.revision);
  }

  async getNamespace(id: string) {
    const r = await this.db.selectFrom('mg_namespaces').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toNamespace(r);
  }

  async listNamespaces() {
    return (await this.db.selectFrom('mg_namespaces').selectAll().orderBy('created_at').orderBy('id').execute()).map(toNamespace);
  }

  async getNamespaceAuthorization(namespace: string) {
    const r = await this.db.selectFrom('mg_namespace_authorization').select('settings').where('namespace', '=', namespace).executeTakeFirst();
    return r ? JSON.parse(r.settings) as AuthorizationSettings : undefined;
  }

  async listNamespaceAuthorization() {
    const rows = await this.db.selectFrom('mg_namespace_authorization').select(['namespace', 'settings']).orderBy('namespace').execute();
    return Object.fromEntries(rows.map((r) => [r.namespace, JSON.parse(r.settings) as AuthorizationSettings]));
  }

  async countNamespaceContents(namespace: string) {
    const s = await this.db.selectFrom('mg_services').select((eb) => eb.fn.countAll().as('n')).where('namespace', '=', namespace).executeTakeFirstOrThrow();
    const m = await this.db.selectFrom('mg_mcp_servers').select((eb) => eb.fn.countAll().as('n')).where('namespace', '=', namespace).executeTakeFirstOrThrow();
    return { services: num(s.n), mcpServers: num(m.n) };
  }

  async getService(namespace: string, group: string, name: string) {
    const r = await this.db.selectFrom('mg_services').selectAll()
      .where('namespace', '=', namespace).where('group_name', '=', group).where('name', '=', name).executeTakeFirst();
    return r && toService(r);
  }

  async listServices(namespace: string, q: ServiceQuery): Promise<Page<Service>> {
    let base = this.db.selectFrom('mg_services').where('namespace', '=', namespace);
    if (q.group !== undefined) base = base.where('group_name', '=', q.group);
    if (q.search) base = base.where(sql<boolean>`name like ${likePattern(q.search)} escape '!'`);
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const dir = q.desc ? 'desc' : 'asc';
    const rows = await base.selectAll().orderBy('group_name', dir).orderBy('name', dir)
      .limit(q.pageSize).offset((q.pageNo - 1) * q.pageSize).execute();
    return { total: num(total.n), pageNo: q.pageNo, pageSize: q.pageSize, items: rows.map(toService) };
  }

  async getInstance(namespace: string, group: string, service: string, ip: string, port: number, cluster: string) {
    if (!possiblePort(port)) return undefined;
    // Read for every heartbeat that carries no details (its answer's beat interval is in the instance's metadata):
    // one text, prepared where the dialect prepares, its columns named.
    const [r] = await this.shapes.execute(this.db, 'instance-by-key', [namespace, group, service, ip, port, cluster],
      () => this.db.selectFrom('mg_instances').select(INSTANCE_SELECT as (keyof Tables['mg_instances'])[])
        .where('namespace', '=', namespace).where('group_name', '=', group).where('service_name', '=', service)
        .where('ip', '=', ip).where('port', '=', port).where('cluster', '=', cluster), true);
    return r && toInstance(r as Selectable<Tables['mg_instances']>);
  }

  async getInstanceById(id: string) {
    const r = await this.db.selectFrom('mg_instances').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toInstance(r);
  }

  async getServices(keys: readonly ServiceKey[]): Promise<Service[]> {
    if (this.adapter.selectByKeyArrays && keys.length > 0) {
      const rows = await this.byKeyArrays<Selectable<Tables['mg_services']>>('mg_services', SERVICE_KEY, SERVICE_SELECT, [keys.map((k) => k.namespace), keys.map((k) => k.group), keys.map((k) => k.name)]);
      return rows.map(toService);
    }
    const out: Service[] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const rows = await this.shapes.execute(this.db, `services-by-key:${chunk.length}`, chunk.flatMap((k) => [k.namespace, k.group, k.name]),
        () => this.db.selectFrom('mg_services').selectAll()
          .where((eb) => eb.or(chunk.map((k) => eb.and([eb('namespace', '=', k.namespace), eb('group_name', '=', k.group), eb('name', '=', k.name)])))));
      out.push(...rows.map(toService));
    }
    return out;
  }

  async getInstances(keys: readonly InstanceKey[]): Promise<Instance[]> {
    const possible = keys.filter((k) => possiblePort(k.port));
    if (this.adapter.selectByKeyArrays && possible.length > 0) {
      const rows = await this.byKeyArrays<Selectable<Tables['mg_instances']>>('mg_instances', INSTANCE_KEY, INSTANCE_SELECT, instanceKeyArrays(possible));
      return rows.map(toInstance);
    }
    const out: Instance[] = [];
    for (let i = 0; i < possible.length; i += KEYS_PER_QUERY) {
      const chunk = possible.slice(i, i + KEYS_PER_QUERY);
      const rows = await this.shapes.execute(this.db, `instances-by-key:${chunk.length}`,
        chunk.flatMap((k) => [k.namespace, k.group, k.service, k.ip, k.port, k.cluster]),
        () => this.db.selectFrom('mg_instances').selectAll().where((eb) => eb.or(chunk.map((k) => eb.and([
          eb('namespace', '=', k.namespace), eb('group_name', '=', k.group), eb('service_name', '=', k.service), eb('ip', '=', k.ip),
          eb('port', '=', k.port), eb('cluster', '=', k.cluster),
        ])))));
      out.push(...rows.map(toInstance));
    }
    return out;
  }

  /** The `select` columns of `table`'s rows matching one of many keys, given as one array per key column (the dialect's `selectByKeyArrays`). */
  private async byKeyArrays<R extends { id: string }>(table: keyof Tables, key: readonly TypedColumn[], select: readonly string[], arrays: unknown[][]): Promise<R[]> {
    const sqlText = this.shapes.fixed(`select-by-key-arrays:${table}`, () => this.adapter.selectByKeyArrays!(table, key, select));
    const rows = (await this.db.executeQuery<R>(CompiledQuery.raw(sqlText, arrays))).rows;
    // A key given twice joins its row twice; the OR form answers each row once.
    return rows.length < 2 ? rows : [...new Map(rows.map((r) => [r.id, r])).values()];
  }

  async countInstanceKinds(serviceIds: readonly string[], ephemeral: boolean) {
    const out: { serviceId: string; ephemeral: boolean; count: number }[] = [];
    for (let i = 0; i < serviceIds.length; i += KEYS_PER_QUERY) {
      // Served by the (service_id, ephemeral) index alone.
      const rows = await this.db.selectFrom('mg_instances')
        .select((eb) => ['service_id', eb.fn.countAll().as('n')])
        .where('service_id', 'in', serviceIds.slice(i, i + KEYS_PER_QUERY)).where('ephemeral', '=', flag(ephemeral))
        .groupBy('service_id').execute();
      out.push(...rows.map((r) => ({ serviceId: r.service_id, ephemeral, count: num(r.n) })));
    }
    return out;
  }

  async listInstances(q: InstanceQuery) {
    let query = this.db.selectFrom('mg_instances').selectAll();
    if (q.namespace !== undefined) query = query.where('namespace', '=', q.namespace);
    if (q.serviceId !== undefined) query = query.where('service_id', '=', q.serviceId);
    if (q.ephemeral !== undefined) query = query.where('ephemeral', '=', flag(q.ephemeral));
    const rows = await query.orderBy('cluster').orderBy('ip').orderBy('port').execute();
    return rows.map(toInstance);
  }

  async listExpiredInstances(now: number) {
    // The last beat of an instance held by a lease is the later of its own and the lease's last renewal: past a
    // deadline only if both are. The query keeps the rows where each is (the first test needs no lease, so an
    // instance that beats itself costs no lookup of one), and the exact test on the later of the two follows here.
    const rows = await this.db.selectFrom('mg_instances as i').leftJoin('mg_instance_leases as l', 'l.holder', 'i.holder')
      .selectAll('i').select('l.renewed_at').where('i.ephemeral', '=', 1)
      .where((eb) => eb.or([
        eb.and([eb('i.healthy', '=', 1), eb(eb('i.last_beat', '+', eb.ref('i.beat_timeout')), '<', now)]),
        eb(eb('i.last_beat', '+', eb.ref('i.delete_timeout')), '<', now),
      ]))
      .where((eb) => eb.or([
        eb('l.renewed_at', 'is', null),
        eb.and([eb('i.healthy', '=', 1), eb(eb('l.renewed_at', '+', eb.ref('i.beat_timeout')), '<', now)]),
        eb(eb('l.renewed_at', '+', eb.ref('i.delete_timeout')), '<', now),
      ])).execute();
    const out: Instance[] = [];
    for (const { renewed_at: renewed, ...r } of rows) {
      const lastBeat = Math.max(num(r.last_beat), renewed === null ? 0 : num(renewed));
      if ((r.healthy && lastBeat + num(r.beat_timeout) < now) || lastBeat + num(r.delete_timeout) < now) out.push({ ...toInstance(r), lastBeat });
    }
    return out;
  }

  async getMcpServer(namespace: string, key: { name: string } | { id: string }) {
    let q = this.db.selectFrom('mg_mcp_servers').selectAll().where('namespace', '=', namespace);
    q = 'id' in key ? q.where('id', '=', key.id) : q.where('name', '=', key.name);
    const r = await q.executeTakeFirst();
    return r && toMcpServer(r);
  }

  async listMcpServers(namespace: string | undefined, q: McpServerQuery): Promise<Page<McpServer>> {
    let base = this.db.selectFrom('mg_mcp_servers');
    if (namespace !== undefined) base = base.where('namespace', '=', namespace);
    if (q.search) {
      base = q.exact ? base.where('name', '=', q.search) : base.where(sql<boolean>`name like ${likePattern(q.search)} escape '!'`);
    }
    if (q.protocol) base = base.where('protocol', '=', q.protocol);
    if (q.enabled !== undefined) base = base.where('enabled', '=', flag(q.enabled));
    const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    let ordered = base.selectAll();
    const sort = q.sort ?? 'name';
    const dir = sort.startsWith('-') ? 'desc' : 'asc';
    if (sort.endsWith('updatedAt')) ordered = ordered.orderBy('updated_at', dir);
    const rows = await ordered.orderBy('namespace', dir).orderBy('name', dir)
      .limit(q.pageSize).offset((q.pageNo - 1) * q.pageSize).execute();
    return { total: num(total.n), pageNo: q.pageNo, pageSize: q.pageSize, items: rows.map(toMcpServer) };
  }

  async getVersion(serverId: string, version: string) {
    const r = await this.db.selectFrom('mg_mcp_server_versions').selectAll()
      .where('server_id', '=', serverId).where('version', '=', version).executeTakeFirst();
    return r && toVersion(r);
  }

  async listVersions(serverId: string) {
    const rows = await this.db.selectFrom('mg_mcp_server_versions').selectAll().where('server_id', '=', serverId)
      .orderBy('created_at').orderBy('version').execute();
    return rows.map(toVersion);
  }

  async listPublishHistory(serverId: string): Promise<PublishEvent[]> {
    const rows = await this.db.selectFrom('mg_publish_history').selectAll().where('server_id', '=', serverId).orderBy('seq').execute();
    return rows.map((r) => ({
      serverId: r.server_id, seq: num(r.seq), action: r.action as PublishAction, version: r.version, previousVersion: r.previous_version,
      ...(r.revision !== null && { revision: num(r.revision) }), ...(r.previous_revision !== null && { previousRevision: num(r.previous_revision) }),
      actor: r.actor, note: r.note, at: num(r.at),
    }));
  }

  async listRevisions(serverId: string, version: string): Promise<VersionRevision[]> {
    const rows = await this.db.selectFrom('mg_mcp_version_revisions').selectAll()
      .where('server_id', '=', serverId).where('version', '=', version).orderBy('revision').execute();
    return rows.map(toRevision);
  }

  async getUser(username: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('mg_users').selectAll().where('username', '=', username).executeTakeFirst();
    if (!r) return undefined;
    return {
      username: r.username, id: r.user_id ?? '', credentialGeneration: num(r.credential_generation), passwordHash: r.password_hash,
      createdAt: num(r.created_at), roles: await this.roles(r.username),
    };
  }

  private async roles(username: string) {
    const rows = await this.db.selectFrom('mg_user_roles').selectAll().where('username', '=', username).orderBy('namespace').execute();
    return rows.map((r) => ({ namespace: r.namespace, role: r.role as Role }));
  }

  async listUsers(): Promise<User[]> {
    const users = await this.db.selectFrom('mg_users').select(['username', 'created_at']).orderBy('username').execute();
    const roles = await this.db.selectFrom('mg_user_roles').selectAll().orderBy('namespace').execute();
    return users.map((u) => ({
      username: u.username, createdAt: num(u.created_at),
      roles: roles.filter((r) => r.username === u.username).map((r) => ({ namespace: r.namespace, role: r.role as Role })),
    }));
  }

  async getApiTokenByHash(tokenHash: string) {
    const r = await this.db.selectFrom('mg_api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return r && toApiToken(r);
  }

  async listApiTokens(username?: string) {
    let q = this.db.selectFrom('mg_api_tokens').selectAll();
    if (username !== undefined) q = q.where('username', '=', username);
    return (await q.orderBy('created_at').execute()).map((r) => publicToken(toApiToken(r)));
  }

  async getSetting(key: string) {
    const r = await this.db.selectFrom('mg_settings').select('value').where('key', '=', key).executeTakeFirst();
    return r?.value;
  }

  async listConsumers(namespace?: string): Promise<Consumer[]> {
    let q = this.db.selectFrom('mg_consumers').selectAll();
    if (namespace !== undefined) q = q.where('namespace', '=', namespace);
    return (await q.orderBy('namespace').orderBy('name').execute()).map((r) => ({
      id: r.id, namespace: r.namespace, name: r.name, keyHash: r.key_hash, keyPrefix: r.key_prefix,
      allow: r.allow === null ? null : (JSON.parse(r.allow) as AllowEntry[]), createdAt: num(r.created_at),
      lastUsedAt: r.last_used_at === null ? null : num(r.last_used_at),
    }));
  }

  async changesAfter(revision: number, limit: number): Promise<Change[]> {
    const rows = await this.db.selectFrom('mg_change_log').selectAll().where('revision', '>', revision)
      .orderBy('revision').orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({
      revision: num(r.revision), namespace: r.namespace, entity: r.entity as ChangeEntity, entityId: r.entity_id,
      op: r.op as Change['op'], at: num(r.at),
    }));
  }

  async changeLogFloor() {
    const r = await this.db.selectFrom('mg_settings').select('value').where('key', '=', 'change_log_floor').executeTakeFirst();
    return r ? Number(r.value) : 0;
  }

  async listAudit(q: AuditQuery): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('mg_audit').selectAll();
    if (q.namespaces !== undefined) {
      if (q.namespaces.length === 0) return [];
      query = query.where('namespace', 'in', q.namespaces);
    }
    if (q.actor !== undefined) query = query.where('actor', '=', q.actor);
    if (q.entity !== undefined) query = query.where('entity', '=', q.entity);
    const entityId = q.entityId;
    if (entityId !== undefined) query = query.where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_name', '=', entityId)]));
    if (q.entityName) query = query.where(sql<boolean>`entity_name like ${likePattern(q.entityName)} escape '!'`);
    if (q.action !== undefined) query = query.where('action', '=', q.action);
    if (q.since !== undefined) query = query.where('at', '>=', q.since);
    if (q.until !== undefined) query = query.where('at', '<', q.until);
    const before = q.before;
    if (before) {
      query = query.where((eb) => eb.or([
        eb('revision', '<', before.revision),
        eb.and([eb('revision', '=', before.revision), eb('seq', '<', before.seq)]),
      ]));
    }
    const rows = await query.orderBy('revision', 'desc').orderBy('seq', 'desc').limit(q.limit).execute();
    return rows.map(toAuditEntry);
  }
}

/** Change-log and audit rows a write recorded, inserted when its batch commits. */
type ChangeRow = Omit<Tables['mg_change_log'], 'seq'> & { seq: number };
type AuditRow = Tables['mg_audit'];
interface LoggedRows {
  changes: ChangeRow[];
  audits: AuditRow[];
}

/**
 * One write of a batch, inside the batch's transaction, under the revision it commits as.
 * Its change-log and audit rows are kept until the batch ends and then inserted with those
 * of the other writes, a few statements for the whole batch (dropped if the write fails).
 */
class KyselyWriter extends KyselyReader implements StoreWriter {
  private seq = 0;
  private auditSeq = 0;
  readonly logged: LoggedRows = { changes: [], audits: [] };
  constructor(private readonly tx: Transaction<Tables>, readonly txRevision: number, shapes: ShapeCache, adapter: StoreDialect) {
    super(tx, shapes, adapter);
  }

  /** Inside a write, the revision it commits as (the row holds the batch's first until the batch ends). */
  override revision(): Promise<number> {
    return Promise.resolve(this.txRevision);
  }

  async insertNamespace(ns: Namespace) {
    await this.tx.insertInto('mg_namespaces').values({
      id: ns.id, name: ns.name, description: ns.description, created_at: ns.createdAt, updated_at: ns.updatedAt,
    }).execute();
  }

  async updateNamespace(ns: Namespace) {
    await this.tx.updateTable('mg_namespaces').set({ name: ns.name, description: ns.description, updated_at: ns.updatedAt })
      .where('id', '=', ns.id).execute();
  }

  async setNamespaceAuthorization(namespace: string, settings: AuthorizationSettings | undefined, at: number) {
    await this.tx.deleteFrom('mg_namespace_authorization').where('namespace', '=', namespace).execute();
    if (settings) await this.tx.insertInto('mg_namespace_authorization').values({ namespace, settings: JSON.stringify(settings), updated_at: at }).execute();
  }

  async deleteNamespace(id: string) {
    await this.tx.deleteFrom('mg_namespace_authorization').where('namespace', '=', id).execute();
    await this.tx.deleteFrom('mg_user_roles').where('namespace', '=', id).execute();
    await this.tx.deleteFrom('mg_consumers').where('namespace', '=', id).execute();
    await this.tx.deleteFrom('mg_namespaces').where('id', '=', id).execute();
  }

  async insertService(s: Service) {
    await this.tx.insertInto('mg_services').values({
      id: s.id, namespace: s.namespace, group_name: s.group, name: s.name, metadata: JSON.stringify(s.metadata),
      protect_threshold: s.protectThreshold, selector: s.selector, created_at: s.createdAt, updated_at: s.updatedAt,
    }).execute();
  }

  async updateService(s: Service) {
    await this.tx.updateTable('mg_services').set({
      metadata: JSON.stringify(s.metadata), protect_threshold: s.protectThreshold, selector: s.selector, updated_at: s.updatedAt,
    }).where('id', '=', s.id).execute();
  }

  async deleteService(id: string) {
    await this.tx.deleteFrom('mg_instances').where('service_id', '=', id).execute();
    await this.tx.deleteFrom('mg_services').where('id', '=', id).execute();
  }

  async insertInstance(i: InstanceWrite) {
    await this.tx.insertInto('mg_instances').values(instanceRow(i)).execute();
  }

  async insertInstances(list: readonly InstanceWrite[]) {
    if (list.length === 0) return;
    if (this.adapter.insertByArrays) {
      await insertByArrays(this.tx, this.shapes, this.adapter, 'mg_instances', INSTANCE_TYPED, columnArrays(list.map(instanceRow), INSTANCE_COLUMNS));
      return;
    }
    for (let i = 0; i < list.length; i += 200) {
      const rows = list.slice(i, i + 200).map(instanceRow);
      await this.shapes.execute(this.tx, `insert-instances:${rows.length}`, flatten(rows, INSTANCE_COLUMNS),
        () => this.tx.insertInto('mg_instances').values(rows.map((r) => pick(r, INSTANCE_COLUMNS))));
    }
  }

  async updateInstance(i: InstanceWrite) {
    const { id, holder, ...row } = instanceRow(i);
    // An update that names no holder keeps the stored one.
    await this.tx.updateTable('mg_instances').set(i.holder === undefined ? row : { ...row, holder }).where('id', '=', id).execute();
  }

  async deleteInstance(id: string) {
    await this.tx.deleteFrom('mg_instances').where('id', '=', id).execute();
  }

  async deleteInstances(ids: readonly string[]) {
    for (let i = 0; i < ids.length; i += KEYS_PER_QUERY) {
      const chunk = ids.slice(i, i + KEYS_PER_QUERY);
      await this.shapes.execute(this.tx, `delete-instances:${chunk.length}`, chunk, () => this.tx.deleteFrom('mg_instances').where('id', 'in', chunk));
    }
  }

  async insertMcpServer(s: McpServer) {
    await this.tx.insertInto('mg_mcp_servers').values(mcpServerRow(s)).execute();
  }

  async updateMcpServer(s: McpServer) {
    const { id, ...row } = mcpServerRow(s);
    await this.tx.updateTable('mg_mcp_servers').set(row).where('id', '=', id).execute();
  }

  async deleteMcpServer(id: string) {
    await this.tx.deleteFrom('mg_publish_history').where('server_id', '=', id).execute();
    await this.tx.deleteFrom('mg_mcp_version_revisions').where('server_id', '=', id).execute();
    await this.tx.deleteFrom('mg_mcp_server_versions').where('server_id', '=', id).execute();
    await this.tx.deleteFrom('mg_mcp_servers').where('id', '=', id).execute();
  }

  async putVersion(v: Omit<McpServerVersion, 'etag' | 'revision'> & { revision?: number }, options: { ifEtag?: string } = {}) {
    const etag = newEtag();
    const row = {
      server_id: v.serverId, version: v.version, status: v.status, spec: JSON.stringify(v.spec), created_at: v.createdAt,
      published_at: v.publishedAt, etag, revision: v.revision ?? 1,
    };
    const update = this.tx.updateTable('mg_mcp_server_versions').set({ status: row.status, spec: row.spec, published_at: row.published_at, etag, revision: row.revision })
      .where('server_id', '=', v.serverId).where('version', '=', v.version);
    if (options.ifEtag !== undefined) {
      const r = await update.where('etag', '=', options.ifEtag).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0 ? etag : undefined;
    }
    const r = await update.executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.tx.insertInto('mg_mcp_server_versions').values(row).execute();
    return etag;
  }

  async deleteVersion(serverId: string, version: string) {
    await this.tx.deleteFrom('mg_mcp_version_revisions').where('server_id', '=', serverId).where('version', '=', version).execute();
    await this.tx.deleteFrom('mg_mcp_server_versions').where('server_id', '=', serverId).where('version', '=', version).execute();
  }

  async insertRevision(r: VersionRevision) {
    await this.tx.insertInto('mg_mcp_version_revisions').values({
      server_id: r.serverId, version: r.version, revision: r.revision, spec: JSON.stringify(r.spec), created_at: r.createdAt, actor: r.actor,
    }).execute();
  }

  async insertPublishEvent(e: PublishEvent) {
    await this.tx.insertInto('mg_publish_history').values({
      server_id: e.serverId, seq: e.seq, action: e.action, version: e.version, previous_version: e.previousVersion, actor: e.actor,
      note: e.note, at: e.at, revision: e.revision ?? null, previous_revision: e.previousRevision ?? null,
    }).execute();
  }

  async insertUser(u: UserRecord) {
    await this.tx.insertInto('mg_users').values({
      username: u.username, user_id: u.id, credential_generation: u.credentialGeneration, password_hash: u.passwordHash, created_at: u.createdAt,
    }).execute();
    await this.setUserRoles(u.username, u.roles);
  }

  async updateUserPassword(username: string, passwordHash: string) {
    await this.tx.updateTable('mg_users').set((eb) => ({ password_hash: passwordHash, credential_generation: eb('credential_generation', '+', 1) }))
      .where('username', '=', username).execute();
  }

  async setUserRoles(username: string, roles: { namespace: string; role: Role }[]) {
    await this.tx.deleteFrom('mg_user_roles').where('username', '=', username).execute();
    if (roles.length > 0) {
      await this.tx.insertInto('mg_user_roles').values(roles.map((r) => ({ username, namespace: r.namespace, role: r.role }))).execute();
    }
  }

  async deleteUser(username: string) {
    await this.tx.deleteFrom('mg_api_tokens').where('username', '=', username).execute();
    await this.tx.deleteFrom('mg_user_roles').where('username', '=', username).execute();
    await this.tx.deleteFrom('mg_users').where('username', '=', username).execute();
  }

  async insertApiToken(t: ApiTokenRecord) {
    await this.tx.insertInto('mg_api_tokens').values({
      id: t.id, username: t.username, name: t.name, token_hash: t.tokenHash, created_at: t.createdAt, expires_at: t.expiresAt,
      last_used_at: t.lastUsedAt,
    }).execute();
  }

  async deleteApiToken(id: string) {
    await this.tx.deleteFrom('mg_api_tokens').where('id', '=', id).execute();
  }

  async setSetting(key: string, value: string) {
    const n = await this.tx.updateTable('mg_settings').set({ value }).where('key', '=', key).executeTakeFirst();
    if (Number(n.numUpdatedRows) === 0) await this.tx.insertInto('mg_settings').values({ key, value }).execute();
  }

  async insertConsumer(c: Consumer) {
    await this.tx.insertInto('mg_consumers').values({
      id: c.id, namespace: c.namespace, name: c.name, key_hash: c.keyHash, key_prefix: c.keyPrefix,
      allow: c.allow === null ? null : JSON.stringify(c.allow), created_at: c.createdAt,
    }).execute();
  }

  async updateConsumer(c: Consumer) {
    await this.tx.updateTable('mg_consumers').set({ name: c.name, allow: c.allow === null ? null : JSON.stringify(c.allow) })
      .where('id', '=', c.id).execute();
  }

  async deleteConsumer(id: string) {
    await this.tx.deleteFrom('mg_consumers').where('id', '=', id).execute();
  }

  recordChange(namespace: string, entity: ChangeEntity, entityId: string, op: 'upsert' | 'delete'): Promise<void> {
    this.seq += 1;
    this.logged.changes.push({ revision: this.txRevision, seq: this.seq, namespace, entity, entity_id: entityId, op, at: Date.now() });
    return Promise.resolve();
  }

  recordAudit(e: AuditRecord): Promise<void> {
    this.auditSeq += 1;
    this.logged.audits.push({
      revision: this.txRevision, seq: this.auditSeq, at: e.at, namespace: fit(e.namespace, 128), actor_kind: e.actor.kind,
      actor: fit(e.actor.name, 128), token_id: e.actor.tokenId ?? null, address: e.address === null ? null : fit(e.address, 128),
      route: e.route === null ? null : fit(e.route, 256), action: fit(e.action, 64), entity: e.entity, entity_id: fit(e.entityId, 512),
      entity_name: fit(e.entityName, 512),
      before_json: e.before === null || e.before === undefined ? null : JSON.stringify(e.before),
      after_json: e.after === null || e.after === undefined ? null : JSON.stringify(e.after),
      secrets_changed: e.secretsChanged.length === 0 ? null : JSON.stringify(e.secretsChanged),
    });
    return Promise.resolve();
  }
}

/**
 * The most writes one batch commits. PostgreSQL keeps the ids of up to 64 subtransactions
 * (savepoints that wrote) per transaction in shared memory and falls back to a slow lookup
 * for every other session beyond that, so a batch stays well below.
 */
const MAX_BATCH = 48;

/** Thrown inside a batch whose every write failed, to roll back its revision. */
const ALL_FAILED = Symbol('every write of the batch failed');

/** A write waiting for its batch. */
interface QueuedWrite {
  fn: (tx: StoreWriter) => Promise<unknown>;
  relaxed: boolean;
}

/** Insert rows of `table` with the dialect's statement that binds one array per column. */
async function insertByArrays(tx: Transaction<Tables>, shapes: ShapeCache, adapter: StoreDialect, table: keyof Tables, columns: readonly TypedColumn[], arrays: unknown[][]): Promise<void> {
  await tx.executeQuery(CompiledQuery.raw(shapes.fixed(`insert-by-arrays:${table}`, () => adapter.insertByArrays!(table, columns)), arrays));
}

/** Insert a batch's change-log and audit rows in a few multi-row statements. */
async function insertLogged(tx: Transaction<Tables>, shapes: ShapeCache, adapter: StoreDialect, logged: LoggedRows): Promise<void> {
  if (adapter.insertByArrays) {
    if (logged.changes.length > 0) await insertByArrays(tx, shapes, adapter, 'mg_change_log', CHANGE_TYPED, columnArrays(logged.changes, CHANGE_COLUMNS));
  } else for (let i = 0; i < logged.changes.length; i += 500) {
    const rows = logged.changes.slice(i, i + 500);
    await shapes.execute(tx, `insert-changes:${rows.length}`, flatten(rows, CHANGE_COLUMNS),
      () => tx.insertInto('mg_change_log').values(rows.map((r) => pick(r, CHANGE_COLUMNS))));
  }
  // Audit rows carry documents (before/after, up to megabytes): a statement holds at most 100 rows and about 1 MB of them.
  const insert = async (rows: AuditRow[]) => {
    if (adapter.insertByArrays) return insertByArrays(tx, shapes, adapter, 'mg_audit', AUDIT_TYPED, columnArrays(rows, AUDIT_COLUMNS));
    await shapes.execute(tx, `insert-audit:${rows.length}`, flatten(rows, AUDIT_COLUMNS),
      () => tx.insertInto('mg_audit').values(rows.map((r) => pick(r, AUDIT_COLUMNS))));
  };
  let chunk: AuditRow[] = [];
  let size = 0;
  for (const row of logged.audits) {
    const rowSize = (row.before_json?.length ?? 0) + (row.after_json?.length ?? 0);
    if (chunk.length > 0 && (chunk.length >= 100 || size + rowSize > 1_000_000)) {
      await insert(chunk);
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += rowSize;
  }
  if (chunk.length > 0) await insert(chunk);
}

/** A copy of `row` with exactly `columns`, in that order (the order of a cached statement's parameters). */
function pick<T, K extends keyof T>(row: T, columns: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const c of columns) out[c] = row[c];
  return out;
}

/** The Kysely implementation of the `Store` port, for every supported dialect. */
export class KyselyStore extends KyselyReader implements Store {
  readonly dialect: Store['dialect'];
  /** Dedicated connections (leader locks, listeners) to end with the store. */
  private readonly dedicated = new Set<{ release(): Promise<void> } | { close(): Promise<void> }>();

  /** Group commit: the writes queued while a batch commits form the next batch. */
  private readonly writes = new Batcher<QueuedWrite, unknown>((batch) => this.commitBatch(batch), MAX_BATCH);

  private constructor(private readonly root: Db, adapter: StoreDialect) {
    super(root, new ShapeCache(adapter.prepare), adapter);
    this.dialect = adapter.name;
  }

  /** Open a store on a dialect; call `migrate()` before use. */
  static open(adapter: StoreDialect): KyselyStore {
    return new KyselyStore(new Kysely<Tables>({ dialect: adapter.create() }), adapter);
  }

  async migrate() {
    const migrator = new Migrator({
      db: this.root, provider: migrations(this.adapter),
      migrationTableName: 'mg_migrations', migrationLockTableName: 'mg_migrations_lock',
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /**
   * Group commit. Writes wait in a queue while a batch is committing; the next batch takes
   * every waiting write (up to `MAX_BATCH`) into one transaction that takes the revision
   * lock once, runs the writes one after another (each from a savepoint of its own, so one
   * that fails is undone alone and the others commit), gives each write that commits the next revision,
   * inserts their change-log and audit rows together, and commits once. Revisions stay
   * consecutive and totally ordered (the lock is held to the commit), so watchers reading
   * the change log by revision miss nothing; what is saved is a transaction, a lock handover
   * and a commit per write, which on PostgreSQL and MySQL bound writes to one commit at a time.
   */
  write<T>(fn: (tx: StoreWriter) => Promise<T>, options: { relaxed?: boolean } = {}): Promise<T> {
    return this.writes.submit({ fn, relaxed: options.relaxed === true }) as Promise<T>;
  }

  private async commitBatch(batch: BatchItem<QueuedWrite>[]): Promise<BatchOutcome<unknown>[]> {
    const outcomes: BatchOutcome<unknown>[] = [];
    const isolate = batch.length > 1;
    try {
      await this.root.transaction().execute(async (tx) => {
        if (this.adapter.relaxedDurabilitySql && batch.every((w) => w.item.relaxed)) await sql.raw(this.adapter.relaxedDurabilitySql).execute(tx);
        const first = await this.nextRevision(tx);
        let next = first;
        const logged: LoggedRows = { changes: [], audits: [] };
        for (const [k, { item, inContext }] of batch.entries()) {
          const writer = new KyselyWriter(tx, next, this.shapes, this.adapter);
          // Savepoints are never released (a round trip each): the batch's commit keeps them all, and rolling
          // back to one undoes only what its write did after it.
          if (isolate) await sql.raw(`savepoint mg_w${k}`).execute(tx);
          try {
            // In its caller's async context (AsyncLocalStorage: who is asking, for the audit log), not the batch's.
            outcomes[k] = { ok: true, value: await inContext(() => item.fn(writer)) };
          } catch (error) {
            outcomes[k] = { ok: false, error: this.translate(error) };
            if (!isolate) throw error;
            await sql.raw(`rollback to savepoint mg_w${k}`).execute(tx);
            continue;
          }
          logged.changes.push(...writer.logged.changes);
          logged.audits.push(...writer.logged.audits);
          next += 1;
        }
        // Every write failed: roll back the revision taken for them.
        if (next === first) throw ALL_FAILED;
        const last = next - 1;
        if (last !== first) await tx.updateTable('mg_meta').set({ revision: last }).where('id', '=', 1).execute();
        await insertLogged(tx, this.shapes, this.adapter, logged);
        // The database announces the batch's last revision on commit, never on rollback.
        if (this.adapter.revisionPush) await this.adapter.revisionPush.announce(last).execute(tx);
      });
    } catch (err) {
      // The batch did not commit: a write that failed keeps its own error, the others get the batch's.
      const batchError = this.translate(err);
      return batch.map((_, k) => {
        const o = outcomes[k];
        return o && !o.ok ? o : { ok: false, error: batchError };
      });
    }
    return outcomes;
  }

  private async nextRevision(tx: Transaction<Tables>): Promise<number> {
    const bump = tx.updateTable('mg_meta').set((eb) => ({ revision: eb('revision', '+', 1) })).where('id', '=', 1);
    if (this.adapter.supportsReturning) {
      const [row] = (await this.shapes.result(tx, 'next-revision', [1, 1], () => bump.returning('revision'), true)).rows;
      if (!row) throw new Error('mg_meta holds no revision row');
      return num(row.revision);
    }
    await bump.execute();
    const r = await tx.selectFrom('mg_meta').select('revision').where('id', '=', 1).executeTakeFirstOrThrow();
    return num(r.revision);
  }

  private translate(err: unknown): unknown {
    if (err instanceof AppError) return err;
    if (this.adapter.isUniqueViolation(err)) return new UniqueViolationError('a concurrent write created the same name', { cause: err });
    if (this.adapter.isUnavailable(err)) return new AppError('STORE_UNAVAILABLE', `the ${this.dialect} database is unavailable`);
    return err;
  }

  async beatMany(beats: readonly BeatKey[], at: number): Promise<boolean[]> {
    if (beats.length === 0) return [];
    try {
      return await this.root.transaction().execute(async (tx) => {
        if (this.adapter.relaxedDurabilitySql) await sql.raw(this.adapter.relaxedDurabilitySql).execute(tx);
        // One beat (an instance's first after the registry learns of it) keeps the per-key statement: its generic plan
        // is cached, where PostgreSQL plans the array statement anew for each run.
        if (this.adapter.updateByKeyArrays && beats.length > 1) return await this.beatByKeyArrays(tx, beats, at);
        const matched: boolean[] = [];
        for (const b of beats) {
          if (!possiblePort(b.port)) {
            matched.push(false);
            continue;
          }
          // One statement text for every beat, built by Kysely once (see ShapeCache): a node beats every instance
          // of its gRPC connections every few seconds, thousands of rows.
          const r = await this.shapes.result(tx, 'beat-instance', [at, b.namespace, b.group, b.service, b.ip, b.port, b.cluster, 1, 1],
            () => tx.updateTable('mg_instances').set({ last_beat: at })
              .where('namespace', '=', b.namespace).where('group_name', '=', b.group).where('service_name', '=', b.service)
              .where('ip', '=', b.ip).where('port', '=', b.port).where('cluster', '=', b.cluster)
              .where('healthy', '=', 1).where('ephemeral', '=', 1), true);
          matched.push(Number(r.numAffectedRows ?? 0) > 0);
        }
        return matched;
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  async renewHolderLease(holder: string, at: number): Promise<boolean> {
    try {
      const r = await this.root.updateTable('mg_instance_leases').set({ renewed_at: at }).where('holder', '=', holder).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) return true;
      await this.root.insertInto('mg_instance_leases').values({ holder, renewed_at: at }).execute();
      return false;
    } catch (err) {
      // Inserted by an overlapping renewal of the same holder: it exists now.
      if (this.adapter.isUniqueViolation(err)) return false;
      throw this.translate(err);
    }
  }

  async dropHolderLeases(which: { holder: string } | { before: number }): Promise<number> {
    const q = this.root.deleteFrom('mg_instance_leases');
    const r = await ('holder' in which ? q.where('holder', '=', which.holder) : q.where('renewed_at', '<', which.before)).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** `beatMany` as one statement for the whole batch (the dialect's `updateByKeyArrays`). */
  private async beatByKeyArrays(tx: Transaction<Tables>, beats: readonly BeatKey[], at: number): Promise<boolean[]> {
    const possible = beats.filter((b) => possiblePort(b.port));
    if (possible.length === 0) return beats.map(() => false);
    const text = this.shapes.fixed('beat-by-key-arrays', () => this.adapter.updateByKeyArrays!('mg_instances', INSTANCE_KEY, ['last_beat'], ['healthy', 'ephemeral'],
      INSTANCE_KEY.map((c) => c.name)));
    const r = await tx.executeQuery<Pick<Tables['mg_instances'], 'namespace' | 'group_name' | 'service_name' | 'ip' | 'port' | 'cluster'>>(CompiledQuery.raw(text, [at, 1, 1, ...instanceKeyArrays(possible)]));
    const updated = new Set(r.rows.map((row) => instanceKeyId({ namespace: row.namespace, group: row.group_name, service: row.service_name, ip: row.ip, port: num(row.port), cluster: row.cluster })));
    return beats.map((b) => updated.has(instanceKeyId(b)));
  }

  async touchInstance(id: string, at: number) {
    await this.root.updateTable('mg_instances').set({ last_beat: at }).where('id', '=', id).execute();
  }

  async setHealthDetail(id: string, detail: string | null) {
    await this.root.updateTable('mg_instances').set({ health_detail: detail }).where('id', '=', id).execute();
  }

  async touchConsumers(uses: readonly { id: string; at: number }[]) {
    if (uses.length === 0) return;
    try {
      await this.root.transaction().execute(async (tx) => {
        if (this.adapter.relaxedDurabilitySql) await sql.raw(this.adapter.relaxedDurabilitySql).execute(tx);
        for (const u of uses) {
          await tx.updateTable('mg_consumers').set({ last_used_at: u.at }).where('id', '=', u.id)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', u.at)])).execute();
        }
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  async pruneChanges(beforeRevision: number) {
    await this.root.transaction().execute(async (tx) => {
      await tx.deleteFrom('mg_change_log').where('revision', '<', beforeRevision).execute();
      await new KyselyWriter(tx, 0, this.shapes, this.adapter).setSetting('change_log_floor', String(beforeRevision));
    });
  }

  async pruneAudit(before: number): Promise<number> {
    try {
      const r = await this.root.deleteFrom('mg_audit').where('at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    } catch (err) {
      throw this.translate(err);
    }
  }

  // ---- activity ----

  async addActivity(report: ActivityReport): Promise<void> {
    // One row per key, in key order (so concurrent reports on two nodes lock rows in the same order).
    const merged = new Map<string, ActivityBucket>();
    for (const b of report.buckets) {
      const key = bucketKey(b);
      const had = merged.get(key);
      if (had) mergeBucket(had, b);
      else merged.set(key, { ...b, kinds: { ...b.kinds }, latency: [...b.latency], agents: b.agents.map((a) => ({ ...a })) });
    }
    const buckets = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, b]) => b);
    const rows: ActivityRow[] = buckets.map((b) => {
      const row = { namespace: b.namespace, server: b.server, tool: b.tool, minute: b.minute, calls: b.calls, errors: b.errors, latency_sum: b.latencySumMs } as ActivityRow;
      for (let i = 0; i < LATENCY_BUCKETS; i++) row[`l${i}`] = b.latency[i] ?? 0;
      return row;
    });
    const kinds = buckets.flatMap((b) => Object.entries(b.kinds).sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([kind, count]) => ({ namespace: b.namespace, server: b.server, tool: b.tool, minute: b.minute, kind, count })));
    const agents = buckets.flatMap((b) => [...b.agents].sort((x, y) => (`${x.name}\n${x.version}` < `${y.name}\n${y.version}` ? -1 : 1))
      .map((a) => ({ namespace: b.namespace, server: b.server, tool: b.tool, minute: b.minute, agent: a.name, agent_version: a.version, calls: a.calls })));
    const latencyColumns = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `l${i}`);
    try {
      await this.root.transaction().execute(async (tx) => {
        // Lost in a crash, a report is a few seconds of counts: no need to wait for the disk.
        if (this.adapter.relaxedDurabilitySql) await sql.raw(this.adapter.relaxedDurabilitySql).execute(tx);
        await this.addCounts(tx, 'mg_activity', ['namespace', 'server', 'tool', 'minute'], rows, ['calls', 'errors', 'latency_sum', ...latencyColumns]);
        await this.addCounts(tx, 'mg_activity_kinds', ['namespace', 'server', 'tool', 'minute', 'kind'], kinds, ['count']);
        await this.addCounts(tx, 'mg_activity_agents', ['namespace', 'server', 'tool', 'minute', 'agent', 'agent_version'], agents, ['calls']);
        if (report.errors.length === 0) return;
        const samples = report.errors.map((e) => ({
          id: randomUUID(), namespace: e.namespace, server: e.server, tool: e.tool, at: e.at, kind: e.kind, message: e.message,
          agent: e.agent.name, agent_version: e.agent.version, gateway: e.gateway ?? null, request: e.request, answer: e.answer,
        }));
        for (let i = 0; i < samples.length; i += ACTIVITY_ROWS_PER_INSERT) await tx.insertInto('mg_activity_errors').values(samples.slice(i, i + ACTIVITY_ROWS_PER_INSERT)).execute();
        // Each tool keeps its newest samples: older than its MAX_SAMPLES_PER_TOOL-th newest go.
        const tools = new Map(report.errors.map((e) => [`${e.namespace}\n${e.server}\n${e.tool}`, e]));
        for (const e of tools.values()) {
          const cut = await tx.selectFrom('mg_activity_errors').select(['at', 'id'])
            .where('namespace', '=', e.namespace).where('server', '=', e.server).where('tool', '=', e.tool)
            .orderBy('at', 'desc').orderBy('id', 'desc').offset(MAX_SAMPLES_PER_TOOL - 1).limit(1).executeTakeFirst();
          if (!cut) continue;
          await tx.deleteFrom('mg_activity_errors').where('namespace', '=', e.namespace).where('server', '=', e.server).where('tool', '=', e.tool)
            .where((eb) => eb.or([eb('at', '<', num(cut.at)), eb.and([eb('at', '=', num(cut.at)), eb('id', '<', cut.id)])])).execute();
        }
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** Insert rows, adding `counters` into those whose key exists (the dialect's upsert). */
  private async addCounts(tx: Transaction<Tables>, table: 'mg_activity' | 'mg_activity_kinds' | 'mg_activity_agents', keys: string[], rows: readonly object[], counters: string[]): Promise<void> {
    // The tables differ in columns only: one code path for the three, typed loosely here.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const db = tx as unknown as Transaction<any>;
    for (let i = 0; i < rows.length; i += ACTIVITY_ROWS_PER_INSERT) {
      await this.upsert(db.insertInto(table).values(rows.slice(i, i + ACTIVITY_ROWS_PER_INSERT)), table, keys, counters, 'add');
    }
  }

  /**
   * Run `insert` so that rows whose key exists are updated (the dialect's upsert): their
   * `columns` replaced by the new row's, or with `add`, the new row's values added to them.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async upsert(insert: InsertQueryBuilder<any, any, any>, table: string, keys: readonly string[], columns: readonly string[], how: 'replace' | 'add'): Promise<void> {
    if (this.adapter.upsert === 'on-duplicate-key') {
      const set = (c: string) => (how === 'add' ? sql`${sql.ref(c)} + values(${sql.ref(c)})` : sql`values(${sql.ref(c)})`);
      await insert.onDuplicateKeyUpdate(Object.fromEntries(columns.map((c) => [c, set(c)]))).execute();
    } else {
      const set = (c: string) => (how === 'add' ? sql`${sql.ref(`${table}.${c}`)} + ${sql.ref(`excluded.${c}`)}` : sql`${sql.ref(`excluded.${c}`)}`);
      await insert.onConflict((oc) => oc.columns([...keys]).doUpdateSet(Object.fromEntries(columns.map((c) => [c, set(c)])))).execute();
    }
  }

  async readActivity(q: ActivityQuery): Promise<ActivityRead> {
    const step = Math.max(MINUTE_MS, Math.trunc(q.stepMs / MINUTE_MS) * MINUTE_MS);
    // The slot is an expression of the column and a literal (a parameter there would differ between SELECT and GROUP BY).
    const slot = sql<number>`${sql.ref('minute')} - (${sql.ref('minute')} % ${sql.lit(step)})`;
    const sumCol = (c: string) => sql<number>`sum(${sql.ref(c)})`.as(c);
    let slots = this.root.selectFrom('mg_activity')
      .select(['server', 'tool', slot.as('at'), sumCol('calls'), sumCol('errors'), sumCol('latency_sum'), ...Array.from({ length: LATENCY_BUCKETS }, (_, i) => sumCol(`l${i}`))])
      .where('namespace', '=', q.namespace).where('minute', '>=', q.from);
    let kinds = this.root.selectFrom('mg_activity_kinds').select(['server', 'tool', 'kind', sql<number>`sum(${sql.ref('count')})`.as('count')])
      .where('namespace', '=', q.namespace).where('minute', '>=', q.from);
    let agents = this.root.selectFrom('mg_activity_agents').select(['server', 'tool', 'agent', 'agent_version', sql<number>`sum(${sql.ref('calls')})`.as('calls')])
      .where('namespace', '=', q.namespace).where('minute', '>=', q.from);
    if (q.server !== undefined) {
      slots = slots.where('server', '=', q.server);
      kinds = kinds.where('server', '=', q.server);
      agents = agents.where('server', '=', q.server);
    }
    if (q.tool !== undefined) {
      slots = slots.where('tool', '=', q.tool);
      kinds = kinds.where('tool', '=', q.tool);
      agents = agents.where('tool', '=', q.tool);
    }
    try {
      const [s, k, a] = await Promise.all([
        slots.groupBy(['server', 'tool', slot]).orderBy('server').orderBy('tool').orderBy(slot).execute(),
        kinds.groupBy(['server', 'tool', 'kind']).execute(),
        agents.groupBy(['server', 'tool', 'agent', 'agent_version']).execute(),
      ]);
      return {
        slots: s.map((r) => {
          const row = r as unknown as Record<string, unknown>;
          return {
            server: r.server, tool: r.tool, at: num(row.at), calls: num(row.calls), errors: num(row.errors), latencySumMs: num(row.latency_sum),
            latency: Array.from({ length: LATENCY_BUCKETS }, (_, i) => num(row[`l${i}`])),
          };
        }),
        kinds: k.map((r) => ({ server: r.server, tool: r.tool, kind: r.kind, count: num(r.count) })),
        agents: a.map((r) => ({ server: r.server, tool: r.tool, name: r.agent, version: r.agent_version, calls: num(r.calls) })),
      };
    } catch (err) {
      throw this.translate(err);
    }
  }

  async listActivityErrors(q: Omit<ActivityQuery, 'stepMs'> & { limit: number }): Promise<ActivityErrorSample[]> {
    let query = this.root.selectFrom('mg_activity_errors').selectAll().where('namespace', '=', q.namespace).where('at', '>=', q.from);
    if (q.server !== undefined) query = query.where('server', '=', q.server);
    if (q.tool !== undefined) query = query.where('tool', '=', q.tool);
    try {
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
      return rows.map((r) => ({
        namespace: r.namespace, server: r.server, tool: r.tool, at: num(r.at), kind: r.kind, message: r.message,
        agent: { name: r.agent, version: r.agent_version }, request: r.request, answer: r.answer, ...(r.gateway !== null ? { gateway: r.gateway } : {}),
      }));
    } catch (err) {
      throw this.translate(err);
    }
  }

  async pruneActivity(before: number): Promise<number> {
    try {
      let n = 0;
      for (const table of ['mg_activity', 'mg_activity_kinds', 'mg_activity_agents'] as const) {
        n += Number((await this.root.deleteFrom(table).where('minute', '<', before).executeTakeFirst()).numDeletedRows);
      }
      n += Number((await this.root.deleteFrom('mg_activity_errors').where('at', '<', before).executeTakeFirst()).numDeletedRows);
      return n;
    } catch (err) {
      throw this.translate(err);
    }
  }

  // ---- cluster ----

  private get now() {
    return sql<number>`${sql.raw(this.adapter.nowMillisSql)}`;
  }

  async databaseTime(): Promise<number> {
    const r = await sql<{ now: unknown }>`select ${this.now} as now`.execute(this.root);
    return num(r.rows[0]?.now);
  }

  async upsertNode(n: Omit<ClusterNodeRecord, 'startedAt' | 'lastSeen'>): Promise<void> {
    const row = { address: n.address, version: n.version, roles: n.roles.join(','), is_leader: flag(n.isLeader), revision: n.revision };
    const r = await this.root.updateTable('mg_nodes').set({ ...row, last_seen: this.now }).where('id', '=', n.id).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return;
    try {
      await this.root.insertInto('mg_nodes').values({ id: n.id, ...row, started_at: this.now, last_seen: this.now }).execute();
    } catch (err) {
      if (!this.adapter.isUniqueViolation(err)) throw this.translate(err);
      await this.root.updateTable('mg_nodes').set({ ...row, last_seen: this.now }).where('id', '=', n.id).execute();
    }
  }

  async listNodes(): Promise<{ now: number; nodes: ClusterNodeRecord[] }> {
    const now = await this.databaseTime();
    const rows = await this.root.selectFrom('mg_nodes').selectAll().orderBy('started_at').orderBy('id').execute();
    return {
      now,
      nodes: rows.map((r) => ({
        id: r.id, address: r.address, version: r.version, roles: r.roles === '' ? [] : r.roles.split(','), startedAt: num(r.started_at),
        lastSeen: num(r.last_seen), isLeader: bool(r.is_leader), revision: num(r.revision),
      })),
    };
  }

  async pruneNodes(goneForMs: number): Promise<number> {
    const r = await this.root.deleteFrom('mg_nodes').where('last_seen', '<', sql<number>`${this.now} - ${goneForMs}`).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async putGatewayReports(rows: readonly GatewayReportWrite[]): Promise<void> {
    if (rows.length === 0) return;
    const row = (r: GatewayReportWrite) => ({
      node: r.node, kind: r.kind, revision: r.revision, watch_connections: r.watchConnections, remote_address: r.remoteAddress, status: r.status,
    });
    const claimed = rows.filter((r) => r.claim);
    const columns = ['node', 'kind', 'revision', 'watch_connections', 'remote_address', 'status', 'last_seen'] as const;
    try {
      await this.root.transaction().execute(async (tx) => {
        // Reports are refreshed every few seconds: losing the last ones in a crash is harmless.
        if (this.adapter.relaxedDurabilitySql) await sql.raw(this.adapter.relaxedDurabilitySql).execute(tx);
        // One statement per chunk: insert, or update the row of a gateway reported before.
        for (let i = 0; i < claimed.length; i += KEYS_PER_QUERY) {
          const chunk = claimed.slice(i, i + KEYS_PER_QUERY).map((r) => ({ id: r.id, ...row(r), last_seen: this.now }));
          await this.upsert(tx.insertInto('mg_gateway_reports').values(chunk), 'mg_gateway_reports', ['id'], columns, 'replace');
        }
        for (const r of rows) {
          if (!r.claim) await tx.updateTable('mg_gateway_reports').set({ ...row(r), last_seen: this.now }).where('id', '=', r.id).where('node', '=', r.node).execute();
        }
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  async listGatewayReports(limit: number): Promise<{ now: number; reports: GatewayReportRecord[] }> {
    const now = await this.databaseTime();
    const rows = await this.root.selectFrom('mg_gateway_reports').selectAll().orderBy('last_seen', 'desc').orderBy('id').limit(limit).execute();
    return {
      now,
      reports: rows.map((r) => ({
        id: r.id, node: r.node, kind: r.kind === 'in-process' ? 'in-process' : 'remote', revision: num(r.revision), watchConnections: num(r.watch_connections),
        remoteAddress: r.remote_address, status: r.status, lastSeen: num(r.last_seen),
      })),
    };
  }

  async pruneGatewayReports(goneForMs: number): Promise<number> {
    const r = await this.root.deleteFrom('mg_gateway_reports').where('last_seen', '<', sql<number>`${this.now} - ${goneForMs}`).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async getLease(name: string): Promise<Lease | undefined> {
    const r = await this.root.selectFrom('mg_leases').selectAll().where('name', '=', name).executeTakeFirst();
    return r && { name: r.name, holder: r.holder, sessionId: num(r.session_id), acquiredAt: num(r.acquired_at), expiresAt: num(r.expires_at) };
  }

  private leaseStatements(): LeaseStatements {
    const db = this.root;
    const until = (ttlMs: number) => sql<number>`${this.now} + ${ttlMs}`;
    return {
      renew: (name, holder, sessionId, ttlMs) => db.updateTable('mg_leases').set({ expires_at: until(ttlMs) })
        .where('name', '=', name).where('holder', '=', holder).where('session_id', '=', sessionId).compile(),
      claim: (name, holder, sessionId, ttlMs) => ({
        update: db.updateTable('mg_leases').set({ holder, session_id: sessionId, acquired_at: this.now, expires_at: until(ttlMs) })
          .where('name', '=', name).compile(),
        insert: db.insertInto('mg_leases').values({ name, holder, session_id: sessionId, acquired_at: this.now, expires_at: until(ttlMs) }).compile(),
      }),
      read: (name) => db.selectFrom('mg_leases').select(['holder', 'session_id', 'expires_at', this.now.as('db_now')]).where('name', '=', name).compile(),
    };
  }

  leaderLock(name: string, holder: string, options: LeaderLockOptions): LeaderLock {
    const cap = this.adapter.sessionLock;
    if (cap === 'single-node') return new SingleNodeLock();
    const lock = new SessionLeaderLock(cap, this.leaseStatements(), name, holder, options);
    this.dedicated.add(lock);
    return lock;
  }

  subscribeRevisions(onRevision: (revision: number) => void): RevisionSubscription | undefined {
    if (!this.adapter.revisionPush) return undefined;
    const listener = new RevisionListener(this.adapter.revisionPush, onRevision, () => this.revision());
    this.dedicated.add(listener);
    return listener;
  }

  async close() {
    await Promise.all([...this.dedicated].map((d) => ('release' in d ? d.release() : d.close()).catch(() => undefined)));
    this.dedicated.clear();
    await this.root.destroy();
  }
}

/**
 * No instance has a port outside 1-65535, so a lookup by such a port finds nothing without asking:
 * PostgreSQL and MySQL would fail on the integer column instead (and fail a whole batch of beats with it).
 */
function possiblePort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
