import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Database, SQLITE_PACKAGE, sqliteModulePath } from './sqlite-driver.js';

describe('the SQLite driver', () => {
  it('is better-sqlite3 13 (Node-API) from Node 22 on, 12 on Node 20', () => {
    const major = Number(process.versions.node.split('.')[0]);
    assert.equal(SQLITE_PACKAGE, major >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3');
    assert.match(sqliteModulePath, major >= 22 ? /better-sqlite3-napi/ : /node_modules\/better-sqlite3\//);
  });

  it('frees thousands of unreferenced statements, in a worker that then ends, without aborting the process', async () => {
    // What aborted better-sqlite3 12 on Node ≥ 24.19: statements collected by the GC, and a worker's
    // connection torn down with its environment (nodejs/node#65446).
    const worker = new Worker(`
      const Database = require(${JSON.stringify(sqliteModulePath)});
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (a INTEGER)');
      for (let i = 0; i < 20000; i++) db.prepare('INSERT INTO t VALUES (' + (i % 97) + ')').run();
      require('node:worker_threads').parentPort.postMessage(db.prepare('SELECT count(*) AS n FROM t').get().n);
    `, { eval: true });
    const [n] = await once(worker, 'message');
    assert.equal(n, 20000);
    const [code] = await once(worker, 'exit');
    assert.equal(code, 0);
    const db = new Database(':memory:');
    for (let i = 0; i < 20000; i++) db.prepare(`SELECT ${i % 97} AS v`).get();
    db.close();
  });
});
