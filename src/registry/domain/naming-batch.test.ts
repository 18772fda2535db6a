// Registrations made at the same time are written together: each is checked and answered on
// its own, audited as its own caller, and every change reaches the change log and watchers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../../test/support/databases.js';
import type { TestDatabase } from '../../../test/support/databases.js';
import { AppError } from '../../lib/errors.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { runAsOrigin } from './audit.js';
import { ChangeFeed } from './context.js';
import type { RegistryContext } from './context.js';
import { NamingService, instanceId } from './naming.js';
import { WatchService } from './watch.js';

const key = (service: string, n: number) => ({ namespace: 'public', group: 'DEFAULT_GROUP', service, ip: `10.0.0.${n}`, port: 8080, cluster: 'DEFAULT' });
const as = <T>(name: string, fn: () => Promise<T>) => runAsOrigin({ actor: () => ({ kind: 'user', name }), address: `192.0.2.${name.length}`, route: 'POST /nacos/v1/ns/instance' }, fn);

for (const kind of await databaseKinds()) {
  describe(`batched registrations on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let store: Store;
    let ctx: RegistryContext;
    let naming: NamingService;

    before(async () => {
      db = await kind.create();
      store = await openStore(db.url);
      ctx = { store, feed: new ChangeFeed(store), now: () => Date.now() };
      naming = new NamingService(ctx);
      await naming.ensurePublicNamespace();
      // A service of persistent instances: an ephemeral registration into it is refused.
      await naming.registerInstance({ ...key('persistent-svc', 1), ephemeral: false, healthCheck: { type: 'none' } });
    });
    after(async () => {
      await store?.close();
      await db?.drop();
    });

    it('answers each registration of a batch on its own; refused ones change nothing; audit, change log and watchers see each', async () => {
      const before = await store.revision();
      const watch = new WatchService(ctx);
      const calls = [
        ...Array.from({ length: 30 }, (_, n) => ({ who: `user-${n}`, input: { ...key(`svc-${n % 3}`, n + 10), metadata: { n: String(n) } } })),
        { who: 'refused-ns', input: { ...key('svc-0', 99), namespace: 'no-such-ns' } },
        { who: 'refused-kind', input: key('persistent-svc', 2) },
        // The same address twice in one batch: registered, then updated.
        { who: 'again', input: { ...key('svc-1', 11), metadata: { n: 'again' } } },
      ];
      const settled = await Promise.allSettled(calls.map((c) => as(c.who, () => naming.registerInstance(c.input))));
      const refused = settled.flatMap((r, i) => (r.status === 'rejected' ? [[calls[i]!.who, (r.reason as AppError).code]] : []));
      assert.deepEqual(refused, [['refused-ns', 'NAMESPACE_NOT_FOUND'], ['refused-kind', 'INSTANCE_KIND_CONFLICT']]);
      assert.ok(settled.every((r) => r.status === 'fulfilled' || r.reason instanceof AppError));

      const svc1 = await naming.listInstances('public', 'DEFAULT_GROUP', 'svc-1');
      assert.equal(svc1.instances.length, 10);
      assert.equal(svc1.instances.find((i) => i.ip === '10.0.0.11')?.metadata.n, 'again', 'the later registration of an address wins');
      assert.equal((await naming.listInstances('public', 'DEFAULT_GROUP', 'persistent-svc')).instances.length, 1);

      // Every instance change is in the change log once per registration, and a watcher following it sees them all.
      const batch = await watch.changesAfter(before);
      const instanceChanges = batch.changes.filter((c) => c.entity === 'instance').map((c) => c.entityId);
      const accepted = calls.filter((c) => !c.who.startsWith('refused')).map((c) => instanceId({ ...c.input, serviceName: c.input.service }));
      assert.deepEqual(instanceChanges.sort(), accepted.sort());
      assert.equal(batch.revision, await store.revision());
      assert.equal(ctx.feed.revision, batch.revision, 'this node announced the revision');

      // Each audit entry names its own caller, though the registrations shared a transaction.
      const entries = await store.listAudit({ namespaces: ['public'], entity: 'instance', limit: 100 });
      const recent = entries.filter((e) => e.revision > before);
      assert.equal(recent.length, accepted.length);
      for (const e of recent) {
        const call = calls.find((c) => instanceId({ ...c.input, serviceName: c.input.service }) === e.entityId && (e.action === 'instance.update' ? c.who === 'again' : c.who !== 'again'));
        assert.ok(call, `an audit entry for ${e.entityId}`);
        assert.equal(e.actor.name, call.who);
        assert.equal(e.address, `192.0.2.${call.who.length}`);
      }
    });

    it('writes a full batch (300 registrations at once: beyond the statements\' chunks of 100 keys and 200 rows) with every change-log and audit row', async () => {
      const before = await store.revision();
      const inputs = Array.from({ length: 300 }, (_, n) => ({ ...key(`wide-${n % 7}`, 0), ip: `10.1.${n >> 8}.${n & 255}` }));
      const registered = await Promise.all(inputs.map((input) => as('wide', () => naming.registerInstance(input))));
      assert.equal(new Set(registered.map((i) => i.id)).size, 300);
      let listed = 0;
      for (let s = 0; s < 7; s++) listed += (await naming.listInstances('public', 'DEFAULT_GROUP', `wide-${s}`)).instances.length;
      assert.equal(listed, 300);
      const changes = (await new WatchService(ctx).changesAfter(before)).changes.filter((c) => c.entity === 'instance' && c.op === 'upsert');
      assert.deepEqual(changes.map((c) => c.entityId).sort(), inputs.map((i) => instanceId({ ...i, serviceName: i.service })).sort());
      const audited = (await store.listAudit({ namespaces: ['public'], entity: 'instance', limit: 1000 })).filter((e) => e.revision > before);
      assert.equal(audited.length, 300);
      assert.ok(audited.every((e) => e.action === 'instance.register' && e.actor.name === 'wide'));
    });

    it('takes no revision when every registration of a batch is refused', async () => {
      const before = await store.revision();
      const settled = await Promise.allSettled([
        naming.registerInstance({ ...key('svc-x', 1), namespace: 'nope' }),
        naming.registerInstance(key('persistent-svc', 3)),
        naming.updateInstance(key('svc-x', 2)),
      ]);
      assert.deepEqual(settled.map((r) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok')), ['NAMESPACE_NOT_FOUND', 'INSTANCE_KIND_CONFLICT', 'INSTANCE_NOT_FOUND']);
      assert.equal(await store.revision(), before);
    });

    it('checks an item against the kinds its service holds, counting the items before it in its batch', async () => {
      await naming.registerInstance(key('switching-svc', 1));
      const settled = await Promise.allSettled([
        // The service's only instance turns persistent: allowed.
        naming.registerInstance({ ...key('switching-svc', 1), ephemeral: false, healthCheck: { type: 'none' } }),
        // An ephemeral one beside it, after that: refused.
        naming.registerInstance({ ...key('switching-svc', 2), ephemeral: true }),
        // An update naming no kind keeps the one the first item gave.
        naming.updateInstance({ ...key('switching-svc', 1), weight: 3 }),
      ]);
      assert.deepEqual(settled.map((r) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok')), ['ok', 'INSTANCE_KIND_CONFLICT', 'ok']);
      const held = (await naming.listInstances('public', 'DEFAULT_GROUP', 'switching-svc')).instances;
      assert.deepEqual(held.map((i) => [i.ip, i.ephemeral, i.weight]), [['10.0.0.1', false, 3]]);
    });

    it('keeps instances held by a lease alive while it is renewed, and expires them as if their beats stopped once it is not', async () => {
      let clock = Date.now();
      const clocked = new NamingService({ ...ctx, now: () => clock });
      const holder = `node-${clock}`;
      const t0 = clock;
      await store.renewHolderLease(holder, t0);
      await clocked.registerInstance({ ...key('leased-svc', 1), holder });
      await clocked.registerInstance(key('leased-svc', 2));
      const state = async () => (await clocked.listInstances('public', 'DEFAULT_GROUP', 'leased-svc')).instances.map((i) => `${i.ip} ${i.healthy}`);
      // 40 s on: the instance that beats itself is gone (with those of the tests before); the held one lives on its lease, renewed 2 s ago.
      clock = t0 + 40_000;
      await store.renewHolderLease(holder, t0 + 38_000);
      await clocked.sweepEphemeral();
      assert.deepEqual(await state(), ['10.0.0.1 true']);
      // An update of the held instance (no holder named; it counts as a beat, at t0 + 40 s) keeps its holder.
      await clocked.updateInstance({ ...key('leased-svc', 1), weight: 2 });
      // The lease not renewed since (its node died): unhealthy 15 s on, and removed 30 s on, watchers told.
      const before = await store.revision();
      clock = t0 + 55_500;
      assert.deepEqual(await clocked.sweepEphemeral(), { unhealthy: 1, removed: 0 });
      assert.deepEqual(await state(), ['10.0.0.1 false']);
      clock = t0 + 69_000;
      assert.deepEqual(await clocked.sweepEphemeral(), { unhealthy: 0, removed: 0 });
      clock = t0 + 70_500;
      assert.deepEqual(await clocked.sweepEphemeral(), { unhealthy: 0, removed: 1 });
      assert.deepEqual(await state(), []);
      const id = instanceId({ ...key('leased-svc', 1), serviceName: 'leased-svc' });
      const changes = await new WatchService(ctx).changesAfter(before);
      assert.deepEqual(changes.changes.filter((c) => c.entity === 'instance').map((c) => `${c.entityId} ${c.op}`), [`${id} upsert`, `${id} delete`]);
      await store.dropHolderLeases({ holder });
    });
  });
}
