// Upstream MCP servers across gateway replicas (issue 11, "Must show: the HA harness"): 1 registry,
// 3 gateway replicas sharing sessions in Redis, nginx round robin without stickiness
// (test/cluster/harness.ts), in front of
//
// - an upstream Streamable HTTP MCP server with 2025 sessions (official SDK 1.x, in this process)
//   that counts its initializes and each call by its unique argument, registered with
//   `upstream.sessions: per-session`: an agent session (SDK 1.x client through the balancer)
//   makes 200 calls spread over every replica, all in ONE upstream session (the replicas continue
//   it from Redis); after 100 calls the replica that opened it is killed with -9, the rest go on
//   in the same upstream session on the others; the upstream counts each call exactly once;
// - the stdio fixture, one child per agent session: kill -9 of the replica holding a child ends
//   that child (no orphan, no restart of the replica needed) and the next request of the session
//   runs on a child that the replica serving it starts; an agent session whose only child lived
//   on the killed replica goes on through the balancer on a child another replica starts and
//   initializes for it (nothing to do for the agent);
// - an upstream with 2025 sessions and resumable streams (event store) that notifies resource
//   updates and asks for roots: an agent's roots/list_changed reaches it and its roots/list comes
//   back to the agent; a resource subscription made through one replica keeps delivering
//   notifications/resources/updated after kill -9 of that replica and of the replica that held
//   the upstream's GET stream (another one reopens it, with Last-Event-ID);
// - the same upstream behind one shared connection per replica (`upstream.sessions: shared`): the
//   replica holding the agent session's stream takes its subscription over (on its own
//   connection), and after kill -9 of that replica and of the one that took the subscription,
//   the replica the agent's stream reconnects to subscribes again: updates keep reaching the agent.
// - a virtual server over those (issue 13): its two per-session members each continue their own
//   upstream session on every replica, and a subscription through it, to a per-session member or
//   to a shared one, keeps delivering under the virtual URI after the same kills.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  ListRootsRequestSchema, ResourceUpdatedNotificationSchema, RootsListChangedNotificationSchema, SubscribeRequestSchema, UnsubscribeRequestSchema, isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createMcpServer, firstText, waitFor } from '../support/gateway.js';
import { ROOT, clusterUnavailable, startCluster } from './harness.js';
import type { Cluster } from './harness.js';

const unavailable = await clusterUnavailable('postgres');
const CALLS = 200;
const STDIO_FIXTURE = join(ROOT, 'test/fixtures/mcp/stdio-server.mjs');

/** The upstream: 2025 sessions, a `count` tool counting each key, initializes counted. */
/** A request's JSON body (undefined when it is not JSON). */
function body(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { resolve(undefined); } });
  });
}

/** The upstream's answer to a session id it does not know (404, as the SDK's servers answer). */
function sessionNotFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
}

interface CountingUpstream {
  url: string;
  counts: Map<string, number>;
  /** The upstream session each key was counted in (the last time). */
  countedIn: Map<string, string | undefined>;
  initializes: string[];
  sessionsSeen: Set<string>;
  close(): Promise<void>;
}

async function startCountingUpstream(): Promise<CountingUpstream> {
  const counts = new Map<string, number>();
  const countedIn = new Map<string, string | undefined>();
  const initializes: string[] = [];
  const sessionsSeen = new Set<string>();
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      sessionsSeen.add(id);
      const t = transports.get(id);
      if (!t) return void sessionNotFound(res);
      return t.handleRequest(req, res, req.method === 'POST' ? await body(req) : undefined);
    }
    const message = await body(req);
    if (req.method !== 'POST' || !isInitializeRequest(message)) return void res.writeHead(400).end();
    const server = new McpServer({ name: 'counting-upstream', version: '1.0.0' });
    server.registerTool('count', { description: 'Counts each key', inputSchema: { key: z.string() } }, async ({ key }, extra) => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      countedIn.set(key, extra.sessionId);
      return { content: [{ type: 'text', text: `counted ${key}` }] };
    });
    const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => { transports.set(sid, t); initializes.push(sid); },
    });
    await server.connect(t);
    await t.handleRequest(req, res, message);
  };
  const http: Server = createServer((req, res) => { handle(req, res).catch(() => { if (!res.headersSent) res.writeHead(500).end(); }); });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`, counts, countedIn, initializes, sessionsSeen,
    close: async () => {
      for (const t of transports.values()) await t.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/**
 * An upstream's event store (resumable streams) in memory. Not the SDK example's: it takes the
 * stream id back from an event id up to the first `_`, which the standalone stream's own id
 * (`_GET_stream`) starts with.
 */
function memoryEventStore(): EventStore {
  const events: { id: string; stream: string; message: unknown }[] = [];
  let n = 0;
  return {
    async storeEvent(stream, message) {
      const id = `${++n}|${stream}`;
      events.push({ id, stream, message });
      return id;
    },
    async getStreamIdForEventId(id) {
      return events.find((e) => e.id === id)?.stream;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const at = events.findIndex((e) => e.id === lastEventId);
      if (at < 0) return '';
      const stream = events[at]!.stream;
      for (const e of events.slice(at + 1)) if (e.stream === stream) await send(e.id, e.message as never);
      return stream;
    },
  };
}

/** The upstream with resource subscriptions and roots: what it was told, and a way to notify its subscribers. */
interface NotifyingUpstream {
  url: string;
  /** The roots each roots/list answered, in order. */
  roots: string[][];
  /** GET (standalone stream) requests, with their Last-Event-ID. */
  streams: (string | undefined)[];
  initializes: string[];
  /** Send notifications/resources/updated to every session subscribed to `uri`; answers how many. */
  update(uri: string): Promise<number>;
  close(): Promise<void>;
}

async function startNotifyingUpstream(): Promise<NotifyingUpstream> {
  const roots: string[][] = [];
  const streams: (string | undefined)[] = [];
  const initializes: string[] = [];
  const sessions = new Map<string, { server: McpServer; subscribed: Set<string>; transport: StreamableHTTPServerTransport }>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const s = sessions.get(id);
      if (!s) return void sessionNotFound(res);
      if (req.method === 'GET') streams.push(req.headers['last-event-id'] as string | undefined);
      return s.transport.handleRequest(req, res, req.method === 'POST' ? await body(req) : undefined);
    }
    const message = await body(req);
    if (req.method !== 'POST' || !isInitializeRequest(message)) return void res.writeHead(400).end();
    const server = new McpServer({ name: 'notifying-upstream', version: '1.0.0' }, { capabilities: { resources: { subscribe: true } } });
    server.registerResource('doc', 'test://doc', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'the doc' }] }));
    const subscribed = new Set<string>();
    server.server.setRequestHandler(SubscribeRequestSchema, async (r) => { subscribed.add(r.params.uri); return {}; });
    server.server.setRequestHandler(UnsubscribeRequestSchema, async (r) => { subscribed.delete(r.params.uri); return {}; });
    server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      const listed = await server.server.listRoots();
      roots.push(listed.roots.map((r) => r.uri));
    });
    const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: memoryEventStore(),
      onsessioninitialized: (sid) => { sessions.set(sid, { server, subscribed, transport: t }); initializes.push(sid); },
    });
    await server.connect(t);
    await t.handleRequest(req, res, message);
  };
  const http: Server = createServer((req, res) => { handle(req, res).catch(() => { if (!res.headersSent) res.writeHead(500).end(); }); });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`, roots, streams, initializes,
    async update(uri) {
      let n = 0;
      for (const s of sessions.values()) {
        if (!s.subscribed.has(uri)) continue;
        await s.server.server.sendResourceUpdated({ uri }).catch(() => undefined);
        n++;
      }
      return n;
    },
    close: async () => {
      for (const s of sessions.values()) await s.transport.close().catch(() => undefined);
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** A client through the balancer that notes which replica answered each POST. */
async function agent(url: string): Promise<{ client: Client; replicas: (string | null)[]; close(): Promise<void> }> {
  const replicas: (string | null)[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: async (u, init) => {
      const res = await fetch(u, init);
      if ((init?.method ?? 'GET') === 'POST') replicas.push(res.headers.get('x-mcpgate-upstream'));
      return res;
    },
  });
  const client = new Client({ name: 'ha-upstream', version: '1' });
  await client.connect(transport);
  return { client, replicas, close: () => client.close() };
}

/**
 * A client through the balancer that notes which replica answered each POST (`replicas`) and each
 * GET (`streams`: its session stream), and the resource updates it is told of.
 */
async function watchedAgent(url: string): Promise<{ client: Client; replicas: (string | null)[]; streams: (string | null)[]; updates: string[] }> {
  const replicas: (string | null)[] = [];
  const streams: (string | null)[] = [];
  const updates: string[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: async (u, init) => {
      const res = await fetch(u, init);
      ((init?.method ?? 'GET') === 'POST' ? replicas : streams).push(res.headers.get('x-mcpgate-upstream'));
      return res;
    },
  });
  const client = new Client({ name: 'ha-subscriber', version: '1' });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => { updates.push(n.params.uri); });
  await client.connect(transport);
  return { client, replicas, streams, updates };
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('upstream MCP servers across 3 gateway replicas behind nginx', { skip: unavailable, timeout: 300_000 }, () => {
  let cluster: Cluster;
  let upstream: CountingUpstream;
  let notifying: NotifyingUpstream;

  before(async () => {
    upstream = await startCountingUpstream();
    notifying = await startNotifyingUpstream();
    cluster = await startCluster({ registries: 1, gateways: 3 });
    const reg = cluster.registries[0]!.url;
    const spec = (config: Record<string, unknown>) => ({ version: '1.0.0', description: 'HA upstream', tools: [], config });
    await createMcpServer(reg, 'public', { name: 'counting', protocol: 'mcp-streamable', endpoint: { type: 'url', url: upstream.url }, spec: spec({ upstream: { sessions: 'per-session', protocolVersion: 'legacy' } }) });
    await createMcpServer(reg, 'public', { name: 'notifying', protocol: 'mcp-streamable', endpoint: { type: 'url', url: notifying.url }, spec: spec({ upstream: { sessions: 'per-session', protocolVersion: 'legacy' } }) });
    await createMcpServer(reg, 'public', { name: 'notifying-shared', protocol: 'mcp-streamable', endpoint: { type: 'url', url: notifying.url }, spec: spec({ upstream: { sessions: 'shared', protocolVersion: 'legacy' } }) });
    await createMcpServer(reg, 'public', {
      name: 'stdio', protocol: 'stdio', endpoint: { type: 'none' },
      spec: spec({ command: process.execPath, args: [STDIO_FIXTURE], upstream: { sessions: 'per-session', maxProcesses: 8 } }),
    });
    // A virtual server over two per-session members and a shared one.
    const desk = await fetch(`${reg}/api/v1/namespaces/public/mcp-servers`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'desk', protocol: 'virtual', publish: true,
        spec: { version: '1.0.0', tools: [], virtual: { members: [{ server: 'counting', prefix: 'cnt' }, { server: 'notifying', prefix: 'ps' }, { server: 'notifying-shared', prefix: 'sh' }] } },
      }),
    });
    assert.equal(desk.status, 201, await desk.text());
    // Every replica serves both.
    for (const g of cluster.gateways) {
      await waitFor(`${g.name} serving the servers`, async () => {
        const r = await fetch(`${g.url}/readyz`);
        if (r.status !== 200) return false;
        const probe = await fetch(cluster.mcpUrl('public', 'stdio', g.url), {
          method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
        });
        await probe.body?.cancel();
        return probe.status === 200;
      }, 60_000, 200);
    }
  });

  after(async () => {
    await cluster?.stop();
    await upstream?.close();
    await notifying?.close();
  });

  it(`${CALLS} calls of one agent session over every replica, in one upstream session, continued after kill -9 of the replica that opened it; each call exactly once upstream`, async () => {
    const a = await agent(cluster.mcpUrl('public', 'counting'));
    try {
      const initializesBefore = upstream.initializes.length;
      const listed = await a.client.listTools();
      assert.deepEqual(listed.tools.map((t) => t.name), ['count']);
      assert.equal(upstream.initializes.length - initializesBefore, 1, 'the agent session opened one upstream session');
      const opener = cluster.gatewayOf(a.replicas.at(-1));
      assert.ok(opener, 'the replica that opened the upstream session');
      const upstreamSession = upstream.initializes.at(-1) as string;

      const call = async (i: number) => {
        const key = `ha-${i}`;
        const result = await a.client.callTool({ name: 'count', arguments: { key } });
        assert.equal(firstText(result), `counted ${key}`);
      };
      const run = async (from: number, to: number) => {
        let next = from;
        await Promise.all(Array.from({ length: 4 }, async () => { while (next < to) await call(next++); }));
      };
      const mark = a.replicas.length;
      await run(0, CALLS / 2);
      const servedBefore = new Set(a.replicas.slice(mark).map((u) => cluster.gatewayOf(u)?.name));
      assert.equal(servedBefore.size, 3, `the calls landed on every replica: ${[...servedBefore].join(', ')}`);

      await opener.kill('SIGKILL');
      const mark2 = a.replicas.length;
      await run(CALLS / 2, CALLS);
      const servedAfter = new Set(a.replicas.slice(mark2).map((u) => cluster.gatewayOf(u)?.name));
      assert.ok(!servedAfter.has(opener.name) && servedAfter.size === 2, `after the kill the other two served: ${[...servedAfter].join(', ')}`);

      assert.equal(upstream.initializes.length - initializesBefore, 1, 'no replica initialized another upstream session: they continued the one in Redis');
      assert.ok(upstream.sessionsSeen.has(upstreamSession));
      const keys = [...upstream.counts.keys()].filter((k) => k.startsWith('ha-'));
      assert.equal(keys.length, CALLS, 'every call reached the upstream');
      assert.deepEqual(keys.filter((k) => upstream.counts.get(k) !== 1), [], 'each exactly once');
    } finally {
      await a.close().catch(() => undefined);
      if (cluster.gateways.some((g) => !g.running)) await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    }
  });

  it('stdio: kill -9 of the replica holding an agent session\'s child ends the child; the next request runs on a child of the replica serving it', async () => {
    const a = await agent(cluster.mcpUrl('public', 'stdio'));
    try {
      // One call per replica: each starts the session's child of its own.
      const children = new Map<string, number>();
      for (let i = 0; i < 12 && children.size < 3; i++) {
        const pid = Number(firstText(await a.client.callTool({ name: 'pid', arguments: {} })));
        const replica = cluster.gatewayOf(a.replicas.at(-1))?.name;
        assert.ok(replica && pid > 0);
        const known = children.get(replica);
        if (known !== undefined) assert.equal(pid, known, 'a replica keeps the session\'s child');
        children.set(replica, pid);
      }
      assert.equal(children.size, 3, 'every replica served the session');
      const victim = cluster.gateways[0]!;
      const orphan = children.get(victim.name) as number;
      await victim.kill('SIGKILL');
      await waitFor('the killed replica\'s child to end (its watchdog)', () => !alive(orphan), 20_000, 50);
      for (const [name, pid] of children) if (name !== victim.name) assert.ok(alive(pid), `${name}'s child lives on`);
      // The session goes on, on the other replicas.
      for (let i = 0; i < 4; i++) {
        const pid = Number(firstText(await a.client.callTool({ name: 'pid', arguments: {} })));
        const replica = cluster.gatewayOf(a.replicas.at(-1))?.name as string;
        assert.notEqual(replica, victim.name);
        assert.equal(pid, children.get(replica));
      }
      // Restarted, the replica starts a new child for the session when it serves it again.
      await victim.restart();
      let fresh: number | undefined;
      // Round robin reaches it within a few calls; the bound only stops a broken balancer.
      for (let i = 0; i < 60 && fresh === undefined; i++) {
        const pid = Number(firstText(await a.client.callTool({ name: 'pid', arguments: {} })));
        if (cluster.gatewayOf(a.replicas.at(-1))?.name === victim.name) fresh = pid;
      }
      assert.ok(fresh !== undefined && fresh !== orphan && alive(fresh), 'a new child on the restarted replica');
    } finally {
      await a.close().catch(() => undefined);
    }
  });

  it('stdio: an agent session whose only child lived on a replica killed with -9 goes on through the balancer, on a child another replica starts and initializes', async () => {
    await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    const holder = cluster.gateways[1]!;
    // The session starts on one replica only (directly), then goes through the balancer.
    let base: string | undefined = holder.url;
    const replicas: (string | null)[] = [];
    const lb = new URL(cluster.lbUrl);
    const transport = new StreamableHTTPClientTransport(new URL(cluster.mcpUrl('public', 'stdio')), {
      fetch: async (u, init) => {
        const url = new URL(u);
        if (base) { const b = new URL(base); url.host = b.host; } else { url.host = lb.host; }
        const res = await fetch(url, init);
        if ((init?.method ?? 'GET') === 'POST') replicas.push(res.headers.get('x-mcpgate-upstream') ?? (base ? holder.url : null));
        return res;
      },
    });
    const client = new Client({ name: 'ha-stdio', version: '1' });
    await client.connect(transport);
    try {
      const first = Number(firstText(await client.callTool({ name: 'pid', arguments: {} })));
      assert.ok(first > 0 && alive(first), 'the session\'s child on the replica holding it');
      await holder.kill('SIGKILL');
      await waitFor('the killed replica\'s child to end (its watchdog)', () => !alive(first), 20_000, 50);
      base = undefined;
      const next = Number(firstText(await client.callTool({ name: 'pid', arguments: {} })));
      const served = cluster.gatewayOf(replicas.at(-1));
      assert.ok(served && served.name !== holder.name, `served by another replica: ${served?.name}`);
      assert.ok(next > 0 && next !== first && alive(next), 'a new child, started and initialized for the session by the replica serving it');
      // Each further call of the session works (on whichever replica; each keeps the child it started).
      for (let i = 0; i < 4; i++) assert.ok(Number(firstText(await client.callTool({ name: 'pid', arguments: {} }))) > 0);
    } finally {
      await client.close().catch(() => undefined);
      await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    }
  });

  it('roots/list_changed reaches the upstream and its roots/list the agent; a resource subscription keeps delivering after kill -9 of the replica that took it and of the one holding the upstream\'s stream', async () => {
    await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    let roots = ['file:///ws-1'];
    const updates: string[] = [];
    const replicas: (string | null)[] = [];
    const transport = new StreamableHTTPClientTransport(new URL(cluster.mcpUrl('public', 'notifying')), {
      fetch: async (u, init) => {
        const res = await fetch(u, init);
        if ((init?.method ?? 'GET') === 'POST') replicas.push(res.headers.get('x-mcpgate-upstream'));
        return res;
      },
    });
    const client = new Client({ name: 'ha-notified', version: '1' }, { capabilities: { roots: { listChanged: true } } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots.map((uri) => ({ uri })) }));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => { updates.push(n.params.uri); });
    await client.connect(transport);
    const uri = 'test://doc';
    const delivered = deliveries(updates, (u) => notifying.update(u), uri);
    try {
      const initializesBefore = notifying.initializes.length;
      const listed = await client.listResources();
      assert.deepEqual(listed.resources.map((r) => r.uri), [uri]);
      const opener = cluster.gatewayOf(replicas.at(-1));
      assert.ok(opener, 'the replica that opened the upstream session (and holds its stream)');
      await client.subscribeResource({ uri });
      const subscriber = cluster.gatewayOf(replicas.at(-1));
      assert.ok(subscriber, 'the replica that took the subscription');
      await delivered('a resource update to reach the agent');

      // The agent's roots changed: the upstream is told, asks, and gets the new roots from the agent.
      roots = ['file:///ws-2'];
      await client.sendRootsListChanged();
      await waitFor('the upstream to list the new roots', () => notifying.roots.some((r) => r[0] === 'file:///ws-2'), 30_000, 50);

      // Kill the replica that took the subscription and the one holding the upstream's stream.
      const streamsBefore = notifying.streams.length;
      await opener.kill('SIGKILL');
      if (subscriber !== opener) await subscriber.kill('SIGKILL');
      await delivered('a resource update to reach the agent after the kill', () => client.listResources());
      assert.ok(notifying.streams.length > streamsBefore, 'another replica reopened the upstream\'s stream');
      assert.ok(notifying.streams.slice(streamsBefore).some((id) => typeof id === 'string' && id !== ''), `reopened with Last-Event-ID: ${JSON.stringify(notifying.streams.slice(streamsBefore))}`);
      assert.equal(notifying.initializes.length - initializesBefore, 1, 'one upstream session throughout');

      // The new holder of the stream relays the upstream's requests too.
      roots = ['file:///ws-3'];
      await client.sendRootsListChanged();
      await waitFor('the upstream to list the roots after the kill', () => notifying.roots.some((r) => r[0] === 'file:///ws-3'), 30_000, 50);

      // Unsubscribed: no more updates are relayed (the upstream forgets the subscription).
      await client.unsubscribeResource({ uri });
      assert.equal(await notifying.update(uri), 0);
    } finally {
      await client.close().catch(() => undefined);
      await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    }
  });

  /**
   * A subscription to `test://doc` of the notifying upstream behind a shared connection per
   * replica (`server`, or a virtual server over it: `shown` is the URI the agent knows it by)
   * follows the agent's stream: delivered, then again after kill -9 of the replica that took it
   * and of the one holding the agent's stream, from the replica the stream reconnected to.
   */
  async function subscriptionFollowsTheStream(server: string, shown: string): Promise<void> {
    const a = await watchedAgent(cluster.mcpUrl('public', server));
    const uri = 'test://doc';
    const delivered = deliveries(a.updates, (u) => notifying.update(u), uri, shown);
    try {
      const listed = await a.client.listResources();
      assert.ok(listed.resources.some((r) => r.uri === shown), JSON.stringify(listed.resources));
      await waitFor('the agent\'s stream to open', () => a.streams.some((s) => s !== null), 20_000, 50);
      await a.client.subscribeResource({ uri: shown });
      const subscriber = cluster.gatewayOf(a.replicas.at(-1));
      assert.ok(subscriber, 'the replica that took the subscription');
      await delivered('a resource update to reach the agent');
      const holder = cluster.gatewayOf(a.streams.filter((s) => s !== null).at(-1));
      assert.ok(holder, 'the replica holding the agent\'s stream');

      await subscriber.kill('SIGKILL');
      if (holder !== subscriber) await holder.kill('SIGKILL');
      await delivered('a resource update to reach the agent after the kill', () => a.client.listResources());
      const now = cluster.gatewayOf(a.streams.filter((s) => s !== null).at(-1));
      assert.ok(now?.running && now !== holder, `the agent's stream reconnected to a live replica (${now?.name}), which took the subscription over`);
    } finally {
      await a.client.close().catch(() => undefined);
      await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    }
  }

  it('shared upstream connections: a resource subscription follows the agent session\'s stream, and keeps delivering after kill -9 of the replica that took it and of the one holding the stream', async () => {
    await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    await subscriptionFollowsTheStream('notifying-shared', 'test://doc');
  });

  it('a virtual server: each per-session member continues its own upstream session on every replica; a subscription through it keeps delivering under the virtual URI after kill -9 of the replica that took it and of the one holding the upstream\'s stream', async () => {
    await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    const a = await watchedAgent(cluster.mcpUrl('public', 'desk'));
    const uri = 'test://doc';
    const shown = 'mcpgate://ps/test://doc';
    const delivered = deliveries(a.updates, (u) => notifying.update(u), uri, shown);
    try {
      const listed = await a.client.listResources();
      assert.ok(listed.resources.some((r) => r.uri === shown), JSON.stringify(listed.resources));
      const opener = cluster.gatewayOf(a.replicas.at(-1));
      assert.ok(opener, 'the replica that opened the member\'s upstream session (and holds its stream)');
      // Calls of both per-session members over every replica: each continues its own upstream session.
      const mark = a.replicas.length;
      for (let i = 0; i < 9; i++) {
        assert.equal(firstText(await a.client.callTool({ name: 'cnt__count', arguments: { key: `desk-${i}` } })), `counted desk-${i}`);
        await a.client.listResources();
      }
      const served = new Set(a.replicas.slice(mark).map((u) => cluster.gatewayOf(u)?.name));
      assert.equal(served.size, 3, `the calls landed on every replica: ${[...served].join(', ')}`);
      const counted = new Set(Array.from({ length: 9 }, (_, i) => upstream.countedIn.get(`desk-${i}`)));
      assert.equal(counted.size, 1, `one upstream session of the counting member throughout: ${[...counted].join(', ')}`);

      await a.client.subscribeResource({ uri: shown });
      const subscriber = cluster.gatewayOf(a.replicas.at(-1));
      assert.ok(subscriber, 'the replica that took the subscription');
      await delivered('a resource update to reach the agent under the virtual URI');
      await opener.kill('SIGKILL');
      if (subscriber !== opener) await subscriber.kill('SIGKILL');
      await delivered('a resource update under the virtual URI after the kill', () => a.client.listResources());
    } finally {
      await a.client.close().catch(() => undefined);
      await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    }
  });

  it('a virtual server over a shared upstream connection: a subscription through it follows the agent\'s stream under the virtual URI, after kill -9 of the replica that took it and of the one holding the stream', async () => {
    await Promise.all(cluster.gateways.filter((g) => !g.running).map((g) => g.restart()));
    await subscriptionFollowsTheStream('desk', 'mcpgate://sh/test://doc');
  });
});

/**
 * A wait for the next resource update of `uri` to reach the agent (into `updates`): the update is
 * sent again until it does (the upstream drops what finds no stream open), after `drive` if given.
 */
function deliveries(updates: string[], update: (uri: string) => Promise<unknown>, uri: string, shown = uri) {
  return async (what: string, drive?: () => Promise<unknown>): Promise<void> => {
    const seen = updates.length;
    await waitFor(what, async () => {
      if (updates.length > seen) return true;
      await drive?.();
      await update(uri);
      return false;
    }, 60_000, 300);
    assert.ok(updates.slice(seen).every((u) => u === shown), JSON.stringify(updates.slice(seen)));
  };
}
