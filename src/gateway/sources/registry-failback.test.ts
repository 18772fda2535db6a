// Gateways spread over two real registry nodes sharing one PostgreSQL database, fail over when
// their registry is killed (-9), and move back once it is restarted, missing no change; the
// console API of either node lists every gateway with the node it follows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { databaseKinds } from '../../../test/support/databases.js';
import type { TestDatabase } from '../../../test/support/databases.js';
import { freePort, waitFor } from '../../../test/support/gateway.js';
import { http } from '../../../test/support/http.js';
import type { RegistrySnapshot } from '../../model/snapshot.js';
import { RegistrySource, registryOrder } from './registry.js';

const root = resolve(import.meta.dirname, '../../..');
const postgres = (await databaseKinds()).find((k) => k.kind === 'postgres')!;

/** `mcpgate registry` as operators run it (auth off), on `port` and the database `db`. */
class RegistryProcess {
  private child: ChildProcess | undefined;
  output = '';
  readonly url: string;
  constructor(readonly port: number, private readonly db: string) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [
      '--import', 'tsx', join(root, 'src/cli/main.ts'), 'registry',
      '--host', '127.0.0.1', '--registry-port', String(this.port), '--db', this.db, '--auth', 'false', '--log-level', 'warn', '--grpc-port', 'off',
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPGATE_ADMIN_PASSWORD: 'admin-password-1', MCPGATE_NODE_HEARTBEAT_MS: '1000' } });
    this.child = child;
    child.stdout?.on('data', (d) => { this.output += d; });
    child.stderr?.on('data', (d) => { this.output += d; });
    await waitFor(`registry on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`registry exited: ${this.output}`);
      return fetch(`${this.url}/readyz`).then((r) => r.ok || undefined, () => undefined);
    }, 60_000, 100);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

async function publish(base: string, description: string, version: string): Promise<void> {
  const content = `server:\n  name: weather\n  version: ${version}\ntools:\n  - name: now\n    description: ${description}\n    requestTemplate:\n      url: http://127.0.0.1:1/now\n      method: GET\n`;
  const res = await http('POST', `${base}/api/v1/namespaces/public/mcp-servers/import`, { body: { format: 'higress', content, publish: true } });
  assert.ok(res.status === 200 || res.status === 201, `import answered ${res.status}: ${res.text}`);
}

const descriptionOf = (s: RegistrySnapshot | undefined) => s?.mcpServers.find((m) => m.server.name === 'weather')?.spec.tools[0]?.description;

describe('RegistrySource spreads gateways over registries and fails back', { skip: postgres.unavailable }, () => {
  let db: TestDatabase;
  const registries: RegistryProcess[] = [];
  const sources: { id: string; source: RegistrySource; seen: RegistrySnapshot[] }[] = [];

  before(async () => {
    db = await postgres.create();
    for (let i = 0; i < 2; i++) registries.push(new RegistryProcess(await freePort(), db.url));
    // Both start on the one database (the second applies no migration twice).
    for (const r of registries) await r.start();
  });
  after(async () => {
    for (const s of sources) await s.source.stop();
    for (const r of registries) await r.kill();
    await db?.drop();
  });

  it('each gateway follows the registry its id prefers; those of a killed registry move and come back after its restart', async () => {
    const [a, b] = registries as [RegistryProcess, RegistryProcess];
    const urls = [a.url, b.url];
    // Two gateway ids preferring each registry (rendezvous hashing is stable per id).
    const ids: string[] = [];
    for (const want of urls) {
      for (let i = 0, found = 0; found < 2; i++) if (registryOrder(urls, `gw-${i}`)[0] === want && !ids.includes(`gw-${i}`)) { ids.push(`gw-${i}`); found++; }
    }
    await publish(a.url, 'sunny', '1.0.0');
    const dir = mkdtempSync(join(tmpdir(), 'mcpgate-failback-'));
    const logger = pino({ level: process.env.MCPGATE_TEST_LOG ? 'debug' : 'silent' });
    for (const id of ids) {
      const seen: RegistrySnapshot[] = [];
      const source = new RegistrySource({
        urls, cacheFile: join(dir, `${id}.json`), logger, gatewayId: id, retryDelayMs: 100, maxRetryDelayMs: 400, requestTimeoutMs: 2000,
        report: () => ({ sessions: 0, version: 'test' }), reportEveryMs: 200, failbackDelayMs: 300, maxFailbackDelayMs: 1000,
      });
      sources.push({ id, source, seen });
      await source.start((s) => seen.push(s));
    }
    const following = () => Object.fromEntries(sources.map((s) => [s.id, s.source.status().registry]));
    const preferred = Object.fromEntries(sources.map((s) => [s.id, s.source.status().preferred]));
    assert.deepEqual(Object.values(preferred).sort(), [a.url, a.url, b.url, b.url].sort(), 'two gateways prefer each registry');
    await waitFor('every gateway on its preferred registry', () => JSON.stringify(following()) === JSON.stringify(preferred) || undefined, 30_000, 20);

    // The console API of either node lists every gateway, with the node it follows.
    const listed = async (base: string) => {
      const r = await http('GET', `${base}/api/v1/gateways`);
      assert.equal(r.status, 200, r.text);
      return new Map((r.body.items as { id: string; state: string; nodeAddress?: string }[]).map((g) => [g.id, g]));
    };
    const nodeOf = (url: string) => new URL(url).host;
    for (const base of urls) {
      await waitFor(`${base} lists every gateway on its node, connected`, async () => {
        const items = await listed(base);
        return ids.every((id) => items.get(id)?.state === 'connected' && items.get(id)?.nodeAddress === nodeOf(preferred[id]!)) || undefined;
      }, 30_000, 100);
    }

    // Registry a dies: its gateways move to b and get the change published meanwhile.
    await a.kill();
    await waitFor('every gateway on b', () => sources.every((s) => s.source.status().registry === b.url) || undefined, 30_000, 20);
    await publish(b.url, 'rainy', '1.0.1');
    await waitFor('the change on every gateway', () => sources.every((s) => descriptionOf(s.seen.at(-1)) === 'rainy') || undefined, 30_000, 20);
    await waitFor('b lists every gateway on b', async () => {
      const items = await listed(b.url);
      return ids.every((id) => items.get(id)?.state === 'connected' && items.get(id)?.nodeAddress === nodeOf(b.url)) || undefined;
    }, 30_000, 100);

    // Registry a is back: its gateways move back (and miss no change made while they do).
    await a.start();
    await publish(b.url, 'stormy', '1.0.2');
    await waitFor('every gateway back on its preferred registry', () => JSON.stringify(following()) === JSON.stringify(preferred) || undefined, 30_000, 20);
    await publish(a.url, 'windy', '1.0.3');
    await waitFor('the changes on every gateway', () => sources.every((s) => descriptionOf(s.seen.at(-1)) === 'windy') || undefined, 30_000, 20);
    for (const s of sources) {
      const descriptions = s.seen.map(descriptionOf);
      assert.ok(descriptions.includes('stormy') || descriptions.at(-1) === 'windy', `${s.id} saw the changes`);
      for (let i = 1; i < s.seen.length; i++) assert.ok(s.seen[i]!.revision > s.seen[i - 1]!.revision, `${s.id}: revisions only increase`);
    }
    for (const base of urls) {
      await waitFor(`${base} lists every gateway back on its node`, async () => {
        const items = await listed(base);
        return ids.every((id) => items.get(id)?.state === 'connected' && items.get(id)?.nodeAddress === nodeOf(preferred[id]!)) || undefined;
      }, 30_000, 100);
    }
  });
});
