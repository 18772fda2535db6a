import { MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { StoreDialect } from './dialect.js';
import { NETWORK_ERROR_CODES, errorCode } from './dialect.js';

/** MySQL 8 / MariaDB 10.6+ through mysql2. Tables use a binary collation: names are case-sensitive, as in Nacos. */
export function mysqlDialect(url: string, poolSize = 10): StoreDialect {
  return {
    name: 'mysql',
    create() {
      const pool = createPool({ uri: url, connectionLimit: poolSize, connectTimeout: 5000, supportBigNumbers: true, charset: 'utf8mb4' });
      return new MysqlDialect({ pool });
    },
    supportsReturning: false,
    largeTextType: 'longtext',
    keyTextType: (n) => `varchar(${n})`,
    createTableSuffix: 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    isUniqueViolation: (err) => errorCode(err) === 'ER_DUP_ENTRY',
    isUnavailable: (err) => NETWORK_ERROR_CODES.has(errorCode(err) ?? ''),
  };
}
