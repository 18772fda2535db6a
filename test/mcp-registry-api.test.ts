// The MCP Registry read API (/v0.1) over real HTTP: published servers listed with remotes at the
// gateway, cursor pagination, search, updated_since, version filters, versions of a server,
// one version or the latest; bad input answers 400 naming the field; auth and the public option;
// and a served entry, read back as a server.json, imports into another namespace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http } from './support/http.js';
import { createMcpServer, restTool } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

interface Listed {
  server: { name: string; version: string; description: string; remotes: { type: string; url: string; headers?: unknown[] }[] };
  _meta: Record<string, Record<string, unknown>>;
}

describe('MCP Registry API (/v0.1)', () => {
  let s: TestStack;
  let secured: TestStack;
  let token: string;

  before(async () => {
    s = await startStack({ options: { publicGatewayUrl: 'https://mcp.example.com' } });
    const tool = restTool('ping', { url: 'http://127.0.0.1:9/ping' });
    await createMcpServer(s.registryUrl, 'public', { name: 'weather', description: 'Weather by city', spec: { version: '1.0.0', description: 'Weather by city', tools: [tool] } });
    await createMcpServer(s.registryUrl, 'public', { name: 'io.acme/crm', description: 'CRM', spec: { version: '1.0.0', description: 'CRM', tools: [tool] } });
    await createMcpServer(s.registryUrl, 'public', { name: 'zeta', description: 'Z', spec: { version: '1.0.0', description: 'Z', tools: [tool] } });
    // Version 2 of weather, published: 1.0.0 becomes a superseded version.
    const v2 = await http('PUT', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers/weather/versions/2.0.0`, {
      body: { spec: { version: '2.0.0', description: 'Weather by city, v2', tools: [tool] }, publish: true },
    });
    assert.equal(v2.status, 200, v2.text);
    // A draft-only server and a disabled one are not shown.
    const draft = await http('POST', `${s.registryUrl}/api/v1/namespaces/public/mcp-servers`, { body: { name: 'drafty', protocol: 'http', spec: { version: '1.0.0', tools: [tool] }, publish: false } });
    assert.equal(draft.status, 201, draft.text);
    await createMcpServer(s.registryUrl, 'public', { name: 'off', spec: { version: '1.0.0', tools: [tool] }, enabled: false });
    // Another namespace, with a consumer key: its remotes say a key is needed.
    assert.equal((await http('POST', `${s.registryUrl}/api/v1/namespaces`, { body: { id: 'team-a' } })).status, 201);
    await createMcpServer(s.registryUrl, 'team-a', { name: 'billing', description: 'Billing', spec: { version: '1.0.0', description: 'Billing', tools: [tool] } });
    assert.equal((await http('POST', `${s.registryUrl}/api/v1/namespaces/team-a/consumers`, { body: { name: 'agent' } })).status, 201);

    secured = await startStack({ auth: true });
    const login = await http('POST', `${secured.registryUrl}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } });
    token = login.body.accessToken as string;
    const c = await http('POST', `${secured.registryUrl}/api/v1/namespaces/public/mcp-servers`, { token, body: { name: 'hidden', protocol: 'http', spec: { version: '1.0.0', tools: [tool] }, publish: true } });
    assert.equal(c.status, 201, c.text);
  });
  after(async () => {
    await s?.close();
    await secured?.close();
  });

  const list = (query = '') => http<{ servers: Listed[]; metadata: { count: number; nextCursor?: string } }>('GET', `${s.registryUrl}/v0.1/servers${query}`);

  it('lists published servers with remotes at the public gateway URL, newest version first', async () => {
    const r = await list();
    assert.equal(r.status, 200, r.text);
    const names = r.body.servers.map((e) => `${e.server.name}@${e.server.version}`);
    assert.deepEqual(names, ['com.example.mcp.team-a/billing@1.0.0', 'com.example.mcp/weather@2.0.0', 'com.example.mcp/weather@1.0.0', 'com.example.mcp/zeta@1.0.0', 'io.acme/crm@1.0.0']);
    assert.equal(r.body.metadata.count, 5);
    assert.equal(r.body.metadata.nextCursor, undefined);
    const weather = r.body.servers[1] as Listed;
    assert.deepEqual(weather.server.remotes, [
      { type: 'streamable-http', url: 'https://mcp.example.com/mcp/public/weather' },
      { type: 'sse', url: 'https://mcp.example.com/mcp/public/weather/sse' },
    ]);
    assert.equal(weather.server.description, 'Weather by city, v2');
    const official = weather._meta['io.modelcontextprotocol.registry/official'];
    assert.equal(official?.['isLatest'], true);
    assert.equal(official?.['status'], 'active');
    assert.equal(r.body.servers[2]?._meta['io.modelcontextprotocol.registry/official']?.['status'], 'deprecated');
    assert.deepEqual(weather._meta['io.mcpgate/registry'], { namespace: 'public', server: 'weather', toolCount: 1 });
    const billing = r.body.servers[0] as Listed;
    assert.equal(billing.server.remotes[0]?.url, 'https://mcp.example.com/mcp/team-a/billing');
    assert.equal((billing.server.remotes[0]?.headers as { name: string }[] | undefined)?.[0]?.name, 'Authorization', 'a secured namespace');
  });

  it('pages with limit and cursor, filters by search, version and updated_since', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.servers.length <= 2);
      seen.push(...r.body.servers.map((e) => `${e.server.name}@${e.server.version}`));
      cursor = r.body.metadata.nextCursor;
      if (!cursor) break;
    }
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5, 'no entry twice');
    assert.deepEqual((await list('?search=WEATH')).body.servers.map((e) => e.server.version), ['2.0.0', '1.0.0']);
    assert.deepEqual((await list('?version=latest')).body.servers.map((e) => e.server.name),
      ['com.example.mcp.team-a/billing', 'com.example.mcp/weather', 'com.example.mcp/zeta', 'io.acme/crm']);
    assert.deepEqual((await list('?version=1.0.0&search=weather')).body.servers.map((e) => e.server.version), ['1.0.0']);
    assert.equal((await list('?updated_since=2000-01-01T00:00:00Z')).body.servers.length, 5);
    assert.equal((await list(`?updated_since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).body.servers.length, 0);
  });

  it('versions of one server, one version, and latest (names URL-encoded)', async () => {
    const versions = await http('GET', `${s.registryUrl}/v0.1/servers/${encodeURIComponent('com.example.mcp/weather')}/versions`);
    assert.equal(versions.status, 200, versions.text);
    assert.deepEqual(versions.body.servers.map((e: Listed) => e.server.version), ['2.0.0', '1.0.0']);
    const latest = await http('GET', `${s.registryUrl}/v0.1/servers/${encodeURIComponent('com.example.mcp/weather')}/versions/latest`);
    assert.equal(latest.body.server.version, '2.0.0');
    const one = await http('GET', `${s.registryUrl}/v0.1/servers/${encodeURIComponent('io.acme/crm')}/versions/1.0.0`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.server.name, 'io.acme/crm');
    assert.equal(one.body.server.remotes[0].url, 'https://mcp.example.com/mcp/public/io.acme/crm');
    for (const [path, code] of [
      [`/v0.1/servers/${encodeURIComponent('io.acme/nope')}/versions`, 'MCP_SERVER_NOT_FOUND'],
      [`/v0.1/servers/${encodeURIComponent('io.acme/crm')}/versions/9.9.9`, 'VERSION_NOT_FOUND'],
      [`/v0.1/servers/${encodeURIComponent('com.example.mcp/drafty')}/versions/latest`, 'MCP_SERVER_NOT_FOUND'],
    ] as const) {
      const r = await http('GET', `${s.registryUrl}${path}`);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.equal(r.body.code, code);
      assert.equal(r.body.status, 404);
    }
  });

  it('bad input answers 400 problem JSON naming the field', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'], ['?limit=101', 'limit'], ['?limit=abc', 'limit'], ['?limit=1.5', 'limit'],
      ['?cursor=!!!', 'cursor'], [`?cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'], [`?cursor=${'x'.repeat(3000)}`, 'cursor'],
      ['?updated_since=yesterday', 'updated_since'], ['?updated_since=2025-13-45T99:00:00Z', 'updated_since'],
    ] as const) {
      const r = await http('GET', `${s.registryUrl}/v0.1/servers${query}`);
      assert.equal(r.status, 400, `${query}: ${r.text}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(r.body.field, field, `${query}: ${r.text}`);
      assert.equal(r.body.title, 'Bad Request');
      assert.match(r.body.detail, new RegExp(`^${field}`));
    }
  });

  it('with auth on: a credential is needed unless the API is public; each caller sees its namespaces', async () => {
    const anonymous = await http('GET', `${secured.registryUrl}/v0.1/servers`);
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.equal(anonymous.body.code, 'UNAUTHORIZED');
    const withToken = await http('GET', `${secured.registryUrl}/v0.1/servers`, { token });
    assert.equal(withToken.status, 200);
    assert.deepEqual(withToken.body.servers.map((e: Listed) => e.server.name), ['local.mcpgate/hidden'], 'no public gateway URL: the default prefix');
    assert.match(withToken.body.servers[0].server.remotes[0].url, /^http:\/\/127\.0\.0\.1:\d+\/mcp\/public\/hidden$/);
    const badToken = await http('GET', `${secured.registryUrl}/v0.1/servers`, { token: 'nope' });
    assert.equal(badToken.status, 401);
    const cross = await http('GET', `${secured.registryUrl}/v0.1/servers`, { headers: { origin: 'https://registry-browser.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(cross.status, 403, 'not public: the Origin rules hold');

    const pub = await startStack({ auth: true, options: { mcpRegistryPublic: true } });
    try {
      const r = await http('GET', `${pub.registryUrl}/v0.1/servers`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.servers, []);
      // Any site may read the public catalogue from a browser; nothing else is opened to it.
      const browser = { origin: 'https://registry-browser.example', 'sec-fetch-site': 'cross-site' };
      const cross = await http('GET', `${pub.registryUrl}/v0.1/servers?limit=5`, { headers: browser });
      assert.equal(cross.status, 200, cross.text);
      assert.equal(cross.headers.get('access-control-allow-origin'), '*');
      assert.equal((await http('GET', `${pub.registryUrl}/api/v1/namespaces`, { headers: browser })).status, 403);
      assert.equal((await http('GET', `${pub.registryUrl}/v0.1/servers`, { headers: { ...browser, authorization: `Bearer ${token}` } })).status, 403, 'credentialed reads keep the rules');
    } finally {
      await pub.close();
    }
  });

  it('an entry read back is a server.json that imports as a server fronting the gateway', async () => {
    const entry = await http('GET', `${s.registryUrl}/v0.1/servers/${encodeURIComponent('io.acme/crm')}/versions/latest`);
    const r = await http('POST', `${s.registryUrl}/api/v1/namespaces/team-a/mcp-servers/import/server-json`, { body: { content: JSON.stringify(entry.body) } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, 'io.acme/crm');
    assert.equal(r.body.protocol, 'mcp-streamable');
    assert.deepEqual(r.body.endpoint, { type: 'url', url: 'https://mcp.example.com/mcp/public/io.acme/crm' });
  });
});
