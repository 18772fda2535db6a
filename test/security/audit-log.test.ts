/**
 * The audit log of registry changes: every change made through the native and the Nacos APIs
 * records who (user, API token, anonymous, or the registry itself), when, from where and what
 * (before and after, secrets redacted), in the change's own transaction; it is queryable with
 * filters and pages by global and namespace admins only, and pruned after its retention.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../../src/config/config.js';
import type { AuditEntryView } from '../../src/registry/domain/audit.js';
import { REDACTED } from '../../src/registry/domain/secrets.js';
import { waitFor } from '../support/gateway.js';
import { http } from '../support/http.js';
import { addUser, startSecureStack } from './secrets-audit-support.js';
import type { SecureStack } from './secrets-audit-support.js';

const DAY = 86_400_000;

function paySpec(version: string, password: string, schemeCredential: string): Record<string, unknown> {
  return {
    version, description: 'Payments', config: { password, region: 'eu' },
    securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'X-Api-Key', defaultCredential: schemeCredential }],
    tools: [{
      name: 'pay', description: 'Pay', inputSchema: { type: 'object', properties: {} },
      template: { request: { url: '/pay', method: 'POST', headers: [], argsToUrlParam: false, argsToJsonBody: true, argsToFormBody: false, security: { id: 'key' } }, response: {}, argsPosition: {} },
    }],
  };
}

describe('audit log of registry changes', () => {
  let s: SecureStack;
  let ann: string;
  let ed: string;
  let vera: string;
  let edToken: string;
  let edTokenId: string;
  const api = (method: string, path: string, token: string, body?: unknown) => http(method, `${s.registryUrl}/api/v1${path}`, { token, body });
  const audit = async (query: string, token = s.adminToken) => {
    const r = await api('GET', `/audit?${query}`, token);
    assert.equal(r.status, 200, r.text);
    return r.body as { items: AuditEntryView[]; nextCursor: string | null };
  };

  before(async () => {
    s = await startSecureStack();
    assert.equal((await api('POST', '/namespaces', s.adminToken, { id: 'shop', name: 'Shop' })).status, 201);
    ann = await addUser(s, 'ann', [{ namespace: 'shop', role: 'admin' }]);
    ed = await addUser(s, 'ed', [{ namespace: 'shop', role: 'editor' }]);
    vera = await addUser(s, 'vera', [{ namespace: 'shop', role: 'viewer' }]);
    const t = await api('POST', '/tokens', ed, { name: 'ci' });
    edToken = t.body.token as string;
    edTokenId = t.body.id as string;

    // Changes through the native API, as users and as an API token.
    assert.equal((await api('POST', '/namespaces/shop/mcp-servers', ed, { name: 'pay', protocol: 'http', spec: paySpec('1.0.0', 'audit-pass-1', 'audit-scheme-1') })).status, 201);
    assert.equal((await api('POST', '/namespaces/shop/services', edToken, { name: 'ledger' })).status, 201);
    assert.equal((await api('POST', '/namespaces/shop/consumers', ann, { name: 'agent-1' })).status, 201);
    // Changes through the Nacos APIs: an instance (v1, token in the query as Nacos clients send it), a new version (v3).
    const reg = await http('POST', `${s.registryUrl}/nacos/v1/ns/instance?accessToken=${encodeURIComponent(ed)}`, { form: { namespaceId: 'shop', serviceName: 'pay-api', ip: '10.0.0.5', port: '8080' } });
    assert.equal(reg.status, 200, reg.text);
    const detail = (await http('GET', `${s.registryUrl}/nacos/v3/admin/ai/mcp?namespaceId=shop&mcpName=pay`, { token: ed })).body.data;
    detail.toolSpec.securitySchemes[0].defaultCredential = 'audit-scheme-2';
    const put = await http('PUT', `${s.registryUrl}/nacos/v3/admin/ai/mcp`, {
      token: ed,
      form: {
        namespaceId: 'shop', latest: 'true', toolSpecification: JSON.stringify(detail.toolSpec),
        serverSpecification: JSON.stringify({ name: 'pay', protocol: 'http', description: 'Payments v2', versionDetail: { version: '2.0.0' } }),
        endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'shop', serviceName: 'pay-api' } }),
      },
    });
    assert.equal(put.status, 200, put.text);
  });
  after(async () => {
    await s?.close();
  });

  test('changes through the native and Nacos APIs are recorded with actor, address, route, and before/after redacted', async () => {
    const { items } = await audit('namespace=shop&limit=100');
    const find = (action: string, name?: string) => {
      const e = items.find((x) => x.action === action && (name === undefined || x.entityName === name));
      assert.ok(e, `an entry ${action} ${name ?? ''} in ${JSON.stringify(items.map((x) => [x.action, x.entityName]))}`);
      return e;
    };
    const created = find('mcp_server.create', 'pay');
    assert.deepEqual(created.actor, { kind: 'user', name: 'ed' });
    assert.equal(created.address, '127.0.0.1');
    assert.equal(created.route, 'POST /api/v1/namespaces/:ns/mcp-servers');
    assert.equal(created.entity, 'mcp_server');
    assert.equal(created.before, null);
    const spec = (created.after as { version: { spec: { config: Record<string, string>; securitySchemes: { defaultCredential: string }[] } } }).version.spec;
    assert.equal(spec.config.password, REDACTED);
    assert.equal(spec.config.region, 'eu');
    assert.equal(spec.securitySchemes[0]?.defaultCredential, REDACTED);

    const viaToken = find('service.create', 'DEFAULT_GROUP@@ledger');
    assert.deepEqual(viaToken.actor, { kind: 'token', name: 'ed', tokenId: edTokenId });

    const consumer = find('consumer.create', 'agent-1');
    assert.deepEqual(consumer.actor, { kind: 'user', name: 'ann' });
    assert.ok(!JSON.stringify(consumer).includes('keyHash'), 'no key hash in the log');

    const instance = find('instance.register', '10.0.0.5:8080');
    assert.equal(instance.route, 'POST /nacos/v1/ns/instance');
    assert.deepEqual(instance.actor, { kind: 'user', name: 'ed' });
    find('service.create', 'DEFAULT_GROUP@@pay-api');

    const published = find('version.publish', 'pay');
    assert.equal(published.route, 'PUT /nacos/v3/admin/ai/mcp');
    assert.ok(published.secretsChanged.includes('version.spec.securitySchemes[0].defaultCredential'), JSON.stringify(published.secretsChanged));
    const secretChange = published.changes.find((c) => c.path === 'version.spec.securitySchemes[0].defaultCredential');
    assert.deepEqual(secretChange, { path: 'version.spec.securitySchemes[0].defaultCredential', kind: 'changed', from: REDACTED, to: REDACTED });
    assert.ok(published.changes.some((c) => c.path === 'server.publishedVersion' && c.from === '1.0.0' && c.to === '2.0.0'));

    const text = JSON.stringify(items);
    for (const secret of ['audit-pass-1', 'audit-scheme-1', 'audit-scheme-2', edToken]) assert.ok(!text.includes(secret), `the audit log shows ${secret}`);
    // Users and tokens are recorded under '*', for global admins only.
    const global = await audit('namespace=*');
    assert.ok(global.items.some((e) => e.action === 'token.create' && e.entityName === 'ci' && e.actor.name === 'ed'));
    assert.ok(global.items.some((e) => e.action === 'user.create' && e.entityName === 'vera' && e.actor.name === 'admin' && e.secretsChanged.includes('password')));
    assert.ok(!JSON.stringify(global).includes('vera-password-1'));
  });

  test('an entry commits with its change, in the same revision, and a refused change records nothing', async () => {
    const before = (await audit('namespace=shop&limit=1')).items[0];
    const dup = await api('POST', '/namespaces/shop/mcp-servers', ed, { name: 'pay', protocol: 'http', spec: paySpec('1.0.0', 'x-pass', 'x-cred') });
    assert.equal(dup.status, 409);
    assert.equal((await audit('namespace=shop&limit=1')).items[0]?.id, before?.id, 'nothing recorded');
    assert.equal((await api('PUT', '/namespaces/shop/services/DEFAULT_GROUP/ledger', ed, { metadata: { team: 'pay' } })).status, 200);
    const entry = (await audit('namespace=shop&limit=1')).items[0];
    assert.equal(entry?.action, 'service.update');
    assert.deepEqual(entry?.changes, [{ path: 'metadata.team', kind: 'added', to: 'pay' }, ...(entry?.changes.filter((c) => c.path === 'updatedAt') ?? [])]);
    const changes = await api('GET', `/watch/changes?after=${(entry?.revision ?? 1) - 1}&timeoutMs=0`, s.adminToken);
    assert.ok((changes.body.changes as { revision: number; entityId: string }[]).some((c) => c.revision === entry?.revision && c.entityId === 'DEFAULT_GROUP@@ledger'));
  });

  test('filters and pages', async () => {
    const byActor = await audit('namespace=shop&actor=ann');
    assert.ok(byActor.items.length > 0 && byActor.items.every((e) => e.actor.name === 'ann'));
    const byType = await audit('namespace=shop&entityType=mcp_server');
    assert.deepEqual([...new Set(byType.items.map((e) => e.entity))], ['mcp_server']);
    assert.deepEqual((await audit('action=version.publish')).items.map((e) => e.entityName), ['pay']);
    const id = byType.items[0]?.entityId ?? '';
    assert.ok((await audit(`entityId=${id}`)).items.every((e) => e.entityId === id));
    assert.deepEqual([...new Set((await audit('entityName=ledg')).items.map((e) => e.entityName))], ['DEFAULT_GROUP@@ledger']);
    assert.equal((await audit(`namespace=shop&since=${new Date(Date.now() + DAY).toISOString()}`)).items.length, 0);
    assert.ok((await audit(`namespace=shop&until=${Date.now() + DAY}`)).items.length > 0);
    const all = (await audit('namespace=shop&limit=500')).items.map((e) => e.id);
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await audit(`namespace=shop&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, all, 'the pages hold every entry once, newest first');
    const bad = await api('GET', '/audit?cursor=nope', s.adminToken);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'cursor');
    const badTime = await api('GET', '/audit?since=yesterday', s.adminToken);
    assert.equal(badTime.status, 400);
    assert.equal(badTime.body.error.field, 'since');
    const badType = await api('GET', '/audit?entityType=planet', s.adminToken);
    assert.equal(badType.status, 400);
  });

  test('namespace admins read their namespaces; viewers, editors and other tenants cannot', async () => {
    const own = await audit('', ann);
    assert.ok(own.items.length > 0 && own.items.every((e) => e.namespace === 'shop'), 'a namespace admin sees only their namespaces, not users and tokens');
    assert.equal((await api('GET', '/audit?namespace=shop', vera)).status, 403, 'a viewer cannot read it');
    assert.equal((await api('GET', '/audit', vera)).body.error.code, 'FORBIDDEN');
    assert.equal((await api('GET', '/audit?namespace=shop', ed)).status, 403, 'nor an editor');
    assert.equal((await api('GET', '/audit?namespace=public', ann)).body.error.code, 'NAMESPACE_NOT_FOUND', 'another tenant\'s audit does not even exist');
    assert.equal((await api('GET', '/audit?namespace=*', ann)).status, 404);
    assert.equal((await http('GET', `${s.registryUrl}/api/v1/audit`)).status, 401);
  });

  test('heartbeats record nothing; an expired ephemeral instance is recorded as the registry\'s own change, its health flip is not', async () => {
    const reg = await api('POST', '/namespaces/shop/services/DEFAULT_GROUP/beats/instances', ed, {
      ip: '10.9.0.1', port: 80, ephemeral: true, metadata: { 'preserved.heart.beat.timeout': '1000', 'preserved.ip.delete.timeout': '2500' },
    });
    assert.equal(reg.status, 201, reg.text);
    const count = async () => (await audit('namespace=shop&limit=500')).items.length;
    const before = await count();
    for (let i = 0; i < 5; i++) {
      const beat = await http('PUT', `${s.registryUrl}/nacos/v1/ns/instance/beat?namespaceId=shop&serviceName=beats&ip=10.9.0.1&port=80&accessToken=${encodeURIComponent(ed)}`);
      assert.equal(beat.status, 200, beat.text);
    }
    assert.equal(await count(), before, 'heartbeats write no audit entry');
    // The real clock is the subject here: the sweeper turns the instance unhealthy after 1 s and removes it after 2.5 s.
    const expired = await waitFor('the expiry entry', async () => (await audit('namespace=shop&action=instance.expire')).items[0], 15_000, 200);
    assert.deepEqual(expired.actor, { kind: 'system', name: 'system' });
    assert.equal(expired.address, null);
    assert.equal(expired.entityName, '10.9.0.1:80');
    const history = (await audit(`namespace=shop&entityName=10.9.0.1`)).items.map((e) => e.action);
    assert.deepEqual(history, ['instance.expire', 'instance.register'], 'the health flip in between is not recorded');
  });

  test('retention: the pruning job drops entries older than auditRetentionDays, keeps the rest', async () => {
    const config = { changeLogRetention: 100_000, auditRetentionDays: 90 };
    const total = (await audit('limit=500')).items.length + (await audit('namespace=*&limit=500')).items.length;
    assert.ok(total > 0);
    assert.equal((await s.stack.registry.prune(config, Date.now() + 89 * DAY)).auditEntries, 0, 'nothing is 90 days old yet');
    assert.equal((await s.stack.registry.prune({ ...config, auditRetentionDays: 0 }, Date.now() + 400 * DAY)).auditEntries, 0, '0 keeps everything');
    assert.ok((await s.stack.registry.prune(config, Date.now() + 91 * DAY)).auditEntries > 0);
    assert.equal((await audit('limit=500')).items.length, 0);
    assert.equal((await api('POST', '/namespaces/shop/services', ed, { name: 'after-prune' })).status, 201);
    assert.deepEqual((await audit('')).items.map((e) => e.entityName), ['DEFAULT_GROUP@@after-prune'], 'new changes are recorded after a prune');
    assert.equal(loadConfig('registry', {}, {}).auditRetentionDays, 90, 'the default is 90 days');
    assert.equal(loadConfig('registry', {}, { MCPGATE_AUDIT_RETENTION_DAYS: '7' }).auditRetentionDays, 7);
    assert.throws(() => loadConfig('registry', {}, { MCPGATE_AUDIT_RETENTION_DAYS: '-1' }), ConfigError);
  });
});

describe('audit log with registry auth off', () => {
  test('changes are recorded as anonymous', async () => {
    const s = await startSecureStack({ auth: false });
    try {
      assert.equal((await http('POST', `${s.registryUrl}/api/v1/namespaces`, { body: { id: 'open' } })).status, 201);
      const r = await http('GET', `${s.registryUrl}/api/v1/audit?namespace=open`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.items.map((e: AuditEntryView) => [e.action, e.actor]), [['namespace.create', { kind: 'anonymous', name: 'anonymous' }]]);
      const boot = await http('GET', `${s.registryUrl}/api/v1/audit?namespace=public`);
      assert.deepEqual(boot.body.items.map((e: AuditEntryView) => [e.action, e.actor.kind]), [['namespace.create', 'system']], 'the public namespace is the registry\'s own');
    } finally {
      await s.close();
    }
  });
});
