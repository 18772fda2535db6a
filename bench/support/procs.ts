/** Helpers for benchmarks: child processes on loopback ports, and autocannon runs. */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** tsx's loader, by absolute URL. */
export const TSX = import.meta.resolve('tsx');

/** A free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Start a process and wait until `url` answers 2xx; its stdout goes nowhere, or to the file descriptor `stdout`. */
export async function startProcess(cmd: string, args: string[], url: string, env: Record<string, string> = {}, timeoutMs = 30_000, stdout?: number): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', stdout ?? 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.on('data', (d) => { err += d; });
  for (let i = 0; i < timeoutMs / 200; i++) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited: ${err}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${url} did not answer: ${err}`);
}

/**
 * Pin every thread of process `pid` (and the children it starts later) to CPU `cpu` with
 * `taskset`; false (nothing changed) where taskset is missing or the machine has one CPU.
 * Benchmarks that compare configurations of one process give it a core of its own and put the
 * load generator and the backend on the other, so that its throughput is set by its own CPU per
 * call rather than by how the scheduler shares the cores with them from one round to the next.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

/**
 * How a benchmark pins its processes (`pinToCpu`): the measured one on CPU 1, everything else (the
 * benchmark, its load generator, backend, receiver…) on CPU 0. Off when not `wanted` (`--no-pin`),
 * on one CPU, or once a pin fails (then `active` is false and the report says nothing is pinned).
 */
export class Pinning {
  private ok: boolean;

  constructor(wanted: boolean) {
    this.ok = wanted && cpus().length >= 2;
  }

  /** Whether every process given so far was pinned. */
  get active(): boolean {
    return this.ok;
  }

  /** The processes that serve the measurement, on CPU 0 (children started later inherit it). */
  helpers(...pids: number[]): void {
    for (const pid of pids) if (this.ok) this.ok = pinToCpu(pid, 0);
  }

  /** A measured process, on CPU 1. */
  measured(pid: number): void {
    if (this.ok) this.ok = pinToCpu(pid, 1);
  }
}

/** Stop a process and wait for it. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** One autocannon run's figures. */
export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** Run autocannon; `setup` may rewrite each request (unique paths). */
export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ ...opts });
  return {
    rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx,
    total: r.requests.total,
  };
}
