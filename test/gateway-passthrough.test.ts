// Credential passthrough end to end: the backend behind a tool receives exactly the headers and
// cookies its server allow-lists from the agent's request, in every era (on legacy SSE, those
// of the GET carry into the session's POSTs); never hop-by-hop headers nor the gateway's own
// consumer key. A Higress security scheme whose passthrough credential is missing answers 401.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport as SdkSse } from '@modelcontextprotocol/sdk/client/sse.js';
import { http } from './support/http.js';
import { createMcpServer, firstText, legacyPost, legacySession, mcpPost, modernPost, openSse, rawPost, restTool, waitFor, ENVELOPE } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { Recorded, TestStack } from './support/stack.js';

/** The agent-supplied headers the tests look for at the backend. */
const WATCHED = ['authorization', 'x-tenant', 'cookie', 'x-other', 'x-api-key', 'proxy-authorization', 'keep-alive', 'te', 'proxy-connection', 'x-user-key'];

function seen(r: Recorded): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const h of WATCHED) {
    const v = r.headers[h];
    out[h] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

describe('credential passthrough through a running gateway', () => {
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let key: string;
  let pass: string;
  let greedy: string;
  let schemes: string;

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path, tenant: r.headers['x-tenant'] ?? null }));
    });
    stack = await startStack();
    const reg = stack.registryUrl;
    const api = `${reg}/api/v1`;
    const direct = { type: 'direct', address: '127.0.0.1', port: backend.port };
    assert.equal((await http('POST', `${api}/namespaces`, { body: { id: 'tenants' } })).status, 201);
    const consumer = await http('POST', `${api}/namespaces/tenants/consumers`, { body: { name: 'agent' } });
    assert.equal(consumer.status, 201, consumer.text);
    key = consumer.body.key;
    const whoami = restTool('whoami', { url: '/whoami', response: { body: 'tenant {{ .tenant }}' } });
    await createMcpServer(reg, 'tenants', { name: 'pass', endpoint: direct, spec: { version: '1.0.0', tools: [whoami] } });
    await createMcpServer(reg, 'tenants', { name: 'greedy', endpoint: direct, spec: { version: '1.0.0', tools: [whoami] } });
    // The allow-lists, set on the servers afterwards through the native API.
    const patched = await http('PATCH', `${api}/namespaces/tenants/mcp-servers/pass`, { body: { passthrough: { headers: ['authorization', 'x-tenant'], cookies: ['session'] } } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.passthrough, { headers: ['authorization', 'x-tenant'], cookies: ['session'] });
    // An allow-list naming what must never be forwarded anyway.
    const greedyList = ['authorization', 'x-tenant', 'x-api-key', 'connection', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'transfer-encoding', 'host', 'cookie'];
    assert.equal((await http('PATCH', `${api}/namespaces/tenants/mcp-servers/greedy`, { body: { passthrough: { headers: greedyList, cookies: [] } } })).status, 200);

    await createMcpServer(reg, 'public', {
      name: 'schemes', endpoint: direct,
      spec: {
        version: '1.0.0',
        securitySchemes: [
          { id: 'user-bearer', type: 'http', scheme: 'bearer' }, { id: 'user-key', type: 'apiKey', in: 'header', name: 'X-User-Key' },
          { id: 'backend-key', type: 'apiKey', in: 'header', name: 'X-Backend-Key', defaultCredential: 'service-key' },
          { id: 'url-key', type: 'apiKey', in: 'query', name: 'key' },
        ],
        tools: [
          restTool('profile', { url: '/profile', security: { id: 'user-bearer', passthrough: true } }),
          restTool('keyed', { url: '/keyed', security: { id: 'user-key', passthrough: true } }),
          // The agent's bearer token reaches the backend as its API key; the agent's X-User-Key is taken and dropped.
          restTool('relayed', { url: '/relayed', security: { id: 'backend-key', passthrough: true, clientId: 'user-bearer' } }),
          restTool('service', { url: '/service', security: { id: 'backend-key', clientId: 'user-key' } }),
          // Agents that can only be given a URL put their key in it.
          restTool('by-url', { url: '/by-url', security: { id: 'backend-key', passthrough: true, clientId: 'url-key' } }),
        ],
      },
    });
    pass = `${stack.gatewayUrl}/mcp/tenants/pass`;
    greedy = `${stack.gatewayUrl}/mcp/tenants/greedy`;
    schemes = `${stack.gatewayUrl}/mcp/public/schemes`;
    await waitFor('the passthrough settings on the gateway', async () => {
      const before = backend.requests.length;
      const r = await modernPost(pass, 1, 'tools/call', { name: 'whoami', arguments: {} }, { 'x-api-key': key, 'x-tenant': 'probe' });
      return r.status === 200 && backend.requests.length > before && backend.requests[backend.requests.length - 1]?.headers['x-tenant'] === 'probe';
    });
    await waitFor('the schemes server', async () => (await modernPost(schemes, 1, 'tools/list')).status === 200);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  const last = () => backend.requests[backend.requests.length - 1] as Recorded;
  const agentHeaders = {
    authorization: 'Bearer user-token-1', 'x-tenant': 'acme', cookie: 'theme=dark; session=s-123; other=x',
    'x-other': 'not for the backend', 'proxy-authorization': 'Basic cHJveHk6cHc=',
  };

  it('forwards exactly the allow-listed headers and cookies from an SDK 1.x Streamable HTTP session', async () => {
    const client = new SdkClient({ name: 'pass-streamable', version: '1.0.0' });
    const transport = new SdkStreamable(new URL(pass), { requestInit: { headers: { ...agentHeaders, 'x-api-key': key } } });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      assert.equal(firstText(result), 'tenant acme');
      assert.deepEqual(seen(last()), {
        authorization: 'Bearer user-token-1', 'x-tenant': 'acme', cookie: 'session=s-123', 'x-other': undefined, 'x-api-key': undefined,
        'proxy-authorization': undefined, 'keep-alive': undefined, te: undefined, 'proxy-connection': undefined, 'x-user-key': undefined,
      });
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });

  it('forwards the same in the 2026-07-28 era, and never the consumer key sent as Authorization', async () => {
    const modern = await modernPost(pass, 2, 'tools/call', { name: 'whoami', arguments: {} }, { ...agentHeaders, 'x-api-key': key });
    assert.equal(firstText(modern.body.result), 'tenant acme');
    assert.equal(last().headers.authorization, 'Bearer user-token-1');
    assert.equal(last().headers.cookie, 'session=s-123');
    assert.equal(last().headers['x-api-key'], undefined);

    // The gateway key in Authorization authenticates the agent and goes no further.
    const keyed = await modernPost(pass, 3, 'tools/call', { name: 'whoami', arguments: {} }, { authorization: `Bearer ${key}`, 'x-tenant': 'beta' });
    assert.equal(firstText(keyed.body.result), 'tenant beta');
    assert.equal(last().headers.authorization, undefined);
    assert.equal(last().headers['x-tenant'], 'beta');
    assert.ok(!JSON.stringify(last().headers).includes(key), 'the key appears nowhere in what the backend got');
  });

  it('never forwards hop-by-hop headers, the consumer key or Host, even when the allow-list names them', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: ENVELOPE } });
    const r = await rawPost(greedy, body, {
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami', 'x-api-key': key,
      // Connection nominates x-tenant as hop-by-hop: it must not travel either.
      connection: 'keep-alive, x-tenant', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic cHJveHk6cHc=', 'x-tenant': 'hop', authorization: 'Bearer user-token-2', cookie: 'session=s-9',
    });
    assert.equal(r.status, 200, r.text);
    const got = seen(last());
    assert.equal(got.authorization, 'Bearer user-token-2', 'an end-to-end allow-listed header passes');
    assert.equal(got.cookie, 'session=s-9', "'cookie' in the headers allow-list passes every cookie");
    for (const h of ['x-tenant', 'x-api-key', 'keep-alive', 'te', 'proxy-connection', 'proxy-authorization'] as const) assert.equal(got[h], undefined, h);
    assert.equal(last().headers.host, `127.0.0.1:${backend.port}`, 'Host names the backend');
    assert.notEqual(last().headers.connection, 'keep-alive, x-tenant');
  });

  it('carries the headers of a legacy SSE GET into the POSTs of that session', async () => {
    const sse = await openSse(`${pass}/sse`, { 'x-api-key': key, authorization: 'Bearer sse-user', 'x-tenant': 'from-get', cookie: 'session=sse-cookie; junk=1', 'x-other': 'no' });
    try {
      assert.equal(sse.status, 200);
      const endpoint = new URL((await sse.next((e) => e.event === 'endpoint')).data, pass).toString();
      const post = (body: unknown) => mcpPost(endpoint, body, { 'x-api-key': key });
      assert.equal((await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } } })).status, 202);
      await sse.next((e) => e.data.includes('"id":1'));
      assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
      const accepted = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } });
      assert.equal(accepted.status, 202);
      const answer = JSON.parse((await sse.next((e) => e.data.includes('"id":2'))).data);
      assert.equal(firstText(answer.result), 'tenant from-get');
      assert.deepEqual(seen(last()), {
        authorization: 'Bearer sse-user', 'x-tenant': 'from-get', cookie: 'session=sse-cookie', 'x-other': undefined, 'x-api-key': undefined,
        'proxy-authorization': undefined, 'keep-alive': undefined, te: undefined, 'proxy-connection': undefined, 'x-user-key': undefined,
      });
      // A header the POST itself carries wins over the GET's.
      await mcpPost(endpoint, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'x-api-key': key, 'x-tenant': 'from-post' });
      assert.equal(firstText(JSON.parse((await sse.next((e) => e.data.includes('"id":3'))).data).result), 'tenant from-post');
    } finally {
      sse.close();
    }
  });

  it('does not carry headers the SSE GET nominated hop-by-hop (Connection) into the session', async () => {
    const sse = await openSse(`${pass}/sse`, { 'x-api-key': key, connection: 'keep-alive, x-tenant', 'x-tenant': 'hop-on-get', authorization: 'Bearer end-to-end' });
    try {
      const endpoint = new URL((await sse.next((e) => e.event === 'endpoint')).data, pass).toString();
      await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } } }, { 'x-api-key': key });
      await sse.next((e) => e.data.includes('"id":1'));
      await mcpPost(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, { 'x-api-key': key });
      await sse.next((e) => e.data.includes('"id":2'));
      assert.equal(last().headers.authorization, 'Bearer end-to-end');
      assert.equal(last().headers['x-tenant'], undefined, 'x-tenant was hop-by-hop on the GET');
    } finally {
      sse.close();
    }
  });

  it('forwards the allow-listed headers of an SDK 1.x SSE client', async () => {
    const headers = { 'x-api-key': key, 'x-tenant': 'sdk-sse', authorization: 'Bearer sdk-sse-user' };
    const client = new SdkClient({ name: 'pass-sse', version: '1.0.0' });
    await client.connect(new SdkSse(new URL(`${pass}/sse`), { requestInit: { headers }, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) } }));
    try {
      assert.equal(firstText(await client.callTool({ name: 'whoami', arguments: {} })), 'tenant sdk-sse');
      assert.equal(last().headers.authorization, 'Bearer sdk-sse-user');
      assert.equal(last().headers['x-api-key'], undefined);
    } finally {
      await client.close();
    }
  });

  it('answers 401 with WWW-Authenticate when a security scheme needs the agent credential and it is missing', async () => {
    const before = backend.requests.length;
    const modern = await modernPost(schemes, 1, 'tools/call', { name: 'profile', arguments: {} });
    assert.equal(modern.status, 401);
    assert.equal(modern.headers.get('www-authenticate'), 'Bearer realm="mcpgate"');
    assert.equal(modern.body.id, 1);
    assert.match(modern.body.error.message, /tool profile needs a credential: send Authorization: Bearer/);

    const session = await legacySession(schemes);
    const legacy = await legacyPost(schemes, session, 2, 'tools/call', { name: 'profile', arguments: {} });
    assert.equal(legacy.status, 401);
    assert.match(legacy.headers.get('www-authenticate') ?? '', /^Bearer realm="mcpgate"/);

    const apiKey = await modernPost(schemes, 3, 'tools/call', { name: 'keyed', arguments: {} });
    assert.equal(apiKey.status, 401);
    assert.equal(apiKey.headers.get('www-authenticate'), 'ApiKey realm="mcpgate", in="header", name="X-User-Key"');
    assert.equal(backend.requests.length, before, 'nothing reached the backend without the credential');

    // Listing needs no credential, and the session survives the refusal.
    assert.equal((await legacyPost(schemes, session, 4, 'tools/list')).status, 200);

    // With the credential the backend gets it.
    const ok = await legacyPost(schemes, session, 5, 'tools/call', { name: 'profile', arguments: {} }, { authorization: 'Bearer agent-own-token' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.isError, undefined);
    assert.equal(last().headers.authorization, 'Bearer agent-own-token');
    const keyed = await modernPost(schemes, 6, 'tools/call', { name: 'keyed', arguments: {} }, { 'x-user-key': 'k-42' });
    assert.equal(keyed.status, 200);
    assert.equal(last().headers['x-user-key'], 'k-42');
  });

  it('takes the agent credential by one scheme and sends it to the backend by another (Higress downstream and upstream security)', async () => {
    const client = new SdkClient({ name: 'relay', version: '1.0.0' });
    await client.connect(new SdkStreamable(new URL(schemes), { requestInit: { headers: { authorization: 'Bearer agent-token-7', 'x-user-key': 'agent-key-9' } } }));
    try {
      const relayed = await client.callTool({ name: 'relayed', arguments: {} });
      assert.equal(relayed.isError, undefined);
      assert.deepEqual([last().path, last().headers['x-backend-key'], last().headers.authorization], ['/relayed', 'agent-token-7', undefined]);
      const service = await client.callTool({ name: 'service', arguments: {} });
      assert.equal(service.isError, undefined);
      assert.deepEqual([last().path, last().headers['x-backend-key'], last().headers['x-user-key']], ['/service', 'service-key', undefined]);
    } finally {
      await client.close();
    }
    // A key in the agent's URL: Streamable HTTP (each POST's URL) and legacy SSE (the GET's URL, kept for the session's POSTs).
    for (const transport of [new SdkStreamable(new URL(`${schemes}?key=url-key-1`)), new SdkSse(new URL(`${schemes}/sse?key=url-key-2`))]) {
      const byUrl = new SdkClient({ name: 'by-url', version: '1.0.0' });
      await byUrl.connect(transport);
      try {
        const r = await byUrl.callTool({ name: 'by-url', arguments: {} });
        assert.equal(r.isError, undefined);
        assert.deepEqual([last().path, last().query], ['/by-url', '']);
        assert.equal(last().headers['x-backend-key'], transport instanceof SdkSse ? 'url-key-2' : 'url-key-1');
      } finally {
        await byUrl.close();
      }
    }
    // Without the bearer token, the backend scheme's default credential stands in (passthrough > configured > default).
    const fallback = await modernPost(schemes, 7, 'tools/call', { name: 'relayed', arguments: {} });
    assert.equal(fallback.status, 200);
    assert.equal(last().headers['x-backend-key'], 'service-key');
  });
});
