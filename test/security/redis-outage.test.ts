// Issue 10, finding 2: a legacy SSE client disconnecting while Redis was unreachable killed the
// gateway (an unhandled rejection of the session delete). Here a real `mcpgate gateway` process on
// a private Redis serves clients of all three eras; Redis is killed; the legacy SSE clients go
// away and the others call. The process lives, answers 503 with Retry-After where session state is
// needed, serves 2026-07-28 stateless calls all along, logs no unhandled rejection, and recovers
// when Redis is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { firstText, freePort, legacyPost, legacySession, mcpPost, modernPost, openSse, waitFor } from '../support/gateway.js';
import type { SseStream } from '../support/gateway.js';
import { privateRedisUnavailable, startPrivateRedis } from '../support/redis.js';
import type { PrivateRedis } from '../support/redis.js';
import { startBackend } from '../support/stack.js';

const root = resolve(import.meta.dirname, '../..');
const tsx = import.meta.resolve('tsx');
const unavailable = privateRedisUnavailable();

describe('the gateway while Redis is down (finding 2)', { skip: unavailable }, () => {
  let redis: PrivateRedis;
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let url: string;

  before(async () => {
    redis = await startPrivateRedis();
    backend = await startBackend((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"answer":42}');
    });
    dir = mkdtempSync(join(tmpdir(), 'mcpgate-outage-'));
    const defs = join(dir, 'defs');
    mkdirSync(defs);
    writeFileSync(join(defs, 'calc.yaml'), [
      'server:', '  name: calc', 'tools:', '- name: answer', '  description: the answer', '  requestTemplate:',
      `    url: ${backend.url}/answer`, '    method: GET', '  responseTemplate:', '    body: "answer {{.answer}}"', '',
    ].join('\n'));
    const port = await freePort();
    child = spawn(process.execPath, [
      '--import', tsx, join(root, 'src/cli/main.ts'), 'gateway', '--definitions', defs, '--redis', redis.url,
      '--host', '127.0.0.1', '--gateway-port', String(port), '--data-dir', dir, '--log-level', 'info',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => { output += d; });
    child.stderr?.on('data', (d) => { output += d; });
    url = `http://127.0.0.1:${port}/mcp/public/calc`;
    await waitFor('the gateway process serving', async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output}`);
      return (await modernPost(url, 1, 'tools/list').catch(() => undefined))?.status === 200;
    }, 30_000, 100);
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await backend?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'answer', arguments: {} } });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const logged = (msg: string) => output.split('\n').filter((l) => l.includes(msg)).length;

  it('lives through the outage, answers 503 with Retry-After for session state, serves stateless calls, and recovers', async () => {
    // Clients of every era, working.
    const streams: SseStream[] = [];
    for (let i = 0; i < 5; i++) streams.push(await openSse(`${url}/sse`));
    const endpoints = await Promise.all(streams.map(async (s) => new URL((await s.next((e) => e.event === 'endpoint')).data, url).toString()));
    assert.equal((await mcpPost(endpoints[0] as string, call(1))).status, 202);
    assert.equal(firstText(JSON.parse((await (streams[0] as SseStream).next((e) => e.event === 'message')).data).result), 'answer 42');
    const session = await legacySession(url);
    assert.equal((await legacyPost(url, session, 1, 'tools/call', { name: 'answer', arguments: {} })).status, 200);

    await redis.kill();

    // The legacy SSE clients go away: their sessions cannot be deleted now.
    for (const s of streams) s.close();
    await waitFor('the gateway tried to end the closed streams\' sessions', () => logged('could not delete the session of a closed legacy SSE stream') === 5, 10_000);

    // Session state needed: 503 with Retry-After, in every era that has sessions.
    const inSession = await legacyPost(url, session, 2, 'tools/call', { name: 'answer', arguments: {} });
    assert.equal(inSession.status, 503);
    assert.ok(inSession.headers.get('retry-after'));
    assert.match(inSession.body.error.message, /Service Unavailable: session store \(Redis\) unavailable/);
    const init = await mcpPost(url, { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    assert.equal(init.status, 503);
    assert.ok(init.headers.get('retry-after'));
    const sse = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 503);
    assert.ok(sse.headers.get('retry-after'));
    await sse.body?.cancel();
    const message = await mcpPost(endpoints[1] as string, call(4));
    assert.equal(message.status, 503);

    // Stateless 2026-07-28 calls need no session state.
    const stateless = await modernPost(url, 5, 'tools/call', { name: 'answer', arguments: {} });
    assert.equal(stateless.status, 200);
    assert.equal(firstText(stateless.body.result), 'answer 42');
    assert.ok(alive(), `the process lives:\n${output}`);

    await redis.start();
    // Redis came back empty: old sessions are gone (404: clients initialize again); new ones work.
    const again = await waitFor('sessions work again', () => legacySession(url).catch(() => undefined), 15_000, 100);
    assert.equal(firstText((await legacyPost(url, again, 1, 'tools/call', { name: 'answer', arguments: {} })).body.result), 'answer 42');
    assert.equal((await legacyPost(url, session, 6, 'tools/list')).status, 404);
    const stream = await waitFor('legacy SSE works again', async () => {
      const s = await openSse(`${url}/sse`);
      if (s.status === 200) return s;
      s.close();
      return undefined;
    }, 15_000, 100);
    try {
      const endpoint = new URL((await stream.next((e) => e.event === 'endpoint')).data, url).toString();
      assert.equal((await mcpPost(endpoint, call(7))).status, 202);
      assert.equal(firstText(JSON.parse((await stream.next((e) => e.event === 'message')).data).result), 'answer 42');
    } finally {
      stream.close();
    }

    assert.ok(alive(), `the process lives:\n${output}`);
    assert.equal(logged('unhandled promise rejection'), 0, `no unhandled rejection was logged:\n${output}`);
    assert.ok(logged('Redis connection restored') > 0);
    // And it still stops cleanly.
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
