// MCP authorization settings kept in the registry, per namespace: the native API validates them
// (naming the field), fetches and checks each issuer's metadata on save, keeps client secrets
// write-only, and the gateways get them with the snapshot. With the real OpenID provider and the
// official SDK's OAuth client: a change of the scope mapping sends list_changed on the open
// stream; a tool the token's scopes do not grant answers 403 insufficient_scope naming the scope,
// and the SDK re-authorizes with it (step-up) and calls again. Rate limits set on the namespace
// answer 429 / a JSON-RPC error and are counted by caller in /metrics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { http } from './support/http.js';
import { createMcpServer, modernPost, restTool, waitFor } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { startOidcProvider } from './support/oidc.js';
import type { TestOidcProvider } from './support/oidc.js';
import { connectWithOAuth } from './support/oauth-agent.js';
import { subjectId } from '../src/gateway/auth/token-verifier.js';

const SCOPES = ['mcp', 'weather:basic', 'weather:alerts', 'tools:weather:*'];

describe('namespace authorization settings in the registry, with a real OpenID provider', () => {
  let idp: TestOidcProvider;
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let liar: Awaited<ReturnType<typeof startBackend>>;
  let weatherUrl: string;
  let settingsUrl: string;

  before(async () => {
    idp = await startOidcProvider({ scopes: SCOPES });
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path }));
    });
    // An authorization server whose metadata names another issuer.
    liar = await startBackend((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: 'https://someone-else.example', jwks_uri: 'https://someone-else.example/jwks' }));
    });
    stack = await startStack();
    assert.equal((await http('POST', `${stack.registryUrl}/api/v1/namespaces`, { body: { id: 'team' } })).status, 201);
    await createMcpServer(stack.registryUrl, 'team', {
      name: 'weather', endpoint: { type: 'url', url: backend.url },
      spec: { version: '1.0.0', tools: [restTool('forecast', { url: '/forecast' }), restTool('alerts', { url: '/alerts' })] },
    });
    weatherUrl = `${stack.gatewayUrl}/mcp/team/weather`;
    settingsUrl = `${stack.registryUrl}/api/v1/namespaces/team/authorization`;
    await waitFor('the gateway serves team/weather', () => stack.stack.gateway.handler.current.servers.has('team/weather'));
  });

  after(async () => {
    await stack?.close();
    await backend?.close();
    await liar?.close();
    await idp?.close();
  });

  it('refuses bad settings with a 400 naming the field, and changes nothing', async () => {
    const cases: [unknown, string, string][] = [
      [{ enabled: true, issuers: [{ issuer: 'ftp://login.example.com' }] }, 'VALIDATION_FAILED', 'authorization.issuers[0].issuer'],
      [{ enabled: true }, 'VALIDATION_FAILED', 'authorization.issuers'],
      [{ rateLimits: { perCaller: { ratePerSecond: -1, burst: 1 } } }, 'VALIDATION_FAILED', 'authorization.rateLimits.perCaller.ratePerSecond'],
      [{ scopeGrants: { 'has space': null } }, 'VALIDATION_FAILED', 'authorization.scopeGrants.has space'],
      [{ enabled: true, issuers: [{ issuer: idp.issuer }], surprise: 1 }, 'VALIDATION_FAILED', 'authorization'],
      [[1, 2], 'VALIDATION_FAILED', 'body'],
      // The issuer's metadata: nothing listens there; another issuer named in it.
      [{ enabled: true, issuers: [{ issuer: idp.issuer }, { issuer: 'http://127.0.0.1:1' }] }, 'ISSUER_METADATA_INVALID', 'authorization.issuers[1].issuer'],
      [{ enabled: true, issuers: [{ issuer: liar.url }] }, 'ISSUER_METADATA_INVALID', 'authorization.issuers[0].issuer'],
      // A redaction marker where no secret is stored.
      [{ enabled: true, issuers: [{ issuer: idp.issuer, introspection: { endpoint: `${idp.issuer}/token/introspection`, clientId: 'x', clientSecret: '******' } }] },
        'VALIDATION_FAILED', 'authorization.issuers[0].introspection.clientSecret'],
    ];
    for (const [body, code, field] of cases) {
      const r = await http('PUT', settingsUrl, { body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      const error = (r.body as { error: { code: string; field?: string; message: string } }).error;
      assert.equal(error.code, code, r.text);
      assert.equal(error.field, field, r.text);
    }
    const liarAnswer = await http('PUT', settingsUrl, { body: { enabled: true, issuers: [{ issuer: liar.url }] } });
    assert.match(liarAnswer.text, /names issuer \\?"https:\/\/someone-else\.example\\?"/);
    assert.deepEqual((await http('GET', settingsUrl)).body, {});
    assert.equal((await http('PUT', `${stack.registryUrl}/api/v1/namespaces/nowhere/authorization`, { body: {} })).status, 404);
  });

  it('keeps client secrets write-only: read as ******, kept when written back, delivered to gateways', async () => {
    const secret = 'introspection-secret-0123456789';
    const body = {
      enabled: true, issuers: [{ issuer: idp.issuer, introspection: { endpoint: `${idp.issuer}/token/introspection`, clientId: idp.gatewayClient.clientId, clientSecret: secret } }],
      requiredScopes: ['mcp'], scopeGrants: { 'weather:basic': [{ server: 'weather', tools: ['forecast'] }] },
    };
    const put = await http('PUT', settingsUrl, { body });
    assert.equal(put.status, 200, put.text);
    assert.ok(!put.text.includes(secret));
    const read = await http('GET', settingsUrl);
    assert.equal((read.body as typeof body).issuers[0]!.introspection.clientSecret, '******');
    assert.ok(!read.text.includes(secret));
    // The console sends back what it showed: the secret stays.
    assert.equal((await http('PUT', settingsUrl, { body: read.body })).status, 200);
    const snapshot = await http('GET', `${stack.registryUrl}/api/v1/watch/snapshot`);
    const delivered = (snapshot.body as { namespaceAuthorization?: Record<string, typeof body> }).namespaceAuthorization?.team;
    assert.equal(delivered?.issuers[0]!.introspection.clientSecret, secret, 'the gateway (here: a reader allowed secrets) gets the stored value');
    const audit = await http('GET', `${stack.registryUrl}/api/v1/audit?namespace=team&action=namespace.authorization`);
    assert.ok(!audit.text.includes(secret), 'the audit log holds no secret');
    assert.equal((audit.body as { items: unknown[] }).items.length, 2);
  });

  it('the gateway takes the namespace settings: 401 with the metadata, then the SDK flow lists what the scopes grant', async () => {
    await waitFor('the gateway takes tokens at team/weather', async () => (await modernPost(weatherUrl, 1, 'tools/list')).status === 401);
    const r = await modernPost(weatherUrl, 1, 'tools/list');
    assert.match(r.headers.get('www-authenticate') ?? '', /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp\/team\/weather"/);
    const { client } = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['forecast']);
    } finally {
      await client.close();
    }
  });

  it('a change of the scope mapping sends list_changed on the open stream (SDK client)', async () => {
    const { client } = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['forecast']);
      let changed!: () => void;
      const told = new Promise<void>((resolve) => { changed = resolve; });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed());
      // The SDK opens the session's GET stream after initializing: wait until the gateway holds it.
      await waitFor('the session stream is open', () => stack.stack.gateway.handler.openStreams > 0);
      const current = (await http('GET', settingsUrl)).body as Record<string, unknown>;
      const put = await http('PUT', settingsUrl, { body: { ...current, scopeGrants: { 'weather:basic': [{ server: 'weather' }] } } });
      assert.equal(put.status, 200, put.text);
      await told;
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['alerts', 'forecast']);
    } finally {
      await client.close();
      const current = (await http('GET', settingsUrl)).body as Record<string, unknown>;
      await http('PUT', settingsUrl, { body: { ...current, scopeGrants: { 'weather:basic': [{ server: 'weather', tools: ['forecast'] }] } } });
    }
  });

  it('step-up: a tool the scopes do not grant answers 403 insufficient_scope, and the SDK re-authorizes with the scope named', async () => {
    const current = (await http('GET', settingsUrl)).body as Record<string, unknown>;
    const put = await http('PUT', settingsUrl, {
      body: { ...current, scopeGrants: { 'weather:basic': [{ server: 'weather', tools: ['forecast'] }], 'weather:alerts': [{ server: 'weather', tools: ['alerts'] }] } },
    });
    assert.equal(put.status, 200, put.text);
    await waitFor('the gateway has the mapping', () => stack.stack.gateway.handler.current.servers.get('team/weather')?.access?.tokens?.grantsFingerprint.includes('weather:alerts'));
    // The client registers for the scopes the 401 named; the user consents to the narrow one first.
    const { client, auth, transport } = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
    try {
      const first = auth.saved!.access_token;
      // Raw: the 403 and its challenge.
      const raw = await fetch(weatherUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${first}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'alerts', arguments: {} } }),
      });
      assert.equal(raw.status, 403);
      const challenge = raw.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /error="insufficient_scope"/);
      assert.match(challenge, /scope="mcp weather:basic weather:alerts"/);
      assert.match((await raw.json() as { error: { message: string } }).error.message, /does not grant tool 'alerts'/);
      // The SDK: the 403 sends it to the authorization server with the scope named; consent; call again.
      auth.consentAsked = true;
      auth.code = undefined;
      await assert.rejects(client.callTool({ name: 'alerts', arguments: {} }), UnauthorizedError);
      assert.equal(auth.asked, 'mcp weather:basic weather:alerts');
      assert.ok(auth.code, 'the client went back to the authorization server');
      await transport.finishAuth(await auth.code);
      const second = auth.saved!.access_token;
      assert.notEqual(second, first);
      assert.equal(decodeJwt(second).scope, 'mcp weather:basic weather:alerts');
      const result = await client.callTool({ name: 'alerts', arguments: {} });
      assert.equal(result.isError, undefined);
      assert.equal(backend.requests.at(-1)!.path, '/alerts');
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['alerts', 'forecast']);
      // A tool that does not exist stays unknown (no challenge).
      await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool: nope/);
    } finally {
      await client.close();
    }
  });

  it('rate limits set on the namespace: 429 / JSON-RPC error for one caller, another unaffected, counted in /metrics', async () => {
    const current = (await http('GET', settingsUrl)).body as Record<string, unknown>;
    const put = await http('PUT', settingsUrl, { body: { ...current, rateLimits: { tools: { forecast: { ratePerSecond: 0.001, burst: 1 } } } } });
    assert.equal(put.status, 200, put.text);
    await waitFor('the gateway has the limit', () => stack.stack.gateway.handler.current.servers.get('team/weather')?.access?.rateLimits !== undefined);
    const a = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
    try {
      assert.equal((await a.client.callTool({ name: 'forecast', arguments: {} })).isError, undefined);
      await assert.rejects(a.client.callTool({ name: 'forecast', arguments: {} }), (err: { code?: number; message?: string }) => err.code === -32029 && /rate limit/.test(err.message ?? ''));
    } finally {
      await a.client.close();
    }
    // Bob, another subject, has his own bucket; Alice's stays empty (2026-07-28: HTTP 429 with Retry-After).
    const bob = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic', { user: 'bob' });
    try {
      assert.equal((await bob.client.callTool({ name: 'forecast', arguments: {} })).isError, undefined);
      const alice = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
      await alice.client.close();
      const r = await modernPost(weatherUrl, 2, 'tools/call', { name: 'forecast', arguments: {} }, { authorization: `Bearer ${alice.auth.saved!.access_token}` });
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    } finally {
      await bob.client.close();
    }
    const metrics = await http('GET', `${stack.gatewayUrl}/metrics`);
    // Per subject (a short piece of its hashed id, never the subject itself) and per tool.
    const alice = `token:${subjectId({ issuer: idp.issuer, subject: 'alice' }).slice('oauth:'.length, 'oauth:'.length + 10)}`;
    assert.ok(metrics.text.includes(`mcpgate_gateway_rate_limited_total{server="team/weather",limit="perTool",caller="${alice}",tool="forecast"`), metrics.text);
    assert.match(metrics.text, /mcpgate_gateway_rate_limited_total\{server="team\/weather",limit="perTool",caller="token:[^"]+",tool="forecast"[^}]*\} 2/);
    assert.ok(!/caller="[^"]*alice/.test(metrics.text), 'the subject itself is not a label');
  });
});
