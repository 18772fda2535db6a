/**
 * Instructions per tools/call of a gateway, counted by valgrind (callgrind), for tracing's
 * configurations: a count that does not move with the machine's load, where CPU time per call
 * swings by ±30 µs between rounds on a shared machine (bench:otel). Each configuration's gateway
 * (`mcpgate serve`, as bench:otel starts it) runs under callgrind with instrumentation off while
 * it starts and warms up; then it is switched on (`callgrind_control -i on`), `--calls` calls are
 * sent with `--concurrency` in flight, the counters are dumped, and instructions per call (the
 * whole process: main thread, V8's compiler and GC threads, libuv) are reported, with the
 * functions (C++ and V8 builtins; JIT-compiled JavaScript shows as addresses) that differ most.
 * Counts say how much work is done, not how long it takes (no cache misses, no memory stalls).
 *
 *   npx tsx bench/otel/instructions.ts [--calls 3000] [--warm 4000] [--concurrency 8]
 *     [--only off,tracing] [--top 25] [--keep DIR]
 *
 * Needs valgrind; slow (a minute or two a configuration).
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TSX, freePort, startProcess, stopProcess } from '../support/procs.js';
import { numberOption, textOption } from '../support/args.js';
import { areaOf, byFunction, control, largestDifferences, sumsByArea } from '../support/callgrind.js';
import type { OwnAreas } from '../support/callgrind.js';

const AREAS: OwnAreas = [['JSON.stringify and UTF-8', (n) => n.includes('JsonStringifier') || n.includes('Utf8Length') || n.includes('WriteUtf8')]];
import { ITEM_TOOL, compiledCli, createBenchServer, modernCallRequest, registerBackend, startBenchBackend } from '../support/mcpgate.js';

const calls = numberOption('calls', 3000, true);
const warm = numberOption('warm', 4000, true);
const concurrency = numberOption('concurrency', 8, true);
const top = numberOption('top', 25, true);
const only = textOption('only', '').split(',').filter((x) => x !== '');
/** Keep the callgrind dumps in this directory (callgrind_annotate them). */
const keep = textOption('keep', '');

const work = mkdtempSync(join(tmpdir(), 'mcpgate-otel-instr-'));
const children: ChildProcess[] = [];

/** `n` tools/call to `url`, `concurrency` at a time; throws on a failed call. */
async function drive(url: string, n: number): Promise<void> {
  const { headers, body } = modernCallRequest('get_item');
  let left = n;
  const worker = async (): Promise<void> => {
    while (left-- > 0) {
      const r = await fetch(url, { method: 'POST', headers, body });
      const text = await r.text();
      if (r.status !== 200 || text.includes('"isError":true')) throw new Error(`call failed: ${r.status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface Result { key: string; perCall: number; fns: Map<string, number> }

async function measure(key: string, args: string[], env: Record<string, string>, backendPort: number): Promise<Result> {
  const [registryPort, gatewayPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(work, 'data-'));
  const out = join(work, `${key.replace(/[^\w-]/g, '_')}.cg`);
  const child = await startProcess('valgrind', [
    '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`,
    process.execPath, ...(keep ? ['--perf-basic-prof'] : []), compiledCli(ROOT).replace(/dist\/cli\/main\.js$/, 'bin/mcpgate.js'), 'serve', '--host', '127.0.0.1',
    '--registry-port', String(registryPort), '--gateway-port', String(gatewayPort), '--data-dir', dataDir, '--auth', 'false', '--log-level', 'warn', ...args,
  ], `http://127.0.0.1:${gatewayPort}/healthz`, env, 600_000);
  children.push(child);
  const m = { child, registry: `http://127.0.0.1:${registryPort}`, gateway: `http://127.0.0.1:${gatewayPort}` };
  for (let i = 0; !(await fetch(`${m.registry}/healthz`).then((r) => r.ok, () => false)); i++) {
    if (i > 600) throw new Error('the registry did not answer');
    await new Promise((r) => setTimeout(r, 200));
  }
  await registerBackend(m, backendPort);
  await createBenchServer(m, 'bench', [ITEM_TOOL]);
  const url = `${m.gateway}/mcp/public/bench`;
  for (let i = 0; ; i++) {
    try { await drive(url, 1); break; } catch (err) { if (i > 300) throw err; await new Promise((r) => setTimeout(r, 200)); }
  }
  await drive(url, warm);
  const pid = String(child.pid);
  control(['-i', 'on', pid]);
  control(['-z', pid]);
  const started = performance.now();
  await drive(url, calls);
  control(['-d', pid]);
  const secs = (performance.now() - started) / 1000;
  control(['-i', 'off', pid]);
  const dumps = readdirSync(work).filter((f) => f.startsWith(`${out.slice(work.length + 1)}.`)).sort();
  const { total, fns } = byFunction(join(work, dumps[dumps.length - 1] as string));
  await stopProcess(child).catch(() => undefined);
  if (keep) spawnSync('sh', ['-c', `mkdir -p '${keep}' && cp /tmp/perf-${pid}.map '${keep}/${key}.perf.map' && rm -f /tmp/perf-${pid}.map`]);
  console.error(`${key}: ${(total / calls).toFixed(0)} instructions a call (${(calls / secs).toFixed(0)} calls/s under callgrind)`);
  for (const [k, v] of fns) fns.set(k, v / calls);
  return { key, perCall: total / calls, fns };
}

async function main(): Promise<void> {
  const receiverPort = await freePort();
  const receiver = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/otel/receiver.ts'), String(receiverPort)], `http://127.0.0.1:${receiverPort}/count`);
  children.push(receiver);
  const backend = await startBenchBackend();
  children.push(backend.child);
  const tracingArgs = ['--otlp-endpoint', `http://127.0.0.1:${receiverPort}`];
  const configs: { key: string; args: string[]; env: Record<string, string> }[] = [
    { key: 'off', args: [], env: {} },
    { key: 'tracing', args: tracingArgs, env: {} },
  ].filter((c) => only.length === 0 || only.includes(c.key));
  const results: Result[] = [];
  for (const c of configs) results.push(await measure(c.key, c.args, c.env, backend.port));
  const off = results.find((r) => r.key === 'off');
  console.log(`${calls} calls (after ${warm} uncounted), ${concurrency} in flight; instructions of the gateway process per call (callgrind):\n`);
  // V8's optimising compilers run when they run (a function tiering up inside or outside the counted calls): left out of the second figure.
  const compiling = (r: Result) => [...r.fns].filter(([n]) => /compiler::|maglev::|baseline::/.test(n)).reduce((x, [, v]) => x + v, 0);
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${(Math.abs(x) / 1000).toFixed(1)} k`;
  console.log('| configuration | instructions a call | vs off | without the compilers\' | vs off |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const own = r.perCall - compiling(r);
    console.log(`| ${r.key} | ${(r.perCall / 1000).toFixed(1)} k | ${off ? signed(r.perCall - off.perCall) : ''} | ${(own / 1000).toFixed(1)} k | ${off ? signed(own - (off.perCall - compiling(off))) : ''} |`);
  }
  if (off) {
    const groups = [...new Set(results.flatMap((r) => [...r.fns.keys()].map((n) => areaOf(n, AREAS))))].sort();
    console.log(`\n| configuration − off, instructions a call | ${groups.join(' | ')} |`);
    console.log(`| --- | ${groups.map(() => '---:').join(' | ')} |`);
    const offSums = sumsByArea(off.fns, AREAS);
    for (const r of results.filter((x) => x !== off)) {
      const rs = sumsByArea(r.fns, AREAS);
      console.log(`| ${r.key} | ${groups.map((g) => `${(((rs.get(g) ?? 0) - (offSums.get(g) ?? 0)) / 1000).toFixed(1)} k`).join(' | ')} |`);
    }
    for (const r of results.filter((x) => x !== off)) {
      console.log(`\n${r.key} − off, self instructions a call by function (top ${top}):`);
      for (const line of largestDifferences(off.fns, r.fns, top)) console.log(line);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(async () => {
  for (const c of children.reverse()) await stopProcess(c).catch(() => undefined);
  if (keep) spawnSync('sh', ['-c', `mkdir -p '${keep}' && cp ${work}/*.cg.* '${keep}/'`]);
  rmSync(work, { recursive: true, force: true });
});
