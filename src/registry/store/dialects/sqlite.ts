import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { StoreDialect } from './dialect.js';
import { errorCode } from './dialect.js';

/** SQLite through better-sqlite3: WAL journal, NORMAL sync (durable across process crashes). */
export function sqliteDialect(file: string): StoreDialect {
  return {
    name: 'sqlite',
    create() {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      return new SqliteDialect({ database: db });
    },
    supportsReturning: true,
    largeTextType: 'text',
    keyTextType: () => 'text',
    createTableSuffix: '',
    isUniqueViolation: (err) => errorCode(err)?.startsWith('SQLITE_CONSTRAINT_UNIQUE') === true || errorCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    isUnavailable: (err) => errorCode(err) === 'SQLITE_BUSY' || errorCode(err) === 'SQLITE_CANTOPEN',
  };
}
