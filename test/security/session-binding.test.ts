// Issue 10, finding 13: a legacy SSE session could be driven with another consumer key than the
// one that opened it, and its calls then carried the victim's stored headers. Every session (2025
// Streamable HTTP and legacy SSE) is now bound to the key that opened it: any other key, or none
// once the namespace is open, gets 404 as for an unknown session, and uses nothing of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/http.js';
import { createMcpServer, firstText, legacyPost, legacySession, mcpPost, modernPost, openSse, restTool, waitFor } from '../support/gateway.js';
import { startBackend, startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';

describe('sessions bound to their consumer key (finding 13)', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let stack: TestStack;
  let url: string;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    backend = await startBackend((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ tenant: r.headers['x-tenant'] ?? null }));
    });
    stack = await startStack();
    assert.equal((await http('POST', `${stack.registryUrl}/api/v1/namespaces`, { body: { id: 'shop' } })).status, 201);
    await createMcpServer(stack.registryUrl, 'shop', {
      name: 'orders', endpoint: { type: 'url', url: backend.url }, passthrough: { headers: ['x-tenant'], cookies: [] },
      spec: { version: '1.0.0', tools: [restTool('whoami', { url: '/whoami', response: { body: '{{.}}' } })] },
    });
    for (const name of ['victim', 'attacker']) {
      const c = await http('POST', `${stack.registryUrl}/api/v1/namespaces/shop/consumers`, { body: { name } });
      assert.equal(c.status, 201, c.text);
      keys[name] = c.body.key;
      ids[name] = c.body.id;
    }
    url = `${stack.gatewayUrl}/mcp/shop/orders`;
    await waitFor('the server and keys on the gateway', async () => (await modernPost(url, 1, 'tools/list', {}, { 'x-api-key': keys.attacker as string })).status === 200);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
  });

  const as = (who: string) => ({ 'x-api-key': keys[who] as string });

  it('legacy SSE: the attacker\'s key cannot drive the victim\'s session nor use its stored headers', async () => {
    const stream = await openSse(`${url}/sse`, { ...as('victim'), 'x-tenant': 'victim-tenant' });
    try {
      const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
      const before = backend.requests.length;
      const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };
      const hijack = await mcpPost(endpoint, call, as('attacker'));
      assert.equal(hijack.status, 404);
      assert.equal(hijack.body.error.code, -32001);
      assert.equal(hijack.body.error.message, 'Session not found', 'the same answer as for an unknown session');
      assert.equal(backend.requests.length, before, 'nothing was called with the victim\'s headers');

      // The victim's own key works, with its stored header.
      const own = await mcpPost(endpoint, { ...call, id: 2 }, as('victim'));
      assert.equal(own.status, 202);
      const answer = await stream.next((e) => e.event === 'message' && JSON.parse(e.data).id === 2);
      assert.equal(firstText(JSON.parse(answer.data).result), '{"tenant":"victim-tenant"}');
      assert.equal(stream.events.filter((e) => e.event === 'message' && JSON.parse(e.data).id === 1).length, 0, 'the hijack left no answer on the stream');
    } finally {
      stream.close();
    }
  });

  it('2025 Streamable HTTP: another key gets 404 on POST, GET and DELETE, and the session lives on', async () => {
    const session = await legacySession(url, as('victim'));
    const other = as('attacker');
    const post = await legacyPost(url, session, 1, 'tools/call', { name: 'whoami', arguments: {} }, other);
    assert.equal(post.status, 404);
    assert.equal(post.body.error.code, -32001);
    const get = await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': session, ...other } });
    assert.equal(get.status, 404);
    await get.body?.cancel();
    const del = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': session, ...other } });
    assert.equal(del.status, 404);
    await del.body?.cancel();
    const batch = await mcpPost(url, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], { 'mcp-session-id': session, 'mcp-protocol-version': '2025-03-26', ...other });
    assert.equal(batch.status, 404);

    const mine = await legacyPost(url, session, 2, 'tools/list', {}, as('victim'));
    assert.equal(mine.status, 200, 'the attacker\'s DELETE did not end it');
    assert.deepEqual(mine.body.result.tools.map((t: { name: string }) => t.name), ['whoami']);
  });

  it('a session opened with a key is not found without one once the namespace is open', async () => {
    const session = await legacySession(url, as('victim'));
    const stream = await openSse(`${url}/sse`, as('victim'));
    const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
    try {
      for (const id of Object.values(ids)) assert.equal((await http('DELETE', `${stack.registryUrl}/api/v1/namespaces/shop/consumers/${id}`)).status, 204);
      await waitFor('the namespace open', async () => (await modernPost(url, 1, 'tools/list')).status === 200);
      const post = await legacyPost(url, session, 1, 'tools/list');
      assert.equal(post.status, 404);
      const message = await mcpPost(endpoint, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
      assert.equal(message.status, 404);
      // New sessions of the open namespace work without a key.
      const fresh = await legacySession(url);
      assert.equal((await legacyPost(url, fresh, 1, 'tools/list')).status, 200);
    } finally {
      stream.close();
    }
  });
});
