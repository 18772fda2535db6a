/**
 * A whole mcpgate cluster on this machine, on loopback, every part a child process:
 *
 *   - a fresh database on the machine's PostgreSQL (or MariaDB/MySQL), dropped on stop;
 *   - a private `redis-server` (test/support/redis.ts), so that a test may kill and restart it;
 *   - N `mcpgate registry` nodes (auth off) on that one database;
 *   - M `mcpgate gateway` replicas, each following every registry and sharing sessions in Redis;
 *   - nginx (Debian's; installed with apt-get when missing) in front of the gateways: round robin,
 *     no stickiness, set up for streaming (no buffering, HTTP/1.1 and keep-alive to the upstreams,
 *     long read timeouts) and skipping a dead replica (`proxy_next_upstream error timeout`). Each
 *     answer names the replica that served it in `X-Mcpgate-Upstream` (nginx's `$upstream_addr`).
 *
 * Every process can be killed (-9 by default) and restarted on the same port with the same
 * arguments; `stop()` ends them all and removes their directories. Children run in their own
 * process groups (a kill reaches nginx's workers too) and are killed when this process exits.
 *
 * Used by test/cluster/ha.test.ts, bench/cluster/cluster.bench.ts and `npm run cluster`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseKinds, requireServices } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import { freePort, privateRedisUnavailable, startPrivateRedis } from '../support/redis.js';
import type { PrivateRedis } from '../support/redis.js';
import { childPids } from '../support/proc.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** tsx's loader, by absolute URL (children run the TypeScript sources). */
const TSX = import.meta.resolve('tsx');

export interface ClusterOptions {
  /** The shared registry database. Default postgres. */
  db?: 'postgres' | 'mysql';
  /** Registry nodes. Default 2. */
  registries?: number;
  /** Gateway replicas. Default 3. */
  gateways?: number;
  /** Log level of the mcpgate children. Default `warn` (MCPGATE_CLUSTER_LOG overrides). */
  logLevel?: string;
  /** Extra environment of every mcpgate child. */
  env?: Record<string, string>;
  /** Each line the children print, prefixed with their name (default: kept in memory only). */
  onLog?: (line: string) => void;
  /** nginx `worker_connections`. Default 4096. */
  nginxConnections?: number;
}

/** One child process of the cluster. */
export interface ClusterProcess {
  /** `registry-1`, `gateway-2`, `nginx`. */
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:{port}`. */
  readonly url: string;
  /** The current process id (undefined while not running). */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** How many times it was started (1 after the cluster started). */
  readonly starts: number;
  /** How its last run ended: the exit code, or the signal that ended it (undefined while running). */
  readonly exit: number | NodeJS.Signals | undefined;
  /** Send `signal` (default SIGKILL) to its process group and wait until it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again (same port, arguments and data directory) and wait until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Its last output lines, for failure messages. */
  tail(lines?: number): string;
}

/** A running cluster. */
export interface Cluster {
  /** nginx, the balancer: `http://127.0.0.1:{port}`. */
  lbUrl: string;
  registries: ClusterProcess[];
  gateways: ClusterProcess[];
  nginx: ClusterProcess;
  redis: PrivateRedis;
  db: TestDatabase;
  /** The MCP endpoint of a server through the balancer, or through one gateway (`base`). */
  mcpUrl(namespace: string, server: string, base?: string): string;
  /** The gateway an `X-Mcpgate-Upstream` value names (the last address when nginx tried several). */
  gatewayOf(upstream: string | null | undefined): ClusterProcess | undefined;
  /** Stop every process, drop the database, remove the directories. Idempotent. */
  stop(): Promise<void>;
}

// ------------------------------------------------------------------------------ availability

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Make sure `nginx` is on the PATH: `apt-get update`, then Debian's nginx-light (or nginx). Answers why not, if it cannot be. */
export function ensureNginx(log: (line: string) => void = () => undefined): string | undefined {
  if (which('nginx')) return undefined;
  if (!which('apt-get')) return 'nginx is not installed and there is no apt-get to install it';
  log('nginx is missing: apt-get update && apt-get install -y nginx-light');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
  if (update.status !== 0) return `nginx is not installed and apt-get update failed (exit ${update.status ?? update.signal})`;
  for (const pkg of ['nginx-light', 'nginx']) {
    const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'ignore', env, timeout: 300_000 });
    if (r.status === 0 && which('nginx')) return undefined;
  }
  return 'nginx is not installed and apt-get could not install nginx-light or nginx';
}

/**
 * Why a cluster cannot start here (undefined when it can): nginx (installed if missing),
 * redis-server, the database. Under MCPGATE_TEST_REQUIRE_SERVICES=1 it throws instead.
 */
export async function clusterUnavailable(db: 'postgres' | 'mysql' = 'postgres'): Promise<string | undefined> {
  const nginx = ensureNginx();
  if (nginx && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${nginx}`);
  if (nginx) return nginx;
  const redis = privateRedisUnavailable();
  if (redis) return redis;
  const kind = (await databaseKinds()).find((k) => k.kind === db);
  return kind?.unavailable;
}

// ------------------------------------------------------------------------------ processes

const live = new Set<ChildProcess>();
/** Temporary directories of clusters not stopped yet. */
const roots = new Set<string>();
let exitHook = false;

/**
 * Kill every child still running when this process exits (a crashed test must not leak them),
 * also on a signal nobody else handles: the children have process groups of their own, so a
 * Ctrl-C or the test runner's SIGTERM does not reach them.
 */
function hookExit(): void {
  if (exitHook) return;
  exitHook = true;
  const killAll = () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    // The private redis-server (test/support/redis.ts) is a plain child of this process.
    for (const pid of childPids(process.pid)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const dir of roots) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Handled by someone else (`npm run cluster` stops the cluster itself).
      if (process.listenerCount(signal) > 1) return;
      killAll();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, signal);
  } catch {
    try { c.kill(signal); } catch { /* gone */ }
  }
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
const waitExit = (c: ChildProcess) => new Promise<void>((resolve) => (exited(c) ? resolve() : c.once('exit', () => resolve())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Spec {
  name: string;
  port: number;
  cmd: string;
  args: string[];
  env: Record<string, string>;
  /** Answers 2xx once the process is ready. */
  readyUrl: string;
  readyTimeoutMs: number;
  onLog?: (line: string) => void;
}

class Proc implements ClusterProcess {
  private child: ChildProcess | undefined;
  private readonly lines: string[] = [];
  starts = 0;

  constructor(private readonly spec: Spec) {}

  get name(): string { return this.spec.name; }
  get port(): number { return this.spec.port; }
  get url(): string { return `http://127.0.0.1:${this.spec.port}`; }
  get pid(): number | undefined { return this.running ? this.child?.pid : undefined; }
  get running(): boolean { return !!this.child && !exited(this.child); }
  get exit(): number | NodeJS.Signals | undefined { return this.child && exited(this.child) ? (this.child.exitCode ?? this.child.signalCode ?? undefined) : undefined; }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  async start(): Promise<void> {
    if (this.running) return;
    hookExit();
    const c = spawn(this.spec.cmd, this.spec.args, {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.spec.env },
    });
    this.child = c;
    this.starts += 1;
    live.add(c);
    c.once('exit', () => live.delete(c));
    let partial = '';
    const keep = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line) continue;
        this.lines.push(line);
        this.spec.onLog?.(`[${this.spec.name}] ${line}`);
      }
      if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const deadline = Date.now() + this.spec.readyTimeoutMs;
    for (;;) {
      if (exited(c)) throw new Error(`${this.name} exited at start (${c.exitCode ?? c.signalCode}):\n${this.tail()}`);
      const ok = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2000) }).then((r) => { void r.body?.cancel(); return r.ok; }, () => false);
      if (ok) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} was not ready within ${this.spec.readyTimeoutMs} ms (${this.spec.readyUrl}):\n${this.tail()}`);
      }
      await sleep(100);
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || exited(c)) return;
    killGroup(c, signal);
    await waitExit(c);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || exited(c)) return;
    killGroup(c, 'SIGTERM');
    const timer = setTimeout(() => killGroup(c, 'SIGKILL'), 5000);
    await waitExit(c);
    clearTimeout(timer);
    // nginx's workers, or anything else left in the group.
    try { process.kill(-(c.pid as number), 'SIGKILL'); } catch { /* none left */ }
  }
}

// ------------------------------------------------------------------------------ nginx

/** The balancer's configuration: round robin without stickiness, streaming-friendly. */
export function nginxConfig(o: { dir: string; port: number; upstreams: number[]; connections: number }): string {
  const d = (p: string) => join(o.dir, p);
  return `# written by test/cluster/harness.ts
daemon off;
master_process on;
worker_processes 1;
pid ${d('nginx.pid')};
error_log ${d('logs/error.log')} warn;
events { worker_connections ${o.connections}; }
http {
  access_log off;
  client_body_temp_path ${d('tmp/body')};
  proxy_temp_path ${d('tmp/proxy')};
  fastcgi_temp_path ${d('tmp/fastcgi')};
  uwsgi_temp_path ${d('tmp/uwsgi')};
  scgi_temp_path ${d('tmp/scgi')};
  keepalive_requests 100000;
  keepalive_timeout 75s;

  # Plain round robin: no ip_hash, no hash on Mcp-Session-Id, no sticky cookie. A replica that
  # refuses connections is skipped (proxy_next_upstream below) but never marked down: with
  # max_fails, one replica draining and one reset on the other left no live upstream, and nginx
  # answered 502 to every request until fail_timeout ran out.
  upstream mcpgate_gateways {
${o.upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
    keepalive 32;
    keepalive_requests 100000;
    keepalive_timeout 60s;
  }

  server {
    listen 127.0.0.1:${o.port} backlog=4096;
    location / {
      proxy_pass http://mcpgate_gateways;
      # Keep-alive to the upstreams (HTTP/1.1, no "Connection: close").
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # Streaming: SSE events (GET streams, POST answers as SSE, legacy SSE) pass as they come.
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_cache off;
      # Long-lived streams: the gateways send a comment every 15 s; allow far more.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_connect_timeout 2s;
      # A dead replica: try the next one. Only before a request was sent (nginx never resends a
      # POST that reached an upstream), so a tool call is never made twice.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 5s;
      # Request headers (Mcp-Session-Id, Last-Event-ID, MCP-Protocol-Version, Mcp-Method,
      # Authorization, …) and answer headers (Mcp-Session-Id) pass through unchanged: nginx
      # only drops names with underscores, and none of these have one.
      # Which replica answered (the last address when nginx tried several):
      add_header X-Mcpgate-Upstream $upstream_addr always;
    }
  }
}
`;
}

// ------------------------------------------------------------------------------ the cluster

/** Start a cluster; throws (after cleaning up what started) when any part does not come up. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const dbKind = opts.db ?? 'postgres';
  const logLevel = opts.logLevel ?? process.env.MCPGATE_CLUSTER_LOG ?? 'warn';
  const root = mkdtempSync(join(tmpdir(), 'mcpgate-cluster-'));
  roots.add(root);
  hookExit();
  const cleanups: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    roots.delete(root);
  };
  try {
    const missing = ensureNginx(opts.onLog);
    if (missing) throw new Error(missing);
    const kind = (await databaseKinds()).find((k) => k.kind === dbKind);
    if (!kind || kind.unavailable) throw new Error(kind?.unavailable ?? `no ${dbKind} database maker`);
    const db = await kind.create();
    cleanups.push(() => db.drop());
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());

    const common = {
      MCPGATE_LOG_LEVEL: logLevel,
      MCPGATE_ADMIN_PASSWORD: 'admin-password-1',
      // Shared by the replicas, as in production (forwarded credentials are sealed with it).
      MCPGATE_SESSION_KEY: randomBytes(24).toString('hex'),
      MCPGATE_LEADER_LOCK_TTL_MS: '4000',
      MCPGATE_NODE_HEARTBEAT_MS: '1000',
      // One process per replica (the default with Redis is one per core: too many for this machine).
      MCPGATE_WORKERS: '1',
      ...opts.env,
    };
    const node = (role: 'registry' | 'gateway', args: string[]) => [
      '--import', TSX, join(ROOT, 'src/cli/main.ts'), role, '--host', '127.0.0.1', ...args,
    ];

    const registries: Proc[] = [];
    for (let i = 1; i <= (opts.registries ?? 2); i++) {
      const port = await freePort();
      const dataDir = join(root, `registry-${i}`);
      mkdirSync(dataDir);
      registries.push(new Proc({
        name: `registry-${i}`, port, cmd: process.execPath,
        args: node('registry', ['--registry-port', String(port), '--db', db.url, '--auth', 'false', '--data-dir', dataDir]),
        env: common, readyUrl: `http://127.0.0.1:${port}/readyz`, readyTimeoutMs: 60_000, ...(opts.onLog ? { onLog: opts.onLog } : {}),
      }));
    }
    cleanups.push(async () => { await Promise.all(registries.map((p) => p.stop())); });
    // Several nodes may migrate at once (under the migration lock); start them together.
    await Promise.all(registries.map((p) => p.start()));
    const registryUrls = registries.map((r) => r.url);

    const gateways: Proc[] = [];
    for (let i = 1; i <= (opts.gateways ?? 3); i++) {
      const port = await freePort();
      const dataDir = join(root, `gateway-${i}`);
      mkdirSync(dataDir);
      gateways.push(new Proc({
        name: `gateway-${i}`, port, cmd: process.execPath,
        args: node('gateway', ['--gateway-port', String(port), '--registry', registryUrls.join(','), '--redis', redis.url, '--data-dir', dataDir]),
        env: common, readyUrl: `http://127.0.0.1:${port}/readyz`, readyTimeoutMs: 60_000, ...(opts.onLog ? { onLog: opts.onLog } : {}),
      }));
    }
    cleanups.push(async () => { await Promise.all(gateways.map((p) => p.stop())); });
    await Promise.all(gateways.map((p) => p.start()));

    const lbPort = await freePort();
    const nginxDir = join(root, 'nginx');
    for (const d of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(nginxDir, d), { recursive: true });
    const conf = join(nginxDir, 'nginx.conf');
    writeFileSync(conf, nginxConfig({ dir: nginxDir, port: lbPort, upstreams: gateways.map((g) => g.port), connections: opts.nginxConnections ?? 4096 }));
    const nginx = new Proc({
      name: 'nginx', port: lbPort, cmd: 'nginx', args: ['-p', nginxDir, '-e', join(nginxDir, 'logs/error.log'), '-c', conf],
      env: {}, readyUrl: `http://127.0.0.1:${lbPort}/healthz`, readyTimeoutMs: 60_000, ...(opts.onLog ? { onLog: opts.onLog } : {}),
    });
    cleanups.push(() => nginx.stop());
    await nginx.start();

    const byPort = new Map(gateways.map((g) => [g.port, g] as const));
    return {
      lbUrl: nginx.url, registries, gateways, nginx, redis, db,
      mcpUrl: (namespace, server, base = nginx.url) => `${base}/mcp/${encodeURIComponent(namespace)}/${encodeURIComponent(server)}`,
      gatewayOf: (upstream) => {
        const last = upstream?.split(',').pop()?.trim();
        const port = Number(last?.slice(last.lastIndexOf(':') + 1));
        return byPort.get(port);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
