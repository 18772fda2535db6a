/**
 * Finding 14: login tokens survived a password reset and a user's delete-and-recreate, and a
 * password change needed no current password. Login tokens now carry the user's id and credential
 * generation: a password change (by the user or an admin) or a delete revokes them — at once on
 * the node that made the change, within the credential cache (5 s) on the others — and a user
 * changing their own password must give the current one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { databaseKinds } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import { waitFor } from '../support/gateway.js';
import { http } from '../support/http.js';
import { startRegistry } from '../support/registry.js';
import type { TestRegistry } from '../support/registry.js';

// Awaited before the first describe: tests registered after a later top-level await would be
// lost under a forced exit (see test/test-files.test.ts).
const kinds = await databaseKinds();
const ADMIN_PASSWORD = 'admin-password-1';

function client(base: string) {
  const api = `${base}/api/v1`;
  return {
    login: async (username: string, password: string) => {
      const r = await http('POST', `${api}/auth/login`, { body: { username, password } });
      assert.equal(r.status, 200, `${username} logs in: ${r.text}`);
      return r.body.accessToken as string;
    },
    me: (token: string) => http('GET', `${api}/auth/me`, { token }),
    call: (method: string, path: string, token: string, body?: unknown) => http(method, `${api}${path}`, { token, body }),
  };
}

describe('tokens and revocation (finding 14)', () => {
  let reg: TestRegistry;
  let c: ReturnType<typeof client>;
  let admin: string;

  before(async () => {
    reg = await startRegistry({ auth: true, adminPassword: ADMIN_PASSWORD });
    c = client(reg.url);
    admin = await c.login('admin', ADMIN_PASSWORD);
    for (const username of ['alice', 'bob', 'dave']) {
      assert.equal((await c.call('POST', '/users', admin, { username, password: `${username}-password-1`, roles: [{ namespace: 'public', role: 'editor' }] })).status, 201);
    }
  });
  after(() => reg?.close());

  it('an admin resetting a password revokes the user\'s login tokens at once; API tokens stay until revoked', async () => {
    const session = await c.login('alice', 'alice-password-1');
    const apiToken = (await c.call('POST', '/tokens', session, { name: 'ci' })).body.token as string;
    assert.equal((await c.me(session)).status, 200);
    const reset = await c.call('PUT', '/users/alice', admin, { password: 'alice-password-2' });
    assert.equal(reset.status, 200, 'no current password is asked of an admin resetting another user\'s');
    assert.equal(reset.body.accessToken, undefined, 'the admin gets no token of alice');
    const refused = await c.me(session);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /revoked/);
    assert.equal((await http('POST', `${reg.url}/api/v1/auth/login`, { body: { username: 'alice', password: 'alice-password-1' } })).status, 401, 'the old password is gone');
    assert.equal((await c.me(await c.login('alice', 'alice-password-2'))).status, 200);
    assert.equal((await c.me(apiToken)).body.username, 'alice', 'API tokens are credentials of their own: listed and revoked one by one');
  });

  it('changing your own password needs the current one, revokes your other sessions and hands you a new token', async () => {
    const session = await c.login('bob', 'bob-password-1');
    const otherSession = await c.login('bob', 'bob-password-1');
    const missing = await c.call('PUT', '/users/bob', session, { password: 'bob-password-2' });
    assert.equal(missing.status, 400);
    assert.deepEqual([missing.body.error.code, missing.body.error.field], ['PARAMETER_MISSING', 'currentPassword']);
    const wrong = await c.call('PUT', '/users/bob', session, { password: 'bob-password-2', currentPassword: 'not-my-password' });
    assert.equal(wrong.status, 403, 'a wrong current password does not end the session (no 401)');
    assert.deepEqual([wrong.body.error.code, wrong.body.error.field], ['WRONG_CURRENT_PASSWORD', 'currentPassword']);
    assert.equal((await c.me(session)).status, 200, 'nothing changed');

    const changed = await c.call('PUT', '/users/bob', session, { password: 'bob-password-2', currentPassword: 'bob-password-1' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.username, 'bob');
    assert.equal((await c.me(session)).status, 401, 'the token used for the change is revoked too');
    assert.equal((await c.me(otherSession)).status, 401, 'so are the other sessions');
    assert.equal((await c.me(changed.body.accessToken)).body.username, 'bob', 'the answer carries a fresh token');

    // Other users' passwords stay a global admin's.
    const alice = await c.login('alice', 'alice-password-2');
    assert.equal((await c.call('PUT', '/users/bob', alice, { password: 'taken-over-1', currentPassword: 'bob-password-2' })).body.error.code, 'FORBIDDEN');
  });

  it('guessing the current password is throttled like a login', async () => {
    const session = await c.login('alice', 'alice-password-2');
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await c.call('PUT', '/users/alice', session, { password: 'alice-password-3', currentPassword: `guess-${i}` })).body.error.code);
    assert.deepEqual(codes, [...Array(6).fill('WRONG_CURRENT_PASSWORD'), 'TOO_MANY_LOGIN_ATTEMPTS']);
    assert.equal((await c.me(session)).status, 200, 'the session itself goes on');
  });

  it('deleting a user revokes their tokens, and creating the name again brings none back', async () => {
    const session = await c.login('dave', 'dave-password-1');
    const apiToken = (await c.call('POST', '/tokens', session, { name: 'ci' })).body.token as string;
    assert.equal((await c.call('DELETE', '/users/dave', admin)).status, 204);
    assert.equal((await c.me(session)).status, 401);
    assert.equal((await c.me(apiToken)).status, 401);
    // The same name and password again: another user, whom the old tokens do not name.
    assert.equal((await c.call('POST', '/users', admin, { username: 'dave', password: 'dave-password-1', roles: [{ namespace: '*', role: 'admin' }] })).status, 201);
    const refused = await c.me(session);
    assert.equal(refused.status, 401);
    assert.match(refused.body.error.message, /revoked/);
    assert.equal((await c.me(apiToken)).status, 401);
    assert.equal((await c.me(await c.login('dave', 'dave-password-1'))).body.globalAdmin, true);
  });

  it('refuses a token that names the user only (the form tokens had before)', async () => {
    const secret = Buffer.from((await reg.registry.services.store.getSetting('jwt_secret')) ?? '', 'base64');
    const old = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').setIssuedAt().setExpirationTime('1h').setIssuer('mcpgate').sign(secret);
    assert.equal((await c.me(old)).status, 401);
  });
});

// Registry nodes sharing a database (SQLite serves one node): the change made through one reaches the other's cache.
for (const kind of kinds.filter((k) => k.kind !== 'sqlite')) {
  describe(`revocation across registry nodes on ${kind.kind}`, { skip: kind.unavailable }, () => {
    let db: TestDatabase;
    let a: TestRegistry;
    let b: TestRegistry;

    before(async () => {
      db = await kind.create();
      a = await startRegistry({ db: db.url, auth: true, adminPassword: ADMIN_PASSWORD });
      b = await startRegistry({ db: db.url, auth: true, adminPassword: ADMIN_PASSWORD });
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await db?.drop();
    });

    it('a password reset through one node revokes the token on the other, within its credential cache', async () => {
      const ca = client(a.url);
      const cb = client(b.url);
      const admin = await ca.login('admin', ADMIN_PASSWORD);
      assert.equal((await ca.call('POST', '/users', admin, { username: 'erin', password: 'erin-password-1', roles: [] })).status, 201);
      const erin = await cb.login('erin', 'erin-password-1');
      assert.equal((await cb.me(erin)).status, 200, 'node B accepted (and cached) the token');
      assert.equal((await ca.call('PUT', '/users/erin', admin, { password: 'erin-password-2' })).status, 200);
      assert.equal((await ca.me(erin)).status, 401, 'at once on the node that made the change');
      // The bound is B's credential cache (5 s); the wait below is a hang guard.
      await waitFor('node B to refuse the revoked token', async () => (await cb.me(erin)).status === 401, 30_000, 200);
      assert.equal((await cb.me(await cb.login('erin', 'erin-password-2'))).status, 200);
    });
  });
}
