// The Nacos naming Open API (v1, v2), operator metrics and login, end to end against a real
// registry on every real database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';

/** Run a shell command line exactly as written (the deployment guide's curl). */
function sh(command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }));
  });
}

const HOST_FIELDS = [
  'instanceId', 'ip', 'port', 'weight', 'healthy', 'enabled', 'ephemeral', 'clusterName', 'serviceName', 'metadata',
  'instanceHeartBeatInterval', 'instanceHeartBeatTimeOut', 'ipDeleteTimeout', 'instanceIdGenerator',
];

for (const kind of await databaseKinds()) {
  describe(`Nacos naming API on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let reg: TestRegistry;
    let nacos: string;

    before(async () => {
      db = await kind.create();
      reg = await startRegistry({ db: db.url });
      nacos = `${reg.url}/nacos`;
    });
    after(async () => {
      await reg?.close();
      await db?.drop();
    });

    it('takes the deployment guide registration command verbatim', async () => {
      const port = new URL(reg.url).port;
      const r = await sh(`curl -X POST 'http://127.0.0.1:${port}/nacos/v1/ns/instance?namespaceId=public&serviceName=svc&groupName=DEFAULT_GROUP&ip=10.0.0.1&port=8080&ephemeral=false'`);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'ok');

      const before = Date.now();
      const list = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=svc&namespaceId=public&clusters=DEFAULT`);
      assert.equal(list.status, 200);
      const b = list.body;
      assert.deepEqual(Object.keys(b), [
        'name', 'groupName', 'clusters', 'cacheMillis', 'hosts', 'lastRefTime', 'checksum', 'allIPs', 'reachProtectionThreshold', 'valid',
      ]);
      assert.equal(b.name, 'DEFAULT_GROUP@@svc');
      assert.equal(b.groupName, 'DEFAULT_GROUP');
      assert.equal(b.clusters, 'DEFAULT');
      assert.equal(b.cacheMillis, 10000);
      assert.ok(b.lastRefTime >= before - 1000 && b.lastRefTime <= Date.now() + 1000);
      assert.match(b.checksum, /^[0-9a-f]{32}$/);
      assert.equal(b.allIPs, false);
      assert.equal(b.reachProtectionThreshold, false);
      assert.equal(b.valid, true);
      assert.equal(b.hosts.length, 1);
      assert.deepEqual(Object.keys(b.hosts[0]), HOST_FIELDS);
      assert.deepEqual(b.hosts[0], {
        instanceId: '10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@svc', ip: '10.0.0.1', port: 8080, weight: 1, healthy: true, enabled: true,
        ephemeral: false, clusterName: 'DEFAULT', serviceName: 'DEFAULT_GROUP@@svc', metadata: {}, instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000, ipDeleteTimeout: 30000, instanceIdGenerator: 'simple',
      });

      const again = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=DEFAULT_GROUP@@svc&clusters=DEFAULT`);
      assert.equal(again.body.checksum, b.checksum, 'the checksum is stable while the hosts do not change');
      const other = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=svc&clusters=OTHER`);
      assert.deepEqual(other.body.hosts, []);
      assert.equal(other.body.clusters, 'OTHER');
    });

    it('answers an empty host list for an unknown service, as Nacos does', async () => {
      const r = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=nobody`);
      assert.equal(r.status, 200);
      assert.equal(r.body.name, 'DEFAULT_GROUP@@nobody');
      assert.deepEqual(r.body.hosts, []);
    });

    it('shows, updates and deregisters an instance', async () => {
      const reg1 = await http('POST', `${nacos}/v1/ns/instance`, {
        form: { serviceName: 'orders', ip: '10.1.0.1', port: '9000', metadata: '{"zone":"a","preserved.heart.beat.interval":"2000"}', weight: '3', enable: 'true' },
      });
      assert.equal(reg1.status, 200);
      assert.equal(reg1.text, 'ok');

      const detail = await http('GET', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000`);
      assert.equal(detail.status, 200);
      assert.deepEqual(detail.body, {
        service: 'DEFAULT_GROUP@@orders', ip: '10.1.0.1', port: 9000, clusterName: 'DEFAULT', weight: 3, healthy: true,
        instanceId: '10.1.0.1#9000#DEFAULT#DEFAULT_GROUP@@orders', metadata: { zone: 'a', 'preserved.heart.beat.interval': '2000' },
      });
      const host = (await http('GET', `${nacos}/v1/ns/instance/list?serviceName=orders`)).body.hosts[0];
      assert.equal(host.instanceHeartBeatInterval, 2000);
      assert.equal(host.ephemeral, true);

      const upd = await http('PUT', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000&weight=5&metadata=zone=b`);
      assert.equal(upd.status, 200);
      assert.equal(upd.text, 'ok');
      const after1 = (await http('GET', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000`)).body;
      assert.equal(after1.weight, 5);
      assert.deepEqual(after1.metadata, { zone: 'b' });

      assert.equal((await http('PUT', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000&enabled=false`)).status, 200);
      assert.deepEqual((await http('GET', `${nacos}/v1/ns/instance/list?serviceName=orders`)).body.hosts, [], 'disabled instances are not listed');
      assert.equal((await http('PUT', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000&enable=true`)).status, 200);
      assert.equal((await http('GET', `${nacos}/v1/ns/instance/list?serviceName=orders&healthyOnly=true`)).body.hosts.length, 1);

      const missingOne = await http('PUT', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.9&port=9000&weight=2`);
      assert.equal(missingOne.status, 404);
      assert.match(missingOne.text, /^caused: .*10\.1\.0\.9/);

      const del = await http('DELETE', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000&ephemeral=true`);
      assert.equal(del.status, 200);
      assert.equal(del.text, 'ok');
      assert.deepEqual((await http('GET', `${nacos}/v1/ns/instance/list?serviceName=orders`)).body.hosts, []);
      assert.equal((await http('GET', `${nacos}/v1/ns/instance?serviceName=orders&ip=10.1.0.1&port=9000`)).status, 404);
    });

    it('takes group@@name and groupName, and clusters', async () => {
      assert.equal((await http('POST', `${nacos}/v1/ns/instance?serviceName=G1@@pay&ip=10.2.0.1&port=1&clusterName=east`)).status, 200);
      assert.equal((await http('POST', `${nacos}/v1/ns/instance?serviceName=pay&groupName=G1&ip=10.2.0.2&port=1&cluster=west`)).status, 200);
      const all = (await http('GET', `${nacos}/v1/ns/instance/list?serviceName=pay&groupName=G1`)).body;
      assert.equal(all.name, 'G1@@pay');
      assert.deepEqual(all.hosts.map((h: { instanceId: string }) => h.instanceId), ['10.2.0.1#1#east#G1@@pay', '10.2.0.2#1#west#G1@@pay']);
      const east = (await http('GET', `${nacos}/v1/ns/instance/list?serviceName=G1@@pay&clusters=east`)).body;
      assert.deepEqual(east.hosts.map((h: { ip: string }) => h.ip), ['10.2.0.1']);
      assert.equal((await http('GET', `${nacos}/v1/ns/instance/list?serviceName=pay`)).body.hosts.length, 0, 'DEFAULT_GROUP is another group');
    });

    it('refuses mixing ephemeral and persistent instances in one service', async () => {
      assert.equal((await http('POST', `${nacos}/v1/ns/instance?serviceName=mixed&ip=10.3.0.1&port=80&ephemeral=false&healthCheckType=none`)).status, 200);
      const revision = await reg.registry.services.store.revision();
      const r = await http('POST', `${nacos}/v1/ns/instance?serviceName=mixed&ip=10.3.0.2&port=80&ephemeral=true`);
      assert.equal(r.status, 400);
      assert.match(r.text, /^caused: .*ephemeral.*;$/);
      assert.equal(await reg.registry.services.store.revision(), revision);
      const v2 = await http('POST', `${nacos}/v2/ns/instance`, { form: { serviceName: 'mixed', ip: '10.3.0.2', port: '80' } });
      assert.equal(v2.status, 400);
      assert.equal(v2.body.code, 20002);
      assert.equal((await http('GET', `${nacos}/v1/ns/instance/list?serviceName=mixed`)).body.hosts.length, 1);
    });

    it('manages services and lists them', async () => {
      const c = await http('POST', `${nacos}/v1/ns/service`, { form: { serviceName: 'catalog', protectThreshold: '0.5', metadata: '{"team":"x"}' } });
      assert.equal(c.status, 200);
      assert.equal(c.text, 'ok');
      assert.equal((await http('POST', `${nacos}/v1/ns/service?serviceName=catalog`)).status, 409);

      const d = await http('GET', `${nacos}/v1/ns/service?serviceName=catalog`);
      assert.deepEqual(d.body, {
        namespaceId: 'public', groupName: 'DEFAULT_GROUP', name: 'catalog', protectThreshold: 0.5, metadata: { team: 'x' },
        selector: { type: 'none' }, clusters: [],
      });
      assert.equal((await http('PUT', `${nacos}/v1/ns/service?serviceName=catalog&protectThreshold=0.7&selector={"type":"label","expression":"CONSUMER.label.a = PROVIDER.label.a"}`)).status, 200);
      const d2 = (await http('GET', `${nacos}/v2/ns/service?serviceName=catalog`)).body;
      assert.equal(d2.code, 0);
      assert.equal(d2.data.protectThreshold, 0.7);
      assert.deepEqual(d2.data.metadata, { team: 'x' });
      assert.deepEqual(d2.data.selector, { type: 'label', expression: 'CONSUMER.label.a = PROVIDER.label.a' });

      const list = (await http('GET', `${nacos}/v1/ns/service/list?pageNo=1&pageSize=100`)).body;
      assert.deepEqual(Object.keys(list), ['count', 'doms']);
      assert.ok(list.doms.includes('catalog') && list.doms.includes('svc'));
      assert.equal(list.count, list.doms.length);
      const paged = (await http('GET', `${nacos}/v1/ns/service/list?pageNo=1&pageSize=1`)).body;
      assert.equal(paged.count, list.count);
      assert.equal(paged.doms.length, 1);
      assert.deepEqual((await http('GET', `${nacos}/v1/ns/service/list?pageNo=1&pageSize=10&groupName=G1`)).body, { count: 1, doms: ['pay'] });
      const v2list = (await http('GET', `${nacos}/v2/ns/service/list?groupName=G1`)).body;
      assert.deepEqual(v2list, { code: 0, message: 'success', data: { count: 1, services: ['pay'] } });

      // with instances and a protect threshold: unhealthy hosts come back marked healthy
      const naming = reg.registry.services.naming;
      await naming.registerInstance({ namespace: 'public', group: 'DEFAULT_GROUP', service: 'catalog', ip: '10.4.0.1', port: 1, cluster: 'DEFAULT', healthy: false, ephemeral: false, healthCheck: { type: 'none' } });
      await naming.registerInstance({ namespace: 'public', group: 'DEFAULT_GROUP', service: 'catalog', ip: '10.4.0.2', port: 1, cluster: 'DEFAULT', healthy: true, ephemeral: false, healthCheck: { type: 'none' } });
      const protectedList = (await http('GET', `${nacos}/v1/ns/instance/list?serviceName=catalog&healthyOnly=true`)).body;
      assert.equal(protectedList.reachProtectionThreshold, true);
      assert.deepEqual(protectedList.hosts.map((h: { healthy: boolean }) => h.healthy), [true, true]);
      const d3 = (await http('GET', `${nacos}/v1/ns/service?serviceName=catalog`)).body;
      assert.deepEqual(d3.clusters, [{ name: 'DEFAULT', healthChecker: { type: 'NONE' }, metadata: {} }]);

      const notEmpty = await http('DELETE', `${nacos}/v1/ns/service?serviceName=catalog`);
      assert.equal(notEmpty.status, 409);
      assert.match(notEmpty.text, /^caused: .*catalog/);
      for (const ip of ['10.4.0.1', '10.4.0.2']) assert.equal((await http('DELETE', `${nacos}/v1/ns/instance?serviceName=catalog&ip=${ip}&port=1`)).status, 200);
      const del = await http('DELETE', `${nacos}/v1/ns/service?serviceName=catalog`);
      assert.equal(del.status, 200);
      assert.equal(del.text, 'ok');
      const gone = await http('GET', `${nacos}/v1/ns/service?serviceName=catalog`);
      assert.equal(gone.status, 404);
      assert.match(gone.text, /^caused: .*catalog/);
      const gone2 = await http('GET', `${nacos}/v2/ns/service?serviceName=catalog`);
      assert.deepEqual({ status: gone2.status, code: gone2.body.code }, { status: 404, code: 20004 });

      assert.equal((await http('POST', `${nacos}/v2/ns/service`, { form: { serviceName: 'v2svc', groupName: 'G2' } })).body.data, 'ok');
      assert.equal((await http('PUT', `${nacos}/v2/ns/service`, { form: { serviceName: 'v2svc', groupName: 'G2', protectThreshold: '0.2' } })).body.data, 'ok');
      assert.equal((await http('GET', `${nacos}/v2/ns/service?serviceName=v2svc&groupName=G2`)).body.data.protectThreshold, 0.2);
      assert.equal((await http('DELETE', `${nacos}/v2/ns/service?serviceName=v2svc&groupName=G2`)).body.data, 'ok');
    });

    it('serves the v2 instance API in the envelope, with JSON or form bodies', async () => {
      const r = await http('POST', `${nacos}/v2/ns/instance`, { body: { serviceName: 'inv', ip: '10.5.0.1', port: 7000, weight: 2, metadata: { k: 'v' }, ephemeral: true } });
      assert.deepEqual({ status: r.status, body: r.body }, { status: 200, body: { code: 0, message: 'success', data: 'ok' } });
      const detail = await http('GET', `${nacos}/v2/ns/instance?serviceName=inv&ip=10.5.0.1&port=7000`);
      assert.deepEqual(detail.body, {
        code: 0, message: 'success',
        data: { serviceName: 'DEFAULT_GROUP@@inv', ip: '10.5.0.1', port: 7000, clusterName: 'DEFAULT', weight: 2, healthy: true, instanceId: '10.5.0.1#7000#DEFAULT#DEFAULT_GROUP@@inv', metadata: { k: 'v' } },
      });
      const list = await http('GET', `${nacos}/v2/ns/instance/list?serviceName=inv&clusterName=DEFAULT`);
      assert.equal(list.body.code, 0);
      assert.equal(list.body.data.name, 'DEFAULT_GROUP@@inv');
      assert.equal(list.body.data.clusters, 'DEFAULT');
      assert.deepEqual(Object.keys(list.body.data.hosts[0]), HOST_FIELDS);
      const upd = await http('PUT', `${nacos}/v2/ns/instance`, { form: { serviceName: 'inv', ip: '10.5.0.1', port: '7000', weight: '4' } });
      assert.equal(upd.body.data, 'ok');
      assert.equal((await http('GET', `${nacos}/v2/ns/instance?serviceName=inv&ip=10.5.0.1&port=7000`)).body.data.weight, 4);
      const missingIp = await http('POST', `${nacos}/v2/ns/instance`, { form: { serviceName: 'inv', port: '7000' } });
      assert.equal(missingIp.status, 400);
      assert.equal(missingIp.body.code, 10000);
      assert.match(missingIp.body.data, /'ip'/);
      assert.equal((await http('DELETE', `${nacos}/v2/ns/instance?serviceName=inv&ip=10.5.0.1&port=7000`)).body.data, 'ok');
      const gone = await http('GET', `${nacos}/v2/ns/instance?serviceName=inv&ip=10.5.0.1&port=7000`);
      assert.deepEqual({ status: gone.status, code: gone.body.code }, { status: 404, code: 20404 });
    });

    it('answers heartbeats as Nacos does', async () => {
      const unknown = await http('PUT', `${nacos}/v1/ns/instance/beat?serviceName=beats&ip=10.6.0.1&port=80`);
      assert.equal(unknown.status, 200);
      assert.deepEqual(unknown.body, { clientBeatInterval: 5000, code: 20404, lightBeatEnabled: false });

      const beat = JSON.stringify({ cluster: 'DEFAULT', ip: '10.6.0.1', port: 80, serviceName: 'DEFAULT_GROUP@@beats', weight: 1, metadata: { 'preserved.heart.beat.interval': '1000' }, scheduled: true });
      const reRegistered = await http('PUT', `${nacos}/v1/ns/instance/beat?serviceName=DEFAULT_GROUP@@beats&beat=${encodeURIComponent(beat)}`);
      assert.deepEqual(reRegistered.body, { clientBeatInterval: 1000, code: 10200, lightBeatEnabled: false });
      const host = (await http('GET', `${nacos}/v1/ns/instance/list?serviceName=beats`)).body.hosts[0];
      assert.equal(host.ip, '10.6.0.1');
      assert.equal(host.ephemeral, true);
      assert.equal(host.instanceHeartBeatInterval, 1000);

      const store = reg.registry.services.store;
      const first = (await store.getInstance('public', 'DEFAULT_GROUP', 'beats', '10.6.0.1', 80, 'DEFAULT'))?.lastBeat ?? 0;
      await new Promise((r) => setTimeout(r, 20));
      const plain = await http('PUT', `${nacos}/v2/ns/instance/beat?serviceName=beats&ip=10.6.0.1&port=80`);
      assert.deepEqual(plain.body, { clientBeatInterval: 1000, code: 10200, lightBeatEnabled: false });
      const second = (await store.getInstance('public', 'DEFAULT_GROUP', 'beats', '10.6.0.1', 80, 'DEFAULT'))?.lastBeat ?? 0;
      assert.ok(second > first, 'the beat moved lastBeat');
      assert.equal((await http('DELETE', `${nacos}/v1/ns/instance?serviceName=beats&ip=10.6.0.1&port=80`)).status, 200);
    });

    it('reports operator metrics', async () => {
      const status = await http('GET', `${nacos}/v1/ns/operator/metrics`);
      assert.deepEqual(status.body, { status: 'UP' });
      const full = (await http('GET', `${nacos}/v1/ns/operator/metrics?onlyStatus=false`)).body;
      assert.equal(full.status, 'UP');
      const page = await reg.registry.services.store.listServices('public', { pageNo: 1, pageSize: 1 });
      assert.equal(full.serviceCount, page.total);
      assert.equal(full.instanceCount, (await reg.registry.services.store.listInstances({})).length);
      for (const k of ['subscribeCount', 'clientCount', 'ephemeralIpPortClientCount', 'persistentIpPortClientCount', 'cpu', 'load', 'mem']) {
        assert.equal(typeof full[k], 'number', k);
      }
    });
  });
}

describe('Nacos login, credentials and namespace isolation', () => {
  let reg: TestRegistry;
  let nacos: string;
  const password = 'admin-password-1';

  before(async () => {
    reg = await startRegistry({ auth: true, adminPassword: password });
    nacos = `${reg.url}/nacos`;
    const { naming, auth } = reg.registry.services;
    await naming.createNamespace({ id: 'team-a' });
    await naming.createNamespace({ id: 'team-b' });
    await auth.createUser({ username: 'alice', password: 'alice-password', roles: [{ namespace: 'team-a', role: 'editor' }] });
    await auth.createUser({ username: 'bob', password: 'bob-password', roles: [{ namespace: 'team-a', role: 'viewer' }] });
  });
  after(async () => {
    await reg?.close();
  });

  it('logs in on every Nacos login path', async () => {
    for (const path of ['/v1/auth/login', '/v1/auth/users/login', '/v3/auth/user/login']) {
      const r = await http('POST', `${nacos}${path}`, { form: { username: 'admin', password } });
      assert.equal(r.status, 200, path);
      assert.deepEqual(Object.keys(r.body), ['accessToken', 'tokenTtl', 'globalAdmin', 'username'], path);
      assert.equal(r.body.tokenTtl, 18000);
      assert.equal(r.body.globalAdmin, true);
      assert.equal(r.body.username, 'admin');
      assert.equal(r.headers.get('authorization'), `Bearer ${r.body.accessToken}`);
    }
    const q = await http('POST', `${nacos}/v1/auth/login?username=alice&password=alice-password`);
    assert.equal(q.body.globalAdmin, false);
    const wrong = await http('POST', `${nacos}/v1/auth/login`, { form: { username: 'admin', password: 'nope-nope' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /^caused: /);
    const missingPw = await http('POST', `${nacos}/v3/auth/user/login`, { form: { username: 'admin' } });
    assert.deepEqual({ status: missingPw.status, code: missingPw.body.code }, { status: 400, code: 10000 });
    assert.match(missingPw.body.data, /password/);
  });

  it('accepts the token every way Nacos does, and raw username/password', async () => {
    const token = (await http('POST', `${nacos}/v1/auth/login`, { form: { username: 'admin', password } })).body.accessToken as string;
    const register = (port: number) => `${nacos}/v1/ns/instance?serviceName=authd&ip=10.9.0.1&port=${port}`;

    const none = await http('POST', register(1));
    assert.equal(none.status, 401);
    assert.match(none.text, /^caused: /);
    assert.equal((await http('POST', register(1), { token })).text, 'ok');
    assert.equal((await http('POST', register(2), { headers: { accessToken: token } })).text, 'ok');
    assert.equal((await http('POST', `${register(3)}&accessToken=${encodeURIComponent(token)}`)).text, 'ok');
    assert.equal((await http('POST', `${nacos}/v1/ns/instance`, { form: { serviceName: 'authd', ip: '10.9.0.1', port: '4', accessToken: token } })).text, 'ok');
    assert.equal((await http('POST', `${register(5)}&username=admin&password=${password}`)).text, 'ok');
    assert.equal((await http('POST', register(6), { headers: { accessToken: 'forged' } })).status, 401);
    const list = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=authd`, { token });
    assert.deepEqual(list.body.hosts.map((h: { port: number }) => h.port), [1, 2, 3, 4, 5]);
    assert.deepEqual((await http('GET', `${nacos}/v1/ns/operator/metrics`)).body, { status: 'UP' }, 'the status needs no credential');
    assert.equal((await http('GET', `${nacos}/v1/ns/operator/metrics?onlyStatus=false`)).status, 401);
  });

  it('keeps namespaces apart and enforces roles', async () => {
    const login = async (username: string, pw: string) => (await http('POST', `${nacos}/v1/auth/login`, { form: { username, password: pw } })).body.accessToken as string;
    const alice = await login('alice', 'alice-password');
    const bob = await login('bob', 'bob-password');
    const inA = `${nacos}/v1/ns/instance?namespaceId=team-a&serviceName=shop&ip=10.8.0.1&port=80`;

    assert.equal((await http('POST', inA, { token: alice })).text, 'ok');
    const bobWrites = await http('POST', inA.replace('port=80', 'port=81'), { token: bob });
    assert.equal(bobWrites.status, 403);
    assert.match(bobWrites.text, /^caused: .*bob/);
    assert.equal((await http('GET', `${nacos}/v1/ns/instance/list?namespaceId=team-a&serviceName=shop`, { token: bob })).body.hosts.length, 1);

    const intoB = await http('POST', inA.replace('team-a', 'team-b'), { token: alice });
    assert.equal(intoB.status, 404);
    assert.match(intoB.text, /^caused: .*team-b/);
    const listB = await http('GET', `${nacos}/v1/ns/service/list?namespaceId=team-b`, { token: alice });
    assert.equal(listB.status, 404);
    const v2B = await http('GET', `${nacos}/v2/ns/service/list?namespaceId=team-b`, { token: alice });
    assert.deepEqual({ status: v2B.status, code: v2B.body.code }, { status: 404, code: 20004 });
    const publicList = await http('GET', `${nacos}/v1/ns/instance/list?serviceName=authd`, { token: alice });
    assert.equal(publicList.status, 404, 'alice holds no role in public');
    const mcpB = await http('GET', `${nacos}/v3/admin/ai/mcp/list?namespaceId=team-b`, { token: alice });
    assert.deepEqual({ status: mcpB.status, code: mcpB.body.code }, { status: 404, code: 20004 });
    const mcpA = await http('GET', `${nacos}/v3/admin/ai/mcp/list?namespaceId=team-a`, { token: bob });
    assert.deepEqual(mcpA.body, { code: 0, message: 'success', data: { totalCount: 0, pageNumber: 1, pagesAvailable: 0, pageItems: [] } });
    const metrics = (await http('GET', `${nacos}/v1/ns/operator/metrics?onlyStatus=false`, { token: alice })).body;
    assert.equal(metrics.instanceCount, 1, 'metrics count only what the caller may see');
  });
});
