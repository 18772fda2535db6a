// Two installations on one Redis (redisPrefix): each keeps its keys and pub/sub channels under its
// own prefix, so neither sees the other's sessions or messages; replicas of one installation
// (same prefix) share theirs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createMcpServer, legacyPost, legacySession, openSse, restTool } from './support/gateway.js';
import type { SseStream } from './support/gateway.js';
import { dropKeys, redisAvailable, testKeyPrefix } from './support/redis.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const { url: REDIS, unavailable } = await redisAvailable();

describe('redisPrefix: installations sharing one Redis', { skip: unavailable }, () => {
  const prefixA = testKeyPrefix();
  const prefixB = testKeyPrefix();
  let a: TestStack;
  let a2: TestStack;
  let b: TestStack;
  let stream: SseStream | undefined;
  const endpoint = (s: TestStack) => `${s.gatewayUrl}/mcp/public/svc`;

  before(async () => {
    a = await startStack({ redis: REDIS, options: { redisPrefix: prefixA } });
    // A second replica of installation A (its own registry with the same definitions here).
    a2 = await startStack({ redis: REDIS, options: { redisPrefix: prefixA } });
    b = await startStack({ redis: REDIS, options: { redisPrefix: prefixB } });
    for (const s of [a, a2, b]) {
      await createMcpServer(s.registryUrl, 'public', { name: 'svc', endpoint: { type: 'direct', address: '127.0.0.1', port: 9 }, spec: { version: '1.0.0', tools: [restTool('t', { url: '/t' })] } });
    }
  });
  after(async () => {
    stream?.close();
    for (const s of [a, a2, b]) await s?.close();
    await dropKeys(REDIS, prefixA);
    await dropKeys(REDIS, prefixB);
  });

  it('a session of one installation is unknown to the other, and known to its own replicas', async () => {
    const session = await legacySession(endpoint(a));
    const own = await legacyPost(endpoint(a2), session, 1, 'tools/list');
    assert.equal(own.status, 200, own.text);
    assert.deepEqual((own.body.result.tools as { name: string }[]).map((t) => t.name), ['t']);
    const other = await legacyPost(endpoint(b), session, 1, 'tools/list');
    assert.equal(other.status, 404, other.text);
    assert.equal(other.body.error.code, -32001);
  });

  it('keeps every key and every channel under its prefix', async () => {
    const session = await legacySession(endpoint(a));
    stream = await openSse(endpoint(a), { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
    assert.equal(stream.status, 200);
    const r = new Redis(REDIS);
    try {
      const keys = await r.keys(`${prefixA}*`);
      assert.ok(keys.some((k) => k === `${prefixA}session:${session}`), `session key under ${prefixA}: ${keys.join(', ')}`);
      assert.deepEqual(await r.keys(`mcpgate:session:${session}`), [], 'nothing under the default prefix');
      const channels = await r.pubsub('CHANNELS', `*${session}*`) as string[];
      assert.ok(channels.length > 0, 'the open stream subscribed to its session channel');
      for (const c of channels) assert.ok(c.startsWith(prefixA), `channel ${c} is under ${prefixA}`);
    } finally {
      r.disconnect();
    }
  });
});
