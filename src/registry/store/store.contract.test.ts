// The Store port's contract, run against every real database this machine has.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { databaseKinds } from '../../../test/support/databases.js';
import type { TestDatabase } from '../../../test/support/databases.js';
import type { Instance, McpServer, McpServerSpec, Service } from '../../model/model.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, Migrator } from 'kysely';
import { KyselyStore } from './kysely-store.js';
import { migrations } from './migrations.js';
import { dialectFor, openStore } from './open.js';
import type { AuditQuery, AuditRecord, LeaderLock, Store } from './store.js';
import { UniqueViolationError } from './store.js';
import { emptyLatency, latencyBucket, MAX_SAMPLES_PER_TOOL, MINUTE_MS } from '../../model/activity.js';

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

// Awaited once, before the first describe: tests registered after a later top-level await would
// be lost under a forced exit (see test/test-files.test.ts).
const kinds = await databaseKinds();

for (const kind of kinds) {
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

    it('commits concurrent writes together: one failing write is undone alone, revisions stay consecutive, watchers see every change', async () => {
      await store.write(async (tx) => tx.insertNamespace({ id: 'cw-dup', name: 'x', description: '', createdAt: now, updatedAt: now }));
      const before = await store.revision();
      const n = 40;
      // A watcher following the change log while the writes run, as gateways and other nodes do.
      const seen: { revision: number; entityId: string }[] = [];
      let cursor = before;
      let stop = false;
      const watcher = (async () => {
        while (!stop || cursor < (await store.revision())) {
          const batch = await store.changesAfter(cursor, 7);
          for (const c of batch) seen.push({ revision: c.revision, entityId: c.entityId });
          cursor = batch.at(-1)?.revision ?? cursor;
          if (batch.length === 0) await sleep(1);
        }
      })();
      const failing = new Set([5, 17, 30]);
      const writes = Array.from({ length: n }, (_, i) => store.write(async (tx) => {
        await tx.setSetting(`cw${i}`, String(i));
        await tx.recordChange('public', 'namespace', `cw${i}`, 'upsert');
        await tx.recordAudit(entry({ namespace: 'cw-audit', entityName: `cw${i}` }));
        // After writing: a domain error, and a database error (a unique violation) that must not poison the others.
        if (i === 5) throw new Error('refused');
        if (i === 17) await tx.insertNamespace({ id: 'public', name: 'public', description: '', createdAt: now, updatedAt: now });
        if (i === 30) await tx.insertNamespace({ id: 'cw-dup', name: 'x', description: '', createdAt: now, updatedAt: now });
        return tx.txRevision;
      }));
      const settled = await Promise.allSettled(writes);
      stop = true;
      await watcher;
      const ok = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, revision: r.value }] : []));
      const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [{ i, error: r.reason as unknown }] : []));
      assert.deepEqual(failed.map((f) => f.i), [...failing]);
      assert.match(String((failed[0]?.error as Error).message), /refused/);
      assert.ok(failed[1]?.error instanceof UniqueViolationError, 'a unique violation stays a UniqueViolationError');
      assert.ok(failed[2]?.error instanceof UniqueViolationError);
      const revs = ok.map((o) => o.revision).sort((a, b) => a - b);
      assert.deepEqual(revs, Array.from({ length: n - failing.size }, (_, k) => before + 1 + k), 'consecutive, one per committed write');
      assert.equal(await store.revision(), before + n - failing.size);
      for (const i of failing) assert.equal(await store.getSetting(`cw${i}`), undefined, `write ${i} left nothing behind`);
      assert.equal(await store.getSetting('cw39'), '39');
      const log = await store.changesAfter(before, 1000);
      const expected = ok.map((o) => ({ revision: o.revision, entityId: `cw${o.i}` })).sort((a, b) => a.revision - b.revision);
      assert.deepEqual(log.map((c) => ({ revision: c.revision, entityId: c.entityId })), expected, 'the change log holds every committed write, under its revision');
      assert.deepEqual(seen, expected, 'the watcher saw every change once, in revision order');
      const audit = await store.listAudit({ namespaces: ['cw-audit'], limit: 100 });
      assert.deepEqual(audit.map((e) => e.entityName).sort(), ok.map((o) => `cw${o.i}`).sort(), 'one audit entry per committed write');
      assert.ok(audit.every((e) => ok.some((o) => o.revision === e.revision && `cw${o.i}` === e.entityName)), 'each under its write\'s revision');
    });

    it('runs each write of a batch in its own caller\'s async context (who is asking, for the audit log)', async () => {
      const asking = new AsyncLocalStorage<string>();
      const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => asking.run(`caller-${i}`, () => store.write(async (tx) => {
        const before = asking.getStore();
        await tx.getSetting('anything');
        return [before, asking.getStore()];
      }))));
      assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => [`caller-${i}`, `caller-${i}`]));
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

    it('deletes many instances by id in one write, across chunks, leaving the others', async () => {
      const s = service('public', 'bulk-delete');
      const many = Array.from({ length: 230 }, (_, n) => instance(s, `10.9.${n >> 8}.${n & 255}`, 9000));
      await store.write(async (tx) => { await tx.insertService(s); await tx.insertInstances(many); });
      const gone = many.filter((_, n) => n % 3 !== 0);
      await store.write((tx) => tx.deleteInstances([...gone.map((i) => i.id), 'no-such-id']));
      await store.write((tx) => tx.deleteInstances([]));
      const left = await store.listInstances({ serviceId: s.id });
      assert.deepEqual(left.map((i) => i.id).sort(), many.filter((_, n) => n % 3 === 0).map((i) => i.id).sort());
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
      for (const impossible of [0, -1, 65536, 2147483648, 2 ** 53 - 1]) {
        assert.equal(await store.getInstance('public', 'DEFAULT_GROUP', 'beats', '10.0.0.1', impossible, 'DEFAULT'), undefined, `port ${impossible}`);
      }
      assert.deepEqual(await store.beatMany([{ ...key('10.0.0.1'), port: 2147483648 }, key('10.0.0.1')], now + 5000), [false, true],
        'a port no instance can have matches nothing and fails no other beat of the batch');
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

    it('reads services and instances by many keys at once, counts instance kinds, inserts instances together', async () => {
      const s1 = service('public', 'batch-a');
      const s2 = service('public', 'batch-b', 'G2');
      const many = Array.from({ length: 250 }, (_, n) => instance(s1, `10.9.${n >> 8}.${n & 255}`, 7000 + (n % 7)));
      await store.write(async (tx) => {
        await tx.insertService(s1);
        await tx.insertService(s2);
        await tx.insertInstances(many);
        await tx.insertInstances([instance(s2, '10.8.0.1', 80, { ephemeral: false }), instance(s2, '10.8.0.2', 80)]);
      });
      const found = await store.getServices([
        { namespace: 'public', group: 'DEFAULT_GROUP', name: 'batch-a' }, { namespace: 'public', group: 'G2', name: 'batch-b' },
        { namespace: 'public', group: 'DEFAULT_GROUP', name: 'batch-b' }, { namespace: 'nope', group: 'DEFAULT_GROUP', name: 'batch-a' },
      ]);
      assert.deepEqual(found.map((s) => s.id).sort(), [s1.id, s2.id].sort());
      assert.deepEqual(await store.getServices([]), []);
      const keyOf = (i: Instance) => ({ namespace: i.namespace, group: i.group, service: i.serviceName, ip: i.ip, port: i.port, cluster: i.cluster });
      const wanted = [...many.slice(0, 150).map(keyOf), { ...keyOf(many[0]!), port: 1 }, { ...keyOf(many[0]!), port: 70000 }, { ...keyOf(many[0]!), cluster: 'OTHER' }];
      const got = await store.getInstances(wanted);
      assert.deepEqual(got.map((i) => i.id).sort(), many.slice(0, 150).map((i) => i.id).sort(), 'only those that exist, an impossible port finds nothing');
      assert.deepEqual(got.find((i) => i.id === many[3]!.id), many[3]);
      // The same shape again (a statement text reused with other keys) finds the other instances.
      const again = await store.getInstances(many.slice(100, 250).map(keyOf));
      assert.deepEqual(again.map((i) => i.id).sort(), many.slice(100, 250).map((i) => i.id).sort());
      assert.deepEqual((await store.getInstances([keyOf(many[7]!), keyOf(many[7]!)])).map((i) => i.id), [many[7]!.id], 'a key given twice answers its instance once');
      const twice = { namespace: 'public', group: 'G2', name: 'batch-b' };
      assert.deepEqual((await store.getServices([twice, twice])).map((s) => s.id), [s2.id], 'a key given twice answers its service once');
      const kinds = [...await store.countInstanceKinds([s1.id, s2.id, 'no-such-service'], true), ...await store.countInstanceKinds([s1.id, s2.id, 'no-such-service'], false)];
      assert.deepEqual(kinds.sort((a, b) => `${a.serviceId}${a.ephemeral}`.localeCompare(`${b.serviceId}${b.ephemeral}`)), [
        { serviceId: s1.id, ephemeral: true, count: 250 }, { serviceId: s2.id, ephemeral: false, count: 1 }, { serviceId: s2.id, ephemeral: true, count: 1 },
      ].sort((a, b) => `${a.serviceId}${a.ephemeral}`.localeCompare(`${b.serviceId}${b.ephemeral}`)));
      await store.write(async (tx) => { await tx.deleteService(s1.id); await tx.deleteService(s2.id); });
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

    it('counts an instance held by a lease as beating when the lease was last renewed', async () => {
      const s = service('public', 'leased');
      const holder = `node-${randomUUID()}`;
      const other = `node-${randomUUID()}`;
      // Registered long ago, never beaten since: only their holders' leases keep them.
      const held = instance(s, '10.4.0.1', 1, { lastBeat: now - 60_000 });
      const heldSick = instance(s, '10.4.0.2', 1, { lastBeat: now - 60_000, healthy: false });
      const orphan = instance(s, '10.4.0.3', 1, { lastBeat: now - 60_000 });
      const own = instance(s, '10.4.0.4', 1, { lastBeat: now - 1_000 });
      assert.equal(await store.renewHolderLease(holder, now - 1_000), false, 'a first renewal creates the lease');
      const rev = await store.revision();
      await store.write(async (tx) => {
        await tx.insertService(s);
        await tx.insertInstances([{ ...held, holder }, { ...heldSick, holder }]);
        await tx.insertInstance({ ...orphan, holder: other });
        await tx.insertInstance({ ...own, holder: null });
      });
      const expired = async () => (await store.listExpiredInstances(now)).filter((i) => i.serviceId === s.id)
        .map((i) => `${i.ip} ${now - i.lastBeat}`).sort();
      // The lease is fresh: its instances are alive (a sick one stays until its delete timeout, counted from the renewal).
      assert.deepEqual(await expired(), ['10.4.0.3 60000'], 'an instance whose holder has no lease expires by its own beats');
      assert.equal(await store.renewHolderLease(holder, now - 20_000), true, 'a renewal of an existing lease');
      assert.equal(await store.revision(), rev + 1, 'renewals bump no revision');
      // Not renewed for 20 s (its node died): unhealthy past the beat timeout, not yet past the delete timeout.
      assert.deepEqual(await expired(), ['10.4.0.1 20000', '10.4.0.3 60000']);
      await store.renewHolderLease(holder, now - 31_000);
      assert.deepEqual(await expired(), ['10.4.0.1 31000', '10.4.0.2 31000', '10.4.0.3 60000']);
      // A later own beat counts over an older renewal; an update that names no holder keeps it, null clears it.
      await store.renewHolderLease(holder, now);
      await store.write((tx) => tx.updateInstance({ ...held, weight: 3 }));
      await store.write((tx) => tx.updateInstance({ ...heldSick, holder: null }));
      assert.deepEqual(await expired(), ['10.4.0.2 60000', '10.4.0.3 60000']);
      assert.equal(await store.dropHolderLeases({ holder }), 1);
      assert.deepEqual(await expired(), ['10.4.0.1 60000', '10.4.0.2 60000', '10.4.0.3 60000'], 'a lease removed keeps nothing alive');
      await store.renewHolderLease(holder, now - 5_000);
      await store.renewHolderLease(other, now - 50_000);
      assert.equal(await store.dropHolderLeases({ before: now - 10_000 }), 1, 'only the lease not renewed since');
      assert.equal(await store.renewHolderLease(holder, now), true);
      assert.equal(await store.renewHolderLease(other, now), false);
      await store.dropHolderLeases({ before: now + 1 });
      await store.write(async (tx) => {
        await tx.deleteInstances([held.id, heldSick.id, orphan.id, own.id]);
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

    it('gives every write of a version a new entity-tag, and replaces only the one named (compare-and-set)', async () => {
      const m = server('public', 'etags');
      const draft = { serverId: m.id, version: '1.0.0', status: 'draft' as const, spec: spec('1.0.0', 'first'), createdAt: now, publishedAt: null };
      const e1 = await store.write(async (tx) => {
        await tx.insertMcpServer(m);
        return tx.putVersion(draft);
      });
      assert.match(e1 ?? '', /^"[A-Za-z0-9_-]{22}"$/, 'a strong entity-tag, quotes included');
      assert.equal((await store.getVersion(m.id, '1.0.0'))?.etag, e1);
      const e2 = await store.write((tx) => tx.putVersion({ ...draft, spec: spec('1.0.0', 'second') }, { ifEtag: e1! }));
      assert.ok(e2 && e2 !== e1, 'a write over the named entity-tag succeeds under a new one');
      assert.equal(await store.write((tx) => tx.putVersion({ ...draft, spec: spec('1.0.0', 'stale') }, { ifEtag: e1! })), undefined, 'a stale entity-tag replaces nothing');
      assert.equal(await store.write((tx) => tx.putVersion({ ...draft, version: '9.9.9' }, { ifEtag: e2! })), undefined, 'nor creates a version');
      const stored = await store.getVersion(m.id, '1.0.0');
      assert.deepEqual([stored?.spec.description, stored?.etag], ['second', e2]);
      assert.equal(await store.getVersion(m.id, '9.9.9'), undefined);
      const e3 = await store.write((tx) => tx.putVersion({ ...draft, spec: spec('1.0.0', 'second') }));
      assert.ok(e3 && e3 !== e2, 'an unconditional write of the same content gets a new entity-tag too');
      const racing = await Promise.all(Array.from({ length: 20 }, (_, i) => store.write((tx) => tx.putVersion({ ...draft, spec: spec('1.0.0', `race ${i}`) }, { ifEtag: e3! }))));
      assert.equal(racing.filter((e) => e !== undefined).length, 1, 'of concurrent writes over one entity-tag, exactly one wins');
      await store.write((tx) => tx.deleteMcpServer(m.id));
    });

    it('stores users, roles and API tokens', async () => {
      await store.write((tx) => tx.insertUser({ username: 'ann', id: randomUUID(), credentialGeneration: 0, passwordHash: 'h1', createdAt: now, roles: [{ namespace: 'public', role: 'editor' }] }));
      await store.write(async (tx) => {
        await tx.setUserRoles('ann', [{ namespace: 'public', role: 'viewer' }, { namespace: 'ns-a', role: 'admin' }]);
        await tx.updateUserPassword('ann', 'h2');
        await tx.insertApiToken({ id: 't1', username: 'ann', name: 'ci', tokenHash: 'abc', createdAt: now, expiresAt: null, lastUsedAt: null });
      });
      const ann = await store.getUser('ann');
      assert.equal(ann?.passwordHash, 'h2');
      assert.equal(ann?.credentialGeneration, 1, 'the password change bumped the generation');
      assert.deepEqual(ann?.roles, [{ namespace: 'ns-a', role: 'admin' }, { namespace: 'public', role: 'viewer' }]);
      assert.equal((await store.getApiTokenByHash('abc'))?.username, 'ann');
      assert.deepEqual((await store.listApiTokens('ann')).map((t) => t.name), ['ci']);
      assert.equal('tokenHash' in ((await store.listApiTokens())[0] ?? {}), false, 'listings never carry hashes');
      assert.deepEqual((await store.listUsers()).map((u) => u.username), ['ann']);
      await store.write((tx) => tx.deleteUser('ann'));
      assert.equal(await store.getUser('ann'), undefined);
      assert.equal(await store.getApiTokenByHash('abc'), undefined);
    });

    it('binds a user to an id and bumps its credential generation with every password change', async () => {
      const first = randomUUID();
      await store.write((tx) => tx.insertUser({ username: 'gen', id: first, credentialGeneration: 0, passwordHash: 'h1', createdAt: now, roles: [] }));
      assert.deepEqual(await store.getUser('gen').then((u) => [u?.id, u?.credentialGeneration]), [first, 0]);
      await store.write((tx) => tx.updateUserPassword('gen', 'h2'));
      await store.write((tx) => tx.updateUserPassword('gen', 'h3'));
      assert.deepEqual(await store.getUser('gen').then((u) => [u?.id, u?.credentialGeneration, u?.passwordHash]), [first, 2, 'h3']);
      await store.write(async (tx) => {
        await tx.deleteUser('gen');
        await tx.insertUser({ username: 'gen', id: randomUUID(), credentialGeneration: 0, passwordHash: 'h4', createdAt: now, roles: [] });
      });
      const again = await store.getUser('gen');
      assert.notEqual(again?.id, first, 'created again, the user is another user');
      assert.equal(again?.credentialGeneration, 0);
      await assert.rejects(store.write((tx) => tx.insertUser({ username: 'gen-twin', id: again!.id, credentialGeneration: 0, passwordHash: 'h', createdAt: now, roles: [] })), UniqueViolationError);
      await store.write((tx) => tx.deleteUser('gen'));
    });

    it('gives every existing user an id of its own when migrating to credential generations', async () => {
      const old = await kind.create();
      const dialect = dialectFor(old.url);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const db = new Kysely<any>({ dialect: dialect.create() });
      try {
        const migrator = new Migrator({ db, provider: migrations(dialect), migrationTableName: 'mg_migrations', migrationLockTableName: 'mg_migrations_lock' });
        assert.equal((await migrator.migrateTo('0004_cluster')).error, undefined);
        await db.insertInto('mg_users').values([
          { username: 'old-1', password_hash: 'h', created_at: now }, { username: 'old-2', password_hash: 'h', created_at: now },
        ]).execute();
      } finally {
        await db.destroy();
      }
      const migrated = await openStore(old.url);
      try {
        const users = await Promise.all(['old-1', 'old-2'].map((u) => migrated.getUser(u)));
        assert.deepEqual(users.map((u) => u?.credentialGeneration), [0, 0]);
        assert.ok(users.every((u) => /^[0-9a-f-]{36}$/.test(u?.id ?? '')), 'each has an id');
        assert.notEqual(users[0]?.id, users[1]?.id);
      } finally {
        await migrated.close();
        await old.drop();
      }
    });

    it('stores a namespace\'s authorization settings apart from it, replaced whole, gone with the namespace', async () => {
      const settings = { enabled: true, issuers: [{ issuer: 'https://login.example.com', introspection: { endpoint: 'https://login.example.com/i', clientId: 'gw', clientSecret: 's3cret' } }], scopeGrants: { 'a:b': null } };
      await store.write(async (tx) => {
        await tx.insertNamespace({ id: 'ns-auth', name: 'auth', description: '', createdAt: now, updatedAt: now });
        await tx.setNamespaceAuthorization('ns-auth', settings, now);
      });
      assert.deepEqual(await store.getNamespaceAuthorization('ns-auth'), settings);
      assert.deepEqual((await store.listNamespaceAuthorization())['ns-auth'], settings);
      assert.equal((await store.getNamespace('ns-auth')) && 'authorization' in (await store.getNamespace('ns-auth'))!, false, 'namespace reads never carry the settings');
      await store.write((tx) => tx.setNamespaceAuthorization('ns-auth', { rateLimits: { perCaller: { ratePerSecond: 1, burst: 2 } } }, now));
      assert.deepEqual(await store.getNamespaceAuthorization('ns-auth'), { rateLimits: { perCaller: { ratePerSecond: 1, burst: 2 } } });
      await store.write((tx) => tx.setNamespaceAuthorization('ns-auth', undefined, now));
      assert.equal(await store.getNamespaceAuthorization('ns-auth'), undefined);
      await store.write((tx) => tx.setNamespaceAuthorization('ns-auth', settings, now));
      await store.write((tx) => tx.deleteNamespace('ns-auth'));
      assert.equal(await store.getNamespaceAuthorization('ns-auth'), undefined);
      assert.equal((await store.listNamespaceAuthorization())['ns-auth'], undefined);
    });

    it('stores consumers with their allow-lists', async () => {
      await store.write(async (tx) => {
        await tx.insertConsumer({ id: 'c1', namespace: 'public', name: 'agent-a', keyHash: 'h-a', keyPrefix: 'mgk_ab', allow: [{ server: 'weather' }, { server: 'io.acme/maps', tools: ['route'] }], createdAt: now });
        await tx.insertConsumer({ id: 'c2', namespace: 'public', name: 'agent-b', keyHash: 'h-b', keyPrefix: 'mgk_cd', allow: null, createdAt: now });
      });
      assert.deepEqual((await store.listConsumers('public')).map((c) => [c.name, c.allow]), [['agent-a', [{ server: 'weather' }, { server: 'io.acme/maps', tools: ['route'] }]], ['agent-b', null]]);
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

    it('keeps the revisions of a version, oldest first, gone with the version and with the server', async () => {
      const m = server('public', 'revisions-kept');
      await store.write(async (tx) => {
        await tx.insertMcpServer(m);
        for (const v of ['1.0.0', '2.0.0']) await tx.putVersion({ serverId: m.id, version: v, status: 'archived', spec: spec(v), createdAt: now, publishedAt: now });
        await tx.insertRevision({ serverId: m.id, version: '1.0.0', revision: 2, spec: spec('1.0.0', 'edited'), createdAt: now + 1, actor: 'bob' });
        await tx.insertRevision({ serverId: m.id, version: '1.0.0', revision: 1, spec: spec('1.0.0'), createdAt: now, actor: '' });
        await tx.insertRevision({ serverId: m.id, version: '2.0.0', revision: 1, spec: spec('2.0.0'), createdAt: now, actor: '' });
        await tx.putVersion({ serverId: m.id, version: '1.0.0', status: 'published', spec: spec('1.0.0', 'edited'), createdAt: now, publishedAt: now, revision: 2 });
        await tx.insertPublishEvent({ serverId: m.id, seq: 1, action: 'overwrite', version: '1.0.0', previousVersion: '1.0.0', revision: 2, previousRevision: 1, actor: 'bob', note: '', at: now + 1 });
      });
      assert.equal((await store.getVersion(m.id, '1.0.0'))?.revision, 2);
      assert.equal((await store.getVersion(m.id, '2.0.0'))?.revision, 1, 'a version put without one is at revision 1');
      assert.deepEqual((await store.listRevisions(m.id, '1.0.0')).map((r) => [r.revision, r.spec.description, r.actor, r.createdAt]), [[1, spec('1.0.0').description, '', now], [2, 'edited', 'bob', now + 1]]);
      assert.deepEqual((await store.listPublishHistory(m.id)).map((e) => [e.action, e.revision, e.previousRevision]), [['overwrite', 2, 1]]);
      await assert.rejects(store.write((tx) => tx.insertRevision({ serverId: m.id, version: '1.0.0', revision: 2, spec: spec('1.0.0'), createdAt: now, actor: 'x' })), 'a revision is never replaced');
      await store.write((tx) => tx.deleteVersion(m.id, '2.0.0'));
      assert.deepEqual(await store.listRevisions(m.id, '2.0.0'), []);
      await store.write((tx) => tx.deleteMcpServer(m.id));
      assert.deepEqual(await store.listRevisions(m.id, '1.0.0'), []);
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

    it('keeps each gateway\'s last report, claimed by the node that took it, and prunes the silent ones', async () => {
      const report = (id: string, node: string, revision: number, claim: boolean, watchConnections = 0) => ({
        id, node, kind: 'remote' as const, revision, watchConnections, remoteAddress: '10.0.0.1', status: JSON.stringify({ sessions: revision }), claim,
      });
      await store.putGatewayReports([]);
      await store.putGatewayReports([report('gw-a', 'n1', 1, true, 1), report('gw-b', 'n1', 2, true)]);
      await sleep(150);
      // gw-a moved to n2; n1's late refresh (not a claim) must not take it back; gw-b is reported again through n1.
      await store.putGatewayReports([report('gw-a', 'n2', 3, true, 1), report('gw-b', 'n1', 4, true)]);
      await store.putGatewayReports([report('gw-a', 'n1', 1, false, 0)]);
      const many = Array.from({ length: 130 }, (_, i) => report(`gw-many-${i}`, 'n2', i, true));
      await store.putGatewayReports(many);
      const { now, reports } = await store.listGatewayReports(1000);
      const byId = new Map(reports.map((r) => [r.id, r]));
      assert.equal(reports.length, 132);
      assert.deepEqual([byId.get('gw-a')?.node, byId.get('gw-a')?.revision, byId.get('gw-a')?.watchConnections], ['n2', 3, 1]);
      assert.deepEqual([byId.get('gw-b')?.node, byId.get('gw-b')?.revision, JSON.parse(byId.get('gw-b')?.status ?? '{}')], ['n1', 4, { sessions: 4 }]);
      assert.equal(byId.get('gw-b')?.kind, 'remote');
      assert.equal(byId.get('gw-b')?.remoteAddress, '10.0.0.1');
      assert.ok(reports.every((r) => r.lastSeen <= now + 5 && now - r.lastSeen < 60_000));
      assert.equal((await store.listGatewayReports(5)).reports.length, 5, 'bounded by the limit');
      // A refresh by the node that holds the gateway goes through.
      await store.putGatewayReports([report('gw-a', 'n2', 5, false, 0)]);
      assert.equal((await store.listGatewayReports(1000)).reports.find((r) => r.id === 'gw-a')?.revision, 5);
      await sleep(150);
      await store.putGatewayReports([report('gw-b', 'n1', 6, true)]);
      assert.equal(await store.pruneGatewayReports(100), 131);
      assert.deepEqual((await store.listGatewayReports(1000)).reports.map((r) => r.id), ['gw-b']);
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
        await tx.insertUser({ username: 'bob', id: randomUUID(), credentialGeneration: 0, passwordHash: 'h', createdAt: now, roles: [{ namespace: 'ns-a', role: 'viewer' }] });
        await tx.deleteNamespace('ns-a');
      });
      assert.equal(await store.getNamespace('ns-a'), undefined);
      assert.deepEqual((await store.getUser('bob'))?.roles, []);
    });

    const entry = (over: Partial<AuditRecord> = {}): AuditRecord => ({
      at: now, namespace: 'audit-ns', actor: { kind: 'user', name: 'ann' }, address: '10.1.2.3', route: 'POST /api/v1/namespaces/:ns/services',
      action: 'service.create', entity: 'service', entityId: randomUUID(), entityName: 'DEFAULT_GROUP@@orders', before: null, after: { a: 1 },
      secretsChanged: [], ...over,
    });

    it('records audit entries in the write\'s own transaction: committed with it, rolled back with it', async () => {
      const big = { spec: 'z'.repeat(100_000) };
      const rev = await store.write(async (tx) => {
        await tx.recordAudit(entry({ entityName: 'first', before: { x: [1, 'two'], odd: 'a "b" \\ {c,d} NULL é' }, after: big, secretsChanged: ['version.spec.config.token'] }));
        await tx.recordAudit(entry({ entityName: 'second', actor: { kind: 'token', name: 'ann', tokenId: 't-9' }, address: null, route: null }));
        return tx.txRevision;
      });
      await assert.rejects(store.write(async (tx) => {
        await tx.recordAudit(entry({ entityName: 'never' }));
        throw new Error('boom');
      }), /boom/);
      const got = await store.listAudit({ namespaces: ['audit-ns'], limit: 10 });
      assert.deepEqual(got.map((e) => [e.revision, e.seq, e.entityName]), [[rev, 2, 'second'], [rev, 1, 'first']], 'newest first; the rolled-back entry is gone');
      const [second, first] = got;
      assert.deepEqual(first?.before, { x: [1, 'two'], odd: 'a "b" \\ {c,d} NULL é' }, 'quotes, backslashes, braces, commas and NULL kept as written');
      assert.equal((first?.after as typeof big).spec.length, 100_000, 'before/after over 64 KiB');
      assert.deepEqual(first?.secretsChanged, ['version.spec.config.token']);
      assert.deepEqual(first?.actor, { kind: 'user', name: 'ann' });
      assert.equal(first?.address, '10.1.2.3');
      assert.deepEqual(second?.actor, { kind: 'token', name: 'ann', tokenId: 't-9' });
      assert.equal(second?.address, null);
      assert.equal(second?.before, null);
      assert.deepEqual(second?.secretsChanged, []);
    });

    it('lists audit entries with filters, newest first, page by page', async () => {
      const ns = 'audit-q';
      const revs: number[] = [];
      for (let i = 0; i < 5; i++) {
        revs.push(await store.write(async (tx) => {
          await tx.recordAudit(entry({
            namespace: i === 4 ? '*' : ns, at: now + i * 1000, actor: { kind: i % 2 ? 'user' : 'anonymous', name: i % 2 ? 'bob' : 'anonymous' },
            action: i === 2 ? 'service.delete' : 'service.update', entity: i === 3 ? 'mcp_server' : 'service', entityId: `id-${i}`,
            entityName: i === 3 ? 'weather_100%' : `svc-${i}`,
          }));
          return tx.txRevision;
        }));
      }
      const names = async (q: Partial<AuditQuery>) => (await store.listAudit({ limit: 100, namespaces: [ns, '*'], ...q })).map((e) => e.entityName);
      assert.deepEqual(await names({}), ['svc-4', 'weather_100%', 'svc-2', 'svc-1', 'svc-0']);
      assert.deepEqual(await names({ namespaces: [ns] }), ['weather_100%', 'svc-2', 'svc-1', 'svc-0']);
      assert.deepEqual(await names({ namespaces: [] }), [], 'no namespace: nothing');
      assert.deepEqual(await names({ actor: 'bob' }), ['weather_100%', 'svc-1']);
      assert.deepEqual(await names({ entity: 'mcp_server' }), ['weather_100%']);
      assert.deepEqual(await names({ entityId: 'id-2' }), ['svc-2']);
      assert.deepEqual(await names({ entityId: 'svc-1' }), ['svc-1'], 'the id filter takes the name too');
      assert.deepEqual(await names({ entityName: '100%' }), ['weather_100%'], 'LIKE wildcards are escaped');
      assert.deepEqual(await names({ entityName: 'svc-_' }), []);
      assert.deepEqual(await names({ action: 'service.delete' }), ['svc-2']);
      assert.deepEqual(await names({ since: now + 1000, until: now + 3000 }), ['svc-2', 'svc-1'], 'since inclusive, until exclusive');
      const page1 = await store.listAudit({ limit: 2, namespaces: [ns, '*'] });
      const last = page1[page1.length - 1]!;
      const page2 = await store.listAudit({ limit: 2, namespaces: [ns, '*'], before: { revision: last.revision, seq: last.seq } });
      assert.deepEqual([...page1, ...page2].map((e) => e.revision), [revs[4], revs[3], revs[2], revs[1]]);
    });

    it('prunes audit entries older than a time', async () => {
      await store.write(async (tx) => {
        await tx.recordAudit(entry({ namespace: 'audit-p', at: now - 10_000, entityName: 'old' }));
        await tx.recordAudit(entry({ namespace: 'audit-p', at: now, entityName: 'new' }));
      });
      assert.ok((await store.pruneAudit(now - 5000)) >= 1);
      assert.deepEqual((await store.listAudit({ namespaces: ['audit-p'], limit: 10 })).map((e) => e.entityName), ['new']);
      assert.equal(await store.pruneAudit(now - 5000), 0);
    });

    it('adds activity up across reports (calls, errors, latency histogram, kinds, agents) and reads it by slot', async () => {
      const ns = `act-${randomUUID().slice(0, 8)}`;
      const m0 = now - (now % MINUTE_MS);
      const bucket = (minute: number, calls: number, errors: number, agent: string, kind?: string) => {
        const latency = emptyLatency();
        latency[latencyBucket(20)] = calls;
        return {
          namespace: ns, server: 'weather', tool: 'forecast', minute, calls, errors, kinds: kind ? { [kind]: errors } : {}, latency,
          latencySumMs: 20 * calls, agents: [{ name: agent, version: '1.0', calls }],
        };
      };
      // Two gateways report the same minute (one twice in one report), a third the next minute.
      await store.addActivity({ buckets: [bucket(m0, 3, 1, 'claude', 'backend_status'), bucket(m0, 1, 0, 'claude')], errors: [] });
      await Promise.all([
        store.addActivity({ buckets: [bucket(m0, 2, 2, 'cursor', 'backend_status')], errors: [] }),
        store.addActivity({ buckets: [bucket(m0 + MINUTE_MS, 4, 0, 'cursor'), { ...bucket(m0, 5, 0, 'claude'), tool: 'alerts' }], errors: [] }),
      ]);
      const byMinute = await store.readActivity({ namespace: ns, from: m0, stepMs: MINUTE_MS });
      const forecast = byMinute.slots.filter((s) => s.tool === 'forecast');
      assert.deepEqual(forecast.map((s) => [s.at, s.calls, s.errors]), [[m0, 6, 3], [m0 + MINUTE_MS, 4, 0]]);
      assert.equal(forecast[0]!.latency[latencyBucket(20)], 6);
      assert.equal(forecast[0]!.latencySumMs, 120);
      assert.deepEqual(byMinute.kinds.filter((k) => k.tool === 'forecast').map((k) => [k.kind, k.count]), [['backend_status', 3]]);
      const agents = byMinute.agents.filter((a) => a.tool === 'forecast').map((a) => [a.name, a.version, a.calls]).sort();
      assert.deepEqual(agents, [['claude', '1.0', 4], ['cursor', '1.0', 6]]);
      // An hour's slot holds both minutes; a narrowed read sees one tool; `from` leaves earlier minutes out.
      const hour = await store.readActivity({ namespace: ns, from: m0, stepMs: 60 * MINUTE_MS, tool: 'forecast' });
      assert.deepEqual(hour.slots.map((s) => s.calls), hour.slots.length === 1 ? [10] : [6, 4]);
      assert.ok(hour.slots.every((s) => s.tool === 'forecast'));
      assert.deepEqual((await store.readActivity({ namespace: ns, from: m0 + MINUTE_MS, stepMs: MINUTE_MS, server: 'weather' })).slots.map((s) => s.calls), [4]);
      assert.deepEqual((await store.readActivity({ namespace: 'no-such-ns', from: 0, stepMs: MINUTE_MS })).slots, []);
    });

    it('keeps the newest error samples of each tool, and prunes activity by age', async () => {
      const ns = `act-${randomUUID().slice(0, 8)}`;
      const sample = (at: number, tool = 'forecast') => ({
        namespace: ns, server: 'weather', tool, at, kind: 'backend_status', message: `failed at ${at}`, agent: { name: 'claude', version: '1.0' },
        request: '{"city":"Paris","apiKey":"****"}', answer: '{"isError":true}', gateway: 'gw-1',
      });
      const first = Array.from({ length: MAX_SAMPLES_PER_TOOL }, (_, i) => sample(now + i));
      await store.addActivity({ buckets: [], errors: [...first, sample(now, 'alerts')] });
      await store.addActivity({ buckets: [], errors: [sample(now + 100), sample(now + 101)] });
      const kept = await store.listActivityErrors({ namespace: ns, from: 0, tool: 'forecast', limit: 100 });
      assert.equal(kept.length, MAX_SAMPLES_PER_TOOL);
      assert.deepEqual(kept.slice(0, 2).map((e) => e.at), [now + 101, now + 100], 'newest first');
      assert.ok(kept.every((e) => e.at >= now + 2), 'the two oldest went');
      assert.deepEqual(kept[0], { ...sample(now + 101) });
      assert.equal((await store.listActivityErrors({ namespace: ns, from: 0, server: 'weather', limit: 5 })).length, 5);
      assert.equal((await store.listActivityErrors({ namespace: ns, from: 0, tool: 'alerts', limit: 5 })).length, 1);

      const m0 = now - (now % MINUTE_MS);
      await store.addActivity({ buckets: [{ namespace: ns, server: 'weather', tool: 'old', minute: m0 - 10 * MINUTE_MS, calls: 1, errors: 0, kinds: {}, latency: emptyLatency(), latencySumMs: 1, agents: [{ name: 'a', version: '', calls: 1 }] }], errors: [] });
      assert.ok((await store.pruneActivity(now + 50)) >= 3);
      assert.deepEqual((await store.readActivity({ namespace: ns, from: 0, stepMs: MINUTE_MS, tool: 'old' })).slots, []);
      assert.deepEqual((await store.listActivityErrors({ namespace: ns, from: 0, tool: 'forecast', limit: 100 })).map((e) => e.at), [now + 101, now + 100]);
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
for (const kind of kinds) {
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
            if (performance.now() - t0 > 30_000) throw new Error(`revision ${r} not pushed`);
            await sleep(1);
          }
          delays.push(heard.find((h) => h.revision === r)!.at - t0);
        }
        delays.sort((x, y) => x - y);
        t.diagnostic(`write on node A → NOTIFY heard on node B: p50 ${delays[10]!.toFixed(1)} ms, max ${delays[19]!.toFixed(1)} ms (from the start of the write)`);
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
      const fenced: unknown[] = [];
      const la = a.leaderLock('jobs', 'node-a', { ttlMs: 3000, onFenced: (h) => fenced.push(h) });
      const lb = b.leaderLock('jobs', 'node-b', { ttlMs: 3000, onFenced: (h) => fenced.push(h) });
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
        await acquireWithin(other, 30_000);
        const taken = await b.getLease('jobs');
        assert.equal(taken?.holder, la.held ? 'node-a' : 'node-b');
        assert.deepEqual(fenced, [], 'taken over on release, without fencing');
      } finally {
        await Promise.all([la.release(), lb.release()]);
      }
    });

    it('hands the leader lock over at once when the holder\'s connection dies (kill -9), well within the TTL', async (t) => {
      const ttlMs = 5000;
      const lost: string[] = [];
      const la = a.leaderLock('jobs-kill', 'node-a', { ttlMs, onLost: (r) => lost.push(r) });
      const fenced: unknown[] = [];
      const lb = b.leaderLock('jobs-kill', 'node-b', { ttlMs, onFenced: (h) => fenced.push(h) });
      try {
        assert.equal(await la.poll(), true);
        assert.equal(await lb.poll(), false);
        const old = await a.getLease('jobs-kill');
        la.destroy(); // the socket closes without a goodbye, as when the process is killed
        const ms = await acquireWithin(lb, 30_000);
        t.diagnostic(`leader lock taken over ${ms.toFixed(0)} ms after the holder's connection died (TTL ${ttlMs} ms)`);
        const taken = await a.getLease('jobs-kill');
        assert.equal(taken?.holder, 'node-b');
        // The lock went with the dead holder's connection: taken without fencing it.
        assert.ok(old?.holder === 'node-a' && taken);
        assert.deepEqual(fenced, [], 'taken over without fencing the dead holder');
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
        const hung = await b.getLease('jobs-hang');
        // node-a hangs: it stops polling, but its connection stays open, so the database keeps its lock.
        assert.equal(await lb.poll(), false);
        const ms = await acquireWithin(lb, 30_000, 200);
        t.diagnostic(`hung holder fenced and lock taken over after ${ms.toFixed(0)} ms (TTL ${ttlMs} ms)`);
        const taken = await b.getLease('jobs-hang');
        // By the database's clock: not before the hung holder's lease ran out.
        assert.ok(hung && taken && taken.acquiredAt >= hung.expiresAt, 'not taken over before the lease ran out');
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

for (const kind of kinds) {
  describe(`Store migrations 0007 and 0009 on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    after(async () => db?.drop());

    it('give stored versions entity-tags and turn string allow-lists into unambiguous entries', async () => {
      db = await kind.create();
      const adapter = dialectFor(db.url);
      const old = new Kysely<any>({ dialect: adapter.create() }); // eslint-disable-line @typescript-eslint/no-explicit-any
      try {
        const migrator = new Migrator({ db: old, provider: migrations(adapter), migrationTableName: 'mg_migrations', migrationLockTableName: 'mg_migrations_lock' });
        const { error } = await migrator.migrateTo('0004_cluster');
        assert.equal(error, undefined);
        const servers = [['s1', 'public', 'weather'], ['s2', 'public', 'io.acme/maps'], ['s3', 'public', 'both'], ['s4', 'public', 'both/x'], ['s5', 'other', 'io.acme']];
        for (const [id, namespace, name] of servers) {
          await old.insertInto('mg_mcp_servers').values({
            id, namespace, name, description: '', protocol: 'http', front_protocol: 'mcp-streamable', endpoint: '{"type":"none"}', enabled: 1,
            passthrough: '{"headers":[],"cookies":[]}', published_version: null, latest_version: '1.0.0', created_at: now, updated_at: now,
          }).execute();
          await old.insertInto('mg_mcp_server_versions').values({ server_id: id, version: '1.0.0', status: 'draft', spec: JSON.stringify(spec('1.0.0')), created_at: now, published_at: null }).execute();
        }
        const consumer = (id: string, namespace: string, allow: string[] | null) => old.insertInto('mg_consumers').values({
          id, namespace, name: id, key_hash: `h-${id}`, key_prefix: 'mgk_', allow: allow === null ? null : JSON.stringify(allow), created_at: now,
        }).execute();
        // weather: a whole server; weather/today: a tool of it; io.acme/maps: the server of that name (io.acme does not exist in public);
        // both/x: both servers exist, so both grants stay; nowhere/tool: neither exists, the documented meaning (a tool).
        await consumer('a', 'public', ['weather/today', 'io.acme/maps', 'both/x', 'nowhere/tool', 'weather/later']);
        await consumer('b', 'public', ['weather', 'weather/today']);
        await consumer('c', 'other', ['io.acme/maps']);
        await consumer('d', 'public', null);
      } finally {
        await old.destroy();
      }
      const store = await openStore(db.url);
      try {
        const etags = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map(async (id) => (await store.getVersion(id, '1.0.0'))?.etag));
        for (const e of etags) assert.match(e ?? '', /^"[A-Za-z0-9_-]{22}"$/);
        assert.equal(new Set(etags).size, 5, 'each version has its own entity-tag');
        const allow = Object.fromEntries((await store.listConsumers()).map((c) => [c.id, c.allow]));
        assert.deepEqual(allow, {
          a: [{ server: 'weather', tools: ['today', 'later'] }, { server: 'io.acme/maps' }, { server: 'both/x' }, { server: 'both', tools: ['x'] }, { server: 'nowhere', tools: ['tool'] }],
          b: [{ server: 'weather' }],
          c: [{ server: 'io.acme', tools: ['maps'] }],
          d: null,
        });
      } finally {
        await store.close();
      }
    });
  });
}
