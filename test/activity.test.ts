// The console's Activity page end to end: real MCP SDK clients call tools (some failing) through two
// gateways that follow one registry; the registry's activity API adds up both gateways' reports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGateway, startRegistry } from '../src/cli/roles.js';
import type { Running } from '../src/cli/roles.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { RegistrySource } from '../src/gateway/sources/registry.js';
import { createMcpServer, freePort, modernPost, restTool } from './support/gateway.js';
import { startBackend } from './support/stack.js';
import { http } from './support/http.js';
import { until } from './support/wait.js';

const logger = createLogger(process.env.MCPGATE_TEST_LOG ?? 'silent');
const SECRET_HEADER_TOKEN = 'Bearer agent-secret-token-123456';
const SPEC_SECRET = 'spec-secret-value-987654';

describe('Activity: two gateways report, the registry adds up', () => {
  let dir: string;
  let registry: Running;
  let registryUrl: string;
  const gateways: Awaited<ReturnType<typeof startGateway>>[] = [];
  let backend: Awaited<ReturnType<typeof startBackend>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-activity-'));
    backend = await startBackend((r, res) => {
      if (r.path === '/alerts') {
        // The backend fails, and echoes what it got (the server's own secret header included) in its error.
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'upstream weather service down', sawKey: r.headers['x-service-key'], query: r.query }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: 'Paris', forecast: 'sunny' }));
    });
    const port = await freePort();
    registryUrl = `http://127.0.0.1:${port}`;
    registry = await startRegistry(loadConfig('registry', { host: '127.0.0.1', registryPort: port, dataDir: join(dir, 'r'), 'auth.enabled': false, revisionPollMs: 100 }, {}), logger);
    const alerts = restTool('alerts', { url: `${backend.url}/alerts`, properties: { region: { type: 'string' }, apiKey: { type: 'string' } }, argsToUrlParam: true });
    (alerts.template as { request: { headers: { key: string; value: string }[] } }).request.headers = [{ key: 'X-Service-Key', value: SPEC_SECRET }];
    await createMcpServer(registryUrl, 'public', {
      name: 'weather', endpoint: { type: 'url', url: backend.url },
      spec: { version: '1.0.0', tools: [restTool('forecast', { url: `${backend.url}/forecast`, properties: { city: { type: 'string' } } }), alerts] },
    });
    for (const name of ['a', 'b']) {
      gateways.push(await startGateway(loadConfig('gateway', { host: '127.0.0.1', gatewayPort: await freePort(), dataDir: join(dir, name), registries: [registryUrl] }, {}), logger));
    }
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await registry?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const agent = async (gatewayIndex: number, name: string, version: string) => {
    const client = new Client({ name, version });
    const url = new URL(`http://127.0.0.1:${gateways[gatewayIndex]!.gateway.port}/mcp/public/weather`);
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: SECRET_HEADER_TOKEN } } }));
    return client;
  };

  const flush = async () => {
    for (const g of gateways) if (g.source instanceof RegistrySource) await g.source.flushActivity();
  };

  it('shows calls, errors, latency, agents and redacted last errors of every replica, the failing tool first', async () => {
    const claude = await agent(0, 'claude-code', '2.1.0');
    const cursor = await agent(1, 'cursor', '0.9');
    for (let i = 0; i < 3; i++) assert.equal((await claude.callTool({ name: 'forecast', arguments: { city: 'Paris' } })).isError, undefined);
    for (let i = 0; i < 2; i++) assert.equal((await claude.callTool({ name: 'alerts', arguments: { region: 'north', apiKey: 'k-live-abcdef' } })).isError, true);
    for (let i = 0; i < 2; i++) await cursor.callTool({ name: 'forecast', arguments: { city: 'Lyon' } });
    assert.equal((await cursor.callTool({ name: 'alerts', arguments: { region: 'south' } })).isError, true);
    // A 2026-07-28 agent says who it is in each request's _meta.
    const modern = await modernPost(`http://127.0.0.1:${gateways[1]!.gateway.port}/mcp/public/weather`, 1, 'tools/call', { name: 'forecast', arguments: { city: 'Nice' } });
    assert.equal(modern.status, 200);
    await claude.close();
    await cursor.close();

    type View = { totals: { calls: number; errors: number }; servers: { server: string; calls: number; errors: number; errorRate: number; tools: { tool: string; calls: number; errors: number; errorRate: number; p50Ms: number; p95Ms: number; series: { calls: number }[]; kinds: { kind: string; count: number }[]; agents: { name: string; version: string; calls: number }[] }[] }[] };
    const view = await until('both gateways reported', 20_000, async () => {
      await flush();
      const r = await http<View>('GET', `${registryUrl}/api/v1/namespaces/public/activity?window=1h`);
      assert.equal(r.status, 200, r.text);
      return r.body.totals.calls === 9 ? r.body : undefined;
    });
    assert.equal(view.totals.errors, 3);
    const weather = view.servers.find((s) => s.server === 'weather')!;
    assert.deepEqual([weather.calls, weather.errors], [9, 3]);
    assert.deepEqual(weather.tools.map((t) => [t.tool, t.calls, t.errors]), [['alerts', 3, 3], ['forecast', 6, 0]], 'the failing tool first');
    const [alerts, forecast] = weather.tools;
    assert.equal(alerts!.errorRate, 1);
    assert.deepEqual(alerts!.kinds, [{ kind: 'backend_status', count: 3 }]);
    assert.ok(forecast!.p50Ms !== null && forecast!.p95Ms >= forecast!.p50Ms);
    assert.equal(forecast!.series.reduce((a, p) => a + p.calls, 0), 6);
    assert.equal(forecast!.series.length, 60);
    assert.deepEqual(forecast!.agents.map((a) => [a.name, a.version, a.calls]), [['claude-code', '2.1.0', 3], ['cursor', '0.9', 2], ['raw', '1', 1]]);

    // The server's page: its last errors, newest first, from both gateways, with nothing secret in them.
    const detail = await http<{ calls: number; lastErrors: { tool: string; kind: string; agent: { name: string }; request: string; answer: string; message: string; gateway: string }[] }>('GET', `${registryUrl}/api/v1/namespaces/public/activity/servers/weather?window=24h`);
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.calls, 9);
    assert.equal(detail.body.lastErrors.length, 3);
    assert.equal(new Set(detail.body.lastErrors.map((e) => e.gateway)).size, 2, 'samples of both replicas');
    for (const e of detail.body.lastErrors) {
      const all = `${e.request} ${e.answer} ${e.message}`;
      assert.equal(e.kind, 'backend_status');
      assert.ok(!all.includes('k-live-abcdef'), `argument named like a secret hidden: ${e.request}`);
      assert.ok(!all.includes(SPEC_SECRET), `the server's secret hidden: ${e.answer}`);
      assert.ok(!all.includes('agent-secret-token-123456'));
      assert.match(e.answer, /upstream weather service down/);
    }
    assert.ok(detail.body.lastErrors.some((e) => e.request.includes('north') && e.agent.name === 'claude-code'));

    const tool = await http<{ tool: string; calls: number; lastErrors: unknown[]; agents: { name: string }[] }>('GET', `${registryUrl}/api/v1/namespaces/public/activity/servers/weather/tools/alerts`);
    assert.equal(tool.status, 200, tool.text);
    assert.deepEqual([tool.body.tool, tool.body.calls, tool.body.lastErrors.length], ['alerts', 3, 3]);
    assert.deepEqual(tool.body.agents.map((a) => a.name), ['claude-code', 'cursor']);
  });

  it('answers 400 naming the field for a bad window, 404 for an unknown namespace, and refuses a bad report', async () => {
    const bad = await http<{ message?: string }>('GET', `${registryUrl}/api/v1/namespaces/public/activity?window=7d`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /window/);
    const extra = await http('GET', `${registryUrl}/api/v1/namespaces/public/activity?window=1h&foo=1`);
    assert.equal(extra.status, 400);
    assert.match(extra.text, /foo/);
    assert.equal((await http('GET', `${registryUrl}/api/v1/namespaces/nope/activity`)).status, 404);
    const minute = Date.now() - (Date.now() % 60_000);
    const bucket = { namespace: 'public', server: 'weather', tool: 'forecast', minute, calls: 1, errors: 0, kinds: {}, latency: new Array(12).fill(0), latencySumMs: 1, agents: [] };
    const notMinute = await http('POST', `${registryUrl}/api/v1/gateways/activity`, { body: { gateway: 'gw-x', buckets: [{ ...bucket, minute: minute + 1 }], errors: [] } });
    assert.equal(notMinute.status, 400);
    assert.match(notMinute.text, /buckets\[0\]\.minute/);
    const tooManyErrors = await http('POST', `${registryUrl}/api/v1/gateways/activity`, { body: { gateway: 'gw-x', buckets: [{ ...bucket, errors: 2 }], errors: [] } });
    assert.equal(tooManyErrors.status, 400);
    assert.match(tooManyErrors.text, /errors/);
    const shortHistogram = await http('POST', `${registryUrl}/api/v1/gateways/activity`, { body: { gateway: 'gw-x', buckets: [{ ...bucket, latency: [1] }], errors: [] } });
    assert.equal(shortHistogram.status, 400);
    const ok = await http('POST', `${registryUrl}/api/v1/gateways/activity`, { body: { gateway: 'gw-x', buckets: [bucket], errors: [] } });
    assert.equal(ok.status, 204, ok.text);
  });
});
