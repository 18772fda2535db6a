import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../lib/errors.js';
import { checkVirtualPublish, memberNaming, validateVirtualSpec } from './virtual.js';
import type { PublishedMember, VirtualServerSpec } from './virtual.js';

const refuses = (fn: () => unknown, code: string, field: string) =>
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === code && e.field === field);

const rejects = async (p: Promise<unknown>, code: string, field: string, message?: RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof AppError && e.code === code && e.field === field && (!message || message.test(e.message)));

describe('virtual server naming', () => {
  it('prefixes every tool by default, renames exactly, selects by list and glob, overrides descriptions', () => {
    const v: VirtualServerSpec = { members: [] };
    const a = memberNaming(v, { server: 'io.acme/weather', tools: ['now', 'week'], pattern: 'n*', rename: { now: 'weather_now' }, descriptions: { now: 'Now!' } });
    assert.equal(a.prefix, 'io.acme_weather');
    assert.equal(a.nameOf('now'), 'weather_now');
    assert.equal(a.nameOf('week'), undefined, 'the glob leaves it out');
    assert.equal(a.nameOf('next'), undefined, 'the list leaves it out');
    assert.equal(a.describe('now', 'x'), 'Now!');
    assert.equal(a.describe('other', 'x'), 'x');
    const b = memberNaming({ members: [], separator: '.' }, { server: 'shop', prefix: 's' });
    assert.equal(b.nameOf('buy'), 's.buy');
    const c = memberNaming({ members: [], naming: 'none' }, { server: 'shop' });
    assert.equal(c.nameOf('buy'), 'buy');
  });
});

describe('validateVirtualSpec', () => {
  it('accepts a full spec', () => {
    validateVirtualSpec({ members: [{ server: 'a' }, { server: 'b', tools: ['x'], prefix: 'bb', rename: { x: 'y' } }], naming: 'prefix', separator: '__', mode: 'search', listDeadlineMs: 500, refreshMs: 1000 });
  });

  it('refuses bad input naming the field', () => {
    refuses(() => validateVirtualSpec(null), 'VALIDATION_FAILED', 'virtual');
    refuses(() => validateVirtualSpec({ members: [] }), 'VALIDATION_FAILED', 'virtual.members');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }], naming: 'on-conflict' }), 'VALIDATION_FAILED', 'virtual.naming');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }], mode: 'some' }), 'VALIDATION_FAILED', 'virtual.mode');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }], separator: '/' }), 'VALIDATION_FAILED', 'virtual.separator');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }], separator: '' }), 'VALIDATION_FAILED', 'virtual.separator');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }], listDeadlineMs: 0 }), 'VALIDATION_FAILED', 'virtual.listDeadlineMs');
    refuses(() => validateVirtualSpec({ members: ['a'] }), 'VALIDATION_FAILED', 'virtual.members[0]');
    refuses(() => validateVirtualSpec({ members: [{ server: '../x' }] }), 'VALIDATION_FAILED', 'virtual.members[0].server');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a' }, { server: 'a' }] }), 'VALIDATION_FAILED', 'virtual.members[1].server');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a', tools: [] }] }), 'VALIDATION_FAILED', 'virtual.members[0].tools');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a', prefix: 'a b' }] }), 'VALIDATION_FAILED', 'virtual.members[0].prefix');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a/b' }, { server: 'a_b' }] }), 'VALIDATION_FAILED', 'virtual.members[1].prefix');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a', rename: { x: 'not valid' } }] }), 'VALIDATION_FAILED', 'virtual.members[0].rename.x');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a', rename: { x: 3 } }] }), 'VALIDATION_FAILED', 'virtual.members[0].rename.x');
    refuses(() => validateVirtualSpec({ members: [{ server: 'a', pattern: '' }] }), 'VALIDATION_FAILED', 'virtual.members[0].pattern');
  });
});

describe('checkVirtualPublish', () => {
  const rest = (...tools: string[]): PublishedMember => ({ server: { name: 'r', protocol: 'http', enabled: true }, spec: { tools: tools.map((name) => ({ name, enabled: true })) } });
  const servers: Record<string, PublishedMember | undefined> = {
    weather: rest('now', 'week'),
    shop: rest('now', 'buy'),
    live: { server: { name: 'live', protocol: 'stdio', enabled: true }, spec: { tools: [] } },
    draft: { server: { name: 'draft', protocol: 'http', enabled: true }, spec: undefined },
    a: { server: { name: 'a', protocol: 'virtual', enabled: true }, spec: { tools: [], virtual: { members: [{ server: 'b' }] } } },
    b: { server: { name: 'b', protocol: 'virtual', enabled: true }, spec: { tools: [], virtual: { members: [{ server: 'weather' }, { server: 'c' }] } } },
    c: { server: { name: 'c', protocol: 'virtual', enabled: true }, spec: { tools: [], virtual: { members: [{ server: 'a' }] } } },
  };
  const lookup = async (name: string) => servers[name];
  const owner = { namespace: 'ns', name: 'v' };

  it('accepts prefixed members, and live members whose names are known only at run time', async () => {
    await checkVirtualPublish({ members: [{ server: 'weather' }, { server: 'shop' }, { server: 'live' }] }, owner, lookup);
    await checkVirtualPublish({ members: [{ server: 'weather' }, { server: 'shop', rename: { now: 'shop_now' } }], naming: 'none' }, owner, lookup);
  });

  it('refuses conflicts naming both members, missing or unpublished members, cycles, other namespaces', async () => {
    await rejects(checkVirtualPublish({ members: [{ server: 'weather' }, { server: 'shop' }], naming: 'none' }, owner, lookup), 'VIRTUAL_NAME_CONFLICT', 'virtual.members[1]', /'shop'.*'weather'/);
    await rejects(checkVirtualPublish({ members: [{ server: 'nope' }] }, owner, lookup), 'VALIDATION_FAILED', 'virtual.members[0].server');
    await rejects(checkVirtualPublish({ members: [{ server: 'draft' }] }, owner, lookup), 'VALIDATION_FAILED', 'virtual.members[0].server');
    await rejects(checkVirtualPublish({ members: [{ server: 'weather', tools: ['hour'] }] }, owner, lookup), 'VALIDATION_FAILED', 'virtual.members[0].tools[0]');
    await rejects(checkVirtualPublish({ members: [{ server: 'v' }] }, owner, lookup), 'VIRTUAL_CYCLE', 'virtual.members[0].server');
    await rejects(checkVirtualPublish({ members: [{ server: 'weather', namespace: 'other' }] }, owner, lookup), 'VALIDATION_FAILED', 'virtual.members[0].namespace');
    await rejects(checkVirtualPublish({ members: [{ server: 'shop' }, { server: 'b' }] }, { namespace: 'ns', name: 'a' }, lookup), 'VIRTUAL_CYCLE', 'virtual.members[1].server', /a → b → c → a/);
  });
});
