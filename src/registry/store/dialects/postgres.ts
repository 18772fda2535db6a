import { PostgresDialect } from 'kysely';
import pg from 'pg';
import type { StoreDialect } from './dialect.js';
import { NETWORK_ERROR_CODES, errorCode } from './dialect.js';

// int8 (bigint) columns hold epoch milliseconds and revisions: safe as JS numbers.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** PostgreSQL through node-postgres. */
export function postgresDialect(url: string, poolSize = 10): StoreDialect {
  return {
    name: 'postgres',
    create() {
      const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
      pool.on('error', () => { /* an idle client died; the pool replaces it */ });
      return new PostgresDialect({ pool });
    },
    supportsReturning: true,
    largeTextType: 'text',
    keyTextType: (n) => `varchar(${n})`,
    createTableSuffix: '',
    relaxedDurabilitySql: 'SET LOCAL synchronous_commit TO OFF',
    isUniqueViolation: (err) => errorCode(err) === '23505',
    isUnavailable: (err) => NETWORK_ERROR_CODES.has(errorCode(err) ?? '') || errorCode(err) === '57P01',
  };
}
