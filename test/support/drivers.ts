/**
 * The real Nacos clients (installed into .tools/ by scripts/nacos-clients.sh) as child processes
 * that print what they see as JSON lines. A test skips, saying why, when a client is not
 * installed, and fails under MCPGATE_TEST_REQUIRE_SERVICES=1.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { requireServices } from './databases.js';

export const TOOLS = resolve(import.meta.dirname, '..', '..', '.tools');

/** Paths of the installed clients. */
export const CLIENTS = {
  python: join(TOOLS, 'nacos-py', 'bin', 'python'),
  go: join(TOOLS, 'nacos-go', 'driver'),
  javaClasses: join(TOOLS, 'nacos-java', 'classes'),
  javaLib: join(TOOLS, 'nacos-java', 'lib'),
};

/** Why a client cannot run here (undefined when it can); throws under MCPGATE_TEST_REQUIRE_SERVICES=1. */
export function clientMissing(kind: 'python' | 'go' | 'java'): string | undefined {
  const path = kind === 'java' ? join(CLIENTS.javaClasses, 'mcpgate', 'Driver.class') : CLIENTS[kind];
  if (existsSync(path)) return undefined;
  const reason = `the ${kind} Nacos client is not installed (${path}); run scripts/nacos-clients.sh`;
  if (requireServices) throw new Error(`MCPGATE_TEST_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/** One event a driver printed. */
export type DriverEvent = Record<string, unknown> & { event: string };

/** A running driver: its events, and a way to wait for one. */
export class Driver {
  readonly events: DriverEvent[] = [];
  private readonly waiters = new Set<() => void>();
  stderr = '';
  exited = false;

  constructor(readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        this.events.push(JSON.parse(line) as DriverEvent);
      } catch {
        return;
      }
      for (const w of this.waiters) w();
    });
    child.stderr?.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-20_000); });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters) w();
    });
  }

  /** The first event (from index `from`) that matches; fails on an `error` event, exit, or after `ms`. */
  wait(what: string, match: (e: DriverEvent) => boolean, ms = 30_000, from = 0): Promise<DriverEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const error = this.events.find((e) => e.event === 'error');
        if (error) return done(new Error(`driver error while waiting for ${what}: ${JSON.stringify(error)}\n${this.stderr.slice(-3000)}`));
        const hit = this.events.slice(from).find(match);
        if (hit) return done(undefined, hit);
        if (this.exited) return done(new Error(`driver exited while waiting for ${what}: ${this.stderr.slice(-3000)}`));
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${what}; events: ${JSON.stringify(this.events).slice(-2000)}\n${this.stderr.slice(-3000)}`)), ms);
      const done = (err?: Error, e?: DriverEvent) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve(e!);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Close its stdin (it shuts its client down and exits) and wait for the exit. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin?.end();
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(kill);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** Start a driver. */
export function startDriver(cmd: string, args: string[], env: Record<string, string> = {}): Driver {
  return new Driver(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
}
