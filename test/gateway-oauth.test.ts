// MCP authorization end to end, with a real OpenID provider (oidc-provider): the gateway is an
// OAuth 2.1 resource server per endpoint. The official SDK's client performs the whole flow
// (401 → Protected Resource Metadata → AS metadata → dynamic registration → authorization code
// with PKCE and a resource indicator, consent automated → token → calls) and sees only the tools
// its scopes grant. Bad tokens get the right status and WWW-Authenticate error, and nothing
// reaches a backend. Backends get a token exchanged for their own audience (RFC 8693), never the
// agent's. Rate limits answer 429 / a JSON-RPC error for one caller while another is unaffected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, importJWK } from 'jose';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { http } from './support/http.js';
import { createMcpServer, modernPost, restTool } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { startOidcProvider } from './support/oidc.js';
import type { TestOidcProvider } from './support/oidc.js';
import { connectWithOAuth } from './support/oauth-agent.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const SCOPES = ['mcp', 'weather:basic', 'tools:weather:*', 'tools:orders:*', 'tools:opaque:*'];

describe('MCP authorization (OAuth 2.1 resource server) with a real OpenID provider', () => {
  let idp: TestOidcProvider;
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let weatherUrl: string;
  let ordersUrl: string;
  let limitedUrl: string;
  let key: string;
  let opaqueUrl: string;
  /** A valid token of the weather endpoint (all its tools), from the SDK flow. */
  let weatherToken: string;

  before(async () => {
    idp = await startOidcProvider({ scopes: SCOPES });
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: r.path }));
    });
    stack = await startStack();
    const issuers = [{ issuer: idp.issuer }];
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'weather', passthrough: { headers: ['authorization'], cookies: [] }, endpoint: { type: 'url', url: backend.url },
      spec: {
        version: '1.0.0', tools: [restTool('forecast', { url: '/forecast' }), restTool('alerts', { url: '/alerts' })],
        authorization: { enabled: true, issuers, requiredScopes: ['mcp'], clockSkewSeconds: 5, scopeGrants: { 'weather:basic': [{ server: 'weather', tools: ['forecast'] }] } },
      },
    });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'orders', passthrough: { headers: ['authorization'], cookies: [] }, endpoint: { type: 'url', url: backend.url },
      spec: {
        version: '1.0.0', tools: [restTool('get_order', { url: '/orders/1' })],
        authorization: {
          enabled: true, issuers, requiredScopes: ['mcp'],
          tokenExchange: { tokenEndpoint: `${idp.issuer}/token`, clientId: idp.gatewayClient.clientId, clientSecret: idp.gatewayClient.clientSecret, audience: 'https://orders.internal' },
        },
      },
    });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'limited', endpoint: { type: 'url', url: backend.url },
      spec: { version: '1.0.0', tools: [restTool('ping', { url: '/ping' })], authorization: { rateLimits: { perCaller: { ratePerSecond: 0.001, burst: 2 } } } },
    });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'opaque', endpoint: { type: 'url', url: backend.url },
      spec: {
        version: '1.0.0', tools: [restTool('echo', { url: '/echo' })],
        authorization: {
          enabled: true, requiredScopes: ['mcp'],
          issuers: [{ issuer: idp.issuer, introspection: { endpoint: `${idp.issuer}/token/introspection`, clientId: idp.gatewayClient.clientId, clientSecret: idp.gatewayClient.clientSecret } }],
        },
      },
    });
    const consumers: string[] = [];
    for (const name of ['limited-a', 'limited-b']) {
      const c = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/consumers`, { body: { name } });
      assert.equal(c.status, 201, c.text);
      consumers.push((c.body as { key: string }).key);
    }
    key = consumers[0]!;
    weatherUrl = `${stack.gatewayUrl}/mcp/public/weather`;
    ordersUrl = `${stack.gatewayUrl}/mcp/public/orders`;
    limitedUrl = `${stack.gatewayUrl}/mcp/public/limited`;
    opaqueUrl = `${stack.gatewayUrl}/mcp/public/opaque`;
    // The gateway follows the registry: wait until it serves the servers.
    for (let i = 0; i < 200 && stack.stack.gateway.handler.current.servers.size < 4; i++) await new Promise((r) => setTimeout(r, 25));
    (globalThis as { consumerKeys?: string[] }).consumerKeys = consumers;
  });

  after(async () => {
    await stack?.close();
    await backend?.close();
    await idp?.close();
  });

  it('answers 401 with the metadata URL, and serves RFC 9728 metadata at the path-suffixed well-known URL', async () => {
    const r = await modernPost(weatherUrl, 1, 'tools/list');
    assert.equal(r.status, 401);
    const prmUrl = `${stack.gatewayUrl}/.well-known/oauth-protected-resource/mcp/public/weather`;
    assert.equal(r.headers.get('www-authenticate'), `Bearer resource_metadata="${prmUrl}", scope="mcp weather:basic tools:weather:*"`);
    const prm = await http('GET', prmUrl);
    assert.equal(prm.status, 200);
    assert.deepEqual(prm.body, { resource: weatherUrl, authorization_servers: [idp.issuer], bearer_methods_supported: ['header'], scopes_supported: ['mcp', 'weather:basic'], resource_name: 'public/weather' });
    assert.equal((await http('GET', `${stack.gatewayUrl}/.well-known/oauth-protected-resource/mcp/public/limited`)).status, 404, 'no metadata where tokens are not taken');
    assert.equal(backend.requests.length, 0);
  });

  it('the SDK client does the full authorization flow and lists only the tools its scopes grant', async () => {
    const { client, auth } = await connectWithOAuth(weatherUrl, idp, 'mcp weather:basic');
    try {
      assert.equal(auth.asked, 'mcp weather:basic tools:weather:*', 'the client asked for the scopes the challenge named');
      const token = decodeJwt(auth.saved!.access_token);
      assert.equal(token.scope, 'mcp weather:basic', 'the user consented to fewer');
      assert.equal(token.aud, weatherUrl, 'the token was issued for the endpoint (resource indicator)');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['forecast']);
      const result = await client.callTool({ name: 'forecast', arguments: {} });
      assert.equal(result.isError, undefined);
      // A tool of the server its scopes do not grant: 403 insufficient_scope, and the SDK goes back to the authorization server (step-up).
      await assert.rejects(client.callTool({ name: 'alerts', arguments: {} }), UnauthorizedError);
      await auth.code;
      await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), /Unknown tool: nope/);
      const last = backend.requests.at(-1)!;
      assert.equal(last.path, '/forecast');
      assert.equal(last.headers.authorization, undefined, 'the MCP access token is never forwarded, even where authorization is passed through');
    } finally {
      await client.close();
    }
  });

  it('a wider scope sees every tool of the server', async () => {
    const { client, auth } = await connectWithOAuth(weatherUrl, idp, 'mcp tools:weather:*');
    weatherToken = auth.saved!.access_token;
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['alerts', 'forecast']);
    } finally {
      await client.close();
    }
  });

  it('the backend gets a token exchanged for its own audience (RFC 8693), cached per subject', async () => {
    const { client, auth } = await connectWithOAuth(ordersUrl, idp, 'mcp tools:orders:*');
    try {
      const before = idp.exchanges.length;
      for (let i = 0; i < 3; i++) await client.callTool({ name: 'get_order', arguments: {} });
      assert.equal(idp.exchanges.length - before, 1, 'one exchange for three calls');
      const seen = backend.requests.at(-1)!.headers.authorization;
      assert.ok(seen?.startsWith('Bearer '));
      const backendToken = seen!.slice(7);
      assert.notEqual(backendToken, auth.saved!.access_token);
      const claims = decodeJwt(backendToken);
      assert.equal(claims.aud, 'https://orders.internal');
      assert.equal(claims.sub, 'alice');
      for (const r of backend.requests) assert.ok(!JSON.stringify(r.headers).includes(auth.saved!.access_token), 'the agent token never reaches a backend');
    } finally {
      await client.close();
    }
  });

  it('opaque tokens are checked by introspection (RFC 7662)', async () => {
    const { client, auth } = await connectWithOAuth(opaqueUrl, idp, 'mcp tools:opaque:*');
    try {
      assert.ok(!auth.saved!.access_token.includes('.'), 'the provider issued an opaque token');
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['echo']);
      assert.equal((await client.callTool({ name: 'echo', arguments: {} })).isError, undefined);
    } finally {
      await client.close();
    }
    const before = backend.requests.length;
    const r = await modernPost(opaqueUrl, 1, 'tools/call', { name: 'echo', arguments: {} }, { authorization: `Bearer ${randomBytes(32).toString('base64url')}` });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token".*not active/);
    assert.equal(backend.requests.length, before);
  });

  it('legacy HTTP+SSE: the token is checked on the GET and the session is bound to its subject', async () => {
    const bad = new SdkClient({ name: 'agent', version: '1' });
    await assert.rejects(bad.connect(new SSEClientTransport(new URL(`${weatherUrl}/sse`))), /401|Unauthorized/);
    const headers = { authorization: `Bearer ${weatherToken}` };
    const client = new SdkClient({ name: 'agent', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${weatherUrl}/sse`), {
      requestInit: { headers }, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
    }));
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['alerts', 'forecast']);
      assert.equal((await client.callTool({ name: 'alerts', arguments: {} })).isError, undefined);
      assert.equal(backend.requests.at(-1)!.headers.authorization, undefined, 'the token is not forwarded from the GET either');
    } finally {
      await client.close();
    }
  });

  describe('bad tokens: the right status and WWW-Authenticate error, nothing reaches a backend', () => {
    const call = (token: string) => modernPost(weatherUrl, 1, 'tools/call', { name: 'forecast', arguments: {} }, { authorization: `Bearer ${token}` });
    const now = () => Math.floor(Date.now() / 1000);
    async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = idp.signingKey): Promise<string> {
      return new SignJWT({ scope: 'mcp tools:weather:*', ...claims }).setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header })
        .setIssuer(String(claims.iss ?? idp.issuer)).setSubject('mallory').setAudience(String(claims.aud ?? weatherUrl))
        .setIssuedAt().setExpirationTime(Number(claims.exp ?? now() + 300)).sign(await importJWK(key, 'ES256'));
    }

    const cases: [string, () => Promise<string>, number, RegExp][] = [
      ['wrong audience', () => sign({ aud: `${stack.gatewayUrl}/mcp/public/orders` }), 401, /error="invalid_token".*not issued for this resource/],
      ['wrong issuer', () => sign({ iss: 'http://127.0.0.1:1/other' }), 401, /error="invalid_token".*issuer is not trusted/],
      ['expired', () => sign({ exp: now() - 600 }), 401, /error="invalid_token".*expired/],
      ['not yet valid', () => sign({ nbf: now() + 600 }), 401, /error="invalid_token".*not yet valid/],
      ['alg none', async () => {
        const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: idp.issuer, sub: 'mallory', aud: weatherUrl, exp: now() + 300, scope: 'mcp tools:weather:*' })}.`;
      }, 401, /error="invalid_token".*alg none/],
      ['unknown kid', () => sign({}, { kid: 'no-such-key' }), 401, /error="invalid_token".*unknown kid/],
      ['tampered signature', async () => {
        const [h, , s] = (await sign({})).split('.');
        const forged = Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'admin', aud: weatherUrl, exp: now() + 300, scope: 'mcp tools:*' })).toString('base64url');
        return `${h}.${forged}.${s}`;
      }, 401, /error="invalid_token".*signature/],
      ['another key with a known kid', async () => {
        const { generateKeyPair, exportJWK } = await import('jose');
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        return sign({}, {}, { ...(await exportJWK(privateKey)), kid: idp.signingKey.kid });
      }, 401, /error="invalid_token".*signature/],
      ['garbage', () => Promise.resolve(randomBytes(20).toString('hex')), 401, /error="invalid_token"/],
      ['missing scope', () => sign({ scope: 'tools:weather:*' }), 403, /error="insufficient_scope".*scope="mcp"/],
    ];
    for (const [name, make, status, challenge] of cases) {
      it(name, async () => {
        const before = backend.requests.length;
        const r = await call(await make());
        assert.equal(r.status, status, r.text);
        assert.match(r.headers.get('www-authenticate') ?? '', challenge);
        assert.match(r.headers.get('www-authenticate') ?? '', /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp\/public\/weather"/);
        assert.equal(backend.requests.length, before, 'nothing reached the backend');
      });
    }

    it('a valid forged-for-test token signed by the provider key passes (the cases above differ by one thing each)', async () => {
      const r = await call(await sign({}));
      assert.equal(r.status, 200, r.text);
    });

    it('a token granting nothing of the server: 403 insufficient_scope naming the scope', async () => {
      const r = await call(await sign({ scope: 'mcp tools:orders:*' }));
      assert.equal(r.status, 403);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope", .*scope="mcp tools:weather:\*"/);
    });
  });

  describe('rate limits', () => {
    const ping = (k: string, id: number) => modernPost(limitedUrl, id, 'tools/call', { name: 'ping', arguments: {} }, { authorization: `Bearer ${k}` });

    it('a key over its limit gets 429 with Retry-After while another key is unaffected', async () => {
      const [a, b] = (globalThis as { consumerKeys?: string[] }).consumerKeys!;
      assert.equal((await ping(a!, 1)).status, 200);
      assert.equal((await ping(a!, 2)).status, 200);
      const refused = await ping(a!, 3);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.equal(refused.body.error.code, -32029);
      assert.equal(refused.body.error.data.limit, 'perCaller');
      assert.equal((await ping(b!, 4)).status, 200, 'the other key is unaffected');
      const metrics = await fetch(`${stack.gatewayUrl}/metrics`).then((r) => r.text());
      assert.match(metrics, /mcpgate_gateway_rate_limited_total\{server="public\/limited",limit="perCaller",caller="limited-a"[^}]*\} 1/);
    });

    it('inside a 2025 session the refusal is a JSON-RPC error', async () => {
      const [, b] = (globalThis as { consumerKeys?: string[] }).consumerKeys!;
      const client = new SdkClient({ name: 'agent', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(limitedUrl), { requestInit: { headers: { authorization: `Bearer ${b!}` } } }));
      try {
        await client.callTool({ name: 'ping', arguments: {} });
        await assert.rejects(client.callTool({ name: 'ping', arguments: {} }), (err: { code?: number; message?: string }) => err.code === -32029 && /rate limit/.test(err.message ?? ''));
      } finally {
        await client.close();
      }
    });
  });

  it('keeps consumer keys working beside tokens on a token endpoint (acceptConsumerKeys)', async () => {
    const r = await modernPost(weatherUrl, 1, 'tools/list', {}, { authorization: `Bearer ${key}` });
    assert.equal(r.status, 200, r.text);
  });
});
