import type { Socket } from 'node:net';
import { PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DedicatedConnection, StoreDialect, TypedColumn } from './dialect.js';
import { NETWORK_ERROR_CODES, connectionLife, errorCode, lockKey } from './dialect.js';

// int8 (bigint) columns hold epoch milliseconds and revisions: safe as JS numbers.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** The channel on which write transactions announce their revision. */
const REVISION_CHANNEL = 'mcpgate_revision';

/** A pg client outside the pool, for advisory locks and LISTEN. */
async function dedicated(url: string, setup?: (client: pg.Client) => void): Promise<DedicatedConnection> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  const { closed, close, guard } = connectionLife();
  client.on('error', close);
  client.on('end', close);
  setup?.(client);
  try {
    await client.connect();
    const r = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const sessionId = Number(r.rows[0]?.pid);
    return {
      sessionId, closed,
      query: (text, parameters) => guard(async () => {
        const res = await client.query(text, parameters as unknown[]);
        return { rows: res.rows as Record<string, unknown>[], affected: res.rowCount ?? 0 };
      }),
      async end() { await client.end(); },
      destroy() {
        (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
        close();
      },
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

const quote = (name: string) => `"${name}"`;
const ARRAY_TYPES: Record<TypedColumn['type'], string> = { text: 'text[]', integer: 'integer[]', smallint: 'smallint[]', bigint: 'bigint[]', double: 'double precision[]' };
const arrays = (columns: readonly TypedColumn[], first = 1) => columns.map((c, i) => `$${i + first}::${ARRAY_TYPES[c.type]}`).join(', ');

/**
 * `unnest(…) as k cross join lateral (…) r`: the row `r` of `table` whose unique key `columns` equal
 * key `k`, the keys' arrays bound from parameter `first` on; `where` columns equal parameters
 * numbered from `first - where.length` (those of the statement around it). A lateral subquery with a
 * limit is never flattened into a join: one probe of the unique key's index per key, where a join was
 * planned as a hash join over the whole table when its statistics were missing or small.
 */
function byKeys(table: string, columns: readonly TypedColumn[], first: number, where: readonly string[] = []): string {
  const on = [
    ...columns.map((c) => `t.${quote(c.name)} = k.${quote(c.name)}`),
    ...where.map((c, i) => `t.${quote(c)} = $${first - where.length + i}`),
  ].join(' and ');
  return `unnest(${arrays(columns, first)}) as k(${columns.map((c) => quote(c.name)).join(', ')}) cross join lateral (select * from ${quote(table)} t where ${on} limit 1) r`;
}

/**
 * A pg client that runs the statement texts in `named` as named statements (node-postgres
 * prepares a name once per connection, then only binds and executes it). Kysely passes every
 * query as a text and its parameters, with no way to name it, hence this subclass.
 */
function preparingClient(named: ReadonlyMap<string, string>): typeof pg.Client {
  return class extends pg.Client {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(config: any, values?: any, callback?: any): any {
      const name = typeof config === 'string' ? named.get(config) : undefined;
      return name === undefined ? super.query(config, values, callback) : super.query({ name, text: config, values }, callback);
    }
  } as typeof pg.Client;
}

/** PostgreSQL through node-postgres. */
export function postgresDialect(url: string, poolSize = 10): StoreDialect {
  /** Statement texts prepared on every connection, and their names. */
  const named = new Map<string, string>();
  return {
    name: 'postgres',
    create() {
      const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000, Client: preparingClient(named) });
      pool.on('error', () => { /* an idle client died; the pool replaces it */ });
      return new PostgresDialect({ pool });
    },
    supportsReturning: true,
    upsert: 'on-conflict',
    largeTextType: 'text',
    keyTextType: (n) => `varchar(${n})`,
    createTableSuffix: '',
    relaxedDurabilitySql: 'SET LOCAL synchronous_commit TO OFF',
    nowMillisSql: '(extract(epoch from clock_timestamp()) * 1000)::bigint',
    selectByKeyArrays: (table, columns, select) => `select ${select.map((c) => `r.${quote(c)}`).join(', ')} from ${byKeys(table, columns, 1)}`,
    updateByKeyArrays: (table, key, set, where, returning) => {
      const assign = set.map((c, i) => `${quote(c)} = $${i + 1}`).join(', ');
      const conditions = where.map((c, i) => `${quote(c)} = $${set.length + i + 1}`).join(' and ');
      // The rows by id from an array the lookup fills (one probe of the primary key each), conditions repeated
      // outside so that a row a concurrent write changed is checked again before it is updated.
      return `update ${quote(table)} set ${assign} where ${conditions} and "id" = any(array(select r."id" from ${byKeys(table, key, set.length + where.length + 1, where)}))`
        + ` returning ${returning.map(quote).join(', ')}`;
    },
    insertByArrays: (table, columns) => `insert into ${quote(table)} (${columns.map((c) => quote(c.name)).join(', ')}) select * from unnest(${arrays(columns)})`,
    prepare: (text) => {
      if (!named.has(text)) named.set(text, `mg_${named.size + 1}`);
    },
    // Session-level advisory locks: per database, released when the backend's session ends.
    sessionLock: {
      connect: () => dedicated(url),
      async tryLock(c, name) {
        const r = await c.query('select pg_try_advisory_lock($1::bigint) as got', [lockKey(name)]);
        return r.rows[0]?.got === true;
      },
      async unlock(c, name) {
        await c.query('select pg_advisory_unlock($1::bigint)', [lockKey(name)]);
      },
      async holder(c, name) {
        // A bigint advisory key shows in pg_locks as classid (high half), objid (low half), objsubid 1.
        const r = await c.query(
          `select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1
             and database = (select oid from pg_database where datname = current_database())
             and ((classid::bigint << 32) | objid::bigint) = $1::bigint`, [lockKey(name)]);
        const pid = r.rows[0]?.pid;
        return pid === undefined || pid === null ? undefined : Number(pid);
      },
      async terminate(c, sessionId) {
        try {
          const r = await c.query('select pg_terminate_backend($1::int) as ok', [sessionId]);
          return r.rows[0]?.ok === true;
        } catch {
          return false; // not permitted (another role's or a superuser's session)
        }
      },
    },
    revisionPush: {
      announce: (revision) => sql`select pg_notify(${REVISION_CHANNEL}, ${String(revision)})`,
      async listen(onRevision) {
        const c = await dedicated(url, (client) => {
          client.on('notification', (m) => {
            const r = Number(m.payload);
            if (m.channel === REVISION_CHANNEL && Number.isSafeInteger(r)) onRevision(r);
          });
        });
        try {
          await c.query(`listen ${REVISION_CHANNEL}`, []);
        } catch (err) {
          c.destroy();
          throw err;
        }
        return c;
      },
    },
    isUniqueViolation: (err) => errorCode(err) === '23505',
    isUnavailable: (err) => NETWORK_ERROR_CODES.has(errorCode(err) ?? '') || errorCode(err) === '57P01',
  };
}
