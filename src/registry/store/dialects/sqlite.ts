import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqliteDialect } from 'kysely';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type { StoreDialect } from './dialect.js';
import { errorCode } from './dialect.js';
import { Database, sqliteModulePath } from './sqlite-driver.js';
import type { Statement } from './sqlite-driver.js';

/**
 * better-sqlite3 prepares a statement for every query Kysely sends, which costs as much as
 * running it; the store sends a small, fixed set of SQL texts, so prepared statements are
 * kept and reused (bounded, least recently used out).
 */
function cachingStatements(db: Database, onClose: () => void, max = 500): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      onClose();
      db.close();
    },
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

/**
 * How often the checkpointer copies the WAL into the database file. Each checkpoint that finds
 * frames syncs both files: once a second is fewer syncs than SQLite's own every 1,000 pages under
 * a registration storm, and no more than one a second when writes are sparse.
 */
const CHECKPOINT_EVERY_MS = 1000;
/**
 * WAL pages after which a commit checkpoints itself (SQLite's own automatic checkpoint): a
 * backstop on the WAL's size (64 MiB). Under writes that never pause, a checkpoint running beside
 * them never finds the WAL fully copied, so the WAL is not restarted and grows until then; the
 * checkpoint the backstop runs finds most of its frames copied already.
 */
const WAL_BACKSTOP_PAGES = 16_384;

/**
 * The checkpointer's thread: its own connection to the file, a PASSIVE checkpoint (never waits
 * for, nor blocks, the writer) every `everyMs`; on a message, it closes its connection, says so
 * through `done` and ends.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const done = new Int32Array(workerData.done);
const db = new Database(workerData.file, { fileMustExist: true });
const timer = setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  parentPort.close();
});
`;

/**
 * WAL checkpoints of a database file in a worker thread. better-sqlite3 runs every statement on
 * the event loop's thread, and SQLite's automatic checkpoint runs inside the commit that crosses
 * the threshold: it copies the WAL's pages into the database and syncs both files (the only
 * syncs in WAL mode with `synchronous = NORMAL`), milliseconds to tens of milliseconds on a busy
 * disk during which no request, push or heartbeat of the registry is served. Here the commit
 * only appends to the WAL, and the copy and the syncs happen on another thread (a second
 * connection, as SQLite allows: a PASSIVE checkpoint takes no lock a writer waits for). Durability
 * is unchanged (a commit is in the WAL before it is answered; the checkpoint only moves it).
 * Hand-written: no maintained package runs SQLite checkpoints off the main thread.
 * Returns what stops it: the worker's connection is closed before the caller's own, so that the
 * last connection to close (the caller's) folds the WAL back into the file, as SQLite does.
 */
function startCheckpointer(file: string): () => void {
  const done = new SharedArrayBuffer(4);
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: { file, module: sqliteModulePath, done, everyMs: CHECKPOINT_EVERY_MS },
  });
  const flag = new Int32Array(done);
  worker.unref();
  // A worker that failed (or ended) has no connection to close: the close below does not wait for it.
  const gone = () => Atomics.store(flag, 0, 1);
  worker.on('error', gone);
  worker.on('exit', gone);
  return () => {
    worker.postMessage('close');
    // A bounded wait (the worker finishes a checkpoint in progress, then closes): the store's close is synchronous here.
    Atomics.wait(flag, 0, 0, 2000);
  };
}

/** SQLite through better-sqlite3 (the build for this Node: ./sqlite-driver.ts): WAL journal, NORMAL sync (durable across process crashes), checkpoints in a worker thread. */
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
      if (file === ':memory:') return new SqliteDialect({ database: cachingStatements(db, () => undefined) });
      db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
      return new SqliteDialect({ database: cachingStatements(db, startCheckpointer(file)) });
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
