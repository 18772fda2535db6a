// A registry cluster: two `mcpgate registry` child processes on one PostgreSQL database, and
// two on one MariaDB/MySQL database. Writes through either node reach the other node and its
// watchers (pushed by PostgreSQL); one node leads the singleton jobs (ephemeral expiry), and when
// it hangs (SIGSTOP) or is killed (SIGKILL) the other takes over. Delays are reported as test
// diagnostics and measured in bench/cluster, never asserted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseKinds } from './support/databases.js';
import type { TestDatabase } from './support/databases.js';
import { http } from './support/http.js';
import { NacosGrpcTestClient } from './support/nacos-grpc.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = import.meta.resolve('tsx');
/** The leader lock TTL the nodes run with (default 10 s; shorter here to keep the test quick). */
const TTL_MS = 4000;
const HEARTBEAT_MS = 500;

interface ClusterView {
  node: string;
  changes: 'push' | 'poll';
  revision: number;
  leader: { node: string; acquiredAt: number; expiresAt: number; expired: boolean } | null;
  nodes: { id: string; address: string; alive: boolean; leader: boolean; self: boolean; revision: number; roles: string[] }[];
}

/** One `mcpgate registry` child process. */
class RegistryNode {
  readonly output: string[] = [];
  exited = false;
  constructor(readonly proc: ChildProcess, readonly port: number, readonly grpcPort: number) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > 300) this.output.splice(0, this.output.length - 300);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', () => { this.exited = true; });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async cluster(): Promise<ClusterView> {
    const r = await http<ClusterView>('GET', `${this.url}/api/v1/cluster`);
    assert.equal(r.status, 200, r.text);
    return r.body;
  }

  /** The last lines this node logged, for failure messages. */
  tail(n = 25): string {
    return this.output.slice(-n).join('\n');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill(signal);
    await exited;
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function startNode(db: string, env: Record<string, string>): Promise<RegistryNode> {
  const port = await freePort();
  const grpcPort = await freePort();
  const proc = spawn(process.execPath, [
    '--import', TSX, 'src/cli/main.ts', 'registry', '--host', '127.0.0.1', '--registry-port', String(port), '--grpc-port', String(grpcPort),
    '--db', db, '--auth', 'false',
  ], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, MCPGATE_ADMIN_PASSWORD: 'admin-password-1', MCPGATE_LOG_LEVEL: 'info',
      MCPGATE_LEADER_LOCK_TTL_MS: String(TTL_MS), MCPGATE_NODE_HEARTBEAT_MS: String(HEARTBEAT_MS), ...env,
    },
  });
  const node = new RegistryNode(proc, port, grpcPort);
  const t0 = Date.now();
  for (;;) {
    if (node.exited) throw new Error(`registry node exited at start:\n${node.tail()}`);
    const ok = await fetch(`${node.url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return node;
    if (Date.now() - t0 > 90_000) {
      await node.kill();
      throw new Error(`registry node not ready within 90 s:\n${node.tail()}`);
    }
    await sleep(100);
  }
}

/** Poll `check` every `everyMs` until it answers a value; resolves it and the time taken. */
async function waitFor<T>(what: string, limitMs: number, check: () => Promise<T | undefined>, everyMs = 20): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return { value, ms: performance.now() - t0 };
    } catch (err) {
      lastError = err;
    }
    if (performance.now() - t0 > limitMs) {
      throw new Error(`timed out after ${limitMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

/** An SSE watch of /api/v1/watch/changes on one node, recording when each change arrives. */
class Watcher {
  readonly arrivals: { revision: number; entityId: string; at: number }[] = [];
  private readonly abort = new AbortController();
  readonly opened: Promise<void>;

  constructor(url: string, after: number) {
    this.opened = this.run(url, after);
    this.opened.catch(() => undefined);
  }

  private async run(url: string, after: number): Promise<void> {
    const res = await fetch(`${url}/api/v1/watch/changes?after=${after}`, { headers: { accept: 'text/event-stream' }, signal: this.abort.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event.split('\n').find((l) => l.startsWith('data: '));
            if (!event.includes('event: changes') || !data) continue;
            const batch = JSON.parse(data.slice(6)) as { changes: { revision: number; entityId: string }[] };
            const at = performance.now();
            for (const c of batch.changes) this.arrivals.push({ revision: c.revision, entityId: c.entityId, at });
          }
        }
      } catch { /* aborted */ }
    })();
  }

  close(): void {
    this.abort.abort();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 0.5).toFixed(1)} ms, p90 ${pct(s, 0.9).toFixed(1)} ms, max ${pct(s, 1).toFixed(1)} ms over ${s.length}`;
};

/** The single leader both views agree on, when they do. */
function agreedLeader(views: ClusterView[], expectNodes: number): string | undefined {
  const leaders = views.map((v) => {
    const alive = v.nodes.filter((n) => n.alive);
    const lead = alive.filter((n) => n.leader);
    return alive.length === expectNodes && lead.length === 1 ? lead[0]!.id : undefined;
  });
  return leaders.every((l) => l !== undefined && l === leaders[0]) ? leaders[0] : undefined;
}

for (const kind of await databaseKinds()) {
  const skip = kind.unavailable ?? (kind.kind === 'sqlite' ? 'SQLite serves one node' : undefined);
  describe(`registry cluster of two processes on ${kind.kind}`, { skip, timeout: 300_000 }, () => {
    let db: TestDatabase;
    const nodes: RegistryNode[] = [];
    let n1: RegistryNode;
    let n2: RegistryNode;
    // On PostgreSQL the nodes poll only every hour: what arrives during the test came by LISTEN/NOTIFY.
    // MariaDB/MySQL cannot push: the nodes keep the default 500 ms polling.
    const env: Record<string, string> = kind.kind === 'postgres' ? { MCPGATE_REVISION_POLL_MS: '3600000' } : {};

    before(async () => {
      db = await kind.create();
      // Both start at once on the fresh database: concurrent migrations, concurrent bootstrap.
      const started = await Promise.allSettled([startNode(db.url, env), startNode(db.url, env)]);
      for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      [n1, n2] = nodes as [RegistryNode, RegistryNode];
    });
    after(async () => {
      for (const n of nodes) if (!n.exited) n.proc.kill('SIGCONT');
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await db?.drop();
    });

    async function api(node: RegistryNode, method: string, path: string, body?: unknown) {
      return http(method, `${node.url}/api/v1${path}`, body === undefined ? {} : { body });
    }

    it('lists both nodes in /api/v1/cluster on either node, with exactly one leader', async () => {
      const { value: leader } = await waitFor('both nodes alive and one leader', 30_000,
        async () => agreedLeader(await Promise.all([n1.cluster(), n2.cluster()]), 2), 100);
      const [v1, v2] = await Promise.all([n1.cluster(), n2.cluster()]);
      assert.notEqual(v1.node, v2.node);
      assert.deepEqual(v1.nodes.filter((n) => n.self).map((n) => n.id), [v1.node]);
      assert.deepEqual(v2.nodes.filter((n) => n.self).map((n) => n.id), [v2.node]);
      assert.deepEqual(v1.nodes.map((n) => n.address).sort(), [`127.0.0.1:${n1.port}`, `127.0.0.1:${n2.port}`].sort());
      assert.deepEqual(v1.nodes.map((n) => n.roles), [['registry'], ['registry']]);
      assert.equal(v1.leader?.node, leader);
      assert.equal(v1.changes, kind.kind === 'postgres' ? 'push' : 'poll');
    });

    it('shows a write through either node on the other, and to the other\'s watchers (pushed on PostgreSQL)', async (t) => {
      const visible: number[] = [];
      const watched: number[] = [];
      const snapshot = await http<{ revision: number }>('GET', `${n2.url}/api/v1/watch/snapshot`);
      const watchers = new Map([[n1, new Watcher(n1.url, snapshot.body.revision)], [n2, new Watcher(n2.url, snapshot.body.revision)]]);
      try {
        await Promise.all([...watchers.values()].map((w) => w.opened));
        for (let i = 0; i < 20; i += 1) {
          // At a random moment, so that the figures are not locked to the other node's polling phase.
          await sleep(Math.random() * 500);
          const [from, to] = i % 2 === 0 ? [n1, n2] : [n2, n1];
          const name = `orders-${i}`;
          const t0 = performance.now();
          const created = await api(from, 'POST', '/namespaces/public/services', { name });
          assert.equal(created.status, 201, created.text);
          await waitFor(`${name} through the other node`, 30_000, async () => {
            const r = await api(to, 'GET', `/namespaces/public/services/DEFAULT_GROUP/${name}`);
            return r.status === 200 ? true : undefined;
          }, 5);
          visible.push(performance.now() - t0);
          const arrival = await waitFor(`${name} on a watcher of the other node`, 30_000, async () =>
            watchers.get(to)!.arrivals.find((a) => a.entityId === `DEFAULT_GROUP@@${name}`), 5);
          watched.push(arrival.value.at - t0);
        }
      } finally {
        for (const w of watchers.values()) w.close();
      }
      t.diagnostic(`${kind.kind}: start of a write through one node → readable through the other: ${fmt(visible)}`);
      t.diagnostic(`${kind.kind}: start of a write through one node → SSE event on a watcher of the other (${kind.kind === 'postgres' ? 'LISTEN/NOTIFY, polling hourly' : 'polling 500 ms'}): ${fmt(watched)}`);
    });

    /** Register an ephemeral instance that expires fast, and never beat for it. */
    async function registerShortLived(through: RegistryNode, ip: string): Promise<void> {
      const r = await api(through, 'POST', '/namespaces/public/services/DEFAULT_GROUP/short-lived/instances', {
        ip, port: 8080, ephemeral: true, metadata: { 'preserved.heart.beat.timeout': '1500', 'preserved.ip.delete.timeout': '3000' },
      });
      assert.equal(r.status, 201, r.text);
    }

    async function instanceState(through: RegistryNode, ip: string): Promise<'healthy' | 'unhealthy' | 'gone'> {
      const r = await http<{ items: { ip: string; healthy: boolean }[] }>('GET', `${through.url}/api/v1/namespaces/public/services/DEFAULT_GROUP/short-lived/instances`);
      const i = r.body.items.find((x) => x.ip === ip);
      return !i ? 'gone' : i.healthy ? 'healthy' : 'unhealthy';
    }

    it('expires an ephemeral instance that stopped beating, on whichever node leads', async (t) => {
      const t0 = performance.now();
      await registerShortLived(n2, '10.7.0.1');
      assert.equal(await instanceState(n1, '10.7.0.1'), 'healthy');
      await waitFor('the instance turned unhealthy', 30_000, async () => ((await instanceState(n1, '10.7.0.1')) === 'unhealthy' ? true : undefined), 50);
      const unhealthyAt = performance.now() - t0;
      await waitFor('the instance removed', 30_000, async () => ((await instanceState(n2, '10.7.0.1')) === 'gone' ? true : undefined), 50);
      const goneAt = performance.now() - t0;
      t.diagnostic(`unhealthy after ${unhealthyAt.toFixed(0)} ms (beat timeout 1500), removed after ${goneAt.toFixed(0)} ms (delete timeout 3000)`);
      assert.ok(unhealthyAt >= 1400 && unhealthyAt < 3000, `unhealthy at ${unhealthyAt.toFixed(0)} ms`);
      assert.ok(goneAt >= 2900 && goneAt < 5000, `removed at ${goneAt.toFixed(0)} ms`);
    });

    it('fences off a hung leader (SIGSTOP) once its lease runs out; it steps down when it resumes', async (t) => {
      const leaderId = agreedLeader(await Promise.all([n1.cluster(), n2.cluster()]), 2);
      assert.ok(leaderId);
      const [leader, other] = (await n1.cluster()).node === leaderId ? [n1, n2] : [n2, n1];
      leader.proc.kill('SIGSTOP');
      try {
        // Its last lease (a renewal still in flight can only make it end later).
        const hung = (await other.cluster()).leader;
        assert.equal(hung?.node, leaderId);
        const { ms, value: taken } = await waitFor('the other node to lead', 30_000, async () => {
          const v = await other.cluster();
          return v.nodes.find((n) => n.self)?.leader && v.leader?.node === v.node ? v.leader : undefined;
        }, 100);
        t.diagnostic(`hung leader replaced after ${ms.toFixed(0)} ms (TTL ${TTL_MS} ms)`);
        // By the database's clock: no take-over before the hung leader's lease ran out.
        assert.ok(hung && taken.acquiredAt >= hung.expiresAt, 'no take-over before the lease ran out');
        // While the old leader is stopped, the new one does the expiry.
        await registerShortLived(other, '10.7.0.2');
        await waitFor('expiry by the new leader', 30_000, async () => ((await instanceState(other, '10.7.0.2')) === 'gone' ? true : undefined), 100);
      } finally {
        leader.proc.kill('SIGCONT');
      }
      const { value: agreed } = await waitFor('both nodes alive again, agreeing on one leader', 30_000,
        async () => agreedLeader(await Promise.all([n1.cluster(), n2.cluster()]), 2), 100);
      assert.equal(agreed, (await other.cluster()).node, 'the resumed node did not take leadership back');
      assert.ok(leader.output.some((l) => l.includes('no longer the leader')), `the resumed node logged that it stepped down:\n${leader.tail()}`);
    });

    it('moves leadership to the survivor before the TTL runs out when the leader is killed -9; expiry and writes go on', async (t) => {
      const leaderId = agreedLeader(await Promise.all([n1.cluster(), n2.cluster()]), 2);
      assert.ok(leaderId);
      const [leader, survivor] = (await n1.cluster()).node === leaderId ? [n1, n2] : [n2, n1];
      await registerShortLived(survivor, '10.7.0.3');
      // An ephemeral instance held by a gRPC connection of the node about to die (default timeouts: 15 s, 30 s), kept
      // alive by that node's lease: it must go once the lease is no longer renewed.
      const grpcClient = new NacosGrpcTestClient(leader.grpcPort);
      t.after(() => grpcClient.close());
      await grpcClient.connect();
      const held = await grpcClient.request('InstanceRequest', {
        namespace: 'public', serviceName: 'grpc-held', groupName: 'DEFAULT_GROUP', type: 'registerInstance',
        instance: { ip: '10.7.1.1', port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {} },
      });
      assert.equal(held.body['resultCode'], 200, JSON.stringify(held.body));
      const grpcHeld = async () => {
        const r = await http<{ items: { ip: string; healthy: boolean }[] }>('GET', `${survivor.url}/api/v1/namespaces/public/services/DEFAULT_GROUP/grpc-held/instances`);
        return r.body.items.find((x) => x.ip === '10.7.1.1');
      };
      assert.equal((await grpcHeld())?.healthy, true);
      const deadLease = (await survivor.cluster()).leader;
      assert.equal(deadLease?.node, leaderId);
      const t0 = performance.now();
      await leader.kill('SIGKILL');
      const { ms, value: newLease } = await waitFor('the survivor to lead', 30_000, async () => {
        const v = await survivor.cluster();
        return v.nodes.find((n) => n.self)?.leader && v.leader?.node === v.node ? v.leader : undefined;
      }, 50);
      t.diagnostic(`killed leader replaced after ${ms.toFixed(0)} ms (TTL ${TTL_MS} ms; lock polled every 1 s)`);
      // The lock went with the killed leader's connection: the survivor took it without fencing anyone.
      assert.ok(deadLease && newLease.node !== deadLease.node);
      assert.ok(!survivor.output.some((l) => l.includes('lease ran out')), `taken over without fencing:\n${survivor.tail()}`);

      const dead = await waitFor('the killed node shown as not alive', 30_000, async () => {
        const v = await survivor.cluster();
        const gone = v.nodes.find((n) => n.id === leaderId);
        return gone && !gone.alive && !gone.leader ? v : undefined;
      }, 100);
      assert.equal(dead.value.nodes.length, 2, 'a dead node stays listed (not alive) until pruned');

      await waitFor('expiry after the hand-over', 30_000, async () => ((await instanceState(survivor, '10.7.0.3')) === 'gone' ? true : undefined), 100);
      t.diagnostic(`instance registered before the kill expired ${(performance.now() - t0).toFixed(0)} ms after it`);
      await waitFor('the killed node\'s gRPC-held instance removed', 60_000, async () => ((await grpcHeld()) === undefined ? true : undefined), 200);
      t.diagnostic(`the killed node's gRPC-held instance removed ${(performance.now() - t0).toFixed(0)} ms after the kill (its lease's last renewal + 30 s)`);

      const created = await api(survivor, 'POST', '/namespaces/public/services', { name: 'after-failover' });
      assert.equal(created.status, 201, created.text);
      assert.equal((await api(survivor, 'GET', '/namespaces/public/services/DEFAULT_GROUP/after-failover')).status, 200);
      assert.equal(survivor.exited, false);
    });
  });
}
