// OAuth token scopes select a virtual server and its tools (issue 13, part 4), with the real
// OpenID provider and the official SDK's OAuth client: a scope mapped to some tools of a virtual
// server shows and calls only those; a tool it does not grant answers 403 insufficient_scope
// naming the scope that would; `tools:<virtual server>:<tool>` scopes name the names agents see,
// a member server's scopes grant nothing of the virtual server; and a change of the scope mapping sends list_changed on the agent's open stream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, importJWK } from 'jose';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { http } from './support/http.js';
import { createMcpServer, firstText, modernPost, restTool, waitFor } from './support/gateway.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';
import { startOidcProvider } from './support/oidc.js';
import type { TestOidcProvider } from './support/oidc.js';
import { connectWithOAuth } from './support/oauth-agent.js';

const SCOPES = ['mcp', 'desk:weather', 'tools:weather:*', 'tools:desk:*', 'tools:desk:shop__buy', 'tools:desk:weather__alerts'];

describe('token scopes select virtual servers and their tools', () => {
  let idp: TestOidcProvider;
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let deskUrl: string;
  let settingsUrl: string;
  const grants = (deskTools: string[]) => ({ 'desk:weather': [{ server: 'desk', tools: deskTools }] });

  before(async () => {
    idp = await startOidcProvider({ scopes: SCOPES });
    backend = await startBackend((r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: r.path })));
    stack = await startStack();
    const api = `${stack.registryUrl}/api/v1`;
    assert.equal((await http('POST', `${api}/namespaces`, { body: { id: 'scoped' } })).status, 201);
    const endpoint = { type: 'url', url: backend.url };
    await createMcpServer(stack.registryUrl, 'scoped', { name: 'weather', endpoint, spec: { version: '1.0.0', tools: [restTool('forecast', { url: '/forecast' }), restTool('alerts', { url: '/alerts' })] } });
    await createMcpServer(stack.registryUrl, 'scoped', { name: 'shop', endpoint, spec: { version: '1.0.0', tools: [restTool('buy', { url: '/buy' })] } });
    const desk = await http('POST', `${api}/namespaces/scoped/mcp-servers`, {
      body: { name: 'desk', protocol: 'virtual', publish: true, spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'weather' }, { server: 'shop' }] } } },
    });
    assert.equal(desk.status, 201, desk.text);
    settingsUrl = `${api}/namespaces/scoped/authorization`;
    const put = await http('PUT', settingsUrl, { body: { enabled: true, issuers: [{ issuer: idp.issuer }], requiredScopes: ['mcp'], scopeGrants: grants(['weather__forecast']) } });
    assert.equal(put.status, 200, put.text);
    deskUrl = `${stack.gatewayUrl}/mcp/scoped/desk`;
    await waitFor('the gateway takes tokens at scoped/desk', () => stack.stack.gateway.handler.current.servers.get('scoped/desk')?.access?.tokens?.grantsFingerprint.includes('desk:weather'));
  });

  after(async () => {
    await stack?.close();
    await backend?.close();
    await idp?.close();
  });

  it('a scope granting some tools of the virtual server: only those are listed and called; a change of the mapping reaches the open stream', async () => {
    const { client, auth, transport } = await connectWithOAuth(deskUrl, idp, 'mcp desk:weather');
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['weather__forecast']);
      assert.match(firstText(await client.callTool({ name: 'weather__forecast', arguments: {} })), /\/forecast/);
      // A tool of the virtual server the scopes do not grant: 403 naming the scope that would.
      const raw = await fetch(deskUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${auth.saved!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'shop__buy', arguments: {} } }),
      });
      assert.equal(raw.status, 403);
      assert.match(raw.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*tools:desk:shop__buy/);
      assert.ok(!backend.requests.some((r) => r.path === '/buy'), 'nothing reached the member');

      let changed!: () => void;
      const told = new Promise<void>((resolve) => { changed = resolve; });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed());
      await waitFor('the session stream is open', () => stack.stack.gateway.handler.openStreams > 0);
      const current = (await http('GET', settingsUrl)).body as Record<string, unknown>;
      const put = await http('PUT', settingsUrl, { body: { ...current, scopeGrants: grants(['weather__forecast', 'weather__alerts', 'shop__buy']) } });
      assert.equal(put.status, 200, put.text);
      await told;
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['weather__alerts', 'weather__forecast', 'shop__buy']);
      assert.match(firstText(await client.callTool({ name: 'shop__buy', arguments: {} })), /\/buy/);
    } finally {
      await client.close();
    }
  });

  it('tools:<server>:<tool> scopes name the virtual server and the names agents see; a member server\'s scopes grant nothing of it', async () => {
    const sign = async (scope: string) => new SignJWT({ scope }).setProtectedHeader({ alg: 'ES256', kid: idp.signingKey.kid })
      .setIssuer(idp.issuer).setSubject('agent-7').setAudience(deskUrl).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + 300)
      .sign(await importJWK(idp.signingKey, 'ES256'));
    const list = async (scope: string) => modernPost(deskUrl, 1, 'tools/list', {}, { authorization: `Bearer ${await sign(scope)}` });
    const named = await list('mcp tools:desk:weather__alerts');
    assert.equal(named.status, 200, named.text);
    assert.deepEqual((named.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name), ['weather__alerts']);
    const all = await list('mcp tools:desk:*');
    assert.deepEqual((all.body as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name), ['weather__alerts', 'weather__forecast', 'shop__buy']);
    // Scopes of a member server are not scopes of the virtual server.
    const member = await list('mcp tools:weather:*');
    assert.equal(member.status, 403, member.text);
    assert.match(member.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });
});
