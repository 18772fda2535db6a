import { createHash } from 'node:crypto';
import type { Dialect, RawBuilder } from 'kysely';

/**
 * What differs between databases, as capabilities of one adapter: the store core reads
 * these flags and never asks which database it talks to.
 */
export interface StoreDialect {
  readonly name: 'sqlite' | 'postgres' | 'mysql';
  /** Creates the Kysely dialect (and its connection pool). */
  create(): Dialect;
  /** `UPDATE … RETURNING` is available. */
  readonly supportsReturning: boolean;
  /**
   * How one INSERT updates the rows whose key exists already: `on-conflict` (PostgreSQL, SQLite:
   * `ON CONFLICT … DO UPDATE`, new values as `excluded.col`) or `on-duplicate-key` (MySQL/MariaDB:
   * `ON DUPLICATE KEY UPDATE`, new values as `VALUES(col)`).
   */
  readonly upsert: 'on-conflict' | 'on-duplicate-key';
  /** Column type for large JSON documents (MySQL's TEXT stops at 64 KiB). */
  readonly largeTextType: 'text' | 'longtext';
  /** Column type for bounded strings used in keys and indexes. */
  readonly keyTextType: (length: number) => string;
  /** SQL appended to CREATE TABLE (MySQL: case-sensitive collation, InnoDB). */
  readonly createTableSuffix: string;
  /**
   * SQL run first in a transaction whose loss in a crash is harmless (ephemeral instances
   * re-register from their next heartbeat), so its commit does not wait for the disk.
   */
  readonly relaxedDurabilitySql?: string;
  /**
   * SQL expression for the database server's clock in epoch milliseconds. Leases and node
   * liveness are judged by this one clock, so registry nodes need not agree on the time.
   */
  readonly nowMillisSql: string;
  /**
   * How registry nodes sharing the database choose the one that runs the singleton jobs:
   * a lock held by a session of its own (released by the database when that session ends,
   * however it ends), or `'single-node'` when only one process can use the database (SQLite),
   * which therefore always leads.
   */
  readonly sessionLock: SessionLockCapability | 'single-node';
  /**
   * A lookup of rows by many values of a unique key as one statement with an array parameter per
   * key column, expanded by `unnest` (PostgreSQL): the SQL selecting `select` of `table`'s rows
   * whose unique key `columns` equal one of the keys, the i-th parameter holding every key's i-th
   * column. Its text is the same for any number of keys, and its plan one probe of the key's index
   * per key. Absent: an OR of one equality group per key, which PostgreSQL's planner, on a table it
   * has no statistics for yet (one filling with registrations), ran as a scan of the whole index.
   */
  readonly selectByKeyArrays?: (table: string, columns: readonly TypedColumn[], select: readonly string[]) => string;
  /**
   * With `selectByKeyArrays`: one UPDATE of the rows of `table` (which has an `id` primary key) whose
   * unique key `key` is one of many keys and whose `where` columns equal given values, setting the
   * `set` columns, answering the `returning` columns of the rows it updated. Parameters: the `set`
   * values, the `where` values, then one array per key column.
   */
  readonly updateByKeyArrays?: (table: string, key: readonly TypedColumn[], set: readonly string[], where: readonly string[], returning: readonly string[]) => string;
  /**
   * A multi-row insert as one statement with an array parameter per column (PostgreSQL: `insert …
   * select * from unnest(…)`), the i-th parameter holding every row's i-th column: one text and one
   * plan for any number of rows, where a VALUES list is parsed, bound and planned anew for each row
   * count (about twice the database's CPU per row). Absent: a VALUES list.
   */
  readonly insertByArrays?: (table: string, columns: readonly TypedColumn[]) => string;
  /**
   * Mark a statement text as run often, with parameters: the driver prepares it once per
   * connection and runs it by name after (PostgreSQL named statements: parsed and planned once).
   * Only for a few fixed texts; a statement it prepares must name the columns it reads (a prepared
   * `select *` fails once another node's migration adds a column).
   */
  readonly prepare?: (text: string) => void;
  /** Revisions announced by the database on commit to listening nodes (absent: nodes poll). */
  readonly revisionPush?: RevisionPushCapability;
  /** Whether an error from the driver is a unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  /** Whether an error from the driver means the database is unreachable. */
  isUnavailable(err: unknown): boolean;
}

/** A column a statement binds as an array, with the type of its values. */
export interface TypedColumn {
  readonly name: string;
  readonly type: 'text' | 'integer' | 'smallint' | 'bigint' | 'double';
}

/**
 * A database connection of its own, outside the pool, whose session state (locks held,
 * channels listened to) belongs to it alone.
 */
export interface DedicatedConnection {
  /** The database's id of this session (`pg_backend_pid()`, `CONNECTION_ID()`). */
  readonly sessionId: number;
  /** Run one statement compiled by the store's Kysely instance (same placeholder style). */
  query(sql: string, parameters: readonly unknown[]): Promise<{ rows: Record<string, unknown>[]; affected: number }>;
  /** Resolves once, when the connection broke or ended for any reason. */
  readonly closed: Promise<void>;
  /** Close politely; the database releases the session's locks at once. */
  end(): Promise<void>;
  /** Drop the socket without a goodbye, as a killed process does; the database ends the session when it sees the socket close. */
  destroy(): void;
}

/**
 * A named lock held by a database session and released by the database when that session
 * ends (PostgreSQL `pg_try_advisory_lock`, MySQL/MariaDB `GET_LOCK`). Lock names are scoped
 * to the database the store uses, so several mcpgate databases on one server do not collide.
 */
export interface SessionLockCapability {
  /** Open a dedicated connection to hold locks on. */
  connect(): Promise<DedicatedConnection>;
  /** Take `name` without waiting; true when this session now holds it. Call only while not holding it (locks nest). */
  tryLock(c: DedicatedConnection, name: string): Promise<boolean>;
  /** Release `name` held by this session. */
  unlock(c: DedicatedConnection, name: string): Promise<void>;
  /** The id of the session holding `name`, if one does. */
  holder(c: DedicatedConnection, name: string): Promise<number | undefined>;
  /** End another session (to fence off a hung holder); false when the database refused or no such session exists. */
  terminate(c: DedicatedConnection, sessionId: number): Promise<boolean>;
}

/** The database tells listening sessions about each committed revision (PostgreSQL LISTEN/NOTIFY). */
export interface RevisionPushCapability {
  /** The statement a write transaction runs so that its commit, and only its commit, announces `revision`. */
  announce(revision: number): RawBuilder<unknown>;
  /** Open a dedicated connection that calls `onRevision` for every announcement it hears. */
  listen(onRevision: (revision: number) => void): Promise<DedicatedConnection>;
}

/** Error codes of Node's network layer that mean "the database is not there". */
export const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);

/** The `code` property of a driver error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A positive 63-bit integer for a lock name (PostgreSQL advisory locks take numbers), as decimal text. */
export function lockKey(name: string): string {
  const b = createHash('sha256').update(`mcpgate.lock:${name}`).digest();
  return (b.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn).toString();
}

/**
 * The life of a dedicated connection: `closed` resolves on the first close or error, and
 * `guard` makes a query fail at once when the connection is (or becomes) closed — some
 * drivers never answer a query sent on a connection the server has ended.
 */
export function connectionLife(): {
  closed: Promise<void>;
  close: () => void;
  guard: <T>(run: () => Promise<T>) => Promise<T>;
} {
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => { resolveClosed = resolve; });
  const pending = new Set<(err: Error) => void>();
  const close = () => {
    if (isClosed) return;
    isClosed = true;
    resolveClosed();
    for (const reject of pending) reject(new Error('the dedicated database connection closed'));
    pending.clear();
  };
  const guard = <T>(run: () => Promise<T>): Promise<T> => {
    if (isClosed) return Promise.reject(new Error('the dedicated database connection is closed'));
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      run().then(resolve, reject).finally(() => pending.delete(reject));
    });
  };
  return { closed, close, guard };
}
