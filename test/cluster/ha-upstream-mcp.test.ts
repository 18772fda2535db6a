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
//   runs on a child that the replica serving it starts.
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
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createMcpServer, firstText, waitFor } from '../support/gateway.js';
import { ROOT, clusterUnavailable, startCluster } from './harness.js';
import type { Cluster } from './harness.js';

const unavailable = await clusterUnavailable('postgres');
const CALLS = 200;
const STDIO_FIXTURE = join(ROOT, 'test/fixtures/mcp/stdio-server.mjs');

/** The upstream: 2025 sessions, a `count` tool counting each key, initializes counted. */
interface CountingUpstream { url: string; counts: Map<string, number>; initializes: string[]; sessionsSeen: Set<string>; close(): Promise<void> }

async function startCountingUpstream(): Promise<CountingUpstream> {
  const counts = new Map<string, number>();
  const initializes: string[] = [];
  const sessionsSeen = new Set<string>();
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const body = (req: IncomingMessage) => new Promise<unknown>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { resolve(undefined); } });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      sessionsSeen.add(id);
      const t = transports.get(id);
      if (!t) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
      return t.handleRequest(req, res, req.method === 'POST' ? await body(req) : undefined);
    }
    const message = await body(req);
    if (req.method !== 'POST' || !isInitializeRequest(message)) return void res.writeHead(400).end();
    const server = new McpServer({ name: 'counting-upstream', version: '1.0.0' });
    server.registerTool('count', { description: 'Counts each key', inputSchema: { key: z.string() } }, async ({ key }) => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
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
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`, counts, initializes, sessionsSeen,
    close: async () => {
      for (const t of transports.values()) await t.close().catch(() => undefined);
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

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('upstream MCP servers across 3 gateway replicas behind nginx', { skip: unavailable, timeout: 300_000 }, () => {
  let cluster: Cluster;
  let upstream: CountingUpstream;

  before(async () => {
    upstream = await startCountingUpstream();
    cluster = await startCluster({ registries: 1, gateways: 3 });
    const reg = cluster.registries[0]!.url;
    const spec = (config: Record<string, unknown>) => ({ version: '1.0.0', description: 'HA upstream', tools: [], config });
    await createMcpServer(reg, 'public', { name: 'counting', protocol: 'mcp-streamable', endpoint: { type: 'url', url: upstream.url }, spec: spec({ upstream: { sessions: 'per-session', protocolVersion: 'legacy' } }) });
    await createMcpServer(reg, 'public', {
      name: 'stdio', protocol: 'stdio', endpoint: { type: 'none' },
      spec: spec({ command: process.execPath, args: [STDIO_FIXTURE], upstream: { sessions: 'per-session', maxProcesses: 8 } }),
    });
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
});
