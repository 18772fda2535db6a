import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from './dialects/dialect.js';
import { newEtag } from './store.js';

/**
 * The registry's schema, as ordered migrations. Applied at start by every node; Kysely's
 * migrator takes a lock so concurrent nodes apply each migration once. Booleans are
 * stored as small integers and timestamps as epoch milliseconds, the same in every dialect.
 */
export function migrations(d: StoreDialect): MigrationProvider {
  const key = (n: number) => sql.raw(d.keyTextType(n));
  const big = sql.raw(d.largeTextType);
  const suffix = sql.raw(d.createTableSuffix);
  const all: Record<string, Migration> = {
    '0001_initial': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        await db.schema.createTable('mg_meta')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('revision', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
        await db.insertInto('mg_meta').values({ id: 1, revision: 0 }).execute();

        await db.schema.createTable('mg_settings')
          .addColumn('key', key(128), (c) => c.primaryKey())
          .addColumn('value', big, (c) => c.notNull())
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_namespaces')
          .addColumn('id', key(128), (c) => c.primaryKey())
          .addColumn('name', key(256), (c) => c.notNull())
          .addColumn('description', big, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_services')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('group_name', key(128), (c) => c.notNull())
          .addColumn('name', key(255), (c) => c.notNull())
          .addColumn('metadata', big, (c) => c.notNull())
          .addColumn('protect_threshold', 'double precision', (c) => c.notNull())
          .addColumn('selector', big, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('mg_services_key', ['namespace', 'group_name', 'name'])
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_instances')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('service_id', key(36), (c) => c.notNull())
          .addColumn('group_name', key(128), (c) => c.notNull())
          .addColumn('service_name', key(255), (c) => c.notNull())
          .addColumn('ip', key(64), (c) => c.notNull())
          .addColumn('port', 'integer', (c) => c.notNull())
          .addColumn('cluster', key(64), (c) => c.notNull())
          .addColumn('weight', 'double precision', (c) => c.notNull())
          .addColumn('enabled', 'smallint', (c) => c.notNull())
          .addColumn('healthy', 'smallint', (c) => c.notNull())
          .addColumn('ephemeral', 'smallint', (c) => c.notNull())
          .addColumn('metadata', big, (c) => c.notNull())
          .addColumn('health_check', big)
          .addColumn('last_beat', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('mg_instances_key', ['namespace', 'group_name', 'service_name', 'ip', 'port', 'cluster'])
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_instances_service').on('mg_instances').column('service_id').execute();

        await db.schema.createTable('mg_mcp_servers')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('name', key(255), (c) => c.notNull())
          .addColumn('description', big, (c) => c.notNull())
          .addColumn('protocol', key(32), (c) => c.notNull())
          .addColumn('front_protocol', key(32), (c) => c.notNull())
          .addColumn('endpoint', big, (c) => c.notNull())
          .addColumn('enabled', 'smallint', (c) => c.notNull())
          .addColumn('passthrough', big, (c) => c.notNull())
          .addColumn('published_version', key(128))
          .addColumn('latest_version', key(128))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('mg_mcp_servers_key', ['namespace', 'name'])
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_mcp_server_versions')
          .addColumn('server_id', key(36), (c) => c.notNull())
          .addColumn('version', key(128), (c) => c.notNull())
          .addColumn('status', key(16), (c) => c.notNull())
          .addColumn('spec', big, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('published_at', 'bigint')
          .addPrimaryKeyConstraint('mg_mcp_server_versions_pk', ['server_id', 'version'])
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_users')
          .addColumn('username', key(128), (c) => c.primaryKey())
          .addColumn('password_hash', key(512), (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_user_roles')
          .addColumn('username', key(128), (c) => c.notNull())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('role', key(16), (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_user_roles_pk', ['username', 'namespace'])
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_api_tokens')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('username', key(128), (c) => c.notNull())
          .addColumn('name', key(256), (c) => c.notNull())
          .addColumn('token_hash', key(64), (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint')
          .addColumn('last_used_at', 'bigint')
          .modifyEnd(suffix).execute();

        await db.schema.createTable('mg_change_log')
          .addColumn('revision', 'bigint', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('entity', key(32), (c) => c.notNull())
          .addColumn('entity_id', key(512), (c) => c.notNull())
          .addColumn('op', key(16), (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_change_log_pk', ['revision', 'seq'])
          .modifyEnd(suffix).execute();
      },
    },
    '0002_consumers': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        await db.schema.createTable('mg_consumers')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('name', key(255), (c) => c.notNull())
          .addColumn('key_hash', key(64), (c) => c.notNull().unique())
          .addColumn('key_prefix', key(16), (c) => c.notNull())
          .addColumn('allow', big)
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('mg_consumers_key', ['namespace', 'name'])
          .modifyEnd(suffix).execute();
      },
    },
    '0003_instance_expiry': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // The expiry deadlines of ephemeral instances, so that the sweeper selects only expired ones.
        await db.schema.alterTable('mg_instances').addColumn('beat_timeout', 'bigint', (c) => c.notNull().defaultTo(15000)).execute();
        await db.schema.alterTable('mg_instances').addColumn('delete_timeout', 'bigint', (c) => c.notNull().defaultTo(30000)).execute();
        await db.schema.createIndex('mg_instances_expiry').on('mg_instances').columns(['ephemeral', 'last_beat']).execute();
      },
    },
    '0004_cluster': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // Registry nodes sharing the database, each refreshing its own row (times by the database's clock).
        await db.schema.createTable('mg_nodes')
          .addColumn('id', key(128), (c) => c.primaryKey())
          .addColumn('address', key(256), (c) => c.notNull())
          .addColumn('version', key(64), (c) => c.notNull())
          .addColumn('roles', key(128), (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen', 'bigint', (c) => c.notNull())
          .addColumn('is_leader', 'smallint', (c) => c.notNull())
          .addColumn('revision', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
        // Leases of leader locks: renewed by the holder; one that runs out marks a hung holder.
        await db.schema.createTable('mg_leases')
          .addColumn('name', key(128), (c) => c.primaryKey())
          .addColumn('holder', key(128), (c) => c.notNull())
          .addColumn('session_id', 'bigint', (c) => c.notNull())
          .addColumn('acquired_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
      },
    },
    '0005_audit': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // The audit log: one row per registry change, written in the change's own transaction.
        await db.schema.createTable('mg_audit')
          .addColumn('revision', 'bigint', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('actor_kind', key(16), (c) => c.notNull())
          .addColumn('actor', key(128), (c) => c.notNull())
          .addColumn('token_id', key(36))
          .addColumn('address', key(128))
          .addColumn('route', key(256))
          .addColumn('action', key(64), (c) => c.notNull())
          .addColumn('entity', key(32), (c) => c.notNull())
          .addColumn('entity_id', key(512), (c) => c.notNull())
          .addColumn('entity_name', key(512), (c) => c.notNull())
          .addColumn('before_json', big)
          .addColumn('after_json', big)
          .addColumn('secrets_changed', big)
          .addPrimaryKeyConstraint('mg_audit_pk', ['revision', 'seq'])
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_audit_at').on('mg_audit').column('at').execute();
        await db.schema.createIndex('mg_audit_namespace').on('mg_audit').columns(['namespace', 'revision']).execute();
        await db.schema.createIndex('mg_audit_actor').on('mg_audit').columns(['actor', 'revision']).execute();
      },
    },
    '0006_publish_history': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // Every publish and rollback of an MCP server: what rollback walks back through, and what the console shows.
        await db.schema.createTable('mg_publish_history')
          .addColumn('server_id', key(36), (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('action', key(16), (c) => c.notNull())
          .addColumn('version', key(128), (c) => c.notNull())
          .addColumn('previous_version', key(128))
          .addColumn('actor', key(128), (c) => c.notNull())
          .addColumn('note', big, (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_publish_history_pk', ['server_id', 'seq'])
          .modifyEnd(suffix).execute();
        // Operator-facing state that changes no revision: when gateways last let a consumer key in,
        // and why the last health check of a persistent instance failed.
        await db.schema.alterTable('mg_consumers').addColumn('last_used_at', 'bigint').execute();
        await db.schema.alterTable('mg_instances').addColumn('health_detail', big).execute();
      },
    },
    '0007_version_etag': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // The entity-tag of each version, new on every write: what If-Match is compared with.
        await db.schema.alterTable('mg_mcp_server_versions').addColumn('etag', key(64), (c) => c.notNull().defaultTo('')).execute();
        const rows = await db.selectFrom('mg_mcp_server_versions').select(['server_id', 'version']).execute() as { server_id: string; version: string }[];
        for (const r of rows) {
          await db.updateTable('mg_mcp_server_versions').set({ etag: newEtag() })
            .where('server_id', '=', r.server_id).where('version', '=', r.version).execute();
        }
      },
    },
    '0008_credential_generation': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // Login tokens name the user by an id (a user deleted and created again is another user) and by
        // the generation of its credentials (a password change revokes the tokens issued before it).
        await db.schema.alterTable('mg_users').addColumn('user_id', key(36)).execute();
        await db.schema.alterTable('mg_users').addColumn('credential_generation', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        const users = await db.selectFrom('mg_users').select('username').execute() as { username: string }[];
        for (const u of users) await db.updateTable('mg_users').set({ user_id: randomUUID() }).where('username', '=', u.username).execute();
        await db.schema.createIndex('mg_users_user_id').on('mg_users').column('user_id').unique().execute();
      },
    },
    '0009_consumer_allow_entries': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // Allow-lists were `server` or `server/tool` strings, ambiguous since server names may hold `/`.
        const consumers = await db.selectFrom('mg_consumers').select(['id', 'namespace', 'allow']).where('allow', 'is not', null)
          .execute() as { id: string; namespace: string; allow: string }[];
        if (consumers.length === 0) return;
        const servers = await db.selectFrom('mg_mcp_servers').select(['namespace', 'name']).execute() as { namespace: string; name: string }[];
        const names = new Set(servers.map((s) => `${s.namespace}\n${s.name}`));
        for (const c of consumers) {
          const allow = structuredAllow(JSON.parse(c.allow) as unknown[], (name) => names.has(`${c.namespace}\n${name}`));
          await db.updateTable('mg_consumers').set({ allow: JSON.stringify(allow) }).where('id', '=', c.id).execute();
        }
      },
    },
    '0010_version_revisions': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // A published version overwritten the Nacos way keeps every content it had, by revision;
        // the version row holds the one served, the history says which revision each event served.
        await db.schema.alterTable('mg_mcp_server_versions').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1)).execute();
        await db.schema.alterTable('mg_publish_history').addColumn('revision', 'integer').execute();
        await db.schema.alterTable('mg_publish_history').addColumn('previous_revision', 'integer').execute();
        await db.schema.createTable('mg_mcp_version_revisions')
          .addColumn('server_id', key(36), (c) => c.notNull())
          .addColumn('version', key(128), (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('spec', big, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('actor', key(128), (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_mcp_version_revisions_pk', ['server_id', 'version', 'revision'])
          .modifyEnd(suffix).execute();
      },
    },
    '0011_namespace_authorization': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // A namespace's MCP authorization and rate-limit settings (JSON, secrets included), apart
        // from the namespace row so that namespace listings never carry them.
        await db.schema.createTable('mg_namespace_authorization')
          .addColumn('namespace', key(128), (c) => c.primaryKey())
          .addColumn('settings', big, (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
      },
    },
    '0012_instance_kinds': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // A registration checks that its service holds no instance of the other kind: one index seek, whatever the
        // service's size (it read every instance of the service before). Also serves every lookup by service alone.
        await db.schema.createIndex('mg_instances_service_kind').on('mg_instances').columns(['service_id', 'ephemeral']).execute();
        const drop = db.schema.dropIndex('mg_instances_service');
        // MySQL names the table of an index it drops; the others refuse the clause.
        await (d.name === 'mysql' ? drop.on('mg_instances') : drop).execute();
      },
    },
    '0013_gateway_reports': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // The last report of each gateway, written by the registry node that took it (the one it follows), so that
        // every node lists every gateway alike (the console's Gateways page). Times by the database's clock.
        await db.schema.createTable('mg_gateway_reports')
          .addColumn('id', key(200), (c) => c.primaryKey())
          .addColumn('node', key(128), (c) => c.notNull())
          .addColumn('kind', key(16), (c) => c.notNull())
          .addColumn('revision', 'bigint', (c) => c.notNull())
          .addColumn('watch_connections', 'integer', (c) => c.notNull())
          .addColumn('remote_address', key(64))
          .addColumn('status', big, (c) => c.notNull())
          .addColumn('last_seen', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_gateway_reports_seen').on('mg_gateway_reports').column('last_seen').execute();
      },
    },
    '0014_activity': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // The console's Activity page: tool calls as gateways report them, added up per tool and
        // minute across replicas (a fixed latency histogram, l0…l11, adds up too), the error kinds
        // and agents of each minute, and the last failures with their request and answer redacted.
        let t = db.schema.createTable('mg_activity')
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('server', key(255), (c) => c.notNull())
          .addColumn('tool', key(128), (c) => c.notNull())
          .addColumn('minute', 'bigint', (c) => c.notNull())
          .addColumn('calls', 'bigint', (c) => c.notNull())
          .addColumn('errors', 'bigint', (c) => c.notNull())
          .addColumn('latency_sum', 'double precision', (c) => c.notNull());
        for (let i = 0; i < 12; i++) t = t.addColumn(`l${i}`, 'bigint', (c) => c.notNull());
        await t.addPrimaryKeyConstraint('mg_activity_pk', ['namespace', 'server', 'tool', 'minute']).modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_activity_minute').on('mg_activity').column('minute').execute();
        await db.schema.createTable('mg_activity_kinds')
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('server', key(255), (c) => c.notNull())
          .addColumn('tool', key(128), (c) => c.notNull())
          .addColumn('minute', 'bigint', (c) => c.notNull())
          .addColumn('kind', key(64), (c) => c.notNull())
          .addColumn('count', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_activity_kinds_pk', ['namespace', 'server', 'tool', 'minute', 'kind'])
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_activity_kinds_minute').on('mg_activity_kinds').column('minute').execute();
        await db.schema.createTable('mg_activity_agents')
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('server', key(255), (c) => c.notNull())
          .addColumn('tool', key(128), (c) => c.notNull())
          .addColumn('minute', 'bigint', (c) => c.notNull())
          .addColumn('agent', key(128), (c) => c.notNull())
          .addColumn('agent_version', key(64), (c) => c.notNull())
          .addColumn('calls', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mg_activity_agents_pk', ['namespace', 'server', 'tool', 'minute', 'agent', 'agent_version'])
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_activity_agents_minute').on('mg_activity_agents').column('minute').execute();
        await db.schema.createTable('mg_activity_errors')
          .addColumn('id', key(36), (c) => c.primaryKey())
          .addColumn('namespace', key(128), (c) => c.notNull())
          .addColumn('server', key(255), (c) => c.notNull())
          .addColumn('tool', key(128), (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('kind', key(64), (c) => c.notNull())
          .addColumn('message', big, (c) => c.notNull())
          .addColumn('agent', key(128), (c) => c.notNull())
          .addColumn('agent_version', key(64), (c) => c.notNull())
          .addColumn('gateway', key(200))
          .addColumn('request', big, (c) => c.notNull())
          .addColumn('answer', big, (c) => c.notNull())
          .modifyEnd(suffix).execute();
        await db.schema.createIndex('mg_activity_errors_tool').on('mg_activity_errors').columns(['namespace', 'server', 'tool', 'at']).execute();
        await db.schema.createIndex('mg_activity_errors_at').on('mg_activity_errors').column('at').execute();
      },
    },
    '0016_instance_expiry_index': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // No query can use (ephemeral, last_beat): the expiry sweep compares `last_beat + beat_timeout` (each instance's
        // own timeout), so the index only narrowed to ephemeral instances, nearly all rows, and planners scan the table.
        // It cost every registration an index entry and every heartbeat one more (an update of an indexed column is
        // never a heap-only update on PostgreSQL).
        const drop = db.schema.dropIndex('mg_instances_expiry');
        // MySQL names the table of an index it drops; the others refuse the clause.
        await (d.name === 'mysql' ? drop.on('mg_instances') : drop).execute();
      },
    },
    '0017_instance_leases': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async up(db: Kysely<any>) {
        // Ephemeral instances a registry node's gRPC connections hold name that node's lease instead of each beating:
        // the node renews one row, and the expiry sweep reads an instance's last beat as the later of its own and its
        // holder's last renewal (a node that dies stops renewing, and its instances expire as if their beats stopped).
        await db.schema.alterTable('mg_instances').addColumn('holder', key(128)).execute();
        await db.schema.createTable('mg_instance_leases')
          .addColumn('holder', key(128), (c) => c.primaryKey())
          .addColumn('renewed_at', 'bigint', (c) => c.notNull())
          .modifyEnd(suffix).execute();
      },
    },
  };
  return { getMigrations: async () => all };
}

/** Tool names as they were when migration 0009 ran (MCP guidance). */
const TOOL_NAME_0009 = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Migration 0009's reading of an old allow-list. The gateway used to match an entry `x/y` both
 * as the whole server `x/y` and as tool `y` of server `x`; the structured entry keeps, of those,
 * the grants on servers that exist in the namespace now (both when both exist), so nobody loses
 * access on upgrade, and a server created later under either name gains nothing. When neither
 * exists, `x/y` keeps its documented meaning, tool `y` of server `x`. Entries of one server merge.
 */
export function structuredAllow(old: unknown[], exists: (server: string) => boolean): { server: string; tools?: string[] }[] {
  const byServer = new Map<string, Set<string> | null>();
  const grant = (server: string, tool?: string) => {
    const had = byServer.get(server);
    if (had === null) return;
    if (tool === undefined) byServer.set(server, null);
    else byServer.set(server, new Set([...(had ?? []), tool]));
  };
  for (const entry of old) {
    if (typeof entry !== 'string' || entry === '') continue;
    const cut = entry.lastIndexOf('/');
    if (cut < 0) {
      grant(entry);
      continue;
    }
    const server = entry.slice(0, cut);
    const tool = entry.slice(cut + 1);
    const asTool = server !== '' && TOOL_NAME_0009.test(tool);
    if (exists(entry) || !asTool) grant(entry);
    if (asTool && (exists(server) || !exists(entry))) grant(server, tool);
  }
  return [...byServer].map(([server, tools]) => (tools ? { server, tools: [...tools] } : { server }));
}
