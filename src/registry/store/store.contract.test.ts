// The Store port's contract, run against every real database this machine has.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { databaseKinds } from '../../../test/support/databases.js';
import type { TestDatabase } from '../../../test/support/databases.js';
import type { Instance, McpServer, McpServerSpec, Service } from '../domain/model.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { KyselyStore } from './kysely-store.js';
import { dialectFor, openStore } from './open.js';
import type { LeaderLock, Store } from './store.js';
import { UniqueViolationError } from './store.js';

const now = 1_700_000_000_000;

function service(namespace: string, name: string, group = 'DEFAULT_GROUP'): Service {
  return { id: randomUUID(), namespace, group, name, metadata: { team: 'a' }, protectThreshold: 0, selector: '', createdAt: now, updatedAt: now };
}

function instance(s: Service, ip: string, port: number, over: Partial<Instance> = {}): Instance {
  return {
    id: randomUUID(), namespace: s.namespace, serviceId: s.id, group: s.group, serviceName: s.name, ip, port, cluster: 'DEFAULT',
    weight: 1, enabled: true, healthy: true, ephemeral: true, metadata: {}, healthCheck: null, lastBeat: now, createdAt: now,
    updatedAt: now, ...over,
  };
}

function server(namespace: string, name: string): McpServer {
  return {
    id: randomUUID(), namespace, name, description: 'd', protocol: 'http', frontProtocol: 'mcp-streamable',
    endpoint: { type: 'url', url: 'http://127.0.0.1:1' }, enabled: true, passthrough: { headers: [], cookies: [] },
    publishedVersion: null, latestVersion: null, createdAt: now, updatedAt: now,
  };
}

function spec(version: string, description = 'x'): McpServerSpec {
  return { version, description, config: {}, securitySchemes: [], tools: [], prompts: [] };
}

for (const kind of await databaseKinds()) {
  describe(`Store contract on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let store: Store;

    before(async () => {
      db = await kind.create();
      store = await openStore(db.url);
      await store.write(async (tx) => tx.insertNamespace({ id: 'public', name: 'public', description: '', createdAt: now, updatedAt: now }));
    });
    after(async () => {
      await store?.close();
      await db?.drop();
    });

    it('applies migrations idempotently', async () => {
      await store.migrate();
      await store.migrate();
      assert.ok((await store.revision()) >= 1);
    });

    it('gives each write the next revision and logs its changes', async () => {
      const before = await store.revision();
      const r1 = await store.write(async (tx) => {
        await tx.insertNamespace({ id: 'ns-a', name: 'A', description: 'first', createdAt: now, updatedAt: now });
        await tx.recordChange('ns-a', 'namespace', 'ns-a', 'upsert');
        return tx.txRevision;
      });
      assert.equal(r1, before + 1);
      assert.equal(await store.revision(), before + 1);
      const changes = await store.changesAfter(before, 100);
      assert.deepEqual(changes.map((c) => [c.revision, c.namespace, c.entity, c.entityId, c.op]), [[r1, 'ns-a', 'namespace', 'ns-a', 'upsert']]);
      assert.equal((await store.getNamespace('ns-a'))?.description, 'first');
    });

    it('rolls a failed write back completely, revision included', async () => {
      const before = await store.revision();
      await assert.rejects(store.write(async (tx) => {
        await tx.insertNamespace({ id: 'ns-rollback', name: 'R', description: '', createdAt: now, updatedAt: now });
        await tx.recordChange('ns-rollback', 'namespace', 'ns-rollback', 'upsert');
        throw new Error('boom');
      }), /boom/);
      assert.equal(await store.revision(), before);
      assert.equal(await store.getNamespace('ns-rollback'), undefined);
      assert.deepEqual(await store.changesAfter(before, 10), []);
    });

    it('serialises concurrent writes into consecutive revisions', async () => {
      const before = await store.revision();
      const revs = await Promise.all(Array.from({ length: 12 }, (_, i) => store.write(async (tx) => {
        await tx.setSetting(`k${i}`, String(i));
        await tx.recordChange('public', 'namespace', `k${i}`, 'upsert');
        return tx.txRevision;
      })));
      assert.deepEqual([...revs].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => before + 1 + i));
      assert.equal(await store.getSetting('k7'), '7');
    });

    it('stores services, with paging, group and search filters, and case-sensitive names', async () => {
      const a = service('public', 'orders');
      const b = service('public', 'Orders');
      const c = service('public', 'billing', 'PAY');
      await store.write(async (tx) => { await tx.insertService(a); await tx.insertService(b); await tx.insertService(c); });
      assert.equal((await store.getService('public', 'DEFAULT_GROUP', 'Orders'))?.id, b.id);
      assert.deepEqual((await store.getService('public', 'DEFAULT_GROUP', 'orders'))?.metadata, { team: 'a' });
      const all = await store.listServices('public', { pageNo: 1, pageSize: 2 });
      assert.equal(all.total, 3);
      assert.equal(all.items.length, 2);
      const page2 = await store.listServices('public', { pageNo: 2, pageSize: 2 });
      assert.equal(page2.items.length, 1);
      assert.deepEqual((await store.listServices('public', { group: 'PAY', pageNo: 1, pageSize: 10 })).items.map((s) => s.name), ['billing']);
      assert.deepEqual((await store.listServices('public', { search: 'rder', pageNo: 1, pageSize: 10 })).items.map((s) => s.name).sort(), ['Orders', 'orders']);
      assert.equal((await store.listServices('public', { search: '%', pageNo: 1, pageSize: 10 })).total, 0, 'LIKE wildcards are escaped');
      await assert.rejects(store.write((tx) => tx.insertService(service('public', 'orders'))), UniqueViolationError);
      assert.deepEqual(await store.countNamespaceContents('public'), { services: 3, mcpServers: 0 });
    });

    it('stores instances and takes the heartbeat fast path only for healthy ephemeral ones', async () => {
      const s = service('public', 'beats');
      const healthy = instance(s, '10.0.0.1', 8080);
      const sick = instance(s, '10.0.0.2', 8080, { healthy: false });
      await store.write(async (tx) => { await tx.insertService(s); await tx.insertInstance(healthy); await tx.insertInstance(sick); });
      const rev = await store.revision();
      const key = (ip: string) => ({ namespace: 'public', group: 'DEFAULT_GROUP', service: 'beats', ip, port: 8080, cluster: 'DEFAULT' });
      assert.deepEqual(await store.beatMany([key('10.0.0.1'), key('10.0.0.2'), key('10.0.0.9')], now + 5000), [true, false, false]);
      assert.deepEqual(await store.beatMany([key('10.0.0.1'), key('10.0.0.1')], now + 5000), [true, true], 'the same value again still counts');
      assert.deepEqual(await store.beatMany([], now), []);
      assert.equal(await store.revision(), rev, 'beats do not bump the revision');
      const got = await store.getInstance('public', 'DEFAULT_GROUP', 'beats', '10.0.0.1', 8080, 'DEFAULT');
      assert.equal(got?.lastBeat, now + 5000);
      assert.equal(got?.healthy, true);
      assert.equal((await store.getInstanceById(sick.id))?.healthy, false);
      assert.equal((await store.listInstances({ serviceId: s.id })).length, 2);
      assert.equal((await store.listInstances({ serviceId: s.id, ephemeral: false })).length, 0);
      await store.write((tx) => tx.updateInstance({ ...sick, healthy: true, weight: 2.5, metadata: { a: 'b' } }));
      const updated = await store.getInstanceById(sick.id);
      assert.equal(updated?.weight, 2.5);
      assert.deepEqual(updated?.metadata, { a: 'b' });
      await assert.rejects(store.write((tx) => tx.insertInstance(instance(s, '10.0.0.1', 8080))), UniqueViolationError);
      await store.write((tx) => tx.deleteService(s.id));
      assert.equal((await store.listInstances({ serviceId: s.id })).length, 0, 'deleting a service deletes its instances');
    });

    it('selects only the ephemeral instances past their deadlines', async () => {
      const s = service('public', 'expiry');
      const fresh = instance(s, '10.3.0.1', 1, { lastBeat: now });
      const late = instance(s, '10.3.0.2', 1, { lastBeat: now - 16_000 });
      const lateSick = instance(s, '10.3.0.3', 1, { lastBeat: now - 16_000, healthy: false });
      const gone = instance(s, '10.3.0.4', 1, { lastBeat: now - 31_000, healthy: false });
      const quick = instance(s, '10.3.0.5', 1, { lastBeat: now - 2_000, metadata: { 'preserved.heart.beat.timeout': '1500' } });
      await store.write(async (tx) => {
        await tx.insertService(s);
        for (const i of [fresh, late, lateSick, gone, quick]) await tx.insertInstance(i);
      });
      const expired = (await store.listExpiredInstances(now)).map((i) => i.ip).sort();
      assert.deepEqual(expired, ['10.3.0.2', '10.3.0.4', '10.3.0.5']);
      await store.write(async (tx) => {
        for (const i of [fresh, late, lateSick, gone, quick]) await tx.deleteInstance(i.id);
        await tx.deleteService(s.id);
      });
    });

    it('stores MCP servers and versions, including specs over 64 KiB', async () => {
      const m = server('public', 'weather');
      const big = spec('1.0.0', 'y'.repeat(200_000));
      await store.write(async (tx) => {
        await tx.insertMcpServer(m);
        await tx.putVersion({ serverId: m.id, version: '1.0.0', status: 'draft', spec: big, createdAt: now, publishedAt: null });
      });
      assert.equal((await store.getVersion(m.id, '1.0.0'))?.spec.description.length, 200_000);
      await store.write(async (tx) => {
        await tx.putVersion({ serverId: m.id, version: '1.0.0', status: 'published', spec: spec('1.0.0'), createdAt: now, publishedAt: now + 1 });
        await tx.putVersion({ serverId: m.id, version: '1.1.0', status: 'draft', spec: spec('1.1.0'), createdAt: now + 2, publishedAt: null });
        await tx.updateMcpServer({ ...m, publishedVersion: '1.0.0', latestVersion: '1.1.0', enabled: false });
      });
      const got = await store.getMcpServer('public', { name: 'weather' });
      assert.equal(got?.publishedVersion, '1.0.0');
      assert.equal(got?.enabled, false);
      assert.equal((await store.getMcpServer('public', { id: m.id }))?.name, 'weather');
      assert.deepEqual((await store.listVersions(m.id)).map((v) => [v.version, v.status, v.publishedAt]), [['1.0.0', 'published', now + 1], ['1.1.0', 'draft', null]]);
      assert.equal((await store.listMcpServers('public', { search: 'weather', exact: true, pageNo: 1, pageSize: 10 })).total, 1);
      assert.equal((await store.listMcpServers('public', { search: 'eath', pageNo: 1, pageSize: 10 })).total, 1);
      assert.equal((await store.listMcpServers('public', { enabled: true, pageNo: 1, pageSize: 10 })).total, 0);
      assert.equal((await store.listMcpServers(undefined, { protocol: 'http', pageNo: 1, pageSize: 10 })).total, 1);
      await assert.rejects(store.write((tx) => tx.insertMcpServer(server('public', 'weather'))), UniqueViolationError);
      await store.write((tx) => tx.deleteVersion(m.id, '1.1.0'));
      assert.equal((await store.listVersions(m.id)).length, 1);
      await store.write((tx) => tx.deleteMcpServer(m.id));
      assert.equal(await store.getMcpServer('public', { name: 'weather' }), undefined);
      assert.deepEqual(await store.listVersions(m.id), []);
    });

    it('stores users, roles and API tokens', async () => {
      await store.write((tx) => tx.insertUser({ username: 'ann', passwordHash: 'h1', createdAt: now, roles: [{ namespace: 'public', role: 'editor' }] }));
      await store.write(async (tx) => {
        await tx.setUserRoles('ann', [{ namespace: 'public', role: 'viewer' }, { namespace: 'ns-a', role: 'admin' }]);
        await tx.updateUserPassword('ann', 'h2');
        await tx.insertApiToken({ id: 't1', username: 'ann', name: 'ci', tokenHash: 'abc', createdAt: now, expiresAt: null, lastUsedAt: null });
      });
      const ann = await store.getUser('ann');
      assert.equal(ann?.passwordHash, 'h2');
      assert.deepEqual(ann?.roles, [{ namespace: 'ns-a', role: 'admin' }, { namespace: 'public', role: 'viewer' }]);
      assert.equal((await store.getApiTokenByHash('abc'))?.username, 'ann');
      assert.deepEqual((await store.listApiTokens('ann')).map((t) => t.name), ['ci']);
      assert.equal('tokenHash' in ((await store.listApiTokens())[0] ?? {}), false, 'listings never carry hashes');
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['ann']);
      await store.write((tx) => tx.deleteUser('ann'));
      assert.equal(await store.getUser('ann'), undefined);
      assert.equal(await store.getApiTokenByHash('abc'), undefined);
    });

    it('stores consumers with their allow-lists', async () => {
      await store.write(async (tx) => {
        await tx.insertConsumer({ id: 'c1', namespace: 'public', name: 'agent-a', keyHash: 'h-a', keyPrefix: 'mgk_ab', allow: ['weather', 'maps/route'], createdAt: now });
        await tx.insertConsumer({ id: 'c2', namespace: 'public', name: 'agent-b', keyHash: 'h-b', keyPrefix: 'mgk_cd', allow: null, createdAt: now });
      });
      assert.deepEqual((await store.listConsumers('public')).map((c) => [c.name, c.allow]), [['agent-a', ['weather', 'maps/route']], ['agent-b', null]]);
      await assert.rejects(store.write((tx) => tx.insertConsumer({ id: 'c3', namespace: 'public', name: 'agent-a', keyHash: 'h-c', keyPrefix: 'x', allow: null, createdAt: now })), UniqueViolationError);
      await store.write((tx) => tx.updateConsumer({ id: 'c1', namespace: 'public', name: 'agent-a', keyHash: 'h-a', keyPrefix: 'mgk_ab', allow: [], createdAt: now }));
      assert.deepEqual((await store.listConsumers()).find((c) => c.id === 'c1')?.allow, []);
      await store.write((tx) => tx.deleteConsumer('c2'));
      assert.equal((await store.listConsumers()).length, 1);
    });

    it('records when consumer keys were last used, never backwards and without a revision', async () => {
      await store.write((tx) => tx.insertConsumer({ id: 'c-used', namespace: 'public', name: 'agent-used', keyHash: 'h-used', keyPrefix: 'mgk_us', allow: null, createdAt: now }));
      const lastUsed = async () => (await store.listConsumers('public')).find((c) => c.id === 'c-used')?.lastUsedAt;
      assert.equal(await lastUsed(), null, 'never used');
      const rev = await store.revision();
      await store.touchConsumers([{ id: 'c-used', at: now + 5000 }, { id: 'no-such-consumer', at: now }]);
      assert.equal(await lastUsed(), now + 5000);
      await store.touchConsumers([{ id: 'c-used', at: now + 1000 }]);
      assert.equal(await lastUsed(), now + 5000, 'an older report does not move it back');
      await store.touchConsumers([]);
      assert.equal(await store.revision(), rev, 'use is not configuration: no revision');
      await store.write((tx) => tx.deleteConsumer('c-used'));
    });

    it('keeps a publish history per server, oldest first, gone with the server', async () => {
      const m = server('public', 'history-kept');
      await store.write(async (tx) => {
        await tx.insertMcpServer(m);
        await tx.insertPublishEvent({ serverId: m.id, seq: 1, action: 'publish', version: '1.0.0', previousVersion: null, actor: 'ann', note: '', at: now });
        await tx.insertPublishEvent({ serverId: m.id, seq: 2, action: 'publish', version: '1.1.0', previousVersion: '1.0.0', actor: 'bob', note: 'wind speed added', at: now + 1 });
        await tx.insertPublishEvent({ serverId: m.id, seq: 3, action: 'rollback', version: '1.0.0', previousVersion: '1.1.0', actor: 'ann', note: '说明：风速错误', at: now + 2 });
      });
      assert.deepEqual((await store.listPublishHistory(m.id)).map((e) => [e.seq, e.action, e.version, e.previousVersion, e.actor, e.note, e.at]), [
        [1, 'publish', '1.0.0', null, 'ann', '', now], [2, 'publish', '1.1.0', '1.0.0', 'bob', 'wind speed added', now + 1],
        [3, 'rollback', '1.0.0', '1.1.0', 'ann', '说明：风速错误', now + 2],
      ]);
      await assert.rejects(store.write((tx) => tx.insertPublishEvent({ serverId: m.id, seq: 3, action: 'publish', version: 'x', previousVersion: null, actor: 'a', note: '', at: now })));
      await store.write((tx) => tx.deleteMcpServer(m.id));
      assert.deepEqual(await store.listPublishHistory(m.id), []);
    });

    it('orders MCP servers by name or by last change, either way', async () => {
      const a = { ...server('public', 'sort-a'), updatedAt: now + 30 };
      const b = { ...server('public', 'sort-b'), updatedAt: now + 10 };
      const c = { ...server('public', 'sort-c'), updatedAt: now + 20 };
      await store.write(async (tx) => { for (const x of [b, c, a]) await tx.insertMcpServer(x); });
      const names = async (sort?: 'name' | '-name' | 'updatedAt' | '-updatedAt') =>
        (await store.listMcpServers('public', { search: 'sort-', pageNo: 1, pageSize: 10, ...(sort ? { sort } : {}) })).items.map((x) => x.name);
      assert.deepEqual(await names(), ['sort-a', 'sort-b', 'sort-c']);
      assert.deepEqual(await names('-name'), ['sort-c', 'sort-b', 'sort-a']);
      assert.deepEqual(await names('updatedAt'), ['sort-b', 'sort-c', 'sort-a']);
      assert.deepEqual(await names('-updatedAt'), ['sort-a', 'sort-c', 'sort-b']);
      const page2 = await store.listMcpServers('public', { search: 'sort-', sort: '-name', pageNo: 2, pageSize: 2 });
      assert.deepEqual([page2.total, page2.items.map((x) => x.name)], [3, ['sort-a']]);
      await store.write(async (tx) => { for (const x of [a, b, c]) await tx.deleteMcpServer(x.id); });
    });

    it('keeps why an instance\'s health check fails apart from its other fields', async () => {
      const s = service('public', 'checked-svc');
      const i = instance(s, '10.9.9.9', 80, { ephemeral: false });
      await store.write(async (tx) => { await tx.insertService(s); await tx.insertInstance(i); });
      assert.equal((await store.getInstanceById(i.id))?.healthDetail, undefined);
      const rev = await store.revision();
      await store.setHealthDetail(i.id, 'TCP connect to port 80: connection refused (ECONNREFUSED)');
      assert.equal(await store.revision(), rev, 'no revision');
      await store.write((tx) => tx.updateInstance({ ...i, weight: 3 }));
      const after = await store.getInstanceById(i.id);
      assert.deepEqual([after?.weight, after?.healthDetail], [3, 'TCP connect to port 80: connection refused (ECONNREFUSED)'], 'an update leaves the detail alone');
      await store.setHealthDetail(i.id, null);
      assert.equal((await store.getInstanceById(i.id))?.healthDetail, undefined);
      await store.write((tx) => tx.deleteService(s.id));
    });

    it('orders services by group and name, descending on request', async () => {
      const xs = ['ord-b', 'ord-a', 'ord-c'].map((n) => service('public', n));
      await store.write(async (tx) => { for (const x of xs) await tx.insertService(x); });
      const names = async (desc?: boolean) => (await store.listServices('public', { search: 'ord-', pageNo: 1, pageSize: 10, ...(desc ? { desc } : {}) })).items.map((x) => x.name);
      assert.deepEqual(await names(), ['ord-a', 'ord-b', 'ord-c']);
      assert.deepEqual(await names(true), ['ord-c', 'ord-b', 'ord-a']);
      await store.write(async (tx) => { for (const x of xs) await tx.deleteService(x.id); });
    });

    it('prunes the change log and reports its floor', async () => {
      const rev = await store.revision();
      await store.pruneChanges(rev);
      assert.equal(await store.changeLogFloor(), rev);
      assert.deepEqual(await store.changesAfter(0, 1000).then((c) => c.filter((x) => x.revision < rev)), []);
    });

    it('registers nodes by the database clock and prunes those gone for long', async () => {
      const t0 = await store.databaseTime();
      assert.ok(Math.abs(t0 - Date.now()) < 60_000, 'the database clock is epoch milliseconds');
      await store.upsertNode({ id: 'old', address: 'h1:8848', version: '0.1.0', roles: ['registry'], isLeader: false, revision: 3 });
      await sleep(150);
      await store.upsertNode({ id: 'new', address: 'h2:8848', version: '0.1.0', roles: ['registry', 'gateway'], isLeader: true, revision: 4 });
      await store.upsertNode({ id: 'new', address: 'h2:8848', version: '0.1.0', roles: ['registry', 'gateway'], isLeader: true, revision: 5 });
      const { now, nodes } = await store.listNodes();
      assert.deepEqual(nodes.map((n) => [n.id, n.roles, n.isLeader, n.revision]), [['old', ['registry'], false, 3], ['new', ['registry', 'gateway'], true, 5]]);
      assert.ok(nodes.every((n) => n.lastSeen <= now && n.startedAt <= n.lastSeen && n.startedAt >= t0 - 5));
      assert.equal(await store.pruneNodes(100), 1);
      assert.deepEqual((await store.listNodes()).nodes.map((n) => n.id), ['new']);
    });

    it('hands out a leader lock (always held where the database serves one node)', async () => {
      const lock = store.leaderLock('contract', 'me', { ttlMs: 2000 });
      assert.equal(await lock.poll(), true);
      assert.equal(lock.held, true);
      assert.equal(await lock.poll(), true, 'renewal');
      if (store.dialect !== 'sqlite') assert.equal((await store.getLease('contract'))?.holder, 'me');
      await lock.release();
      assert.equal(lock.held, false);
      assert.equal(await lock.poll(), false, 'a released lock stays released');
    });

    it('deletes a namespace with its role grants', async () => {
      await store.write(async (tx) => {
        await tx.insertUser({ username: 'bob', passwordHash: 'h', createdAt: now, roles: [{ namespace: 'ns-a', role: 'viewer' }] });
        await tx.deleteNamespace('ns-a');
      });
      assert.equal(await store.getNamespace('ns-a'), undefined);
      assert.deepEqual((await store.getUser('bob'))?.roles, []);
    });
  });
}

/** Poll `lock` every `everyMs` until it is held; resolves the time that took, ms. */
async function acquireWithin(lock: LeaderLock, limitMs: number, everyMs = 50): Promise<number> {
  const t0 = performance.now();
  while (!(await lock.poll())) {
    if (performance.now() - t0 > limitMs) throw new Error(`lock not acquired within ${limitMs} ms`);
    await sleep(everyMs);
  }
  return performance.now() - t0;
}

// Two registry nodes (two stores, each with its own pool and dedicated connections) on one database.
for (const kind of await databaseKinds()) {
  const skip = kind.unavailable ?? (kind.kind === 'sqlite' ? 'SQLite serves one node: no cluster mode' : undefined);
  describe(`Store contract in cluster mode on ${kind.kind}`, { skip }, () => {
    let db: TestDatabase;
    let a: Store;
    let b: Store;

    before(async () => {
      db = await kind.create();
      a = KyselyStore.open(dialectFor(db.url));
      b = KyselyStore.open(dialectFor(db.url));
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await db?.drop();
    });

    it('migrates a fresh database from both nodes at once', async () => {
      await Promise.all([a.migrate(), b.migrate()]);
      await Promise.all([a.migrate(), b.migrate()]);
      assert.equal(await a.revision(), 0);
      assert.equal(await b.revision(), 0);
      assert.deepEqual((await b.listNodes()).nodes, [], 'the cluster tables exist');
      await a.write(async (tx) => tx.insertNamespace({ id: 'public', name: 'public', description: '', createdAt: now, updatedAt: now }));
    });

    it('gives concurrent writes through both nodes distinct consecutive revisions', async () => {
      const before = await a.revision();
      const writes = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).write(async (tx) => {
        await tx.setSetting(`c${i}`, String(i));
        await tx.recordChange('public', 'namespace', `c${i}`, 'upsert');
        return tx.txRevision;
      }));
      const revs = await Promise.all(writes);
      assert.deepEqual([...revs].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => before + 1 + i));
      assert.equal(await a.revision(), before + 30);
      assert.equal(await b.revision(), before + 30);
      const log = await b.changesAfter(before, 100);
      assert.equal(log.length, 30);
      assert.deepEqual(log.map((c) => c.revision), [...revs].sort((x, y) => x - y), 'each revision logged once, in order');
    });

    it('shows a write through one node to the other at once', async () => {
      const r = await a.write(async (tx) => {
        await tx.insertNamespace({ id: 'ns-seen', name: 'Seen', description: 'from a', createdAt: now, updatedAt: now });
        await tx.recordChange('ns-seen', 'namespace', 'ns-seen', 'upsert');
        return tx.txRevision;
      });
      assert.equal((await b.getNamespace('ns-seen'))?.description, 'from a');
      assert.equal(await b.revision(), r);
      assert.deepEqual((await b.changesAfter(r - 1, 10)).map((c) => c.entityId), ['ns-seen']);
    });

    it('pushes committed revisions to the other node where the database can (PostgreSQL NOTIFY), never rolled-back ones', async (t) => {
      const heard: { revision: number; at: number }[] = [];
      const sub = b.subscribeRevisions((revision) => heard.push({ revision, at: performance.now() }));
      if (kind.kind !== 'postgres') {
        assert.equal(sub, undefined, 'MySQL/MariaDB cannot push: nodes poll');
        return;
      }
      assert.ok(sub);
      try {
        await sub.ready;
        assert.equal(sub.listening, true);
        await sleep(50);
        heard.length = 0;
        const delays: number[] = [];
        for (let i = 0; i < 20; i += 1) {
          const t0 = performance.now();
          const r = await a.write(async (tx) => { await tx.setSetting('pushed', String(i)); return tx.txRevision; });
          while (!heard.some((h) => h.revision === r)) {
            if (performance.now() - t0 > 1000) throw new Error(`revision ${r} not pushed within 1 s`);
            await sleep(1);
          }
          delays.push(heard.find((h) => h.revision === r)!.at - t0);
        }
        delays.sort((x, y) => x - y);
        t.diagnostic(`write on node A → NOTIFY heard on node B: p50 ${delays[10]!.toFixed(1)} ms, max ${delays[19]!.toFixed(1)} ms (from the start of the write)`);
        assert.ok(delays[19]! < 1000);
        const before = heard.length;
        const rev = await a.revision();
        await assert.rejects(a.write(async (tx) => { await tx.setSetting('never', '1'); throw new Error('rolled back'); }));
        await sleep(200);
        assert.equal(heard.length, before, 'a rolled-back write announces nothing');
        assert.equal(await a.revision(), rev);
      } finally {
        await sub.close();
      }
    });

    it('lets exactly one node hold the leader lock, and hands it over on release', async () => {
      const la = a.leaderLock('jobs', 'node-a', { ttlMs: 3000 });
      const lb = b.leaderLock('jobs', 'node-b', { ttlMs: 3000 });
      try {
        for (let i = 0; i < 5; i += 1) {
          const [ha, hb] = await Promise.all([la.poll(), lb.poll()]);
          assert.equal(Number(ha) + Number(hb), 1, `exactly one holder (round ${i})`);
          assert.equal(Number(la.held) + Number(lb.held), 1);
        }
        const [holder, other] = la.held ? [la, lb] : [lb, la];
        const lease = await a.getLease('jobs');
        assert.equal(lease?.holder, la.held ? 'node-a' : 'node-b');
        assert.ok(lease && lease.expiresAt > (await a.databaseTime()));
        await holder.release();
        const ms = await acquireWithin(other, 1000);
        assert.equal((await b.getLease('jobs'))?.holder, la.held ? 'node-a' : 'node-b');
        assert.ok(ms < 1000);
      } finally {
        await Promise.all([la.release(), lb.release()]);
      }
    });

    it('hands the leader lock over at once when the holder\'s connection dies (kill -9), well within the TTL', async (t) => {
      const ttlMs = 5000;
      const lost: string[] = [];
      const la = a.leaderLock('jobs-kill', 'node-a', { ttlMs, onLost: (r) => lost.push(r) });
      const lb = b.leaderLock('jobs-kill', 'node-b', { ttlMs });
      try {
        assert.equal(await la.poll(), true);
        assert.equal(await lb.poll(), false);
        la.destroy(); // the socket closes without a goodbye, as when the process is killed
        const ms = await acquireWithin(lb, ttlMs);
        t.diagnostic(`leader lock taken over ${ms.toFixed(0)} ms after the holder's connection died (TTL ${ttlMs} ms)`);
        assert.ok(ms < 1500, `took ${ms} ms`);
        assert.equal((await a.getLease('jobs-kill'))?.holder, 'node-b');
        assert.equal(await la.poll(), false, 'the old holder, reconnected, does not get it back');
      } finally {
        await Promise.all([la.release(), lb.release()]);
      }
    });

    it('fences off a holder that stops renewing (hung) once its lease has run out', async (t) => {
      const ttlMs = 1500;
      const lost: string[] = [];
      const fenced: unknown[] = [];
      const la = a.leaderLock('jobs-hang', 'node-a', { ttlMs, onLost: (r) => lost.push(r) });
      const lb = b.leaderLock('jobs-hang', 'node-b', { ttlMs, onFenced: (h) => fenced.push(h) });
      try {
        assert.equal(await la.poll(), true);
        const t0 = performance.now();
        // node-a hangs: it stops polling, but its connection stays open, so the database keeps its lock.
        assert.equal(await lb.poll(), false);
        const ms = await acquireWithin(lb, ttlMs + 3000, 200);
        t.diagnostic(`hung holder fenced and lock taken over after ${ms.toFixed(0)} ms (TTL ${ttlMs} ms)`);
        assert.ok(ms >= ttlMs - 250, `not before the lease ran out (${ms} ms)`);
        assert.ok(performance.now() - t0 < ttlMs + 2500);
        assert.equal(fenced.length, 1);
        assert.deepEqual(fenced[0], { node: 'node-a', sessionId: (fenced[0] as { sessionId: number }).sessionId, terminated: true });
        assert.equal(la.held, false, 'the hung holder counts its own lease as run out');
        assert.equal(await la.poll(), false, 'and finds its session ended when it wakes up');
        assert.equal(lost.length, 1);
        assert.equal((await a.getLease('jobs-hang'))?.holder, 'node-b');
      } finally {
        await Promise.all([la.release(), lb.release()]);
      }
    });

    it('frees the leader lock when a node\'s store is closed', async () => {
      const c = KyselyStore.open(dialectFor(db.url));
      const lc = c.leaderLock('jobs-close', 'node-c', { ttlMs: 5000 });
      const lb = b.leaderLock('jobs-close', 'node-b', { ttlMs: 5000 });
      try {
        assert.equal(await lc.poll(), true);
        assert.equal(await lb.poll(), false);
        await c.close();
        assert.ok((await acquireWithin(lb, 1000)) < 1000);
      } finally {
        await lb.release();
      }
    });
  });
}
