// mcpgate serve with sessions in Redis: the official clients work through it, and when Redis
// goes away session traffic gets a bounded 503 while 2026-07-28 stateless traffic goes on;
// everything recovers by itself when Redis returns.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { createMcpServer, firstText, legacyPost, legacySession, modernPost, restTool, waitFor } from './support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from './support/redis.js';
import type { PrivateRedis } from './support/redis.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const unavailable = privateRedisUnavailable();

describe('serve with sessions in Redis', { skip: unavailable }, () => {
  let redis: PrivateRedis;
  let stack: TestStack;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let endpoint: string;

  before(async () => {
    redis = await startPrivateRedis();
    backend = await startBackend((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"answer":42}');
    });
    stack = await startStack({ redis: redis.url });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'calc', endpoint: { type: 'url', url: backend.url },
      spec: { version: '1.0.0', tools: [restTool('answer', { url: '/answer', response: { body: 'answer {{.answer}}' } })] },
    });
    endpoint = `${stack.gatewayUrl}/mcp/public/calc`;
    await waitFor('the server is served', async () => (await modernPost(endpoint, 1, 'tools/list')).status === 200);
  });
  after(async () => {
    await stack?.close();
    await backend?.close();
    await redis?.stop();
  });

  it('serves the SDK 1.x client with sessions in Redis, over Streamable HTTP and legacy SSE', async () => {
    for (const transport of [new StreamableHTTPClientTransport(new URL(endpoint)), new SSEClientTransport(new URL(`${endpoint}/sse`))]) {
      const client = new SdkClient({ name: 'redis-test', version: '1' });
      await client.connect(transport);
      try {
        const result = await client.callTool({ name: 'answer', arguments: {} });
        assert.equal(firstText(result), 'answer 42');
      } finally {
        await client.close();
      }
    }
  });

  it('answers session traffic 503 while Redis is down (without waiting for it), keeps stateless traffic, and recovers', async () => {
    const session = await legacySession(endpoint);
    await redis.kill();
    // Answered while Redis is still down: nothing waits for it to come back.
    const down = await legacyPost(endpoint, session, 2, 'tools/call', { name: 'answer', arguments: {} });
    assert.equal(down.status, 503);
    assert.match(JSON.stringify(down.body), /unavailable/i);
    const fresh = await fetch(endpoint, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    assert.equal(fresh.status, 503, 'a new session cannot be created either');
    const stateless = await modernPost(endpoint, 3, 'tools/call', { name: 'answer', arguments: {} }, { 'mcp-name': 'answer' });
    assert.equal(stateless.status, 200);
    assert.equal(firstText((stateless.body as { result: unknown }).result), 'answer 42');

    await redis.start();
    const again = await waitFor('sessions work again', async () => {
      const s = await legacySession(endpoint).catch(() => undefined);
      return s;
    }, 10_000, 100);
    const call = await legacyPost(endpoint, again, 4, 'tools/call', { name: 'answer', arguments: {} });
    assert.equal(call.status, 200);
    assert.equal(firstText((call.body as { result: unknown }).result), 'answer 42');
    assert.equal((await legacyPost(endpoint, session, 5, 'ping')).status, 404, 'sessions lost with a Redis that keeps nothing are gone: clients initialize again');
  });
});
