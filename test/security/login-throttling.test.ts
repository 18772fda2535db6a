/**
 * Finding 9: no login throttling — 300 wrong passwords at 51/s, no 429, no log of who failed from
 * where. Logins (native, Nacos v1 and v3, and the username + password Nacos clients send with each
 * request) are now throttled per user and address, per address and per user, with 429 and
 * `Retry-After`; every wrong password is logged once with the user and the address (never the
 * password); and an attacker hammering a user from elsewhere does not keep that user out of their
 * own address. Client addresses come from `X-Forwarded-For`, the registry trusting the loopback
 * proxy (`trustedProxies`), as behind nginx.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { Registry } from '../../src/registry/registry.js';
import { http } from '../support/http.js';

const PASSWORD = 'admin-password-1';

describe('login throttling (finding 9)', () => {
  let registry: Registry;
  let url: string;
  const log: Record<string, unknown>[] = [];
  let logText = '';
  const from = (address: string) => ({ 'x-forwarded-for': address });
  let now = Date.now();
  const login = (username: string, password: string, address: string) =>
    http('POST', `${url}/api/v1/auth/login`, { body: { username, password }, headers: from(address) });

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-throttle-'));
    const config = loadConfig('serve', {
      registryPort: 0, host: '127.0.0.1', dataDir, 'auth.enabled': true, trustedProxies: ['127.0.0.1'],
    }, { MCPGATE_ADMIN_PASSWORD: PASSWORD });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logText += chunk.toString('utf8');
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) log.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    // Throttling runs on a clock of the test's: waits pass when the test says so, not when a busy machine is slow.
    registry = await Registry.start(config, pino({ level: 'info' }, sink), { throttleClock: () => now });
    url = `http://127.0.0.1:${registry.port}`;
    const admin = (await login('admin', PASSWORD, '192.0.2.10')).body.accessToken;
    assert.ok(admin, 'the admin logs in from their own address');
    for (const username of ['bob', 'carol']) {
      assert.equal((await http('POST', `${url}/api/v1/users`, { token: admin, body: { username, password: `${username}-password-1`, roles: [] } })).status, 201);
    }
  });
  after(() => registry?.close());

  it('answers 429 with Retry-After after a few wrong passwords, even to the right one, and logs each failure once', async () => {
    const failuresBefore = log.filter((l) => l.msg === 'login failed: unknown user or wrong password').length;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login('bob', `guess-${i}`, '198.51.100.7')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429]);
    const refused = await login('bob', 'bob-password-1', '198.51.100.7');
    assert.equal(refused.status, 429, 'while throttled, the right password is refused too');
    assert.equal(refused.body.error.code, 'TOO_MANY_LOGIN_ATTEMPTS');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // The same limit on every route that takes a username and a password.
    const v1 = await http('POST', `${url}/nacos/v1/auth/login`, { form: { username: 'bob', password: 'bob-password-1' }, headers: from('198.51.100.7') });
    assert.equal(v1.status, 429);
    assert.match(v1.text, /^caused: too many wrong passwords/);
    assert.ok(v1.headers.get('retry-after'));
    const v3 = await http('POST', `${url}/nacos/v3/auth/user/login`, { form: { username: 'bob', password: 'bob-password-1' }, headers: from('198.51.100.7') });
    assert.equal(v3.status, 429);
    assert.equal(v3.body.code, 10001);
    const perRequest = await http('GET', `${url}/nacos/v1/ns/instance/list?serviceName=s&username=bob&password=bob-password-1`, { headers: from('198.51.100.7') });
    assert.equal(perRequest.status, 429, 'the username and password a Nacos client sends with each request');

    const failures = log.filter((l) => l.msg === 'login failed: unknown user or wrong password').slice(failuresBefore);
    assert.equal(failures.length, 6, 'one line per wrong password; refused attempts check no password and log nothing');
    for (const f of failures) {
      assert.equal(f.user, 'bob');
      assert.equal(f.address, '198.51.100.7');
      assert.equal(f.level, 40);
    }
    assert.ok(!logText.includes('guess-'), 'passwords are never logged');
  });

  it('counts a burst sent at once: it cannot slip through before the first wrong password is known', async () => {
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => login('bob', `burst-${i}`, '198.51.100.77')));
    const wrong = burst.filter((r) => r.status === 401).length;
    // The five free failures and the one that starts the wait (the clock stands still meanwhile).
    assert.equal(wrong, 6, `${wrong} wrong passwords were checked`);
    assert.equal(burst.filter((r) => r.status === 429).length, 50 - wrong);
  });

  it('lets bob in from another address, and the admin in whatever bob\'s attacker does', async () => {
    assert.equal((await login('bob', 'bob-password-1', '203.0.113.20')).status, 200);
    assert.equal((await login('admin', PASSWORD, '192.0.2.10')).status, 200);
    assert.equal((await login('admin', PASSWORD, '203.0.113.21')).status, 200, 'even from an address the admin never used');
  });

  it('waits out Retry-After, then doubles it', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await login('carol', `guess-${i}`, '198.51.100.8')).status, 401);
    const first = await login('carol', 'carol-password-1', '198.51.100.8');
    assert.equal(first.status, 429);
    const wait = Number(first.headers.get('retry-after'));
    assert.equal(wait, 1);
    now += wait * 1000;
    assert.equal((await login('carol', 'guess-again', '198.51.100.8')).status, 401, 'one attempt once the wait is over');
    const second = await login('carol', 'carol-password-1', '198.51.100.8');
    assert.equal(second.status, 429);
    assert.equal(Number(second.headers.get('retry-after')), 2);
    now += 1999;
    assert.equal((await login('carol', 'carol-password-1', '198.51.100.8')).status, 429, 'a millisecond before the wait is over');
    now += 1;
    assert.equal((await login('carol', 'carol-password-1', '198.51.100.8')).status, 200, 'the right password, once allowed, clears the count');
    assert.equal((await login('carol', 'guess-after', '198.51.100.8')).status, 401);
    assert.equal((await login('carol', 'carol-password-1', '198.51.100.8')).status, 200);
  });

  it('slows down one address trying many users, without touching other addresses', async () => {
    const statuses = [];
    for (let i = 0; i < 22; i++) statuses.push((await login(`nobody-${i}`, 'x', '198.51.100.9')).status);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(401));
    assert.ok(statuses.slice(20).includes(429), 'the address is throttled after 20 failures across users');
    assert.equal((await login('carol', 'carol-password-1', '198.51.100.9')).status, 429, 'whichever user it tries');
    assert.equal((await login('carol', 'carol-password-1', '198.51.100.10')).status, 200);
  });

  it('slows down many addresses trying one user, but never the user\'s own address, and for a minute at most', async () => {
    const statuses = [];
    for (let i = 0; i < 25; i++) statuses.push((await login('admin', 'guess', `10.20.0.${i}`)).status);
    assert.ok(statuses.includes(429), 'the user is throttled after 20 failures across addresses');
    const fresh = await login('admin', PASSWORD, '10.30.0.1');
    assert.equal(fresh.status, 429, 'a new address waits');
    assert.ok(Number(fresh.headers.get('retry-after')) <= 60, 'a minute at most');
    assert.equal((await login('admin', PASSWORD, '192.0.2.10')).status, 200, 'the admin\'s own address is not locked out');
  });
});
