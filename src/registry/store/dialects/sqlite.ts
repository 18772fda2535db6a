import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type { StoreDialect } from './dialect.js';
import { errorCode } from './dialect.js';

/**
 * better-sqlite3 prepares a statement for every query Kysely sends, which costs as much as
 * running it; the store sends a small, fixed set of SQL texts, so prepared statements are
 * kept and reused (bounded, least recently used out).
 */
function cachingStatements(db: Database.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt as unknown as SqliteStatement;
    },
  };
}

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
      return new SqliteDialect({ database: cachingStatements(db) });
    },
    supportsReturning: true,
    upsert: 'on-conflict',
    largeTextType: 'text',
    keyTextType: () => 'text',
    createTableSuffix: '',
    nowMillisSql: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    // One process owns the file: it always leads.
    sessionLock: 'single-node',
    isUniqueViolation: (err) => errorCode(err)?.startsWith('SQLITE_CONSTRAINT_UNIQUE') === true || errorCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    isUnavailable: (err) => errorCode(err) === 'SQLITE_BUSY' || errorCode(err) === 'SQLITE_CANTOPEN',
  };
}
