// RegistrySource against real registries: `mcpgate registry` child processes killed with SIGKILL,
// a dead address first in the list, a restart on the same database, the on-disk cache, auth;
// plus a scripted watch server for resync and silent streams, and the SSE parser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { http } from '../../../test/support/http.js';
import { startRegistry } from '../../../test/support/registry.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { RegistrySource } from './registry.js';
import { deadPort, freePort, waitFor } from '../../../test/support/gateway.js';
import { captureLogger } from '../../../test/support/logs.js';

const root = resolve(import.meta.dirname, '../../..');

/** `mcpgate registry` as operators run it, on `port` and the SQLite database `db`. */
async function spawnRegistry(port: number, db: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [
    '--import', 'tsx', join(root, 'src/cli/main.ts'), 'registry',
    '--host', '127.0.0.1', '--registry-port', String(port), '--db', db, '--auth', 'false', '--log-level', 'warn',
    '--grpc-port', 'off',
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPGATE_ADMIN_PASSWORD: 'admin-password-1', MCPGATE_REVISION_POLL_MS: '100' } });
  let output = '';
  child.stdout?.on('data', (d) => { output += d; });
  child.stderr?.on('data', (d) => { output += d; });
  // Under a loaded CI machine, starting the registry from source under tsx takes well over 15 s.
  for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`registry exited: ${output}`);
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`registry did not start: ${output}`);
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

function definition(description: string, version: string): string {
  return `server:\n  name: weather\n  version: ${version}\ntools:\n  - name: now\n    description: ${description}\n    requestTemplate:\n      url: http://127.0.0.1:1/now\n      method: GET\n`;
}

async function publish(base: string, description: string, version: string, token?: string): Promise<void> {
  const res = await http('POST', `${base}/api/v1/namespaces/public/mcp-servers/import`, {
    body: { format: 'higress', content: definition(description, version), publish: true }, ...(token && { token }),
  });
  assert.ok(res.status === 200 || res.status === 201, `import answered ${res.status}: ${res.text}`);
}

function descriptionOf(s: RegistrySnapshot | undefined): string | undefined {
  return s?.mcpServers.find((m) => m.server.name === 'weather')?.spec.tools[0]?.description;
}

describe('RegistrySource', () => {
  it('fails over past a dead registry, keeps its snapshot while none answers, catches up after a restart, and starts from its cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-regsrc-'));
    const db = `sqlite:${join(dir, 'registry.db')}`;
    const cacheFile = join(dir, 'cache', 'snapshot.json');
    const livePort = await freePort();
    const live = `http://127.0.0.1:${livePort}`;
    const deadServer = await deadPort();
    const dead = `http://127.0.0.1:${deadServer.port}`;
    const { logger, lines } = captureLogger();
    let child: ChildProcess | undefined;
    const source = new RegistrySource({ urls: [dead, `${live}/`], cacheFile, logger, retryDelayMs: 100, maxRetryDelayMs: 400, requestTimeoutMs: 2000 });
    const seen: RegistrySnapshot[] = [];
    try {
      child = await spawnRegistry(livePort, db);
      await publish(live, 'sunny', '1.0.0');
      await source.start((s) => seen.push(s));
      assert.equal(seen.length, 1);
      assert.equal(descriptionOf(seen[0]), 'sunny');
      await waitFor('the watch stream', () => source.status().connected, 30_000, 10);
      assert.deepEqual({ ...source.status(), lastError: undefined }, { connected: true, registry: live, revision: seen[0]!.revision, lastError: undefined });
      assert.equal(source.describe(), `registry ${live}`);
      assert.ok(lines.some((l) => l['registry'] === dead && l['msg'] === 'cannot follow the registry'), 'the dead registry is logged');

      await publish(live, 'rainy', '1.0.1');
      await waitFor('the change', () => descriptionOf(seen.at(-1)) === 'rainy', 30_000, 10);
      await waitFor('the cache file', () => existsSync(cacheFile) && (JSON.parse(readFileSync(cacheFile, 'utf8')) as { snapshot: RegistrySnapshot }).snapshot.revision === seen.at(-1)!.revision, 30_000, 10);

      await kill9(child);
      await waitFor('the disconnection', () => !source.status().connected, 30_000, 10);
      const delivered = seen.length;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(seen.length, delivered, 'nothing is delivered while every registry is down');
      assert.match(source.status().lastError ?? '', /127\.0\.0\.1/);
      assert.match(source.describe(), /not connected/);

      // A write made while the source is disconnected, by another registry node on the same database.
      const other = await startRegistry({ db });
      await publish(other.url, 'stormy', '1.0.2');
      await other.close();

      child = await spawnRegistry(livePort, db);
      await waitFor('the catch-up after the restart', () => descriptionOf(seen.at(-1)) === 'stormy', 30_000, 10);
      await waitFor('the reconnection', () => source.status().connected, 30_000, 10);
      assert.equal(source.status().registry, live);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision, 'revisions only increase');
    } catch (err) {
      await deadServer.close();
      throw err;
    } finally {
      await source.stop();
      if (child) await kill9(child);
    }
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { snapshot: RegistrySnapshot; registry: string };
    assert.equal(descriptionOf(cached.snapshot), 'stormy');
    assert.equal(cached.snapshot.revision, seen.at(-1)!.revision);

    // A gateway restarted while every registry is down serves its cached snapshot once the start timeout is over.
    const restarted = new RegistrySource({ urls: [dead, live], cacheFile, logger, retryDelayMs: 100, startTimeoutMs: 1000 });
    const again: RegistrySnapshot[] = [];
    const t0 = Date.now();
    await restarted.start((s) => again.push(s));
    const elapsed = Date.now() - t0;
    try {
      assert.ok(elapsed >= 900, `start waited for the registries (${elapsed} ms)`);
      assert.equal(again.length, 1);
      assert.deepEqual(again[0], cached.snapshot);
      assert.deepEqual({ ...restarted.status(), lastError: undefined }, { connected: false, revision: cached.snapshot.revision, lastError: undefined });
      assert.match(restarted.describe(), /^cached snapshot .*snapshot\.json at revision \d+/);
    } finally {
      await restarted.stop();
      await deadServer.close();
    }
  });

  it('reads the watch API with an API token, and reports a refused one', async () => {
    const reg = await startRegistry({ auth: true, adminPassword: 'admin-secret-1' });
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-regsrc-'));
    const { logger } = captureLogger();
    try {
      const login = await http('POST', `${reg.url}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-secret-1' } });
      const created = await http('POST', `${reg.url}/api/v1/tokens`, { body: { name: 'gateway' }, token: login.body.accessToken as string });
      assert.equal(created.status, 201);
      const token = created.body.token as string;
      await publish(reg.url, 'with auth', '1.0.0', token);

      const source = new RegistrySource({ urls: [reg.url], token, cacheFile: join(dir, 'a.json'), logger, retryDelayMs: 50 });
      const seen: RegistrySnapshot[] = [];
      await source.start((s) => seen.push(s));
      try {
        assert.equal(descriptionOf(seen[0]), 'with auth');
        await publish(reg.url, 'still with auth', '1.0.1', token);
        await waitFor('the change', () => descriptionOf(seen.at(-1)) === 'still with auth', 30_000, 10);
      } finally {
        await source.stop();
      }

      const refused = new RegistrySource({ urls: [reg.url], token: 'not-a-token', cacheFile: join(dir, 'b.json'), logger, retryDelayMs: 50, startTimeoutMs: 200 });
      const none: RegistrySnapshot[] = [];
      const starting = refused.start((s) => none.push(s));
      await waitFor('the 401', () => /HTTP 401/.test(refused.status().lastError ?? ''), 30_000, 10);
      await refused.stop();
      await starting;
      assert.equal(none.length, 0, 'nothing is delivered without a cache');
    } finally {
      await reg.close();
    }
  });

  it('reloads on resync, drops a silent stream, and coalesces change events into one read at a time', async () => {
    let revision = 5;
    let snapshotReads = 0;
    let readsInFlight = 0;
    let maxReadsInFlight = 0;
    let streams = 0;
    const open = new Set<ServerResponse>();
    let onStream: (res: ServerResponse) => void = () => undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1/watch/snapshot') {
        snapshotReads++;
        maxReadsInFlight = Math.max(maxReadsInFlight, ++readsInFlight);
        const body = JSON.stringify({ revision, namespaces: ['public'], services: [], mcpServers: [], consumers: [] });
        setTimeout(() => { readsInFlight--; res.writeHead(200, { 'content-type': 'application/json' }).end(body); }, 30);
        return;
      }
      if (url.pathname === '/api/v1/watch/changes') {
        streams++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': hello\n\n');
        open.add(res);
        res.on('close', () => open.delete(res));
        onStream(res);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-regsrc-'));
    const { logger } = captureLogger();
    const source = new RegistrySource({ urls: [base], cacheFile: join(dir, 'c.json'), logger, retryDelayMs: 20, idleTimeoutMs: 800 });
    const seen: number[] = [];
    try {
      await source.start((s) => seen.push(s.revision));
      await waitFor('the stream', () => open.size === 1, 30_000, 10);
      const stream = [...open][0]!;

      revision = 9;
      stream.write('event: resync\nid: 9\ndata: {"revision":9}\n\n');
      await waitFor('the resync', () => seen.at(-1) === 9, 30_000, 10);

      const readsBefore = snapshotReads;
      for (let r = 10; r <= 30; r++) {
        revision = r;
        stream.write(`event: changes\nid: ${r}\ndata: {"revision":${r},"changes":[]}\n\n`);
      }
      await waitFor('the burst', () => seen.at(-1) === 30, 30_000, 10);
      assert.equal(maxReadsInFlight, 1);
      assert.ok(snapshotReads - readsBefore <= 3, `${snapshotReads - readsBefore} reads for 21 events`);
      stream.write('event: changes\nid: 30\ndata: {"revision":30,"changes":[]}\n\n');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(seen.at(-1), 30, 'an event at the delivered revision reads nothing');
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));

      // A stream that stays silent past idleTimeoutMs is dropped and opened again (after the last revision).
      let reconnectedAfter = '';
      onStream = (res) => { reconnectedAfter = res.req.url ?? ''; };
      const streamsBefore = streams;
      await waitFor('the reconnection', () => streams > streamsBefore, 30_000, 10);
      assert.match(reconnectedAfter, /after=30/);
    } finally {
      await source.stop();
      for (const res of open) res.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
