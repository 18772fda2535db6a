// No orphaned stdio children after a gateway crash: a process that started stdio children (a
// server that ignores the end of its stdin, and an `sh` wrapper whose grandchild does too) is
// killed with SIGKILL, and every one of those processes ends soon after, without any restart
// (the watchdog of stdio.ts); a normal exit leaves nothing either.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const skip = process.platform === 'win32' ? 'POSIX process groups' : undefined;
const STDIO = new URL('./stdio.ts', import.meta.url).href;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function gone(pids: number[], ms = 20_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A "gateway": starts two stdio children through ChildStdioTransport, prints their pids and its watchdog's, then waits. */
function fakeGateway(dir: string): string {
  // A server that never exits on its own (ignores SIGTERM and the end of stdin) and prints its pid.
  const stubborn = join(dir, 'stubborn.mjs');
  writeFileSync(stubborn, "process.on('SIGTERM', () => {}); process.stdin.on('end', () => {}); process.stdin.resume(); console.error('pid ' + process.pid); setInterval(() => {}, 1000);\n");
  const main = join(dir, 'gateway.mjs');
  writeFileSync(main, `
import { ChildStdioTransport, watchdogPid } from ${JSON.stringify(STDIO)};
const logger = { info: (o) => { if (o.stderr) console.log('child ' + o.stderr.slice(4)); }, warn() {}, debug() {}, error() {}, child() { return this; } };
const direct = new ChildStdioTransport({ launch: { command: process.execPath, args: [${JSON.stringify(stubborn)}], env: {} }, logger });
await direct.start();
// A wrapper whose grandchild is the server (as npx does).
const wrapped = new ChildStdioTransport({ launch: { command: '/bin/sh', args: ['-c', ${JSON.stringify(`${process.execPath} ${stubborn}; sleep 1000`)}], env: {} }, logger });
await wrapped.start();
console.log('leader ' + direct.pid);
console.log('leader ' + wrapped.pid);
console.log('watchdog ' + watchdogPid());
setInterval(() => {}, 1000);
`);
  return main;
}

async function run(kill: (pid: number) => void): Promise<{ pids: number[]; watchdog: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-watchdog-'));
  const gateway = spawn(process.execPath, ['--import', 'tsx', fakeGateway(dir)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids: number[] = [];
  let watchdog = 0;
  let out = '';
  gateway.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    gateway.once('exit', (code) => reject(new Error(`the fake gateway exited (${code}): ${out}`)));
    gateway.stdout.on('data', (chunk: string) => {
      out += chunk;
      const children = [...out.matchAll(/^child (\d+)$/gm)].map((m) => Number(m[1]));
      const leaders = [...out.matchAll(/^leader (\d+)$/gm)].map((m) => Number(m[1]));
      const w = /^watchdog (\d+)$/m.exec(out);
      // Two leaders (the server itself, and sh) and two stubborn servers (one the grandchild).
      if (w && leaders.length === 2 && children.length === 2) {
        pids.push(...new Set([...leaders, ...children]));
        watchdog = Number(w[1]);
        resolve();
      }
    });
  });
  gateway.removeAllListeners('exit');
  const exited = once(gateway, 'exit');
  kill(gateway.pid as number);
  await exited;
  return { pids, watchdog };
}

describe('stdio children after the gateway process dies', { skip }, () => {
  it('kill -9 of the gateway: every child and grandchild ends, and the watchdog with them', async () => {
    const { pids, watchdog } = await run((pid) => process.kill(pid, 'SIGKILL'));
    assert.ok(pids.every((p) => p > 0) && pids.length === 3, String(pids));
    assert.deepEqual(await gone(pids), [], 'processes left behind');
    assert.deepEqual(await gone([watchdog]), [], 'the watchdog ended after its work');
  });

  it('SIGTERM with no handler (Node exits without its exit hook): nothing left either', async () => {
    const { pids, watchdog } = await run((pid) => process.kill(pid, 'SIGTERM'));
    assert.deepEqual(await gone(pids), []);
    assert.deepEqual(await gone([watchdog]), []);
  });
});
