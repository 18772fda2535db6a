/**
 * Real databases for tests. SQLite always runs; PostgreSQL and MariaDB/MySQL run when they
 * answer (defaults: the machine's local servers; override with MCPGATE_TEST_POSTGRES_URL /
 * MCPGATE_TEST_MYSQL_URL). Each call creates a fresh, empty database and drops it after.
 * With MCPGATE_TEST_REQUIRE_SERVICES=1 (set by CI) a service that does not answer fails the
 * suite instead of skipping it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createConnection } from 'mysql2/promise';

/** Whether a missing service must fail the tests (CI) rather than skip them. */
export const requireServices = process.env.MCPGATE_TEST_REQUIRE_SERVICES === '1';

const POSTGRES_URL = process.env.MCPGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.MCPGATE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A throw-away database: its URL and how to drop it. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres' | 'mysql';
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function createPostgres(): Promise<TestDatabase> {
  const name = `mcpgate_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    kind: 'postgres', url: withDatabase(POSTGRES_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      try { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } finally { await c.end(); }
    },
  };
}

async function createMysql(): Promise<TestDatabase> {
  const name = `mcpgate_t_${randomBytes(5).toString('hex')}`;
  const c = await createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
  try {
    await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await c.end();
  }
  return {
    kind: 'mysql', url: withDatabase(MYSQL_URL, name),
    async drop() {
      const d = await createConnection({ uri: MYSQL_URL });
      try { await d.query(`DROP DATABASE IF EXISTS ${name}`); } finally { await d.end(); }
    },
  };
}

function createSqlite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-test-'));
  return { kind: 'sqlite', url: `sqlite:${join(dir, 'registry.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** One database maker per dialect, with the reason it is unavailable (if it is). */
export interface DatabaseKind {
  kind: TestDatabase['kind'];
  create(): Promise<TestDatabase>;
  /** Why this kind cannot run here; undefined when it can. */
  unavailable?: string;
}

async function probe(kind: 'postgres' | 'mysql'): Promise<string | undefined> {
  try {
    const db = kind === 'postgres' ? await createPostgres() : await createMysql();
    await db.drop();
    return undefined;
  } catch (err) {
    const reason = `${kind} is not reachable (${err instanceof Error ? err.message : String(err)})`;
    if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
    return reason;
  }
}

let kinds: Promise<DatabaseKind[]> | undefined;

/** Every dialect to test against, probed once per process. */
export function databaseKinds(): Promise<DatabaseKind[]> {
  kinds ??= (async () => [
    { kind: 'sqlite' as const, create: async () => createSqlite() },
    { kind: 'postgres' as const, create: createPostgres, unavailable: await probe('postgres') },
    { kind: 'mysql' as const, create: createMysql, unavailable: await probe('mysql') },
  ])();
  return kinds;
}
