import { resolve } from 'node:path';
import { AppError } from '../../lib/errors.js';
import type { StoreDialect } from './dialects/dialect.js';
import { mysqlDialect } from './dialects/mysql.js';
import { postgresDialect } from './dialects/postgres.js';
import { sqliteDialect } from './dialects/sqlite.js';
import { KyselyStore } from './kysely-store.js';
import type { Store } from './store.js';

/**
 * The dialect for a database URL: `sqlite:PATH` (relative to the working directory,
 * `sqlite::memory:` for a throw-away one), `postgres://…` / `postgresql://…`, `mysql://…` / `mariadb://…`.
 */
export function dialectFor(url: string): StoreDialect {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (path === '') throw new AppError('VALIDATION_FAILED', "db: a sqlite URL needs a path, as in 'sqlite:./data/mcpgate.db'", 'db');
    return sqliteDialect(path === ':memory:' ? path : resolve(path));
  }
  if (/^postgres(ql)?:\/\//.test(url)) return postgresDialect(url);
  if (/^(mysql|mariadb):\/\//.test(url)) return mysqlDialect(url.replace(/^mariadb:/, 'mysql:'));
  throw new AppError('VALIDATION_FAILED', `db: unsupported database URL '${url.replace(/\/\/[^@/]*@/, '//***@')}' (use sqlite:, postgres:// or mysql://)`, 'db');
}

/** Open the store for a database URL and apply its migrations. */
export async function openStore(url: string): Promise<Store> {
  const store = KyselyStore.open(dialectFor(url));
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
