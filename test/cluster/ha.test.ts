// High availability through a round-robin balancer (issue 5, "Must show"): a cluster of 2
// registry nodes on one PostgreSQL database (MCPGATE_CLUSTER_DB=mysql for MariaDB), 3 gateway
// replicas sharing sessions in Redis, nginx in front without stickiness (test/cluster/harness.ts).
//
// - SDK 1.x (Streamable HTTP with a session; legacy SSE) and the 2.x client (2026-07-28 pinned;
//   its default legacy mode) each make 200 tool calls through the balancer: the calls land on
//   every replica, each is answered exactly once with its own id and content, and the backend
//   counts each exactly once.
// - kill -9 of the replica holding a client's GET stream, mid-run: the client reconnects through
//   the balancer to another replica with Last-Event-ID, in the same session, and is told the
//   list_changed it missed while no replica held its stream; no call lost or duplicated.
// - kill -9 of a registry node: writes through the other reach every gateway.
// - Redis restarted: bounded 503s with a clear JSON-RPC error meanwhile (2026-07-28 stateless
//   traffic goes on), then service resumes with no process restarted.
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport as SdkSse } from '@modelcontextprotocol/sdk/client/sse.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { createMcpServer, firstText, legacyPost, legacySession, mcpPost, modernPost, rawStream, restTool, waitFor } from '../support/gateway.js';
import { hostname } from 'node:os';
import { registryOrder } from '../../src/gateway/sources/registry.js';
import { http } from '../support/http.js';
import { clusterUnavailable, startCluster } from './harness.js';
import type { Cluster, ClusterProcess } from './harness.js';

const DB = process.env.MCPGATE_CLUSTER_DB === 'mysql' ? 'mysql' : 'postgres';
const unavailable = await clusterUnavailable(DB);
const CALLS = 200;

/** One HTTP exchange a client made through the balancer. */
interface Exchange {
  method: string;
  status: number;
  /** The replica that answered (X-Mcpgate-Upstream). */
  upstream: string | null;
  lastEventId: string | null;
  at: number;
}

/** A fetch that records, for each request, which replica answered; GETs wait for `gate.open` when set. */
function recordingFetch(log: Exchange[], gate: { open?: Promise<void> } = {}): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init) => {
    if ((init?.method ?? 'GET') === 'GET') await gate.open;
    const res = await fetch(url, init);
    log.push({
      method: init?.method ?? 'GET', status: res.status, upstream: res.headers.get('x-mcpgate-upstream'),
      lastEventId: new Headers(init?.headers).get('last-event-id'), at: performance.now(),
    });
    return res;
  };
}

interface Message { id?: unknown; method?: string; result?: unknown; error?: unknown }
interface Observed { responses: Map<string, number>; listChanged: number[] }

/** Count, below the client, every response per id and every tools list_changed. */
function observe(transport: { onmessage?: ((m: never, extra?: never) => void) | undefined }): Observed {
  const seen: Observed = { responses: new Map(), listChanged: [] };
  const inner = transport.onmessage;
  assert.ok(inner, 'the client set onmessage');
  transport.onmessage = ((message: Message, extra?: unknown) => {
    if (message.id !== undefined && (message.result !== undefined || message.error !== undefined)) {
      const key = JSON.stringify(message.id);
      seen.responses.set(key, (seen.responses.get(key) ?? 0) + 1);
    }
    if (message.method === 'notifications/tools/list_changed') seen.listChanged.push(performance.now());
    (inner as (m: unknown, e?: unknown) => void)(message, extra);
  }) as never;
  return seen;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

function assertEachResponseOnce(seen: Observed, what: string): void {
  const twice = [...seen.responses].filter(([, n]) => n !== 1);
  assert.deepEqual(twice, [], `${what}: responses seen more than once`);
}

describe(`high availability: 2 registries (${DB}), 3 gateways, Redis, nginx round robin`, { skip: unavailable, timeout: 240_000 }, () => {
  let cluster: Cluster;
  let backend: Server;
  let backendUrl: string;
  /** Backend calls per unique key. */
  const counts = new Map<string, number>();
  /** Slow backend calls the gateway gave up (cancelled) before their answer. */
  const dropped = new Set<string>();
  let version = 0;
  let lb: string;

  const spec = (v: string, description: string) => ({
    version: v, description: 'HA test',
    tools: [restTool('count', { description, url: '/count', properties: { key: { type: 'string' } }, required: ['key'], argsToUrlParam: true, response: { body: 'counted {{ .key }}' } })],
  });

  /** Publish a new version of the server whose `count` tool has this description, through `registryUrl`. */
  async function publish(registryUrl: string, description: string): Promise<void> {
    const v = `1.0.${++version}`;
    const put = await http('PUT', `${registryUrl}/api/v1/namespaces/public/mcp-servers/counter/versions/${v}`, { body: { spec: spec(v, description) } });
    assert.equal(put.status, 200, put.text);
    const published = await http('POST', `${registryUrl}/api/v1/namespaces/public/mcp-servers/counter/versions/${v}/publish`);
    assert.equal(published.status, 200, published.text);
  }

  async function descriptionOn(gateway: ClusterProcess): Promise<string | undefined> {
    const r = await modernPost(cluster.mcpUrl('public', 'counter', gateway.url), 'l', 'tools/list');
    return (r.body?.result?.tools as { name: string; description?: string }[] | undefined)?.find((t) => t.name === 'count')?.description;
  }

  /** Wait until every running gateway lists `description`; answers the ms it took from `since`. */
  async function servedEverywhere(description: string, since: number, timeoutMs = 30_000): Promise<number> {
    await Promise.all(cluster.gateways.filter((g) => g.running).map((g) =>
      waitFor(`${g.name} listing '${description}'`, async () => (await descriptionOn(g)) === description, timeoutMs, 10)));
    return performance.now() - since;
  }

  /** The backend count of every key with this prefix: must be exactly one call each. */
  function assertCountedOnce(prefix: string, n: number): void {
    const keys = [...counts.keys()].filter((k) => k.startsWith(`${prefix}-`));
    assert.equal(keys.length, n, `${prefix}: the backend saw ${keys.length} distinct calls, expected ${n}`);
    const wrong = keys.filter((k) => counts.get(k) !== 1).map((k) => `${k}×${counts.get(k)}`);
    assert.deepEqual(wrong, [], `${prefix}: calls the backend saw other than once`);
  }

  /** Make calls `from`…`to`-1 with up to `parallel` in flight; each must answer its own key. */
  async function calls(prefix: string, from: number, to: number, call: (key: string) => Promise<unknown>, parallel = 4): Promise<void> {
    let next = from;
    const worker = async () => {
      while (next < to) {
        const key = `${prefix}-${next++}`;
        const result = await call(key);
        assert.equal(firstText(result), `counted ${key}`, `the answer to ${key}`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }

  /** The replicas that answered POSTs, by name. */
  function postReplicas(log: Exchange[]): Set<string> {
    return new Set(log.filter((e) => e.method === 'POST').map((e) => cluster.gatewayOf(e.upstream)?.name ?? `unknown ${e.upstream}`));
  }

  before(async () => {
    backend = createServer((req, res) => {
      const key = new URL(req.url ?? '/', 'http://backend').searchParams.get('key') ?? '';
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ key }));
      };
      if (!key.startsWith('slow-')) return answer();
      // A slow call, to be cancelled: noted when the gateway drops it before the answer.
      const timer = setTimeout(answer, 60_000);
      res.once('close', () => {
        if (res.writableEnded) return;
        clearTimeout(timer);
        dropped.add(key);
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
    cluster = await startCluster({ db: DB });
    lb = cluster.mcpUrl('public', 'counter');
    await createMcpServer(cluster.registries[0]!.url, 'public', { name: 'counter', endpoint: { type: 'url', url: backendUrl }, spec: spec('1.0.0', 'v0') });
    await servedEverywhere('v0', performance.now());
  });

  after(async () => {
    await cluster?.stop();
    backend?.closeAllConnections();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
  });

  describe(`${CALLS} tool calls per client through the balancer`, () => {
    it('SDK 1.x, Streamable HTTP with a session', async (t) => {
      const log: Exchange[] = [];
      const transport = new SdkStreamable(new URL(lb), { fetch: recordingFetch(log) });
      const client = new SdkClient({ name: 'ha-streamable', version: '1' });
      await client.connect(transport);
      const seen = observe(transport as never);
      try {
        await calls('sdk1-http', 0, CALLS, (key) => client.callTool({ name: 'count', arguments: { key } }));
        assertEachResponseOnce(seen, 'SDK 1.x Streamable HTTP');
        assert.equal(seen.responses.size, CALLS);
        const replicas = postReplicas(log);
        t.diagnostic(`POSTs answered by ${[...replicas].join(', ')}`);
        assert.equal(replicas.size, 3, 'the session\'s requests landed on every replica');
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
      }
      assertCountedOnce('sdk1-http', CALLS);
    });

    it('SDK 1.x, legacy HTTP+SSE (answers delivered across replicas)', async (t) => {
      const log: Exchange[] = [];
      const transport = new SdkSse(new URL(`${lb}/sse`), { fetch: recordingFetch(log) });
      const client = new SdkClient({ name: 'ha-sse', version: '1' });
      await client.connect(transport);
      const seen = observe(transport as never);
      try {
        await calls('sdk1-sse', 0, CALLS, (key) => client.callTool({ name: 'count', arguments: { key } }));
        assertEachResponseOnce(seen, 'SDK 1.x SSE');
        assert.equal(seen.responses.size, CALLS);
        const holder = cluster.gatewayOf(log.find((e) => e.method === 'GET')?.upstream);
        const others = log.filter((e) => e.method === 'POST' && cluster.gatewayOf(e.upstream) !== holder).length;
        t.diagnostic(`stream on ${holder?.name}; ${others} of ${log.filter((e) => e.method === 'POST').length} POSTs answered by another replica`);
        assert.equal(postReplicas(log).size, 3);
        assert.ok(others > CALLS / 2, 'most answers travelled from another replica to the stream holder');
      } finally {
        await client.close();
      }
      assertCountedOnce('sdk1-sse', CALLS);
    });

    it('2.x client, 2026-07-28 pinned (stateless)', async (t) => {
      const log: Exchange[] = [];
      const transport = new Streamable2(new URL(lb), { fetch: recordingFetch(log) });
      const client = new Client2({ name: 'ha-modern', version: '2' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(transport);
      const seen = observe(transport as never);
      try {
        assert.equal(client.getProtocolEra(), 'modern');
        await calls('v2-modern', 0, CALLS, (key) => client.callTool({ name: 'count', arguments: { key } }));
        assertEachResponseOnce(seen, '2.x modern');
        const replicas = postReplicas(log);
        t.diagnostic(`POSTs answered by ${[...replicas].join(', ')}`);
        assert.equal(replicas.size, 3);
      } finally {
        await client.close();
      }
      assertCountedOnce('v2-modern', CALLS);
    });

    it('2.x client, default (legacy) mode: a 2025 session', async (t) => {
      const log: Exchange[] = [];
      const transport = new Streamable2(new URL(lb), { fetch: recordingFetch(log) });
      const client = new Client2({ name: 'ha-legacy', version: '2' });
      await client.connect(transport);
      const seen = observe(transport as never);
      try {
        assert.equal(client.getProtocolEra(), 'legacy');
        assert.ok(transport.sessionId, 'a session');
        await calls('v2-legacy', 0, CALLS, (key) => client.callTool({ name: 'count', arguments: { key } }));
        assertEachResponseOnce(seen, '2.x legacy');
        assert.equal(seen.responses.size, CALLS);
        const replicas = postReplicas(log);
        t.diagnostic(`POSTs answered by ${[...replicas].join(', ')}`);
        assert.equal(replicas.size, 3);
      } finally {
        await transport.terminateSession().catch(() => undefined);
        await client.close();
      }
      assertCountedOnce('v2-legacy', CALLS);
    });
  });

  describe('kill -9 of the replica holding a client\'s GET stream, mid-run', () => {
    interface Subject {
      transport: { sessionId?: string | undefined; terminateSession(): Promise<void>; onmessage?: unknown };
      call(key: string): Promise<unknown>;
      close(): Promise<void>;
    }

    async function scenario(t: TestContext, prefix: string, connect: (fetch: ReturnType<typeof recordingFetch>) => Promise<Subject>): Promise<void> {
      const log: Exchange[] = [];
      // Holds the client's reconnection until the change made after the kill is served, so that
      // the change surely happens while no replica holds the stream (whatever the machine's load).
      const gate: { open?: Promise<void> } = {};
      const subject = await connect(recordingFetch(log, gate));
      const seen = observe(subject.transport as never);
      const session = subject.transport.sessionId;
      assert.ok(session, 'a session');
      let holder: ClusterProcess | undefined;
      try {
        const get = await waitFor('the GET stream', () => log.find((e) => e.method === 'GET' && e.status === 200));
        holder = cluster.gatewayOf(get.upstream);
        assert.ok(holder, `the stream holder (${get.upstream})`);
        await calls(prefix, 0, 60, subject.call, 1);

        // A change while the stream is held: told live.
        await publish(cluster.registries[0]!.url, `${prefix} change 1`);
        await waitFor('the first list_changed', () => seen.listChanged.length >= 1, 30_000);
        await calls(prefix, 60, 100, subject.call, 1);

        // The holder dies; a change is published while no replica holds the stream.
        let served!: () => void;
        gate.open = new Promise<void>((resolve) => { served = resolve; });
        const killedAt = performance.now();
        await holder.kill();
        await publish(cluster.registries[0]!.url, `${prefix} change 2`);
        const changedAt = performance.now();
        await servedEverywhere(`${prefix} change 2`, changedAt);
        const servedAt = performance.now();
        served();
        t.diagnostic(`${holder.name} killed; change 2 served by the other replicas ${(servedAt - killedAt).toFixed(0)} ms after the kill`);

        // The run goes on through the balancer while the client reconnects.
        await calls(prefix, 100, CALLS, subject.call, 1);
        const resumed = await waitFor('the GET stream resumed on another replica', () =>
          log.find((e) => e.method === 'GET' && e.status === 200 && e.at > killedAt));
        await waitFor('the missed list_changed', () => seen.listChanged.length >= 2, 30_000);
        await new Promise((r) => setTimeout(r, 300));

        const newHolder = cluster.gatewayOf(resumed.upstream);
        t.diagnostic(`stream resumed on ${newHolder?.name} ${(resumed.at - killedAt).toFixed(0)} ms after the kill with Last-Event-ID ${resumed.lastEventId}`);
        assert.notEqual(newHolder, holder, 'resumed on another replica');
        assert.ok(newHolder?.running);
        assert.ok(resumed.lastEventId?.startsWith(`${session}_`), `the reconnecting GET carried the session's Last-Event-ID (${resumed.lastEventId})`);
        assert.ok(resumed.at > servedAt, 'the change was made while no replica held the stream');
        assert.equal(seen.listChanged.length, 2, 'each change told exactly once');
        assert.ok((seen.listChanged[1] as number) >= resumed.at, 'the missed list_changed came on the resumed stream');
        assert.equal(subject.transport.sessionId, session, 'the same session');
        assert.equal(log.filter((e) => e.status >= 400 && e.method === 'POST').length, 0, 'no POST failed');
        assertEachResponseOnce(seen, prefix);
        assert.equal(seen.responses.size, CALLS, 'every call answered');
        assertCountedOnce(prefix, CALLS);
        // And the session goes on listing the latest tools.
        const listed = await waitFor('tools/list through the balancer', async () => {
          const r = await legacyPost(lb, session, 9999, 'tools/list', {}, { 'mcp-protocol-version': '2025-11-25' });
          return r.status === 200 ? (r.body.result.tools as { description: string }[])[0]?.description : undefined;
        });
        assert.equal(listed, `${prefix} change 2`);
      } finally {
        await subject.transport.terminateSession().catch(() => undefined);
        await subject.close();
        if (holder && !holder.running) await holder.restart();
      }
    }

    it('SDK 1.x Streamable HTTP', async (t) => {
      await scenario(t, 'kill-sdk1', async (fetch) => {
        const transport = new SdkStreamable(new URL(lb), { fetch });
        const client = new SdkClient({ name: 'ha-kill', version: '1' });
        await client.connect(transport);
        return { transport, call: (key) => client.callTool({ name: 'count', arguments: { key } }), close: () => client.close() };
      });
    });

    it('2.x client, legacy mode', async (t) => {
      await scenario(t, 'kill-v2', async (fetch) => {
        const transport = new Streamable2(new URL(lb), { fetch });
        const client = new Client2({ name: 'ha-kill', version: '2' });
        await client.connect(transport);
        return { transport, call: (key) => client.callTool({ name: 'count', arguments: { key } }), close: () => client.close() };
      });
    });
  });

  it('session control across replicas: a second GET or a DELETE elsewhere ends the old stream; a cancellation reaches the replica running the call', async (t) => {
    const [g1, g2, g3] = cluster.gateways as [ClusterProcess, ClusterProcess, ClusterProcess];
    const on = (g: ClusterProcess) => cluster.mcpUrl('public', 'counter', g.url);
    const session = await legacySession(on(g1), {}, '2025-11-25');
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    const first = await rawStream(on(g1), headers);
    assert.equal(first.status, 200);
    await waitFor('the priming event', () => /\nid: /.test(`\n${first.text()}`));
    const second = await rawStream(on(g2), headers);
    assert.equal(second.status, 200);
    await within(first.ended, 30_000, `the stream on ${g1.name} ended by a GET on ${g2.name}`);
    const ended = await fetch(on(g3), { method: 'DELETE', headers });
    assert.equal(ended.status, 200);
    await within(second.ended, 30_000, `the stream on ${g2.name} ended by a DELETE on ${g3.name}`);
    assert.equal((await legacyPost(on(g1), session, 1, 'ping', {}, headers)).status, 404);

    const other = await legacySession(on(g1), {}, '2025-11-25');
    const started = performance.now();
    const call = legacyPost(on(g1), other, 7, 'tools/call', { name: 'count', arguments: { key: 'slow-1' } }, { ...headers, 'mcp-session-id': other });
    await waitFor('the slow backend call', () => counts.has('slow-1'));
    const cancel = await mcpPost(on(g2), { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'no longer needed' } }, { ...headers, 'mcp-session-id': other });
    assert.equal(cancel.status, 202);
    await waitFor(`the call on ${g1.name} aborted by the cancellation sent to ${g2.name}`, () => dropped.has('slow-1'), 30_000);
    const answer = await call;
    // `dropped` holds only calls the backend never answered: the agent got its answer without waiting for the backend.
    t.diagnostic(`cancelled call answered ${answer.status} after ${(performance.now() - started).toFixed(0)} ms: ${answer.text.slice(0, 160)}`);
  });

  it('kill -9 of a registry node: writes through the other reach every gateway', async (t) => {
    const [first, second] = cluster.registries as [ClusterProcess, ClusterProcess];
    // Each gateway prefers a registry by rendezvous hashing of its id (host:port); those on registry-1 fail over to registry-2.
    const urls = cluster.registries.map((r) => r.url);
    const prefers = new Map(cluster.gateways.map((g) => [`${hostname()}:${g.port}`, registryOrder(urls, `${hostname()}:${g.port}`)[0]!]));
    const followed = async (via: ClusterProcess) => {
      const r = await http('GET', `${via.url}/api/v1/gateways`);
      assert.equal(r.status, 200, r.text);
      return new Map((r.body.items as { id: string; state: string; nodeAddress?: string }[]).filter((g) => g.state === 'connected').map((g) => [g.id, g.nodeAddress ?? '']));
    };
    // The console API of either node lists every gateway, each on the node it prefers.
    const onPreferred = async (via: ClusterProcess) => {
      const listed = await followed(via);
      return [...prefers].every(([id, url]) => listed.get(id) === new URL(url).host) || undefined;
    };
    for (const via of cluster.registries) await waitFor(`${via.name} lists every gateway on its preferred node`, () => onPreferred(via), 60_000, 200);
    t.diagnostic(`gateways preferring registry-1: ${[...prefers.values()].filter((u) => u === first.url).length} of ${prefers.size}`);
    const before = await http('GET', `${second.url}/api/v1/cluster`);
    const leaderBefore = before.status === 200 ? (before.body as { leader: { node: string } | null; nodes: { id: string; address: string }[] }) : undefined;
    const leaderAddress = leaderBefore?.nodes.find((n) => n.id === leaderBefore.leader?.node)?.address;
    if (leaderAddress) t.diagnostic(`leader before the kill: ${leaderAddress.endsWith(`:${first.port}`) ? first.name : second.name}`);
    await first.kill();
    try {
      const started = performance.now();
      await publish(second.url, 'after registry-1 died');
      const ms = await servedEverywhere('after registry-1 died', started);
      t.diagnostic(`write through ${second.name} served by all 3 gateways after ${ms.toFixed(0)} ms`);
      const call = await modernPost(lb, 1, 'tools/call', { name: 'count', arguments: { key: 'registry-kill-0' } });
      assert.equal(firstText(call.body.result), 'counted registry-kill-0');
      // The survivor takes the singleton jobs over (the lock TTL is 4 s in the harness).
      const view = await http('GET', `${second.url}/api/v1/cluster`);
      if (view.status === 200) {
        const led = await waitFor('the survivor leading', async () => {
          const v = (await http('GET', `${second.url}/api/v1/cluster`)).body as { node: string; leader: { node: string } | null };
          return v.leader?.node === v.node;
        }, 30_000, 100);
        assert.ok(led);
        t.diagnostic(`${second.name} leads after ${(performance.now() - started).toFixed(0)} ms`);
      } else {
        t.diagnostic(`no /api/v1/cluster (HTTP ${view.status}): leadership not checked`);
      }
      await waitFor('registry-2 lists every gateway on itself', async () => {
        const listed = await followed(second);
        return [...prefers.keys()].every((id) => listed.get(id) === new URL(second.url).host) || undefined;
      }, 60_000, 200);
    } finally {
      await first.restart();
    }
    // Back: the gateways preferring registry-1 move back to it (fail-back), as both nodes list.
    for (const via of cluster.registries) await waitFor(`${via.name} lists every gateway back on its preferred node`, () => onPreferred(via), 60_000, 200);
    assertCountedOnce('registry-kill', 1);
  });

  it('Redis restarted mid-run: 503s without waiting, stateless traffic goes on, then service resumes with no process restarted', async (t) => {
    const pids = [...cluster.gateways, ...cluster.registries].map((p) => p.pid);
    const session = await legacySession(lb, {}, '2025-11-25');
    for (let i = 0; i < 3; i++) {
      const ok = await legacyPost(lb, session, i, 'tools/call', { name: 'count', arguments: { key: `redis-before-${i}` } });
      assert.equal(firstText(ok.body.result), `counted redis-before-${i}`);
    }

    await cluster.redis.kill();
    let slowest = 0;
    // Session traffic on every replica (3 rounds of the balancer): a clear error.
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const down = await legacyPost(lb, session, 10 + i, 'tools/call', { name: 'count', arguments: { key: `redis-down-${i}` } });
      slowest = Math.max(slowest, performance.now() - started);
      assert.equal(down.status, 503, down.text);
      assert.equal(down.body.error.code, -32000, down.text);
      assert.match(down.body.error.message, /unavailable/i);
      assert.ok(down.headers.get('retry-after'));
    }
    const init = await mcpPost(lb, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    assert.equal(init.status, 503, 'no new session either');
    const sse = await fetch(`${lb}/sse`, { headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 503, 'nor a legacy SSE stream');
    await sse.body?.cancel();
    // Stateless (2026-07-28) traffic needs no Redis.
    for (let i = 0; i < 3; i++) {
      const r = await modernPost(lb, i, 'tools/call', { name: 'count', arguments: { key: `redis-stateless-${i}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(firstText(r.body.result), `counted redis-stateless-${i}`);
    }
    // Answered while Redis was down throughout: nothing waited for it to come back.
    t.diagnostic(`while Redis was down: session requests answered 503 in at most ${slowest.toFixed(0)} ms`);

    const restarted = performance.now();
    await cluster.redis.start();
    // Every replica serves sessions again by itself.
    await Promise.all(cluster.gateways.map((g, n) => waitFor(`${g.name} serving sessions again`, async () => {
      const url = cluster.mcpUrl('public', 'counter', g.url);
      const s = await legacySession(url, {}, '2025-11-25');
      const r = await legacyPost(url, s, 1, 'tools/call', { name: 'count', arguments: { key: `redis-after-${n}` } });
      return r.status === 200 && firstText(r.body.result) === `counted redis-after-${n}`;
    }, 15_000, 200)));
    t.diagnostic(`sessions served by every replica ${(performance.now() - restarted).toFixed(0)} ms after Redis restarted`);
    // Through the balancer, with the SDK: a new session and its calls.
    const transport = new SdkStreamable(new URL(lb));
    const client = new SdkClient({ name: 'ha-redis', version: '1' });
    await client.connect(transport);
    try {
      await calls('redis-sdk', 0, 30, (key) => client.callTool({ name: 'count', arguments: { key } }));
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    // This Redis keeps nothing: the old session is gone (clients initialize again on 404).
    assert.equal((await legacyPost(lb, session, 99, 'ping', {}, { 'mcp-protocol-version': '2025-11-25' })).status, 404);
    assert.deepEqual([...cluster.gateways, ...cluster.registries].map((p) => p.pid), pids, 'no process restarted');
    assert.ok([...cluster.gateways, ...cluster.registries].every((p) => p.running));
    assertCountedOnce('redis-before', 3);
    assertCountedOnce('redis-stateless', 3);
    assertCountedOnce('redis-sdk', 30);
    assert.equal([...counts.keys()].filter((k) => k.startsWith('redis-down-')).length, 0, 'nothing called while the session could not be read');
  });
});
