/**
 * `gateway --workers 2` against `--workers 1` (issue 14, "Performance"): tools/call throughput of
 * the 2026-07-28 stateless form through two gateway processes started side by side on this machine
 * (the same Higress definition calling the bench backend, sessions in Redis as `--workers` needs),
 * measured in interleaved rounds with wrk on the same machine. Also the CPU each party used during
 * the rounds (gateway process groups, the backend, wrk), to say which one is the bottleneck.
 *
 *   npx tsx bench/workers/workers.bench.ts [--seconds 10] [--rounds 3] [--connections 32] [--wrk-threads 1] [--no-docs]
 *
 * The gateways run from the TypeScript sources through tsx (the same code as the build, compiled
 * on load). Every load loop is bounded and aimed at 127.0.0.1 only.
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, numberOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { ROOT, TSX, freePort, startProcess, stopProcess } from '../support/procs.js';
import { startBenchBackend, modernCallRequest } from '../support/mcpgate.js';
import { groupSeconds, reapedChildrenSeconds, withChildren } from '../gateway/cpu.js';
import { wrkRun } from '../gateway/loaders.js';
import type { LoadFigures } from '../gateway/loaders.js';

const seconds = numberOption('seconds', 10, true);
const rounds = numberOption('rounds', 3, true);
const connections = numberOption('connections', 32, true);
const wrkThreads = numberOption('wrk-threads', 1, true);
const redisUrl = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379';

const watchdog = setTimeout(() => { console.error('watchdog: the benchmark ran too long'); process.exit(3); }, (rounds * 2 * (seconds + 20) + 240) * 1000);
watchdog.unref();

interface Gateway { workers: number; port: number; child: ChildProcess; runs: LoadFigures[]; cpu: number }

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-workers-'));
  const backend = await startBenchBackend();
  const defs = join(work, 'defs');
  execFileSync('mkdir', ['-p', defs]);
  writeFileSync(join(defs, 'bench.yaml'), [
    'server:', '  name: bench', 'tools:', '- name: get_item', '  description: Get the item', '  args: []',
    '  requestTemplate:', `    url: http://127.0.0.1:${backend.port}/item`, '    method: GET', '',
  ].join('\n'));
  const prefix = `bench-workers-${randomBytes(4).toString('hex')}:`;
  const gateways: Gateway[] = [];
  try {
    for (const workers of [1, 2]) {
      const port = await freePort();
      const data = mkdtempSync(join(work, `data-${workers}-`));
      const child = await startProcess(process.execPath, [
        '--import', TSX, join(ROOT, 'src/cli/main.ts'), 'gateway', '--host', '127.0.0.1', '--gateway-port', String(port), '--definitions', defs,
        '--redis', redisUrl, '--redis-prefix', prefix, '--workers', String(workers), '--data-dir', data, '--log-level', 'warn',
      ], `http://127.0.0.1:${port}/readyz`);
      gateways.push({ workers, port, child, runs: [], cpu: 0 });
    }
    const call = modernCallRequest('get_item');
    const shot = (g: Gateway) => ({ url: `http://127.0.0.1:${g.port}/mcp/public/bench`, method: 'POST' as const, headers: call.headers, body: call.body });
    // Warm-up (JIT, connection pools), then both workers of the second gateway surely listening.
    for (const g of gateways) await wrkRun(shot(g), { connections, seconds: 3, threads: wrkThreads, dir: work });
    const load = loadavg().map((x) => x.toFixed(2)).join(', ');
    let wrkCpu = 0;
    let backendCpu = 0;
    // Per gateway: the load generator's and the backend's CPU during its own rounds.
    const partyCpu = new Map<Gateway, { wrk: number; backend: number }>(gateways.map((g) => [g, { wrk: 0, backend: 0 }]));
    for (let r = 0; r < rounds; r++) {
      for (const g of r % 2 === 0 ? gateways : [...gateways].reverse()) {
        const pids = withChildren(g.child.pid as number);
        const before = groupSeconds(pids);
        const backendBefore = groupSeconds([backend.child.pid as number]);
        const wrkBefore = reapedChildrenSeconds();
        const figures = await wrkRun(shot(g), { connections, seconds, threads: wrkThreads, dir: work });
        g.cpu += groupSeconds(pids) - before;
        const backendUsed = groupSeconds([backend.child.pid as number]) - backendBefore;
        const wrkUsed = reapedChildrenSeconds() - wrkBefore;
        backendCpu += backendUsed;
        wrkCpu += wrkUsed;
        const party = partyCpu.get(g) as { wrk: number; backend: number };
        party.wrk += wrkUsed;
        party.backend += backendUsed;
        g.runs.push(figures);
        console.error(`round ${r + 1}, --workers ${g.workers}: ${figures.rps.toFixed(0)} calls/s, p99 ${figures.p99.toFixed(2)} ms, errors ${figures.errors + figures.non2xx}`);
      }
    }
    const wall = rounds * seconds;
    const mean = (g: Gateway) => g.runs.reduce((s, x) => s + x.rps, 0) / g.runs.length;
    const [one, two] = gateways as [Gateway, Gateway];
    const ratio = mean(two) / mean(one);
    const cores = cpus().length;
    const rows = gateways.map((g) => {
      const p99 = Math.max(...g.runs.map((x) => x.p99));
      const errors = g.runs.reduce((s, x) => s + x.errors + x.non2xx, 0);
      return `| \`--workers ${g.workers}\` | ${mean(g).toFixed(0)} | ${g.runs.map((x) => x.rps.toFixed(0)).join(' / ')} | ${p99.toFixed(2)} | ${errors} | ${(g.cpu / wall).toFixed(2)} |`;
    });
    const loaderShare = wrkCpu / (2 * wall);
    const backendShare = backendCpu / (2 * wall);
    const block = [
      `Run ${new Date().toISOString()} on ${cores} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; load average before the rounds ${load} (other work shares this machine: compare within the run).`,
      `${rounds} interleaved rounds of ${seconds} s per gateway, wrk (${wrkThreads} thread, ${connections} connections) on 127.0.0.1, 2026-07-28 stateless tools/call → the bench backend (a Node process).`,
      '',
      '| gateway | mean calls/s | per round | worst p99 ms | errors | gateway CPU (cores) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `**--workers 2 ÷ --workers 1: ${ratio.toFixed(2)}×** (target ≥ 1.5× when the load generator is not the bottleneck).`,
      `CPU during the rounds, in cores: wrk ${(wrkCpu / (2 * wall)).toFixed(2)}, the backend ${backendShare.toFixed(2)} (both share the ${cores} cores with the gateway).`,
      `Bottleneck: ${bottleneck(two.cpu / wall, loaderShare, backendShare, cores)}.`,
      '',
      '| gateway | gateway CPU µs/call | wrk µs/call | backend µs/call | all three µs/call | calls/s the cores allow (cores ÷ all three) | cores used by all three |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...gateways.map((g) => {
        const calls = g.runs.reduce((n, x) => n + x.total, 0);
        const party = partyCpu.get(g) as { wrk: number; backend: number };
        const us = (secs: number) => secs / calls * 1e6;
        const all = us(g.cpu + party.wrk + party.backend);
        return `| \`--workers ${g.workers}\` | ${us(g.cpu).toFixed(0)} | ${us(party.wrk).toFixed(0)} | ${us(party.backend).toFixed(0)} | ${all.toFixed(0)} | ${(cores / all * 1e6).toFixed(0)} | ${((g.cpu + party.wrk + party.backend) / wall).toFixed(2)} |`;
      }),
      '',
      'When the three parties together use about all the cores, the machine is the limit: `--workers 2` cannot beat the "calls/s the cores allow" column, whatever its scaling; ' +
        'a ratio that falls short of 1.5× while `--workers 2`\'s own CPU per call stays close to `--workers 1`\'s says the gateway scales and the shared cores do not.',
    ].join('\n');
    console.log(block);
    if (!flag('no-docs')) console.error(`wrote ${writeBenchSection({ heading: 'Gateway workers', name: 'workers', command: 'npx tsx bench/workers/workers.bench.ts', block })}`);
  } finally {
    for (const g of gateways) await stopProcess(g.child).catch(() => undefined);
    await stopProcess(backend.child).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Which party limited the `--workers 2` figure, from the cores each used. */
function bottleneck(gateway: number, loader: number, backend: number, cores: number): string {
  const used = gateway + loader + backend;
  if (used < cores * 0.8) {
    return `the machine's other work — the gateway with 2 workers got ${gateway.toFixed(2)} of ${cores} cores, and all three parties ${used.toFixed(2)}: ` +
      'the processes waited for a CPU, so this ratio says nothing about scaling (run it on a quiet machine)';
  }
  if (loader + backend > cores - gateway * 0.5) return `the load generator and the backend (${(loader + backend).toFixed(2)} cores beside the gateway's ${gateway.toFixed(2)})`;
  return `the gateway (${gateway.toFixed(2)} cores)`;
}

await main();
