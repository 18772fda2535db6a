// The real Nacos Node.js client (npm `nacos`, naming) against a real registry: register,
// heartbeat, subscribe, deregister, and expiry when the beats stop.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NacosNamingClient } from 'nacos';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';
import { until } from './support/wait.js';

type Host = { ip: string; port: number; healthy: boolean; metadata: Record<string, string> };
type Client = NacosNamingClient & { close(): Promise<void> };

const quiet = { info() {}, warn() {}, error() {}, debug() {}, log() {} } as unknown as typeof console;

function newClient(port: number): Client {
  return new NacosNamingClient({ logger: quiet, serverList: `127.0.0.1:${port}`, namespace: 'public' }) as Client;
}

const kinds = await databaseKinds();
// The client's first heartbeat comes 10 s after it starts, so the databases run side by side.
describe('the nacos npm client', { concurrency: true }, () => {
  for (const kind of kinds) {
    describe(`the nacos npm client on ${kind.kind}`, { skip: kind.unavailable, concurrency: false }, () => {
      let db: TestDatabase;
      let reg: TestRegistry;
      let client: Client;

      const hosts = async (service: string): Promise<Host[]> =>
        (await http('GET', `${reg.url}/nacos/v1/ns/instance/list?serviceName=${service}`)).body.hosts as Host[];
      const lastBeat = async (service: string, port: number) =>
        (await reg.registry.services.store.getInstance('public', 'DEFAULT_GROUP', service, '127.0.0.1', port, 'DEFAULT'))?.lastBeat;

      before(async () => {
        db = await kind.create();
        reg = await startRegistry({ db: db.url });
        client = newClient(Number(new URL(reg.url).port));
        await client.ready();
      });
      after(async () => {
        await client?.close();
        await reg?.close();
        await db?.drop();
      });

      it('registers, heartbeats, is seen through subscribe and deregisters', async () => {
        assert.equal(await client.getServerStatus(), 'UP');
        const seen: Host[][] = [];
        client.subscribe('orders', (h: unknown) => { seen.push(h as Host[]); });

        await client.registerInstance('orders', { ip: '127.0.0.1', port: 8081, metadata: { zone: 'a' } } as never);
        await client.registerInstance('orders', { ip: '127.0.0.1', port: 8082 } as never);
        const registered = await hosts('orders');
        assert.deepEqual(registered.map((h) => [h.port, h.healthy]), [[8081, true], [8082, true]]);
        assert.deepEqual(registered[0]?.metadata, { zone: 'a' });

        const both = await until('subscribe to see both instances', 15_000, () => {
          const last = seen.at(-1);
          return last && last.length === 2 ? last : undefined;
        });
        assert.deepEqual(both.map((h) => h.port).sort(), [8081, 8082]);

        const t0 = (await lastBeat('orders', 8081)) ?? 0;
        await until('a client heartbeat', 15_000, async () => (((await lastBeat('orders', 8081)) ?? 0) > t0 ? true : undefined));

        const services = await (client as unknown as { _serverProxy: { getServiceList(n: number, s: number, g: string): Promise<{ count: number; data: string[] }> } })
          ._serverProxy.getServiceList(1, 10, 'DEFAULT_GROUP');
        assert.deepEqual(services, { count: 1, data: ['orders'] });

        await client.deregisterInstance('orders', { ip: '127.0.0.1', port: 8082 } as never);
        assert.deepEqual((await hosts('orders')).map((h) => h.port), [8081]);
        const one = await until('subscribe to see the deregistration', 15_000, () => {
          const last = seen.at(-1);
          return last && last.length === 1 ? last : undefined;
        });
        assert.equal(one[0]?.port, 8081);

        // The last instance: the registry answers an empty list (as Nacos does); this client treats an
        // empty list as invalid and keeps its last one, so subscribers are not told.
        const calls = seen.length;
        await client.deregisterInstance('orders', { ip: '127.0.0.1', port: 8081 } as never);
        assert.deepEqual(await hosts('orders'), []);
        const direct = await client.getAllInstances('orders', 'DEFAULT_GROUP', 'DEFAULT', false);
        assert.deepEqual(direct.map((h) => h.port), [8081], 'the client keeps its last non-empty list');
        assert.equal(seen.length, calls);
      });

      it('keeps an instance alive by its beats, and expires it when they stop', async () => {
        const metadata = { 'preserved.heart.beat.interval': '500', 'preserved.heart.beat.timeout': '1500', 'preserved.ip.delete.timeout': '3000' };
        await client.registerInstance('expiring', { ip: '127.0.0.1', port: 9001, metadata } as never);
        const host = (await hosts('expiring'))[0] as unknown as Record<string, unknown>;
        assert.deepEqual([host.instanceHeartBeatInterval, host.instanceHeartBeatTimeOut, host.ipDeleteTimeout], [500, 1500, 3000]);

        // The client beats at the interval the registry answers (500 ms here, from the metadata).
        const beats = new Set<number>();
        await until('three beats at the short interval', 20_000, async () => {
          const b = await lastBeat('expiring', 9001);
          if (b !== undefined) beats.add(b);
          return beats.size >= 4 ? true : undefined;
        });
        const aliveSince = Date.now();
        while (Date.now() - aliveSince < 2500) {
          const h = await hosts('expiring');
          assert.equal(h[0]?.healthy, true, 'beats keep the instance healthy past its 1.5 s timeout');
          await new Promise((r) => setTimeout(r, 250));
        }

        await client.close();
        const closedAt = Date.now();
        await until('the instance to turn unhealthy', 10_000, async () => ((await hosts('expiring'))[0]?.healthy === false ? true : undefined));
        const unhealthyAfter = Date.now() - closedAt;
        await until('the instance to be removed', 10_000, async () => ((await hosts('expiring')).length === 0 ? true : undefined));
        const removedAfter = Date.now() - closedAt;
        assert.ok(unhealthyAfter < removedAfter, `unhealthy after ${unhealthyAfter} ms, removed after ${removedAfter} ms`);
        assert.equal(await lastBeat('expiring', 9001), undefined);
      });
    });
  }
});
