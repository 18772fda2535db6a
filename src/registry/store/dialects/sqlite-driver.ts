/**
 * The better-sqlite3 build that runs on this Node.
 *
 * - better-sqlite3 12 wraps its objects in `node::ObjectWrap`. Built against Node 24.19 or later,
 *   whose `ObjectWrap` destructor asserts an entered context (nodejs/node#65446), it aborts the
 *   process when the garbage collector frees a statement outside JavaScript: on a request, on a
 *   worker's exit, at shutdown.
 * - better-sqlite3 13 uses Node-API instead and ships its builds in the package, but needs Node 22
 *   (on Node 20 it crashes on its first statement).
 *
 * So Node 22 and later load 13 (installed under the alias `better-sqlite3-napi`) and Node 20 loads
 * 12. Both have the same API; 12 goes when Node 20 support does.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);

/** The package name this Node loads. */
export const SQLITE_PACKAGE = Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

/** Its entry file (a worker thread loads the same one). */
export const sqliteModulePath: string = require.resolve(SQLITE_PACKAGE);

/** better-sqlite3's `Database` class. */
export const Database = require(sqliteModulePath) as typeof BetterSqlite3;
export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;
