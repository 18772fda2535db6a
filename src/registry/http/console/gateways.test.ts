/**
 * The gateway directory on a real store: two registry nodes (two directories) sharing one
 * database list the same gateways, with the node each follows; writes are batched per flush;
 * a node closing a watch connection does not take back a gateway another node holds now.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseKinds } from '../../../../test/support/databases.js';
import type { TestDatabase } from '../../../../test/support/databases.js';
import { openStore } from '../../store/open.js';
import type { GatewayReportWrite, Store } from '../../store/store.js';
import { GatewayDirectory } from './gateways.js';

const sqlite = (await databaseKinds()).find((k) => k.kind === 'sqlite')!;

describe('gateway directory on a shared store', () => {
  let db: TestDatabase;
  let store: Store;
  const directories: GatewayDirectory[] = [];
  const directory = (node: string, options: Partial<ConstructorParameters<typeof GatewayDirectory>[1]> = {}) => {
    const d = new GatewayDirectory(store, { nodeId: () => node, flushMs: 60_000, ...options });
    directories.push(d);
    return d;
  };

  before(async () => {
    db = await sqlite.create();
    store = await openStore(db.url);
  });
  after(async () => {
    for (const d of directories) await d.close();
    await store?.close();
    await db?.drop();
  });

  test('every node lists every gateway, with the node it follows and its state', async () => {
    const a = directory('node-a');
    const b = directory('node-b');
    const detach = a.attachLocal({ id: 'local-a', status: () => ({ revision: 5, sessions: 2, address: 'http://127.0.0.1:8080' }) });
    a.heartbeat('gw-1', { revision: 4, sessions: 3, streams: 1, version: '1.2.3' }, '10.0.0.1');
    const closeWatch = b.watchOpened('gw-2', 6, '10.0.0.2');
    const nodes = new Map([['node-a', { address: 'a:8848', alive: true }], ['node-b', { address: 'b:8848', alive: true }]]);
    // Node b flushes on listing; node a's reports are in the database once it flushed.
    await a.flush();
    const fromB = new Map((await b.list(6, nodes)).map((g) => [g.id, g]));
    assert.deepEqual([...fromB.keys()].sort(), ['gw-1', 'gw-2', 'local-a']);
    assert.deepEqual(pick(fromB.get('local-a')), { kind: 'in-process', state: 'connected', node: 'node-a', nodeAddress: 'a:8848', revision: 5, lag: 1 });
    assert.deepEqual(pick(fromB.get('gw-1')), { kind: 'remote', state: 'reporting', node: 'node-a', nodeAddress: 'a:8848', revision: 4, lag: 2 });
    assert.deepEqual([fromB.get('gw-1')?.sessions, fromB.get('gw-1')?.version, fromB.get('gw-1')?.remoteAddress], [3, '1.2.3', '10.0.0.1']);
    assert.deepEqual(pick(fromB.get('gw-2')), { kind: 'remote', state: 'connected', node: 'node-b', nodeAddress: 'b:8848', revision: 6, lag: 0 });
    const fromA = new Map((await a.list(6, nodes)).map((g) => [g.id, g]));
    assert.deepEqual([...fromA.keys()].sort(), ['gw-1', 'gw-2', 'local-a'], 'node a lists the same gateways');
    assert.equal(fromA.get('gw-2')?.state, 'connected');

    // Node b died: its gateways are no longer connected (they report again elsewhere, or go stale).
    const bDead = new Map([['node-a', { address: 'a:8848', alive: true }], ['node-b', { address: 'b:8848', alive: false }]]);
    assert.deepEqual(pick((await a.list(6, bDead)).find((g) => g.id === 'gw-2')), { kind: 'remote', state: 'reporting', node: 'node-b', nodeAddress: 'b:8848', revision: 6, lag: 0 });

    // gw-2 moves to node a; node b's late closing of its watch connection does not take it back.
    const closeOnA = a.watchOpened('gw-2', 7);
    await a.flush();
    closeWatch();
    await b.flush();
    const moved = (await b.list(7, nodes)).find((g) => g.id === 'gw-2');
    assert.deepEqual([moved?.node, moved?.state, moved?.watchConnections, moved?.revision], ['node-a', 'connected', 1, 7]);
    closeOnA();
    await a.flush();
    const closed = (await b.list(7, nodes)).find((g) => g.id === 'gw-2');
    assert.deepEqual([closed?.node, closed?.state, closed?.watchConnections], ['node-a', 'reporting', 0]);
    detach();
  });

  test('reports are written once per flush, however often a gateway reports; silent gateways go stale, then are forgotten', async () => {
    const writes: GatewayReportWrite[][] = [];
    const counting = {
      putGatewayReports: async (rows: readonly GatewayReportWrite[]) => { writes.push([...rows]); await store.putGatewayReports(rows); },
      listGatewayReports: (limit: number) => store.listGatewayReports(limit),
      pruneGatewayReports: (ms: number) => store.pruneGatewayReports(ms),
    };
    const d = new GatewayDirectory(counting, { nodeId: () => 'node-c', flushMs: 60_000, staleMs: 300, forgetMs: 1500 });
    directories.push(d);
    for (let i = 0; i < 100; i++) d.heartbeat('busy', { revision: i });
    await d.flush();
    await d.flush();
    assert.deepEqual(writes.map((w) => w.map((r) => [r.id, r.revision, r.claim])), [[['busy', 99, true]], []]);
    await sleep(400);
    assert.equal((await d.list(99)).find((g) => g.id === 'busy')?.state, 'stale');
    await sleep(1200);
    assert.equal((await d.list(99)).find((g) => g.id === 'busy'), undefined, 'forgotten');
  });

  test('a report keeps at most 50 virtual members and counts the rest', async () => {
    const d = directory('node-d');
    const virtualMembers = Array.from({ length: 70 }, (_, i) => ({ server: 'v', member: `m${i}`, state: 'down' as const, error: 'x'.repeat(500) }));
    d.heartbeat('many-members', { revision: 1, virtualMembers });
    const g = (await d.list(1)).find((x) => x.id === 'many-members');
    assert.equal(g?.virtualMembers?.length, 50);
    assert.equal(g?.virtualMembersOmitted, 20);
  });
});

function pick(g: { kind: string; state: string; node: string; nodeAddress?: string | undefined; revision: number; lag: number } | undefined) {
  return g && { kind: g.kind, state: g.state, node: g.node, nodeAddress: g.nodeAddress, revision: g.revision, lag: g.lag };
}
