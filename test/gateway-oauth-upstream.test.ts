// Step-up for tools of an upstream MCP server that the registry does not list (live tools): they
// follow the scope → tool mapping exactly as listed tools do. With a real OpenID provider
// (oidc-provider) issuing the tokens and the fixture MCP server (official SDK) upstream: a tool
// the token's scopes do not grant is hidden from tools/list, and calling it answers 403
// `insufficient_scope` naming the scope (2026-07-28 and 2025 eras), or the JSON-RPC error inside a
// legacy SSE session; a name the upstream does not have stays "Unknown tool"; the agent's MCP
// token never reaches the upstream, and rate limits count live tools too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { createMcpServer, firstText, legacyPost, legacySession, modernPost, waitFor } from './support/gateway.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { startOidcProvider } from './support/oidc.js';
import type { TestOidcProvider } from './support/oidc.js';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';

const SCOPES = ['mcp', 'fixture:echo', 'tools:live:*', 'tools:limited:*'];

describe('OAuth scopes over the live tools of an upstream MCP server', () => {
  let idp: TestOidcProvider;
  let stack: TestStack;
  let up: HttpUpstream;
  let liveUrl: string;
  let limitedUrl: string;

  /** A client-credentials token of the provider for `endpoint` (its resource indicator) with `scope`. */
  async function tokenFor(endpoint: string, scope: string): Promise<string> {
    const r = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.gatewayClient.clientId}:${idp.gatewayClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: endpoint }).toString(),
    });
    const body = await r.json() as { access_token?: string };
    assert.ok(body.access_token, JSON.stringify(body));
    return body.access_token;
  }

  before(async () => {
    idp = await startOidcProvider({ scopes: SCOPES });
    up = await startHttpUpstream();
    stack = await startStack();
    const issuers = [{ issuer: idp.issuer }];
    // Authorization passed through (as a server fronting an API might): the MCP token must still never be forwarded.
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'live', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, passthrough: { headers: ['authorization'], cookies: [] },
      spec: { version: '1.0.0', tools: [], authorization: { enabled: true, issuers, requiredScopes: ['mcp'], scopeGrants: { 'fixture:echo': [{ server: 'live', tools: ['echo'] }] } } },
    });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'limited', protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') },
      spec: { version: '1.0.0', tools: [], authorization: { enabled: true, issuers, requiredScopes: ['mcp'], rateLimits: { perTool: { ratePerSecond: 0.001, burst: 1 } } } },
    });
    liveUrl = `${stack.gatewayUrl}/mcp/public/live`;
    limitedUrl = `${stack.gatewayUrl}/mcp/public/limited`;
    await waitFor('the gateway serves both servers', () => stack.stack.gateway.handler.current.servers.has('public/limited') && stack.stack.gateway.handler.current.servers.has('public/live'));
  });

  after(async () => {
    await stack?.close();
    await up?.close();
    await idp?.close();
  });

  it('2026-07-28: tools/list hides the tools the scopes do not grant; calling one is 403 insufficient_scope; the upstream never sees the MCP token', async () => {
    const token = await tokenFor(liveUrl, 'mcp fixture:echo');
    const auth = { authorization: `Bearer ${token}` };
    const list = await modernPost(liveUrl, 1, 'tools/list', {}, auth);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.result.tools.map((t: { name: string }) => t.name), ['echo']);
    const seenBefore = up.seen.length;
    const ok = await modernPost(liveUrl, 2, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, auth);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(firstText(ok.body.result), 'hi');
    const refused = await modernPost(liveUrl, 3, 'tools/call', { name: 'headers', arguments: {} }, auth);
    assert.equal(refused.status, 403, refused.text);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp fixture:echo tools:live:headers"/);
    assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp\/public\/live"/);
    const unknown = await modernPost(liveUrl, 4, 'tools/call', { name: 'no-such-tool', arguments: {} }, auth);
    assert.equal(unknown.status, 200, 'a tool the upstream does not have is not a scope matter');
    assert.match(unknown.body.error.message, /Unknown tool: no-such-tool/);
    assert.ok(up.seen.length > seenBefore, 'the upstream was reached');
    for (const h of up.seen) assert.ok(!JSON.stringify(h).includes(token), 'the agent\'s MCP token never reaches the upstream');
  });

  it('with the scope, the tool is listed and runs; the upstream receives no Authorization of the agent', async () => {
    const token = await tokenFor(liveUrl, 'mcp tools:live:*');
    const auth = { authorization: `Bearer ${token}` };
    const list = await modernPost(liveUrl, 1, 'tools/list', {}, auth);
    assert.ok(list.body.result.tools.some((t: { name: string }) => t.name === 'headers'));
    const r = await modernPost(liveUrl, 2, 'tools/call', { name: 'headers', arguments: {} }, auth);
    assert.equal(r.status, 200, r.text);
    const received = JSON.parse(firstText(r.body.result)) as Record<string, string>;
    assert.equal(received.authorization, undefined);
  });

  it('2025 session: the same 403 with its challenge', async () => {
    const token = await tokenFor(liveUrl, 'mcp fixture:echo');
    const auth = { authorization: `Bearer ${token}` };
    const session = await legacySession(liveUrl, auth);
    const list = await legacyPost(liveUrl, session, 1, 'tools/list', {}, auth);
    const listed = (Array.isArray(list.body) ? list.body[0] : list.body).result.tools.map((t: { name: string }) => t.name);
    assert.deepEqual(listed, ['echo']);
    const refused = await legacyPost(liveUrl, session, 2, 'tools/call', { name: 'headers', arguments: {} }, auth);
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope", .*scope="mcp fixture:echo tools:live:headers"/);
  });

  it('legacy HTTP+SSE session: the refusal is a JSON-RPC error naming the scope', async () => {
    const token = await tokenFor(liveUrl, 'mcp fixture:echo');
    const headers = { authorization: `Bearer ${token}` };
    const client = new SdkClient({ name: 'agent', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${liveUrl}/sse`), {
      requestInit: { headers }, eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
    }));
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['echo']);
      await assert.rejects(client.callTool({ name: 'headers', arguments: {} }), (err: { code?: number; message?: string }) => {
        assert.equal(err.code, -32000);
        assert.match(err.message ?? '', /does not grant tool 'headers'.*tools:live:headers/);
        return true;
      });
      assert.equal(firstText(await client.callTool({ name: 'echo', arguments: { text: 'sse' } })), 'sse');
    } finally {
      await client.close();
    }
  });

  it('rate limits apply to live tools, and are counted per subject and tool', async () => {
    const token = await tokenFor(limitedUrl, 'mcp tools:limited:*');
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await modernPost(limitedUrl, 1, 'tools/call', { name: 'echo', arguments: { text: 'a' } }, auth)).status, 200);
    const refused = await modernPost(limitedUrl, 2, 'tools/call', { name: 'echo', arguments: { text: 'b' } }, auth);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.error.data.limit, 'perTool');
    const metrics = await fetch(`${stack.gatewayUrl}/metrics`).then((r) => r.text());
    assert.match(metrics, /mcpgate_gateway_rate_limited_total\{server="public\/limited",limit="perTool",caller="token:[A-Za-z0-9_-]{10}",tool="echo"[^}]*\} 1/);
    assert.ok(!metrics.includes(token), 'no token in the metrics');
  });
});
