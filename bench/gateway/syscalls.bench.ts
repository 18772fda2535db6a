/**
 * System calls a REST tools/call costs the process serving it: `mcpgate serve` (this build; the
 * 2026-07-28 stateless form and a 2025 session) against the floor of a bare node:http +
 * undici-dispatch proxy (bench/gateway/floor-proxy.ts). Each process is loaded with wrk while
 * `strace -c -f` counts its system calls (strace slows the process a lot: the counts per call are
 * the figure, not the throughput). Then, without strace, each process's CPU time per call (/proc)
 * in `--rounds` interleaved rounds: what the gateway costs above the floor.
 *
 *   npx tsx bench/gateway/syscalls.bench.ts [--seconds 4] [--connections 32] [--rounds 5]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberOption } from '../support/args.js';
import { ACCEPT, ITEM_TOOL, SESSION_VERSION, createBenchServer, modernCallRequest, openSession, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import { ROOT, TSX, freePort, startProcess, stopProcess } from '../support/procs.js';
import { processCpuMs } from './cpu.js';
import { wrkRun } from './loaders.js';
import type { Shot } from './loaders.js';

const seconds = numberOption('seconds', 4);
const connections = numberOption('connections', 32, true);
const rounds = numberOption('rounds', 5, true);
const work = mkdtempSync(join(tmpdir(), 'mcpgate-syscalls-'));
const children: ChildProcess[] = [];

/** `strace -c -f -p pid` while `run` runs: system call name → calls. */
async function countSyscalls(pid: number, run: () => Promise<number>): Promise<{ calls: number; counts: Map<string, number> }> {
  const strace = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  strace.stderr.on('data', (c: Buffer) => { text += c.toString('utf8'); });
  await new Promise((r) => setTimeout(r, 500)); // attached
  const calls = await run();
  const ended = new Promise((r) => strace.once('close', r));
  strace.kill('SIGINT');
  await ended;
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') counts.set(m[2] as string, Number(m[1]));
  }
  return { calls, counts };
}

try {
  const backend = await startBenchBackend();
  children.push(backend.child);
  const floorPort = await freePort();
  const floor = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/gateway/floor-proxy.ts'), String(floorPort), String(backend.port)], `http://127.0.0.1:${floorPort}/`);
  children.push(floor);
  const m = await startMcpgate(work);
  children.push(m.child);
  await registerBackend(m, backend.port);
  await createBenchServer(m, 'bench', [ITEM_TOOL]);
  const url = `${m.gateway}/mcp/public/bench`;
  const stateless: Shot = { url, method: 'POST', ...modernCallRequest('get_item') };
  const sessionId = await openSession(url);
  const session: Shot = {
    url, method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': SESSION_VERSION, 'mcp-session-id': sessionId },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_item', arguments: {} } }),
  };
  const floorShot: Shot = { url: `http://127.0.0.1:${floorPort}/`, method: 'POST', headers: { 'content-type': 'application/json' }, body: stateless.body };
  const subjects = [
    { name: 'floor (node:http + undici dispatch)', pid: floor.pid as number, shot: floorShot },
    { name: 'mcpgate, 2026-07-28 stateless', pid: m.child.pid as number, shot: stateless },
    { name: 'mcpgate, 2025 session', pid: m.child.pid as number, shot: session },
  ];
  const results: { name: string; calls: number; counts: Map<string, number> }[] = [];
  for (const s of subjects) {
    await wrkRun(s.shot, { connections, seconds: 2, threads: 1, dir: work }); // warm-up
    const r = await countSyscalls(s.pid, async () => (await wrkRun(s.shot, { connections, seconds, threads: 1, dir: work })).total);
    results.push({ name: s.name, ...r });
  }
  const names = [...new Set(results.flatMap((r) => [...r.counts.keys()]))]
    .map((n) => ({ n, max: Math.max(...results.map((r) => (r.counts.get(n) ?? 0) / r.calls)) }))
    .filter((x) => x.max >= 0.01).sort((a, b) => b.max - a.max).map((x) => x.n);
  console.log(`${connections} connections (wrk, 1 thread), ${seconds} s under \`strace -c -f\` per subject; system calls per call.\n`);
  console.log(`| system call | ${results.map((r) => r.name).join(' | ')} |`);
  console.log(`| --- |${results.map(() => ' ---: |').join('')}`);
  for (const n of names) console.log(`| ${n} | ${results.map((r) => ((r.counts.get(n) ?? 0) / r.calls).toFixed(2)).join(' | ')} |`);
  const total = (r: { calls: number; counts: Map<string, number> }) => [...r.counts.values()].reduce((a, b) => a + b, 0) / r.calls;
  console.log(`| **all** | ${results.map((r) => `**${total(r).toFixed(2)}**`).join(' | ')} |`);
  console.log(`| calls measured | ${results.map((r) => String(r.calls)).join(' | ')} |`);
  const cpu: number[][] = subjects.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (k + round) % subjects.length;
      const s = subjects[i] as (typeof subjects)[number];
      const before = processCpuMs(s.pid) ?? 0;
      const { total } = await wrkRun(s.shot, { connections, seconds, threads: 1, dir: work });
      (cpu[i] as number[]).push((((processCpuMs(s.pid) ?? 0) - before) * 1000) / total);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  console.log(`\nCPU µs a call of the process (without strace; median of ${rounds} interleaved rounds of ${seconds} s; load average ${loadavg().map((x) => x.toFixed(1)).join(', ')} at the end):\n`);
  console.log(`| ${subjects.map((s) => s.name).join(' | ')} |`);
  console.log(`|${subjects.map(() => ' ---: |').join('')}`);
  console.log(`| ${cpu.map((xs) => `${median(xs).toFixed(1)} (${xs.map((x) => x.toFixed(0)).join(' ')})`).join(' | ')} |`);
} finally {
  for (const c of children.reverse()) await stopProcess(c);
  rmSync(work, { recursive: true, force: true });
}
