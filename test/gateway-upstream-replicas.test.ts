// Upstream MCP servers served by two gateway replicas (`mcpgate serve` twice, in process) sharing
// one Redis (their own key and channel prefix), with agents whose requests alternate between them:
//
// - 2026-07-28 multi-round-trip requests: a real SDK 2.x client pinned to 2026-07-28 calls a tool
//   of a real upstream (SDK 1.x server) that asks for elicitation and sampling; the agent's retry
//   with `inputResponses` lands on the other replica, which continues the round held by the first
//   one; forged, foreign (another server) and finished requestStates are refused on either;
// - stdio roots: a shared process (one for every agent) holds the roots of the agent whose call
//   it serves: before a call of another agent it is told the roots changed and lists that
//   agent's; an agent's roots/list_changed reaches it while it holds that agent's roots, and its
//   listing outside calls is asked of that agent; with a process per agent session, an agent's
//   roots/list_changed reaches the session's process on every replica (each runs its own).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { startHttpUpstream } from './fixtures/mcp/http-upstreams.js';
import type { HttpUpstream } from './fixtures/mcp/http-upstreams.js';
import { createMcpServer, firstText, modernPost, waitFor } from './support/gateway.js';
import { dropKeys, redisAvailable, testKeyPrefix } from './support/redis.js';
import { startStack } from './support/stack.js';
import type { TestStack } from './support/stack.js';

const { url: REDIS, unavailable } = await redisAvailable();
const ROOTS_FIXTURE = join(import.meta.dirname, 'fixtures/mcp/roots-server.mjs');
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { sampling: {}, elicitation: {} },
};

describe('upstream MCP servers on two replicas sharing Redis', { skip: unavailable }, () => {
  const prefix = testKeyPrefix();
  let up: HttpUpstream;
  let replicas: TestStack[] = [];
  const mcp = (s: TestStack, name: string) => `${s.gatewayUrl}/mcp/public/${name}`;

  before(async () => {
    up = await startHttpUpstream();
    replicas = [await startStack({ redis: REDIS, options: { redisPrefix: prefix } }), await startStack({ redis: REDIS, options: { redisPrefix: prefix } })];
    // Each replica has a registry of its own here, with the same definitions.
    for (const s of replicas) {
      for (const name of ['asking', 'other']) {
        await createMcpServer(s.registryUrl, 'public', { name, protocol: 'mcp-streamable', endpoint: { type: 'url', url: up.url('/mcp') }, spec: { version: '1.0.0', tools: [] } });
      }
      await createMcpServer(s.registryUrl, 'public', {
        name: 'roots-shared', protocol: 'stdio', endpoint: { type: 'none' },
        spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [ROOTS_FIXTURE] } },
      });
      await createMcpServer(s.registryUrl, 'public', {
        name: 'roots-per-session', protocol: 'stdio', endpoint: { type: 'none' },
        spec: { version: '1.0.0', tools: [], config: { command: process.execPath, args: [ROOTS_FIXTURE], upstream: { sessions: 'per-session' } } },
      });
      await waitFor('the servers served', async () => (await modernPost(mcp(s, 'other'), 1, 'tools/list')).status === 200, 20_000, 100);
    }
  });

  after(async () => {
    for (const s of replicas) await s.close();
    await up?.close();
    await dropKeys(REDIS, prefix);
  });

  it('2026-07-28: an SDK 2.x agent\'s retry with inputResponses continues, on the other replica, the call held by the first (elicitation and sampling)', async () => {
    const sent: { replica: number; resumed: boolean }[] = [];
    let turn = 0;
    const client = new Client2({ name: 'replicas-2026', version: '2.0.0' }, { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }));
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: '4' }, model: 'agent-model' }));
    // Every POST to the next replica, in turn (a balancer without stickiness).
    await client.connect(new Streamable2(new URL(mcp(replicas[0]!, 'asking')), {
      fetch: async (u, init) => {
        const url = new URL(u);
        const replica = turn++ % 2;
        url.host = new URL(replicas[replica]!.gatewayUrl).host;
        if ((init?.method ?? 'GET') === 'POST') sent.push({ replica, resumed: String(init?.body ?? '').includes('"requestState"') });
        return fetch(url, init);
      },
    }));
    try {
      for (const what of ['elicitation', 'sampling']) {
        const mark = sent.length;
        const result = await client.callTool({ name: 'ask', arguments: { what } });
        assert.equal(firstText(result), what === 'elicitation' ? 'elicited: accept Ada' : 'sampled: 4');
        const mine = sent.slice(mark);
        const retry = mine.findIndex((p) => p.resumed);
        assert.ok(retry > 0, `the call was answered input_required and retried: ${JSON.stringify(mine)}`);
        assert.notEqual(mine[retry]!.replica, mine[retry - 1]!.replica, 'the retry went to the other replica');
      }
    } finally {
      await client.close();
    }
  });

  it('2026-07-28: a requestState is continued only on its server; forged and finished ones are refused on either replica', async () => {
    const call = (s: TestStack, server: string, id: number, extra: Record<string, unknown> = {}) => modernPost(mcp(s, server), id, 'tools/call', { name: 'ask', arguments: { what: 'sampling' }, ...extra, _meta: ENVELOPE });
    const [a, b] = replicas as [TestStack, TestStack];
    const first = await call(a, 'asking', 1);
    assert.equal(first.body.result.resultType, 'input_required', first.text);
    const state = first.body.result.requestState as string;
    const key = Object.keys(first.body.result.inputRequests as object)[0] as string;
    const answer = { [key]: { role: 'assistant', content: { type: 'text', text: '4' }, model: 'raw' } };

    const foreign = await call(b, 'other', 2, { requestState: state, inputResponses: answer });
    assert.equal(foreign.body.error?.code, -32602, foreign.text);
    assert.match(foreign.body.error.message, /requestState names no call/);
    const forged = await call(b, 'asking', 3, { requestState: randomUUID(), inputResponses: answer });
    assert.equal(forged.body.error?.code, -32602, forged.text);
    const junk = await call(b, 'asking', 4, { requestState: 'x'.repeat(5000), inputResponses: answer });
    assert.equal(junk.body.error?.code, -32602, junk.text);
    const malformed = await call(b, 'asking', 5, { requestState: state, inputResponses: 'yes' });
    assert.equal(malformed.body.error?.code, -32602, malformed.text);
    assert.match(malformed.body.error.message, /inputResponses/);

    const done = await call(b, 'asking', 6, { requestState: state, inputResponses: answer });
    assert.equal(done.body.result?.resultType, 'complete', done.text);
    assert.equal(done.body.result.content[0].text, 'sampled: 4');
    for (const s of [a, b]) {
      const again = await call(s, 'asking', 7, { requestState: state, inputResponses: answer });
      assert.equal(again.body.error?.code, -32602, `a finished round is not resumed: ${again.text}`);
    }
  });

  /** An SDK 1.x agent (2025 session) with roots, whose requests go to `route()`'s replica. */
  async function rootsAgent(server: string, roots: { current: string[] }, route: () => number): Promise<{ client: SdkClient; served: number[] }> {
    const served: number[] = [];
    const client = new SdkClient({ name: 'roots-agent', version: '1' }, { capabilities: { roots: { listChanged: true } } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots.current.map((uri) => ({ uri })) }));
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp(replicas[0]!, server)), {
      fetch: async (u, init) => {
        const url = new URL(u);
        const replica = route();
        url.host = new URL(replicas[replica]!.gatewayUrl).host;
        if ((init?.method ?? 'GET') === 'POST') served.push(replica);
        return fetch(url, init);
      },
    }));
    return { client, served };
  }
  const held = async (client: SdkClient) => firstText(await client.callTool({ name: 'roots', arguments: {} }));

  it('stdio, one process for every agent: it holds the roots of the agent whose call it serves; an agent\'s roots/list_changed reaches it while it holds that agent\'s', async () => {
    const rootsA = { current: ['file:///ws-a'] };
    const rootsB = { current: ['file:///ws-b'] };
    const a = await rootsAgent('roots-shared', rootsA, () => 0);
    const b = await rootsAgent('roots-shared', rootsB, () => 0);
    try {
      const pid = firstText(await a.client.callTool({ name: 'pid', arguments: {} }));
      assert.equal(firstText(await b.client.callTool({ name: 'pid', arguments: {} })), pid, 'one process for both agents');
      assert.equal(await held(a.client), 'file:///ws-a', 'listed during A\'s call: A\'s roots');
      assert.equal(await held(b.client), 'file:///ws-b', 'told before B\'s call: listed B\'s');
      assert.equal(await held(a.client), 'file:///ws-a', 'and A\'s again before A\'s');
      // A's roots change while the process holds them: it is told, and its listing (outside any call) is asked of A.
      rootsA.current = ['file:///ws-a2'];
      await a.client.sendRootsListChanged();
      await waitFor('the process to hold A\'s new roots', async () => (await held(a.client)) === 'file:///ws-a2', 20_000, 100);
      // B's change while the process holds A's: not sent there; B's next call lists B's.
      rootsB.current = ['file:///ws-b2'];
      await b.client.sendRootsListChanged();
      assert.equal(await held(a.client), 'file:///ws-a2');
      assert.equal(await held(b.client), 'file:///ws-b2');
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it('stdio, one process per agent session: an agent\'s roots/list_changed reaches the session\'s process on every replica', async () => {
    let turn = 0;
    let pin: number | undefined;
    const roots = { current: ['file:///one'] };
    const a = await rootsAgent('roots-per-session', roots, () => pin ?? turn++ % 2);
    try {
      const byReplica = new Map<number, string>();
      for (let i = 0; i < 8 && byReplica.size < 2; i++) {
        const text = await held(a.client);
        byReplica.set(a.served.at(-1)!, text);
      }
      assert.deepEqual([...byReplica.values()], ['file:///one', 'file:///one'], 'a process on each replica, each with the agent\'s roots');
      // The notification reaches replica 0; the process of replica 1 is told too, and lists the new roots.
      roots.current = ['file:///two'];
      pin = 0;
      await a.client.sendRootsListChanged();
      for (const replica of [1, 0]) {
        pin = replica;
        await waitFor(`replica ${replica}'s process to hold the new roots`, async () => (await held(a.client)) === 'file:///two', 20_000, 100);
        assert.equal(a.served.at(-1), replica);
      }
    } finally {
      await a.client.close();
    }
  });
});
