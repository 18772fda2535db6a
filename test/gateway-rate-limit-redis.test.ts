// Rate limits across gateway replicas: two gateways (a `serve` and a `gateway` following its
// registry) share their buckets through Redis, so a key's limit holds for the sum of its calls
// on both, while another key is unaffected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { http } from './support/http.js';
import { createMcpServer, modernPost, restTool, waitFor } from './support/gateway.js';
import { redisAvailable } from './support/redis.js';
import { startBackend, startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const redis = await redisAvailable();

describe('rate limits shared by two gateway replicas through Redis', { skip: redis.unavailable }, () => {
  let stack: TestStack;
  let second: Awaited<ReturnType<typeof startGateway>>;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  const keys: string[] = [];

  before(async () => {
    backend = await startBackend((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    stack = await startStack({ redis: redis.url });
    await createMcpServer(stack.registryUrl, 'public', {
      name: 'limited', endpoint: { type: 'url', url: backend.url },
      spec: { version: '1.0.0', tools: [restTool('ping', { url: '/ping' })], authorization: { rateLimits: { perCaller: { ratePerSecond: 0.001, burst: 4 } } } },
    });
    for (const name of ['replica-a', 'replica-b']) {
      const c = await http('POST', `${stack.registryUrl}/api/v1/namespaces/public/consumers`, { body: { name } });
      assert.equal(c.status, 201, c.text);
      keys.push((c.body as { key: string }).key);
    }
    const config = loadConfig('gateway', { gatewayPort: 0, host: '127.0.0.1', registries: [stack.registryUrl], redis: redis.url, dataDir: mkdtempSync(join(tmpdir(), 'mcpgate-gw2-')) }, {});
    second = await startGateway(config, createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent'));
    await waitFor('both replicas serve the server', () => [stack.stack.gateway, second.gateway].every((g) => g.handler.current.servers.has('public/limited') && g.handler.current.consumersByHash.size >= 2), 15_000);
  });

  after(async () => {
    await second?.close();
    await stack?.close();
    await backend?.close();
  });

  it('a key over its limit on the sum of both replicas gets 429; another key is unaffected', async () => {
    const urls = [stack.stack.gateway.port, second.gateway.port].map((p) => `http://127.0.0.1:${p}/mcp/public/limited`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await modernPost(urls[i % 2]!, i, 'tools/call', { name: 'ping', arguments: {} }, { authorization: `Bearer ${keys[0]!}` });
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
    assert.equal((await modernPost(urls[1]!, 9, 'tools/call', { name: 'ping', arguments: {} }, { authorization: `Bearer ${keys[1]!}` })).status, 200);
    assert.equal(backend.requests.length, 5, 'refused calls never reached the backend');
  });
});
