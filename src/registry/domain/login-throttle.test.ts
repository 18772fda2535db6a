import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LoginThrottle, addressKey } from './login-throttle.js';
import type { LoginThrottleOptions } from './login-throttle.js';

/** A throttle on a clock of its own, with a `fail` that makes one (allowed) wrong attempt and answers the wait it caused. */
function throttle(opts: LoginThrottleOptions = {}) {
  let t = 1_700_000_000_000;
  const th = new LoginThrottle({ ...opts, now: () => t });
  const fail = (user: string, address: string) => {
    assert.equal(th.begin(user, address), 0, `${user}@${address} may try`);
    return th.retryAfterMs(user, address);
  };
  return { th, fail, advance: (ms: number) => { t += ms; } };
}

describe('login throttle', () => {
  it('lets a few wrong passwords through, then doubles the wait up to the maximum', () => {
    const { th, fail, advance } = throttle({ freeFailures: 3, maxDelayMs: 8000 });
    for (let i = 0; i < 3; i++) assert.equal(fail('ann', '10.0.0.1'), 0);
    assert.equal(fail('ann', '10.0.0.1'), 1000);
    assert.equal(th.begin('ann', '10.0.0.1'), 1000, 'a refused attempt is not counted');
    const waits = [];
    for (let i = 0; i < 5; i++) {
      advance(th.retryAfterMs('ann', '10.0.0.1'));
      waits.push(fail('ann', '10.0.0.1'));
    }
    assert.deepEqual(waits, [2000, 4000, 8000, 8000, 8000]);
  });

  it('counts attempts in flight, so that a burst cannot slip through before the first fails', () => {
    const { th } = throttle({ freeFailures: 3 });
    const allowed = Array.from({ length: 50 }, () => th.begin('ann', '10.0.0.1')).filter((w) => w === 0).length;
    assert.equal(allowed, 4, 'the free failures and the one that starts the wait');
  });

  it('takes a successful attempt back, clears the pair, and forgets counters after a quiet hour', () => {
    const { th, fail, advance } = throttle({ freeFailures: 2 });
    for (let i = 0; i < 3; i++) fail('ann', '10.0.0.1');
    assert.ok(th.retryAfterMs('ann', '10.0.0.1') > 0);
    advance(1000);
    assert.equal(th.begin('ann', '10.0.0.1'), 0);
    th.succeeded('ann', '10.0.0.1');
    assert.equal(th.retryAfterMs('ann', '10.0.0.1'), 0);
    for (let i = 0; i < 3; i++) fail('bob', '10.0.0.2');
    advance(60 * 60_000 + 1);
    assert.equal(th.retryAfterMs('bob', '10.0.0.2'), 0);
    assert.equal(fail('bob', '10.0.0.2'), 0, 'counting starts again');
  });

  it('slows down one address trying many users', () => {
    const { th, fail } = throttle({ freeFailures: 2 });
    for (let i = 0; i < 8; i++) assert.equal(fail(`user${i}`, '10.0.0.9'), 0);
    assert.ok(fail('user8', '10.0.0.9') > 0);
    assert.ok(th.retryAfterMs('someone-else', '10.0.0.9') > 0, 'the address waits, whoever it tries');
    assert.equal(th.retryAfterMs('someone-else', '10.0.0.10'), 0, 'other addresses do not');
  });

  it('slows down many addresses trying one user, for a minute at most, and never a known address of the user', () => {
    const { th, fail, advance } = throttle({ freeFailures: 2 });
    th.begin('admin', '192.168.1.5');
    th.succeeded('admin', '192.168.1.5');
    for (let i = 0; i < 8; i++) assert.equal(fail('admin', `10.1.0.${i}`), 0);
    assert.ok(fail('admin', '10.1.0.8') > 0);
    assert.ok(th.retryAfterMs('admin', '10.1.0.200') > 0, 'a new address waits');
    assert.equal(th.retryAfterMs('admin', '192.168.1.5'), 0, "the admin's own address does not");
    for (let i = 9; i < 40; i++) {
      advance(th.retryAfterMs('admin', `10.1.0.${i}`));
      fail('admin', `10.1.0.${i}`);
    }
    assert.ok(th.retryAfterMs('admin', '10.1.0.250') <= 60_000, 'the per-user wait is capped at a minute');
    assert.equal(th.retryAfterMs('admin', '192.168.1.5'), 0);
  });

  it('keeps its maps bounded', () => {
    const { th } = throttle({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) th.begin(`u${i}`, `10.2.${i >> 8}.${i & 255}`);
    for (let i = 0; i < 1000; i++) th.succeeded(`v${i}`, `10.3.${i >> 8}.${i & 255}`);
    assert.deepEqual(th.size, { pairs: 100, addresses: 100, users: 100, known: 100 });
  });

  it('counts IPv6 addresses by /64 and IPv4-mapped ones as IPv4', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::5'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(addressKey('10.0.0.1'), '10.0.0.1');
  });
});
