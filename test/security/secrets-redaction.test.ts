/**
 * Finding 7, "secrets shown to viewers": static header values, `config` passwords and configured
 * credentials came back in plain text to read-only users through the native API, the Nacos v3
 * API and the watch snapshot, and "try it" masked `Authorization` only. Now: a viewer reads
 * `******` in their place on every one of those paths, an editor (and a gateway token) reads
 * the values, writing the marker back keeps the stored secret, try-it masks every configured
 * secret and passed-through credential, and no secret reaches the logs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway } from '../../src/cli/roles.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { REDACTED } from '../../src/registry/domain/secrets.js';
import { waitFor } from '../support/gateway.js';
import { http } from '../support/http.js';
import { startBackend } from '../support/stack.js';
import { addUser, startSecureStack } from './secrets-audit-support.js';
import type { SecureStack } from './secrets-audit-support.js';

/** Every secret value the server holds at some point of the test: none may reach a viewer or a log line. */
const SECRETS = ['cfg-pass-1', 'cfg-pass-2', 'tenant-code-1', 'scheme-cred-1', 'static-header-1', 'tenant-header-1', 'tool-cred-1', 'passthrough-ref-1', 'ns-introspection-secret-1', 'ns-exchange-secret-1'];

function billingSpec(version: string, password = 'cfg-pass-1'): Record<string, unknown> {
  const request = (url: string, extra: Record<string, unknown> = {}) => ({
    url, method: 'GET', argsToUrlParam: false, argsToJsonBody: false, argsToFormBody: false,
    headers: [{ key: 'X-Static-Secret', value: 'static-header-1' }, { key: 'X-Tenant', value: 'tenant-header-1' }, { key: 'X-Trace', value: 'visible-trace' }],
    ...extra,
  });
  return {
    version, description: 'Billing',
    config: { password, region: 'eu-west', tenant: { code: 'tenant-code-1' } },
    secrets: { config: ['tenant'], headers: ['X-Tenant'] },
    securitySchemes: [{ id: 'key', type: 'apiKey', in: 'header', name: 'X-Api-Key', defaultCredential: 'scheme-cred-1' }],
    tools: [
      { name: 'charge', description: 'Charge', inputSchema: { type: 'object', properties: {} }, template: { request: request('/charge', { security: { id: 'key' } }), response: {}, argsPosition: {} } },
      { name: 'refund', description: 'Refund', inputSchema: { type: 'object', properties: {} }, template: { request: request('/refund', { security: { id: 'key', credential: 'tool-cred-1' } }), response: {}, argsPosition: {} } },
    ],
  };
}

function assertNoSecret(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows the secret ${s}`);
}

type Spec = {
  config: { password: string; region: string; tenant: { code: string } };
  securitySchemes: { defaultCredential: string }[];
  tools: { template: { request: { headers: { key: string; value: string }[]; security: { credential?: string } } } }[];
};

describe('finding 7: secrets shown to viewers', () => {
  let s: SecureStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let viewer: string;
  let editor: string;
  let globalViewer: string;
  let gatewayToken: string;
  let viewerGatewayToken: string;
  const api = (method: string, path: string, token: string, body?: unknown) => http(method, `${s.registryUrl}/api/v1${path}`, { token, body });
  const server = '/namespaces/team/mcp-servers/billing';
  const nacos = (token: string, query: string) => http('GET', `${s.registryUrl}/nacos/v3/admin/ai/mcp?${query}`, { token });

  before(async () => {
    // The backend echoes what it received, headers included, as a backend under test often does.
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path, headers: r.headers }));
    });
    s = await startSecureStack();
    assert.equal((await api('POST', '/namespaces', s.adminToken, { id: 'team' })).status, 201);
    viewer = await addUser(s, 'vera', [{ namespace: 'team', role: 'viewer' }]);
    editor = await addUser(s, 'eddie', [{ namespace: 'team', role: 'editor' }]);
    globalViewer = await addUser(s, 'vic', [{ namespace: '*', role: 'viewer' }]);
    await addUser(s, 'gw', [{ namespace: '*', role: 'gateway' }]);
    const gwLogin = (await http('POST', `${s.registryUrl}/api/v1/auth/login`, { body: { username: 'gw', password: 'gw-password-1' } })).body.accessToken as string;
    gatewayToken = (await api('POST', '/tokens', gwLogin, { name: 'gateway-eu' })).body.token as string;
    viewerGatewayToken = (await api('POST', '/tokens', globalViewer, { name: 'old-gateway' })).body.token as string;
    assert.equal((await api('POST', '/namespaces/team/services/DEFAULT_GROUP/billing-api/instances', editor, { ip: '127.0.0.1', port: backend.port, ephemeral: false, healthCheck: { type: 'none' } })).status, 201);
    const created = await api('POST', '/namespaces/team/mcp-servers', editor, {
      name: 'billing', protocol: 'http', publish: true, passthrough: { headers: ['X-Customer-Ref'], cookies: [] },
      endpoint: { type: 'service', namespace: 'team', group: 'DEFAULT_GROUP', service: 'billing-api' }, spec: billingSpec('1.0.0'),
    });
    assert.equal(created.status, 201, created.text);
    // A second version with a rotated password, for the diff.
    const v2 = await api('PUT', `${server}/versions/1.0.1`, editor, { spec: billingSpec('1.0.1', 'cfg-pass-2') });
    assert.equal(v2.status, 200, v2.text);
  });
  after(async () => {
    await s?.close();
    await backend?.close();
  });

  test('a viewer reads markers through the native API: server, version, list, diff', async () => {
    const got = await api('GET', server, viewer);
    assert.equal(got.status, 200, got.text);
    assertNoSecret(got.text, 'GET server');
    const spec = got.body.spec as Spec;
    assert.equal(spec.config.password, REDACTED);
    assert.equal(spec.config.tenant.code, REDACTED, 'a config path the operator declared secret');
    assert.equal(spec.config.region, 'eu-west', 'what is no secret stays readable');
    assert.equal(spec.securitySchemes[0]?.defaultCredential, REDACTED);
    assert.equal(spec.tools[1]?.template.request.security.credential, REDACTED);
    assert.deepEqual(spec.tools[0]?.template.request.headers, [
      { key: 'X-Static-Secret', value: REDACTED }, { key: 'X-Tenant', value: REDACTED }, { key: 'X-Trace', value: 'visible-trace' },
    ]);
    for (const path of [`${server}/versions/1.0.0`, `${server}/versions/1.0.1`, '/namespaces/team/mcp-servers']) {
      const r = await api('GET', path, viewer);
      assert.equal(r.status, 200, r.text);
      assertNoSecret(r.text, `GET ${path}`);
    }
    const diff = await api('GET', `${server}/diff?from=1.0.0&to=1.0.1`, viewer);
    assertNoSecret(diff.text, 'the diff');
    const change = (diff.body.changes as { path: string; from: unknown; to: unknown }[]).find((c) => c.path === 'config.password');
    assert.deepEqual(change, { path: 'config.password', kind: 'changed', from: REDACTED, to: REDACTED }, 'the viewer sees that the secret changed, not its values');
  });

  test('a viewer reads markers through the Nacos v3 API: detail and list', async () => {
    const detail = await nacos(viewer, 'namespaceId=team&mcpName=billing');
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.code, 0);
    assertNoSecret(detail.text, 'the Nacos detail');
    const toolSpec = detail.body.data.toolSpec;
    assert.equal(toolSpec.securitySchemes[0].defaultCredential, REDACTED);
    const template = toolSpec.toolsMeta.refund.templates['json-go-template'];
    assert.equal(template.requestTemplate.security.credential, REDACTED);
    assert.deepEqual(template.requestTemplate.headers[0], { key: 'X-Static-Secret', value: REDACTED });
    const older = await nacos(viewer, 'namespaceId=team&mcpName=billing&version=1.0.0');
    assertNoSecret(older.text, 'an older version through Nacos');
    const list = await http('GET', `${s.registryUrl}/nacos/v3/admin/ai/mcp/list?namespaceId=team`, { token: viewer });
    assert.equal(list.body.data.totalCount, 1);
    assertNoSecret(list.text, 'the Nacos list');
  });

  test('the watch API gives secrets to a gateway token only; a viewer token is told which servers were withheld', async () => {
    const forViewer = await api('GET', '/watch/snapshot', globalViewer);
    assert.equal(forViewer.status, 200, forViewer.text);
    assertNoSecret(forViewer.text, 'the watch snapshot of a viewer on *');
    assert.deepEqual(forViewer.body.withheld, ['team/billing']);
    const served = (forViewer.body.mcpServers as { server: { name: string }; spec: Spec }[]).find((m) => m.server.name === 'billing');
    assert.equal(served?.spec.config.password, REDACTED);
    const forGateway = await api('GET', '/watch/snapshot', gatewayToken);
    assert.equal(forGateway.status, 200, forGateway.text);
    assert.equal(forGateway.body.withheld, undefined);
    assert.match(forGateway.text, /cfg-pass-1/, 'the gateway role reads the published spec with its secrets');
    assert.match(forGateway.text, /static-header-1/);
  });

  test('an import preview shows a viewer markers too', async () => {
    const content = 'server:\n  name: preview\n  config:\n    apiKey: cfg-pass-1\n    region: eu\ntools:\n  - name: t\n    description: T\n    requestTemplate:\n      url: /t\n      method: GET\n      headers:\n        - key: X-Static-Secret\n          value: static-header-1\n';
    const r = await api('POST', '/namespaces/team/mcp-servers/import/preview', viewer, { format: 'higress', content });
    assert.equal(r.status, 200, r.text);
    assertNoSecret(r.text, 'the import preview');
    assert.deepEqual(r.body.spec.config, { apiKey: REDACTED, region: 'eu' });
    const mine = await api('POST', '/namespaces/team/mcp-servers/import/preview', editor, { format: 'higress', content });
    assert.equal(mine.body.spec.config.apiKey, 'cfg-pass-1');
  });

  test('an editor reads the values', async () => {
    const got = await api('GET', `${server}/versions/1.0.1`, editor);
    const spec = got.body.spec as Spec;
    assert.equal(spec.config.password, 'cfg-pass-2');
    assert.equal(spec.securitySchemes[0]?.defaultCredential, 'scheme-cred-1');
    assert.equal(spec.tools[0]?.template.request.headers[0]?.value, 'static-header-1');
    const detail = await nacos(editor, 'namespaceId=team&mcpName=billing');
    assert.match(detail.text, /tool-cred-1/);
  });

  test('GET→PUT round trips keep the stored secrets: an editor\'s, and one from a viewer\'s redacted read, through both APIs', async () => {
    const stored = async (version: string) => (await api('GET', `${server}/versions/${version}`, editor)).body.spec as Spec;
    // The editor's own read, saved as a new draft.
    const mine = (await api('GET', `${server}/versions/1.0.1`, editor)).body.spec as Record<string, unknown>;
    assert.equal((await api('PUT', `${server}/versions/1.1.0`, editor, { spec: { ...mine, version: '1.1.0' } })).status, 200);
    assert.deepEqual(await stored('1.1.0'), { ...(await stored('1.0.1')), version: '1.1.0' });
    // A viewer's read (markers), saved by an editor: the markers keep the secrets, nothing becomes "******".
    const redacted = (await api('GET', `${server}/versions/1.0.1`, viewer)).body.spec as Record<string, unknown>;
    const saved = await api('PUT', `${server}/versions/1.2.0`, editor, { spec: { ...redacted, version: '1.2.0', description: 'Billing, edited' } });
    assert.equal(saved.status, 200, saved.text);
    const after12 = await stored('1.2.0');
    assert.equal(after12.config.password, 'cfg-pass-2');
    assert.equal(after12.config.tenant.code, 'tenant-code-1');
    assert.equal(after12.securitySchemes[0]?.defaultCredential, 'scheme-cred-1');
    assert.equal(after12.tools[1]?.template.request.security.credential, 'tool-cred-1');
    assert.equal(after12.tools[0]?.template.request.headers[1]?.value, 'tenant-header-1');
    // Republishing a published version sent back with markers is "unchanged", not a conflict.
    const republish = await api('PUT', `${server}/versions/1.0.0`, editor, { spec: (await api('GET', `${server}/versions/1.0.0`, viewer)).body.spec, publish: true });
    assert.equal(republish.status, 200, republish.text);
    // The Nacos detail of a viewer, written back by an editor through Nacos.
    const detail = (await nacos(viewer, 'namespaceId=team&mcpName=billing&version=1.2.0')).body.data;
    const put = await http('PUT', `${s.registryUrl}/nacos/v3/admin/ai/mcp`, {
      token: editor,
      form: {
        namespaceId: 'team', latest: 'false',
        serverSpecification: JSON.stringify({ name: 'billing', protocol: 'http', description: 'Billing via Nacos', versionDetail: { version: '1.3.0' }, enabled: true }),
        endpointSpecification: JSON.stringify({ type: 'REF', data: { namespaceId: 'team', groupName: 'DEFAULT_GROUP', serviceName: 'billing-api' } }),
        toolSpecification: JSON.stringify(detail.toolSpec),
      },
    });
    assert.equal(put.status, 200, put.text);
    const after13 = await stored('1.3.0');
    assert.equal(after13.securitySchemes[0]?.defaultCredential, 'scheme-cred-1');
    assert.equal(after13.tools[1]?.template.request.security.credential, 'tool-cred-1');
    assert.equal(after13.tools[0]?.template.request.headers[0]?.value, 'static-header-1');
    assert.equal(after13.tools[0]?.template.request.headers[1]?.value, 'tenant-header-1', 'the declared header stays secret: the declaration carried over');
    assert.deepEqual((await api('GET', `${server}/versions/1.3.0`, viewer)).body.spec.tools[0].template.request.headers[1], { key: 'X-Tenant', value: REDACTED });
    // A marker with nothing stored behind it is refused, naming the field, and nothing is created.
    const bad = await api('POST', '/namespaces/team/mcp-servers', editor, { name: 'copy', protocol: 'http', spec: redacted });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    assert.equal(bad.body.error.field, 'spec.config.password');
    assert.equal((await api('GET', '/namespaces/team/mcp-servers/copy', editor)).status, 404);
  });

  test('try-it masks every configured secret and the passed-through credential, in the request and in what the backend echoed', async () => {
    for (const toolName of ['charge', 'refund']) {
      const t = await api('POST', `${server}/versions/1.0.1/try`, editor, { tool: toolName, arguments: {}, headers: { 'X-Customer-Ref': 'passthrough-ref-1' } });
      assert.equal(t.status, 200, t.text);
      assertNoSecret(t.text, `try ${toolName}`);
      const headers = t.body.request.headers as Record<string, string>;
      assert.equal(headers['x-static-secret'], '****', 'a header named like a secret');
      assert.equal(headers['x-tenant'], '****', 'a header the operator declared secret');
      assert.equal(headers['x-api-key'], '****', 'the scheme credential');
      assert.equal(headers['x-customer-ref'], '****', 'the agent\'s passed-through header');
      assert.equal(headers['x-trace'], 'visible-trace');
      const echoed = backend.requests.at(-1)?.headers;
      assert.equal(echoed?.['x-static-secret'], 'static-header-1', 'the backend got the real values');
      assert.equal(echoed?.['x-customer-ref'], 'passthrough-ref-1');
      assert.equal(echoed?.['x-api-key'], toolName === 'charge' ? 'scheme-cred-1' : 'tool-cred-1');
    }
  });

  test('gateways following the registry: a gateway token serves the secrets, a viewer token warns which were withheld', async () => {
    const start = async (token: string) => {
      const config = loadConfig('gateway', { gatewayPort: 0, host: '127.0.0.1', dataDir: mkdtempSync(join(tmpdir(), 'mcpgate-gw-')), registries: [s.registryUrl] }, { MCPGATE_REGISTRY_TOKEN: token });
      return startGateway(config, createLogger('trace', 'gateway', s.log.stream));
    };
    const good = await start(gatewayToken);
    const stale = await start(viewerGatewayToken);
    try {
      const client = new Client({ name: 'secrets-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${good.gateway.port}/mcp/team/billing`)));
      try {
        const result = await client.callTool({ name: 'refund', arguments: {} });
        assert.notEqual(result.isError, true, JSON.stringify(result));
      } finally {
        await client.close();
      }
      const echoed = backend.requests.at(-1)?.headers;
      assert.equal(echoed?.['x-api-key'], 'tool-cred-1', 'the backend got the credential through `mcpgate gateway --registry`');
      assert.equal(echoed?.['x-static-secret'], 'static-header-1');
      await waitFor('the withheld warning', () => s.log.text().includes('the registry withheld the secrets of these servers'));
      assert.match(s.log.text(), /"servers":\["team\/billing"\]/);
    } finally {
      await good.close();
      await stale.close();
    }
  });

  test('the in-process gateway of serve serves the secrets', async () => {
    const client = new Client({ name: 'secrets-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.gatewayUrl}/mcp/team/billing`)));
    try {
      await client.callTool({ name: 'charge', arguments: {} });
    } finally {
      await client.close();
    }
    assert.equal(backend.requests.at(-1)?.headers['x-api-key'], 'scheme-cred-1');
  });

  test('a namespace\'s authorization secrets are write-only: ****** for everyone, to gateways in the snapshot only with the gateway role', async () => {
    const settings = {
      enabled: true, issuers: [{ issuer: 'https://login.example.com', introspection: { endpoint: 'https://login.example.com/i', clientId: 'gw', clientSecret: 'ns-introspection-secret-1' } }],
      tokenExchange: { tokenEndpoint: 'https://login.example.com/token', clientId: 'gw', clientSecret: 'ns-exchange-secret-1', audience: 'https://billing.internal' },
    };
    const url = '/namespaces/team/authorization?checkIssuers=false';
    assert.equal((await api('PUT', url, editor, settings)).status, 403, 'an editor may not change the namespace settings');
    const put = await api('PUT', url, s.adminToken, settings);
    assert.equal(put.status, 200, put.text);
    assertNoSecret(put.text, 'the answer of the write');
    for (const who of [s.adminToken, editor, viewer]) {
      const r = await api('GET', '/namespaces/team/authorization', who);
      assert.equal(r.status, 200, r.text);
      assertNoSecret(r.text, 'a read of the namespace settings');
      assert.equal(r.body.tokenExchange.clientSecret, REDACTED);
    }
    const forViewer = await api('GET', '/watch/snapshot', globalViewer);
    assertNoSecret(forViewer.text, 'the watch snapshot of a viewer on *');
    assert.ok((forViewer.body.withheld as string[]).includes('team (namespace authorization)'));
    const forGateway = await api('GET', '/watch/snapshot', gatewayToken);
    assert.equal(forGateway.body.namespaceAuthorization.team.tokenExchange.clientSecret, 'ns-exchange-secret-1');
    const audit = await api('GET', '/audit?namespace=team&action=namespace.authorization', s.adminToken);
    assertNoSecret(audit.text, 'the audit log');
    assert.deepEqual(audit.body.items[0].secretsChanged, ['authorization.issuers[https://login.example.com].introspection.clientSecret', 'authorization.tokenExchange.clientSecret']);
  });

  test('no secret, password or token reached the log', async () => {
    // Failed logins and refused requests are logged too: one of each, carrying credentials.
    await http('POST', `${s.registryUrl}/nacos/v1/auth/login`, { form: { username: 'vera', password: 'wrong-password-123' } });
    await http('GET', `${s.registryUrl}/nacos/v3/admin/ai/mcp?namespaceId=team&mcpName=billing&accessToken=${gatewayToken}x`);
    // An error logged with the request that caused it (its headers, URL and body), as Fastify and
    // handlers do: through the registry's own logger.
    const body = { name: 'billing', spec: billingSpec('9.9.9') };
    s.stack.registry.http.log.error({
      err: Object.assign(new Error(`saving failed for Bearer ${editor}`), { body }),
      req: { method: 'POST', url: `/nacos/v3/admin/ai/mcp?accessToken=${gatewayToken}`, headers: { authorization: `Bearer ${editor}` } },
      body, headers: { authorization: `Bearer ${viewer}`, 'x-api-key': 'scheme-cred-1' },
    }, 'request failed');
    const text = s.log.text();
    assert.match(text, /"msg":"request failed"/);
    assert.ok(text.length > 0, 'the run logged');
    assertNoSecret(text, 'the log');
    for (const credential of [gatewayToken, viewerGatewayToken, viewer, editor, 'admin-password-1', 'vera-password-1', 'wrong-password-123']) {
      assert.ok(!text.includes(credential), `the log shows a credential (${credential.slice(0, 8)}…)`);
    }
  });
});
