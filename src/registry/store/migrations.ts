import { sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from './dialects/dialect.js';

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
  };
  return { getMigrations: async () => all };
}
