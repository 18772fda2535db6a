/**
 * Redis for tests. The shared server: the machine's local Redis (override with
 * MCPGATE_TEST_REDIS_URL); tests use unique key prefixes and delete their keys after. Private
 * servers: a `redis-server` child on a free port, without persistence, that a test may kill,
 * pause and restart. With MCPGATE_TEST_REQUIRE_SERVICES=1 (CI) a missing Redis or redis-server
 * fails the suite instead of skipping it.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { requireServices } from './databases.js';
import { procStat } from './proc.js';

export const REDIS_URL = process.env.MCPGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a Redis answers at `url`: the reason when it does not. */
async function ping(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, commandTimeout: 1000, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const version = /redis_version:(\d+)\.(\d+)/.exec(await r.info('server'));
    if (version && Number(version[1]) * 100 + Number(version[2]) < 602) return `Redis at ${url} is ${version[1]}.${version[2]}; 6.2 or later is needed`;
    return undefined;
  } catch (err) {
    return `Redis is not reachable at ${url} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    r.disconnect();
  }
}

let probed: Promise<{ url: string; unavailable?: string }> | undefined;

/**
 * The shared test Redis, probed once per process: `unavailable` says why it cannot be used
 * (pass it as a test's `skip`). Throws under MCPGATE_TEST_REQUIRE_SERVICES=1 instead.
 */
export function redisAvailable(): Promise<{ url: string; unavailable?: string }> {
  probed ??= (async () => {
    const unavailable = await ping(REDIS_URL);
    if (unavailable && requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${unavailable}`);
    return unavailable ? { url: REDIS_URL, unavailable } : { url: REDIS_URL };
  })();
  return probed;
}

/** A key prefix of its own for one test run. */
export function testKeyPrefix(): string {
  return `mcpgate-test:${randomBytes(5).toString('hex')}:`;
}

/** Delete every key under `prefix`. */
export async function dropKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, commandTimeout: 2000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Why no private redis-server can be started here (undefined when it can); throws under MCPGATE_TEST_REQUIRE_SERVICES=1. */
export function privateRedisUnavailable(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const reason = `redis-server is not installed (${r.error?.message ?? r.stderr.trim()})`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A private redis-server child process. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Start it again on the same port (after kill or stop); resolves when it answers. */
  start(): Promise<void>;
  /** kill -9: the connections drop at once. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis); resolves once it has stopped. */
  pause(): Promise<void>;
  /** SIGCONT after pause. */
  resume(): void;
  /** Stop it for good and remove its directory. */
  stop(): Promise<void>;
}

/** Start a redis-server child on a free loopback port, without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const waitExit = (c: ChildProcess) => new Promise<void>((resolve) => (exited(c) ? resolve() : c.once('exit', () => resolve())));

  const start = async () => {
    if (child && !exited(child)) return;
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child = c;
    const deadline = Date.now() + 5000;
    for (;;) {
      if (exited(c)) throw new Error(`redis-server on port ${port} exited (${c.exitCode ?? c.signalCode})`);
      if ((await ping(url)) === undefined) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 5 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const kill = async () => {
    if (!child || exited(child)) return;
    const c = child;
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await waitExit(c);
  };

  await start();
  return {
    port, url, start, kill,
    async pause() {
      const c = child;
      if (!c?.pid) return;
      c.kill('SIGSTOP');
      // kill(2) only queues the signal: a command sent before the process has stopped may still be
      // answered. Wait until its state is T (stopped), as /proc shows it.
      const deadline = Date.now() + 5000;
      for (;;) {
        const state = procStat(c.pid)?.[0];
        if (state === undefined) return; // no /proc (not Linux), or the process is gone
        if (state === 'T' || state === 't') return;
        if (Date.now() > deadline) throw new Error(`redis-server (pid ${c.pid}) not stopped 5 s after SIGSTOP: state ${state}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    resume: () => { child?.kill('SIGCONT'); },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
