// Registry auth: login, roles per namespace, API tokens and namespace isolation, through the native and Nacos APIs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http } from './support/http.js';
import { startRegistry } from './support/registry.js';
import type { TestRegistry } from './support/registry.js';

describe('registry auth and namespace isolation', () => {
  let reg: TestRegistry;
  let api: string;
  let admin: string;
  const login = async (username: string, password: string) => (await http('POST', `${api}/auth/login`, { body: { username, password } })).body.accessToken as string;

  before(async () => {
    reg = await startRegistry({ auth: true, adminPassword: 'admin-secret-1' });
    api = `${reg.url}/api/v1`;
    admin = await login('admin', 'admin-secret-1');
    for (const id of ['team-a', 'team-b']) assert.equal((await http('POST', `${api}/namespaces`, { body: { id }, token: admin })).status, 201);
    const users = [
      { username: 'alice', password: 'alice-pass-1', roles: [{ namespace: 'team-a', role: 'editor' }] },
      { username: 'bob', password: 'bob-pass-11', roles: [{ namespace: 'team-a', role: 'viewer' }] },
      { username: 'carol', password: 'carol-pass-1', roles: [{ namespace: 'team-b', role: 'admin' }] },
    ];
    for (const u of users) assert.equal((await http('POST', `${api}/users`, { body: u, token: admin })).status, 201);
  });
  after(() => reg?.close());

  it('requires a credential', async () => {
    const res = await http('GET', `${api}/namespaces`);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await http('POST', `${api}/auth/login`, { body: { username: 'admin', password: 'wrong' } })).status, 401);
    assert.equal((await http('GET', `${api}/namespaces`, { token: 'garbage' })).status, 401);
  });

  it('shows each user only their namespaces', async () => {
    const alice = await login('alice', 'alice-pass-1');
    const carol = await login('carol', 'carol-pass-1');
    assert.deepEqual((await http('GET', `${api}/namespaces`, { token: alice })).body.items.map((n: { id: string }) => n.id), ['team-a']);
    assert.deepEqual((await http('GET', `${api}/namespaces`, { token: carol })).body.items.map((n: { id: string }) => n.id), ['team-b']);
    assert.equal((await http('GET', `${api}/namespaces/team-b`, { token: alice })).body.error.code, 'NAMESPACE_NOT_FOUND');
    assert.equal((await http('GET', `${api}/namespaces`, { token: admin })).body.items.length, 3);
  });

  it('lets editors write and viewers only read', async () => {
    const alice = await login('alice', 'alice-pass-1');
    const bob = await login('bob', 'bob-pass-11');
    const body = { ip: '10.1.0.1', port: 8080 };
    assert.equal((await http('POST', `${api}/namespaces/team-a/services/DEFAULT_GROUP/svc/instances`, { body, token: alice })).status, 201);
    const denied = await http('POST', `${api}/namespaces/team-a/services/DEFAULT_GROUP/svc/instances`, { body: { ...body, port: 8081 }, token: bob });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'FORBIDDEN');
    assert.equal((await http('GET', `${api}/namespaces/team-a/services`, { token: bob })).body.total, 1);
    assert.equal((await http('POST', `${api}/namespaces/team-b/services`, { body: { name: 'x' }, token: alice })).status, 404);
    assert.equal((await http('GET', `${api}/users`, { token: alice })).status, 403);
    assert.equal((await http('POST', `${api}/namespaces`, { body: { id: 'mine' }, token: alice })).status, 403);
  });

  it('applies the same rules through the Nacos API, with every credential form Nacos accepts', async () => {
    const nacosLogin = await http('POST', `${reg.url}/nacos/v1/auth/login`, { form: { username: 'alice', password: 'alice-pass-1' } });
    assert.equal(nacosLogin.status, 200);
    assert.equal(nacosLogin.body.tokenTtl, 18000);
    assert.equal(nacosLogin.body.globalAdmin, false);
    const token = nacosLogin.body.accessToken as string;
    const register = (ns: string, extra: Record<string, string> = {}) => new URLSearchParams({ namespaceId: ns, serviceName: 'nsvc', ip: '10.2.0.1', port: '80', ...extra }).toString();
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a')}`)).status, 401);
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a', { accessToken: token })}`)).text, 'ok');
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a', { port: '81' })}`, { headers: { accessToken: token } })).text, 'ok');
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a', { port: '82' })}`, { token })).text, 'ok');
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a', { port: '83', username: 'alice', password: 'alice-pass-1' })}`)).text, 'ok');
    const other = await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-b', { accessToken: token })}`);
    assert.equal(other.status, 404);
    const bobToken = (await http('POST', `${reg.url}/nacos/v3/auth/user/login`, { form: { username: 'bob', password: 'bob-pass-11' } })).body.accessToken as string;
    assert.equal((await http('POST', `${reg.url}/nacos/v1/ns/instance?${register('team-a', { port: '84', accessToken: bobToken })}`)).status, 403);
    const listed = await http('GET', `${reg.url}/nacos/v1/ns/instance/list?serviceName=nsvc&namespaceId=team-a&accessToken=${bobToken}`);
    assert.equal(listed.body.hosts.length, 4);
  });

  it('issues long-lived API tokens that can be revoked', async () => {
    const alice = await login('alice', 'alice-pass-1');
    const created = await http('POST', `${api}/tokens`, { body: { name: 'ci' }, token: alice });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^mgt_/);
    assert.equal((await http('GET', `${api}/namespaces`, { token: created.body.token })).status, 200);
    const listed = await http('GET', `${api}/tokens`, { token: alice });
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.body.items[0].token, undefined, 'the secret is shown once only');
    assert.equal((await http('DELETE', `${api}/tokens/${created.body.id}`, { token: alice })).status, 204);
    await new Promise((r) => setTimeout(r, 5100)); // the principal cache lives 5 s
    assert.equal((await http('GET', `${api}/namespaces`, { token: created.body.token })).status, 401);
  });

  it('never leaves the registry without a global admin', async () => {
    const res = await http('PUT', `${api}/users/admin`, { body: { roles: [{ namespace: 'team-a', role: 'viewer' }] }, token: admin });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'LAST_ADMIN');
  });
});
