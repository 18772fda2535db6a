// Issue 10, finding 3: `initialize` stored the client's capabilities and clientInfo as sent (60
// initializes with 3 MB blobs added 230 MB; on Redis 73 MB), and sessions had no cap. Now a
// session keeps clientInfo's name, version and title and capabilities within
// sessionInfoMaxBytes (larger is refused), and sessions are capped per client address, per
// consumer key and in all (with Redis, across replicas). Asserted by counting what the session
// store holds (records and their bytes), in memory and in Redis.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { http } from '../support/http.js';
import { createMcpServer, errorData, modernPost, openSse, restTool, waitFor } from '../support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from '../support/redis.js';
import type { PrivateRedis } from '../support/redis.js';
import { startBackend, startStack } from '../support/stack.js';
import type { TestStack } from '../support/stack.js';
import type { SessionRecord } from '../../src/gateway/sessions/types.js';
import { raw } from './gateway-support.js';

const BLOB = 'x'.repeat(3 * 1024 * 1024);
const redisUnavailable = privateRedisUnavailable();

interface Subject {
  name: string;
  skip?: string;
  start(): Promise<{ redis?: PrivateRedis }>;
  /** The sessions held and the bytes of their records, as the store has them. */
  stored(stack: TestStack, ids: string[], redis?: PrivateRedis): Promise<{ count: number; bytes: number }>;
}

const memory: Subject = {
  name: 'memory',
  async start() { return {}; },
  async stored(stack, ids) {
    let bytes = 0;
    for (const id of ids) {
      const s = await stack.stack.gateway.sessions.get(id);
      if (s) bytes += Buffer.byteLength(JSON.stringify(s));
    }
    return { count: (stack.stack.gateway.sessions as unknown as { size: number }).size, bytes };
  },
};

const redisSubject: Subject = {
  name: 'redis',
  ...(redisUnavailable ? { skip: redisUnavailable } : {}),
  async start() { return { redis: await startPrivateRedis() }; },
  async stored(_stack, _ids, redis) {
    const r = new Redis((redis as PrivateRedis).url);
    try {
      let bytes = 0;
      let count = 0;
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', 'mcpgate:session:*', 'COUNT', 500);
        cursor = next;
        for (const k of keys) {
          count += 1;
          bytes += await r.strlen(k);
        }
      } while (cursor !== '0');
      assert.equal(await r.zcard('mcpgate:sessions'), count, 'the use order holds exactly the sessions');
      return { count, bytes };
    } finally {
      r.disconnect();
    }
  },
};

for (const subject of [memory, redisSubject]) {
  describe(`session limits, sessions in ${subject.name} (finding 3)`, { skip: subject.skip }, () => {
    let backend: Awaited<ReturnType<typeof startBackend>>;
    let redis: PrivateRedis | undefined;
    let stack: TestStack;
    let url: string;
    let keyed: string;
    let key: string;
    const attackIds: string[] = [];

    before(async () => {
      backend = await startBackend((_r, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      ({ redis } = await subject.start());
      stack = await startStack({
        ...(redis ? { redis: redis.url } : {}),
        options: { maxSessions: 40, maxSessionsPerAddress: 35, maxSessionsPerKey: 2, sessionEvictIdleSeconds: 3600 },
      });
      const tools = [restTool('noop', { url: '/noop' })];
      await createMcpServer(stack.registryUrl, 'public', { name: 'svc', endpoint: { type: 'url', url: backend.url }, spec: { version: '1.0.0', tools } });
      assert.equal((await http('POST', `${stack.registryUrl}/api/v1/namespaces`, { body: { id: 'keyed' } })).status, 201);
      await createMcpServer(stack.registryUrl, 'keyed', { name: 'svc', endpoint: { type: 'url', url: backend.url }, spec: { version: '1.0.0', tools } });
      key = (await http('POST', `${stack.registryUrl}/api/v1/namespaces/keyed/consumers`, { body: { name: 'agent' } })).body.key;
      url = `${stack.gatewayUrl}/mcp/public/svc`;
      keyed = `${stack.gatewayUrl}/mcp/keyed/svc`;
      await waitFor('the servers on the gateway', async () => (await modernPost(keyed, 1, 'tools/list', {}, { 'x-api-key': key })).status === 200);
    });
    after(async () => {
      await stack?.close();
      await backend?.close();
      await redis?.stop();
    });

    const initialize = (target: string, params: Record<string, unknown>, opts: { headers?: Record<string, string>; localAddress?: string } = {}) => raw(target, {
      headers: { accept: 'application/json, text/event-stream', ...opts.headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' }, ...params } }),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });

    it('reproduces the 3 MB-blob initializes: the blobs in capabilities are refused, those in clientInfo not kept; what is stored stays small', async () => {
      const before = await subject.stored(stack, [], redis);
      for (let i = 0; i < 60; i++) {
        const params = i % 2 === 0
          ? { capabilities: { experimental: { blob: BLOB } } }
          : { clientInfo: { name: `client-${i}`, version: '1.0', title: 'A client', icons: [{ src: `data:image/png;base64,${BLOB}` }] } };
        const r = await initialize(url, params);
        if (i % 2 === 0) {
          assert.equal(r.status, 400, r.text.slice(0, 200));
          assert.equal(r.json.error.code, -32602);
          assert.equal(r.json.id, 1);
          assert.match(r.json.error.message, /clientInfo \(name, version, title\) and capabilities take \d+ bytes; a session keeps at most 4096 \(sessionInfoMaxBytes\)/);
          assert.equal(r.headers['mcp-session-id'], undefined);
        } else {
          assert.equal(r.status, 200, r.text.slice(0, 200));
          attackIds.push(r.headers['mcp-session-id'] as string);
        }
      }
      const after = await subject.stored(stack, attackIds, redis);
      assert.equal(after.count - before.count, 30, 'only the 30 accepted initializes made sessions');
      const perSession = (after.bytes - before.bytes) / 30;
      assert.ok(perSession < 1024, `each stored session takes ${perSession} bytes, not megabytes`);
      const kept = await stack.stack.gateway.sessions.get(attackIds[0] as string) as SessionRecord;
      assert.deepEqual(kept.clientInfo, { name: 'client-1', version: '1.0', title: 'A client' });
    });

    it('caps the sessions of one consumer key (429 naming maxSessionsPerKey); ending one makes room', async () => {
      const headers = { 'x-api-key': key };
      const first = await initialize(keyed, {}, { headers });
      assert.equal(first.status, 200);
      assert.equal((await initialize(keyed, {}, { headers })).status, 200);
      const third = await initialize(keyed, {}, { headers });
      assert.equal(third.status, 429);
      assert.equal(third.json.error.code, -32000);
      assert.deepEqual(errorData(third.json.error), { limit: 'maxSessionsPerKey', max: 2 });
      assert.match(third.json.error.message, /consumer key holds the most sessions allowed \(maxSessionsPerKey = 2\)/);
      const sse = await fetch(`${keyed}/sse`, { headers: { accept: 'text/event-stream', ...headers } });
      assert.equal(sse.status, 429, 'legacy SSE sessions count too');
      await sse.body?.cancel();
      const del = await fetch(keyed, { method: 'DELETE', headers: { ...headers, 'mcp-session-id': first.headers['mcp-session-id'] as string } });
      assert.equal(del.status, 200);
      await del.body?.cancel();
      assert.equal((await initialize(keyed, {}, { headers })).status, 200);
    });

    it('caps the sessions of one client address (429 naming maxSessionsPerAddress), legacy SSE included; other addresses go on', async () => {
      // 30 + 2 sessions come from 127.0.0.1 so far; the cap is 35.
      for (let i = 0; i < 2; i++) assert.equal((await initialize(url, {})).status, 200);
      const stream = await openSse(`${url}/sse`);
      assert.equal(stream.status, 200);
      try {
        const refused = await initialize(url, {});
        assert.equal(refused.status, 429);
        assert.deepEqual(errorData(refused.json.error), { limit: 'maxSessionsPerAddress', max: 35 });
        const sse = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream' } });
        assert.equal(sse.status, 429);
        await sse.body?.cancel();
        assert.equal((await initialize(url, {}, { localAddress: '127.0.0.2' })).status, 200, 'another address');
      } finally {
        stream.close();
      }
      // The stream's session ends with its stream: room again.
      await waitFor('the closed stream\'s session gone', async () => (await initialize(url, {})).status === 200);
    });

    it('caps the sessions in all (503 SESSION_CAPACITY with Retry-After) when none has been idle long enough to evict', async () => {
      // 35 from 127.0.0.1 and 1 from 127.0.0.2 so far; the cap is 40.
      for (let i = 0; i < 4; i++) assert.equal((await initialize(url, {}, { localAddress: '127.0.0.2' })).status, 200);
      const full = await initialize(url, {}, { localAddress: '127.0.0.3' });
      assert.equal(full.status, 503);
      assert.equal(full.headers['retry-after'], '30');
      assert.deepEqual(errorData(full.json.error), { limit: 'maxSessions', max: 40 });
      assert.match(full.json.error.message, /the gateway holds the most sessions allowed \(maxSessions = 40\)/);
      const held = await subject.stored(stack, [], redis);
      assert.equal(held.count, 40);
      // Ending one makes room.
      const del = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': attackIds[0] as string } });
      assert.equal(del.status, 200);
      await del.body?.cancel();
      assert.equal((await initialize(url, {}, { localAddress: '127.0.0.3' })).status, 200);
    });
  });
}
