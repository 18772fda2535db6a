/**
 * Instructions per gRPC registration of `mcpgate registry` on SQLite, counted by valgrind
 * (callgrind): a figure that does not move with the machine's load, where the CPU µs per
 * registration of `npm run bench:grpc` swings by ±30 µs between runs on a shared machine. The
 * registry (the compiled build of this tree, and of `--baseline DIR`: another tree, such as a
 * commit extracted with `git archive`, its node_modules linked) runs under callgrind with
 * instrumentation off while it starts and while `--warm` registrations warm it up; then it is
 * switched on (`callgrind_control -i on`), `--registrations` new ephemeral instances are
 * registered by the lean clients of bench:grpc (`--connections` × `--inflight` in flight, across
 * 50 services, as bench:grpc does), the counters are dumped, and the instructions per registration
 * of the whole process (main thread, the checkpoint worker, V8's compiler and GC threads) are
 * reported, grouped (SQLite, garbage collection, V8's compilers, JSON, other) and by function
 * where the builds differ most. Under callgrind the registry is the bottleneck, so every batch of
 * registrations is full in both builds. Counts say how much work is done, not how long it takes.
 *
 *   npx tsx bench/grpc/instructions.ts [--registrations 3000] [--warm 6000] [--connections 64] [--inflight 4] [--baseline DIR] [--top 25]
 *
 * Needs valgrind; slow (a few minutes a build).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, startProcess, stopProcess } from '../support/procs.js';
import { numberOption, textOption } from '../support/args.js';
import { areaOf, byFunction, control, largestDifferences, sumsByArea } from '../support/callgrind.js';
import type { OwnAreas } from '../support/callgrind.js';
import { compiledCli } from '../support/mcpgate.js';
import { LeanNacosConnection, frame } from './lean-client.js';

const registrations = numberOption('registrations', 3000, true);
const warm = numberOption('warm', 6000, true);
const connections = numberOption('connections', 64, true);
const inflight = numberOption('inflight', 4, true);
const top = numberOption('top', 25, true);
const baseline = textOption('baseline', '');
const SERVICES = 50;

const work = mkdtempSync(join(tmpdir(), 'mcpgate-grpc-instr-'));
const children: ChildProcess[] = [];

/** Register instances `from` .. `from + n - 1` (distinct addresses), `inflight` at a time on each connection; throws on a failure. */
async function register(conns: LeanNacosConnection[], from: number, n: number): Promise<void> {
  let next = from;
  const end = from + n;
  const worker = async (c: LeanNacosConnection): Promise<void> => {
    while (next < end) {
      const i = next++;
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const body = `{"requestId":"${c.requestId()}","namespace":"public","serviceName":"bench-${i % SERVICES}","groupName":"DEFAULT_GROUP","type":"registerInstance",`
        + `"instance":{"ip":"${ip}","port":${8000 + (i % 1000)},"weight":1,"healthy":true,"enabled":true,"ephemeral":true,"clusterName":"DEFAULT","metadata":{}}}`;
      const r = await c.unaryFrame(frame(c.metadataOf('InstanceRequest'), body));
      if (!r.includes('"resultCode":200')) throw new Error(`registration ${i} failed: ${r.toString('utf8').slice(0, 200)}`);
    }
  };
  await Promise.all(conns.flatMap((c) => Array.from({ length: inflight }, () => worker(c))));
}

interface Result { build: string; perRegistration: number; fns: Map<string, number>; rate: number }

async function measure(build: string, root: string): Promise<Result> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(work, 'data-'));
  const out = join(work, `${build}.cg`);
  const child = await startProcess('valgrind', [
    '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`,
    process.execPath, compiledCli(root), 'registry', '--host', '127.0.0.1', '--registry-port', String(httpPort), '--grpc-port', String(grpcPort),
    '--db', `sqlite:${join(dataDir, 'bench.db')}`, '--auth', 'false', '--log-level', 'warn', '--data-dir', dataDir,
  ], `http://127.0.0.1:${httpPort}/healthz`, {}, 600_000);
  children.push(child);
  const conns: LeanNacosConnection[] = [];
  for (let i = 0; i < connections; i++) conns.push(new LeanNacosConnection(grpcPort));
  await Promise.all(conns.map((c) => c.connect()));
  await register(conns, 0, warm);
  const pid = String(child.pid);
  control(['-i', 'on', pid]);
  control(['-z', pid]);
  const started = performance.now();
  await register(conns, warm, registrations);
  control(['-d', pid]);
  const secs = (performance.now() - started) / 1000;
  control(['-i', 'off', pid]);
  for (const c of conns) c.close();
  const dumps = readdirSync(work).filter((f) => f.startsWith(`${build}.cg.`)).sort();
  const { total, fns } = byFunction(join(work, dumps[dumps.length - 1] as string));
  await stopProcess(child).catch(() => undefined);
  for (const [k, v] of fns) fns.set(k, v / registrations);
  const rate = registrations / secs;
  console.error(`${build}: ${(total / registrations).toFixed(0)} instructions a registration (${rate.toFixed(0)} registrations/s under callgrind)`);
  return { build, perRegistration: total / registrations, fns, rate };
}

const AREAS: OwnAreas = [
  ['SQLite', (n) => /^sqlite3|^pager|^btree|^vdbe|^wal/i.test(n)],
  ['JSON and UTF-8', (n) => n.includes('Json') || n.includes('Utf8')],
];

async function main(): Promise<void> {
  const builds: [string, string][] = baseline ? [['baseline', baseline], ['this', ROOT]] : [['this', ROOT]];
  const results: Result[] = [];
  for (const [build, root] of builds) results.push(await measure(build, root));
  console.log(`${registrations} registrations of new ephemeral instances (after ${warm} uncounted), ${connections} connections × ${inflight} in flight, SQLite; instructions of the registry process per registration (callgrind):\n`);
  const groups = [...new Set(results.flatMap((r) => [...r.fns.keys()].map((n) => areaOf(n, AREAS))))].sort();
  console.log(`| build | instructions a registration | ${groups.join(' | ')} |`);
  console.log(`| --- | ---: | ${groups.map(() => '---:').join(' | ')} |`);
  for (const r of results) {
    const s = sumsByArea(r.fns, AREAS);
    console.log(`| ${r.build} | ${(r.perRegistration / 1000).toFixed(1)} k | ${groups.map((g) => `${((s.get(g) ?? 0) / 1000).toFixed(1)} k`).join(' | ')} |`);
  }
  const [base, self] = results;
  if (base && self) {
    console.log(`\nthis − baseline: ${(((self.perRegistration - base.perRegistration) / base.perRegistration) * 100).toFixed(1)} %; self instructions a registration by function (top ${top}):`);
    for (const line of largestDifferences(base.fns, self.fns, top)) console.log(line);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(async () => {
  for (const c of children.reverse()) await stopProcess(c).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});
