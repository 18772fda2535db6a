// `mcpgate gateway --workers N` as operators run it (docs/operations.md#every-core): the real CLI
// with 2 worker processes on one port, sessions in a private Redis. One 2025 session's requests,
// each on a new connection (the primary hands connections to the workers in turn), all succeed;
// /metrics, whichever worker answers, counts every worker's requests; SIGTERM to the primary drains
// the workers and exits 0. Without Redis, more than one worker is refused at start.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { firstText, freePort, rawPost, waitFor } from './support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from './support/redis.js';
import type { PrivateRedis } from './support/redis.js';

const root = resolve(import.meta.dirname, '..');
const tsx = import.meta.resolve('tsx');

function mcpgate(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output(): string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout?.on('data', (d) => { output += d; });
  child.stderr?.on('data', (d) => { output += d; });
  return { child, output: () => output, exit: new Promise((r) => child.once('exit', (code) => r(code))) };
}

/** A POST on a connection of its own (no keep-alive), so that consecutive requests reach different workers. */
function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return rawPost(url, JSON.stringify(body), headers, true);
}

describe('gateway --workers', { skip: privateRedisUnavailable() }, () => {
  let redis: PrivateRedis;
  let backend: Server;
  let dir = '';

  before(async () => {
    redis = await startPrivateRedis();
    backend = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ city: new URL(req.url ?? '/', 'http://b').searchParams.get('city'), pid: 0 }));
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-workers-'));
    writeFileSync(join(dir, 'weather.yaml'), [
      'server:', '  name: weather', 'tools:', '- name: get_weather', '  description: Weather by city', '  args:',
      '  - {name: city, type: string, required: true, position: query}', '  requestTemplate:',
      `    url: http://127.0.0.1:${(backend.address() as { port: number }).port}/weather`, '    method: GET',
      '  responseTemplate:', '    body: "sunny in {{ .city }}"', '',
    ].join('\n'));
  });
  after(async () => {
    await redis?.stop();
    backend?.closeAllConnections();
    await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves one session across 2 worker processes, gathers their metrics, and drains them on SIGTERM', async () => {
    const port = await freePort();
    const data = mkdtempSync(join(tmpdir(), 'mcpgate-workers-data-'));
    const gw = mcpgate(['gateway', '--workers', '2', '--definitions', dir, '--redis', redis.url, '--gateway-port', String(port), '--host', '127.0.0.1', '--log-level', 'info', '--data-dir', data]);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the gateway ready', async () => (await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200, 90_000, 100);
      // Both workers listen (each logs it with its pid).
      const pids = await waitFor('2 workers listening', () => {
        const found = new Set(gw.output().split('\n').filter((l) => l.includes('"gateway listening"')).map((l) => (JSON.parse(l) as { pid: number }).pid));
        return found.size === 2 ? found : undefined;
      }, 60_000, 100);
      assert.ok(!pids.has(gw.child.pid as number), 'the primary serves nothing itself');

      const url = `${base}/mcp/public/weather`;
      const init = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'w', version: '1' } } }, {});
      assert.equal(init.status, 200, init.text);
      const session = String(init.headers['mcp-session-id']);
      const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
      assert.equal((await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status, 202);
      const CALLS = 20;
      for (let i = 1; i <= CALLS; i++) {
        const r = await post(url, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'get_weather', arguments: { city: `c${i}` } } }, headers);
        assert.equal(r.status, 200, r.text);
        assert.equal(firstText((JSON.parse(r.text) as { result: unknown }).result), `sunny in c${i}`);
      }
      // Every worker's requests, whichever worker answers /metrics.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const posts = [...metrics.matchAll(/^mcpgate_gateway_requests_total\{[^}]*method="POST"[^}]*status="200"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.ok(posts >= CALLS + 1, `the gathered metrics count every worker's POSTs (${posts})`);
      const calls = [...metrics.matchAll(/^mcpgate_tool_calls_total\{[^}]*outcome="ok"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.equal(calls, CALLS, 'tool calls are summed over the workers');
      // Figures both workers read alike are not doubled: one session in Redis, one snapshot, readiness 1.
      const value = (series: string) => {
        const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
        assert.ok(line, `${series} in ${metrics.slice(0, 300)}`);
        return Number(line.slice(series.length + 1));
      };
      assert.equal(value('mcpgate_gateway_open_sessions{role="gateway"}'), 1, 'sessions in Redis: the max, not the sum');
      assert.equal(value('mcpgate_gateway_snapshot_servers{role="gateway"}'), 1);
      assert.equal(value('mcpgate_gateway_ready{check="redis",role="gateway"}'), 1, 'readiness: the min');
      assert.equal(value('mcpgate_gateway_ready{check="snapshot",role="gateway"}'), 1);
      assert.ok(value('mcpgate_gateway_snapshot_age_seconds{role="gateway"}') < 3600, 'snapshot age: the oldest worker\'s');
      const started = value('process_start_time_seconds{role="gateway"}');
      assert.ok(started > 1e9 && started <= Date.now() / 1000, `start time: the earliest worker's (${started})`);

      gw.child.kill('SIGTERM');
      assert.equal(await gw.exit, 0, gw.output());
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), 'the worker exited');
    } finally {
      if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('refuses more than one worker without Redis (sessions in memory are one process\'s own)', async () => {
    const gw = mcpgate(['gateway', '--workers', '2', '--definitions', dir, '--gateway-port', String(await freePort()), '--host', '127.0.0.1']);
    assert.equal(await gw.exit, 2);
    assert.match(gw.output(), /workers: 2 worker processes need redis/);
  });
});
