import { createHash } from 'node:crypto';
import { MysqlDialect } from 'kysely';
import { createConnection, createPool } from 'mysql2';
import type { Connection } from 'mysql2';
import type { DedicatedConnection, StoreDialect } from './dialect.js';
import { NETWORK_ERROR_CODES, connectionLife, errorCode } from './dialect.js';

function run(conn: Connection, text: string, parameters: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; affected: number }> {
  return new Promise((resolve, reject) => {
    conn.query(text, parameters as unknown[], (err, result) => {
      if (err) { reject(err); return; }
      if (Array.isArray(result)) resolve({ rows: result as Record<string, unknown>[], affected: 0 });
      else resolve({ rows: [], affected: Number((result as { affectedRows?: number }).affectedRows ?? 0) });
    });
  });
}

/** A mysql2 connection outside the pool, for GET_LOCK. */
async function dedicated(url: string): Promise<DedicatedConnection> {
  const conn = createConnection({ uri: url, connectTimeout: 5000, supportBigNumbers: true, charset: 'utf8mb4', enableKeepAlive: true });
  const { closed, close, guard } = connectionLife();
  conn.on('error', close);
  conn.on('end', close);
  try {
    const r = await guard(() => run(conn, 'SELECT CONNECTION_ID() AS id', []));
    (conn as unknown as { stream?: NodeJS.EventEmitter }).stream?.once('close', close);
    return {
      sessionId: Number(r.rows[0]?.id), closed,
      query: (text, parameters) => guard(() => run(conn, text, parameters)),
      end: () => new Promise<void>((resolve) => { conn.end(() => resolve()); }),
      destroy() { conn.destroy(); close(); },
    };
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/**
 * GET_LOCK names are global to the server: prefix them with the database's name (and
 * hash when too long: MySQL allows 64 characters).
 */
function lockName(database: string, name: string): string {
  const plain = `mcpgate.${database}.${name}`;
  return plain.length <= 64 ? plain : `mcpgate.${createHash('sha1').update(`${database}.${name}`).digest('hex')}`;
}

/** MySQL 8 / MariaDB 10.6+ through mysql2. Tables use a binary collation: names are case-sensitive, as in Nacos. */
export function mysqlDialect(url: string, poolSize = 10): StoreDialect {
  const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return {
    name: 'mysql',
    create() {
      const pool = createPool({ uri: url, connectionLimit: poolSize, connectTimeout: 5000, supportBigNumbers: true, charset: 'utf8mb4' });
      return new MysqlDialect({ pool });
    },
    supportsReturning: false,
    upsert: 'on-duplicate-key',
    largeTextType: 'longtext',
    keyTextType: (n) => `varchar(${n})`,
    createTableSuffix: 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    // UTC arithmetic only: no session time zone (and no daylight-saving fold) involved.
    nowMillisSql: "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)",
    // GET_LOCK: held by the session, released when it ends.
    sessionLock: {
      connect: () => dedicated(url),
      async tryLock(c, name) {
        const r = await c.query('SELECT GET_LOCK(?, 0) AS got', [lockName(database, name)]);
        return Number(r.rows[0]?.got) === 1;
      },
      async unlock(c, name) {
        await c.query('SELECT RELEASE_LOCK(?) AS released', [lockName(database, name)]);
      },
      async holder(c, name) {
        const r = await c.query('SELECT IS_USED_LOCK(?) AS id', [lockName(database, name)]);
        const id = r.rows[0]?.id;
        return id === undefined || id === null ? undefined : Number(id);
      },
      async terminate(c, sessionId) {
        if (!Number.isSafeInteger(sessionId) || sessionId <= 0) return false;
        try {
          await c.query(`KILL CONNECTION ${sessionId}`, []);
          return true;
        } catch {
          return false; // unknown thread, or another user's session without the privilege
        }
      },
    },
    isUniqueViolation: (err) => errorCode(err) === 'ER_DUP_ENTRY',
    isUnavailable: (err) => NETWORK_ERROR_CODES.has(errorCode(err) ?? ''),
  };
}
