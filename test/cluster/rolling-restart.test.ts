// A rolling restart of every gateway under load (issue 14, "Must show"): 1 registry on PostgreSQL,
// 2 gateway replicas sharing sessions in Redis, nginx round robin in front (test/cluster/harness.ts).
// Agents keep calling tools through nginx — SDK 1.x Streamable HTTP clients in 2025 sessions (with
// their GET streams), 2.x clients pinned to 2026-07-28 — while each gateway in turn gets SIGTERM,
// drains (docs/operations.md#graceful-shutdown), exits 0 and is started again. A slow call in
// flight on the stopping replica finishes with its answer. Zero failed calls, each made once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { Client as SdkClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as SdkStreamable } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as Client2, StreamableHTTPClientTransport as Streamable2 } from '@modelcontextprotocol/client';
import { createMcpServer, firstText, legacyPost, legacySession, restTool, waitFor } from '../support/gateway.js';
import { clusterUnavailable, startCluster } from './harness.js';
import type { Cluster } from './harness.js';

const unavailable = await clusterUnavailable('postgres');

describe('rolling restart of every gateway under load: zero failed calls', { skip: unavailable, timeout: 300_000 }, () => {
  let cluster: Cluster;
  let backend: Server;
  const counts = new Map<string, number>();
  /** Slow calls held by the backend until released. */
  const held = new Map<string, () => void>();

  before(async () => {
    backend = createServer((req, res) => {
      const key = new URL(req.url ?? '/', 'http://b').searchParams.get('key') ?? '';
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const answer = () => {
        held.delete(key);
        if (!res.headersSent) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ key })); }
      };
      if (key.startsWith('slow-')) held.set(key, answer);
      else answer();
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    const backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
    // The delay the chart sets (MCPGATE_SHUTDOWN_DELAY_SECONDS), shorter: nginx does not read /readyz.
    cluster = await startCluster({ registries: 1, gateways: 2, env: { MCPGATE_SHUTDOWN_DELAY_SECONDS: '1', MCPGATE_SHUTDOWN_TIMEOUT_SECONDS: '20' } });
    await createMcpServer(cluster.registries[0]!.url, 'public', {
      name: 'counter', endpoint: { type: 'url', url: backendUrl },
      spec: { version: '1.0.0', tools: [restTool('count', { url: '/count', properties: { key: { type: 'string' } }, required: ['key'], argsToUrlParam: true, response: { body: 'counted {{ .key }}' } })] },
    });
    await Promise.all(cluster.gateways.map((g) => waitFor(`${g.name} serving`, async () => {
      const url = cluster.mcpUrl('public', 'counter', g.url);
      const s = await legacySession(url);
      return (await legacyPost(url, s, 1, 'tools/list')).status === 200;
    }, 30_000, 100)));
  });

  after(async () => {
    for (const release of [...held.values()]) release();
    await cluster?.stop();
    backend?.closeAllConnections();
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
  });

  it('SIGTERM, drain, exit 0 and restart of each gateway in turn while agents call tools', async (t) => {
    const lb = cluster.mcpUrl('public', 'counter');
    const failures: string[] = [];
    let made = 0;
    let running = true;
    const agents: { name: string; call(key: string): Promise<unknown>; close(): Promise<void> }[] = [];
    for (let i = 0; i < 3; i++) {
      const transport = new SdkStreamable(new URL(lb));
      const client = new SdkClient({ name: `rolling-sdk1-${i}`, version: '1' });
      await client.connect(transport);
      agents.push({
        name: `sdk1-${i}`, call: (key) => client.callTool({ name: 'count', arguments: { key } }),
        close: async () => { await transport.terminateSession().catch(() => undefined); await client.close(); },
      });
    }
    for (let i = 0; i < 2; i++) {
      const client = new Client2({ name: `rolling-v2-${i}`, version: '2' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(new Streamable2(new URL(lb)));
      agents.push({ name: `v2-${i}`, call: (key) => client.callTool({ name: 'count', arguments: { key } }), close: () => client.close() });
    }
    const loops = agents.map(async (agent) => {
      for (let n = 0; running; n++) {
        const key = `${agent.name}-${n}`;
        made++;
        try {
          const result = await agent.call(key);
          if (firstText(result) !== `counted ${key}`) failures.push(`${key}: answered ${JSON.stringify(result)}`);
        } catch (err) {
          failures.push(`${key}: ${(err as Error).message}`);
        }
      }
    });

    try {
      for (const gateway of cluster.gateways) {
        await waitFor('calls flowing', () => made > 50 * cluster.gateways.indexOf(gateway) + 50, 30_000, 20);
        // A slow call in flight on this very replica when it gets SIGTERM: it must finish.
        const slowKey = `slow-${gateway.name}`;
        const direct = cluster.mcpUrl('public', 'counter', gateway.url);
        const session = await legacySession(direct);
        const slow = legacyPost(direct, session, 1, 'tools/call', { name: 'count', arguments: { key: slowKey } });
        await waitFor('the slow call at the backend', () => held.has(slowKey), 10_000);
        const before = made;
        const stopped = gateway.kill('SIGTERM');
        // Released while the replica drains (it stopped accepting; its answer still goes out).
        await waitFor(`${gateway.name} refusing connections`, async () => fetch(`${gateway.url}/healthz`).then((r) => { void r.body?.cancel(); return false; }, () => true), 20_000, 20);
        held.get(slowKey)?.();
        const answer = await slow;
        assert.equal(firstText(answer.body.result), `counted ${slowKey}`, 'the call in flight finished on the draining replica');
        await stopped;
        assert.equal(gateway.exit, 0, `${gateway.name} exited 0 after draining:\n${gateway.tail()}`);
        t.diagnostic(`${gateway.name}: SIGTERM → exit 0; ${made - before} calls made meanwhile through the other replica`);
        await gateway.restart();
        await waitFor(`${gateway.name} ready`, async () => (await fetch(`${gateway.url}/readyz`)).status === 200, 30_000, 50);
      }
      const settled = made;
      await waitFor('calls after the last restart', () => made > settled + 50, 30_000, 20);
    } finally {
      running = false;
      await Promise.all(loops);
      for (const a of agents) await a.close();
    }
    t.diagnostic(`${made} calls by ${agents.length} agents during the rolling restart of ${cluster.gateways.length} gateways; ${failures.length} failed`);
    assert.deepEqual(failures, [], 'no call failed');
    const twice = [...counts].filter(([k, n]) => !k.startsWith('slow-') && n !== 1);
    assert.deepEqual(twice, [], 'each call reached the backend once');
  });
});
