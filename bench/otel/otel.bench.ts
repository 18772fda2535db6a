/**
 * What observability costs: tools/call throughput of `mcpgate serve` (2026-07-28 stateless form,
 * a REST tool calling a local backend) side by side in one run, in interleaved rounds, with
 *
 *   - `off`: tracing off, log level warn (no access log line written);
 *   - `tracing`: tracing on, every trace sampled (`traceSampleRatio` 1), spans exported over
 *     OTLP/HTTP to a receiver in its own process (as a collector elsewhere would be) that counts
 *     them without decoding the export (bench/otel/receiver.ts);
 *   - `access log`: log level info, so the default access log writes one line per request, to a
 *     file as a container runtime collects a gateway's stdout;
 *   - with `--baseline <rev>`, that revision's build with the same settings as each of the above
 *     (`baseline off`: the cost of the instrumentation itself while tracing is off; `baseline
 *     tracing`, `baseline access`: before and after a change, side by side in one run).
 *
 * Besides calls/s, the CPU each party used per call (/proc): the gateway's is the product's cost
 * and holds on a machine shared with other work, where calls/s swing between rounds; the load
 * generator's, the backend's and the receiver's say what else competed for the cores. Each
 * gateway's garbage collection too: its main-thread GC pauses per call by kind (perf_hooks 'gc'
 * entries, through bench/otel/gc-probe.mjs preloaded) and the CPU of its threads other than the
 * main one (V8's parallel scavenges and concurrent marking run there).
 *
 *   npm run bench:otel -- [--seconds 8] [--connections 16] [--rounds 3] [--loader auto|wrk|autocannon]
 *     [--processes 2] [--baseline <rev>] [--only off,tracing,access] [--cpu-prof <dir>] [--node-args '<flags>'] [--rate N] [--no-docs] [--no-pin]

 * `--processes N` runs each configuration as N `serve` processes, the rounds going to them in
 * turn (round r to process r mod N): a process keeps an offset of a few µs a call for its whole
 * life (where V8 and the allocator placed things), as large as what is measured here, so one
 * process per configuration compares processes as much as configurations. With `--cpu-prof`, 1.

 * `--rate N` sends N calls/s to every configuration (autocannon's overall rate) instead of as many
 * as they answer: a gateway's CPU per call depends on its throughput (at a lower rate the event
 * loop's per-iteration and per-write work is shared by fewer calls), so comparing configurations at
 * one rate measures what a configuration adds per call, not also the effect of its slower rate.
 *
 * `--node-args` adds Node flags to this build's gateways, not the baseline's (e.g.
 * `--max-semi-space-size=64 --baseline HEAD`: a runtime setting against none, side by side).
 *
 * `--cpu-prof <dir>` runs each gateway under `node --cpu-prof`, its profile written to
 * `<dir>/<configuration>/` when it stops, beside `rounds.json` (the measured rounds' time windows
 * and calls); compare self time by function per call, over the measured rounds only, with
 * `npx tsx bench/otel/profile-top.ts <dir>/off <dir>/tracing`.
 *
 * Prints markdown and rewrites the generated block of the "## Tracing and access log" section of
 * docs/benchmarks.md. Load only ever goes to 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, TSX, freePort, startProcess, stopProcess } from '../support/procs.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { Pinning } from '../support/procs.js';
import { ITEM_TOOL, checkoutRevision, createBenchServer, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import { groupSeconds, mainThreadSeconds, reapedChildrenSeconds, selfSeconds } from '../gateway/cpu.js';
import { autocannonRun, wrkRun } from '../gateway/loaders.js';
import type { LoadFigures, Shot } from '../gateway/loaders.js';

const seconds = numberOption('seconds', 8);
const connections = numberOption('connections', 16, true);
const rounds = numberOption('rounds', 3, true);
const baseline = textOption('baseline', '');
const cpuProf = textOption('cpu-prof', '');
const processes = cpuProf ? 1 : numberOption('processes', 2, true);
const extraNodeArgs = textOption('node-args', '').split(' ').filter((x) => x !== '');
const GC_PROBE = join(ROOT, 'bench/otel/gc-probe.mjs');
const only = textOption('only', '').split(',').filter((x) => x !== '');
/** Calls/s sent to every configuration (autocannon's overall rate); 0: as fast as they answer. */
const rate = textOption('rate', '') === '' ? 0 : numberOption('rate', 1);
const loaderOption = textOption('loader', rate > 0 ? 'autocannon' : 'auto');
if (rate > 0 && loaderOption !== 'autocannon') throw new Error('--rate needs --loader autocannon');
if (!['auto', 'wrk', 'autocannon'].includes(loaderOption)) throw new Error('--loader is auto, wrk or autocannon');
const haveWrk = spawnSync('wrk', ['--version']).error === undefined;
if (loaderOption === 'wrk' && !haveWrk) throw new Error('--loader wrk: wrk is not installed');
const loader: 'wrk' | 'autocannon' = loaderOption === 'autocannon' || !haveWrk ? 'autocannon' : 'wrk';
/** The GC totals a gateway's probe last wrote (zeros before its first write). */
function readGc(file: string): GcTotals {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as GcTotals;
  } catch {
    return noGc();
  }
}

const watchdog = setTimeout(() => { console.error('otel bench: watchdog limit reached'); process.exit(3); }, 25 * 60_000);
watchdog.unref();

/** CPU seconds per party during the measured runs. */
interface Cpu { gateway: number; backend: number; receiver: number; loader: number; gatewayMain: number }

/** Main-thread GC pauses by kind, as bench/otel/gc-probe.mjs writes them. */
interface GcTotals { scavenge: { n: number; ms: number }; markCompact: { n: number; ms: number }; incremental: { n: number; ms: number }; weakCallbacks: { n: number; ms: number } }
const GC_KINDS = ['scavenge', 'markCompact', 'incremental', 'weakCallbacks'] as const;
const noGc = (): GcTotals => ({ scavenge: { n: 0, ms: 0 }, markCompact: { n: 0, ms: 0 }, incremental: { n: 0, ms: 0 }, weakCallbacks: { n: 0, ms: 0 } });

/** One `serve` process of a configuration. */
interface Instance {
  m: Mcpgate;
  logFile: string;
  gcFile: string;
  /** CPU seconds a second it uses with no load (its registry's and timers' work), taken out of its per-call figure. */
  idle: number;
}

interface Subject {
  key: string;
  name: string;
  /** Its processes, the rounds going to them in turn. */
  instances: Instance[];
  runs: LoadFigures[];
  cpu: Cpu;
  /** GC pauses during the measured rounds. */
  gc: GcTotals;
  /** Gateway CPU µs per call of each round (idle use taken out). */
  perRound: number[];
  /** CPU seconds its processes used idle during its measured rounds (their idle use times the rounds' length). */
  idleUsed: number;
  /** The measured rounds' [start, end] on the monotonic clock (µs), as a --cpu-prof profile's timestamps are. */
  windows: [number, number][];
}

/** CLOCK_MONOTONIC in microseconds: the clock of V8's profile timestamps on Linux. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

const work = mkdtempSync(join(tmpdir(), 'mcpgate-otel-bench-'));
const children: ChildProcess[] = [];
const fds: number[] = [];

/** One load run of `shot` with the chosen load generator, and the load generator's CPU seconds. */
async function loadRun(shot: Shot, secs: number): Promise<{ figures: LoadFigures; loaderCpu: number }> {
  const cpu = loader === 'wrk' ? reapedChildrenSeconds : selfSeconds;
  const before = cpu();
  const figures = loader === 'wrk'
    ? await wrkRun(shot, { connections, seconds: secs, threads: 1, dir: work })
    : await autocannonRun(shot, { connections, seconds: secs, ...(rate > 0 ? { rate } : {}) });
  return { figures, loaderCpu: cpu() - before };
}

async function main(): Promise<void> {
  const receiverPort = await freePort();
  const receiver = await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/otel/receiver.ts'), String(receiverPort)], `http://127.0.0.1:${receiverPort}/count`);
  children.push(receiver);
  const backend = await startBenchBackend();
  // Each gateway on a core of its own (CPU 1), everything else (this process, wrk, the backend, the receiver) on CPU 0.
  const pins = new Pinning(!flag('no-pin'));
  pins.helpers(process.pid, receiver.pid!, backend.child.pid!);
  children.push(backend.child);
  const tracingArgs = ['--otlp-endpoint', `http://127.0.0.1:${receiverPort}`];
  const configs: { key: string; name: string; args: string[]; root?: string; env?: Record<string, string> }[] = [
    { key: 'off', name: 'off', args: [] },
    { key: 'tracing', name: 'tracing (100 % sampled)', args: tracingArgs },
    { key: 'access', name: 'access log (level info)', args: ['--log-level', 'info'] },
  ].filter((c) => only.length === 0 || c.key === 'off' || only.includes(c.key));
  if (baseline) {
    const root = checkoutRevision(baseline, work);
    configs.push(...configs.map((c) => ({ ...c, key: `baseline-${c.key}`, name: `baseline ${baseline} ${c.name}`, root })));
  }
  const subjects: Subject[] = [];
  for (const c of configs) {
    const instances: Instance[] = [];
    for (let i = 0; i < processes; i++) {
      const logFile = join(work, `${c.key}-${i}.log`);
      const fd = openSync(logFile, 'w');
      fds.push(fd);
      const gcFile = join(work, `${c.key}-${i}.gc.json`);
      const nodeArgs = ['--import', GC_PROBE, ...(c.root ? [] : extraNodeArgs), ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', resolve(cpuProf, c.key)] : [])];
      const m = await startMcpgate(work, { args: c.args, nodeArgs, env: { MCPGATE_BENCH_GC_FILE: gcFile, ...c.env }, stdout: fd, ...(c.root ? { root: c.root } : {}) });
      pins.measured(m.child.pid!);
      children.push(m.child);
      await registerBackend(m, backend.port);
      await createBenchServer(m, 'bench', [ITEM_TOOL]);
      instances.push({ m, logFile, gcFile, idle: 0 });
    }
    subjects.push({ key: c.key, name: c.name, instances, runs: [], cpu: { gateway: 0, backend: 0, receiver: 0, loader: 0, gatewayMain: 0 }, gc: noGc(), perRound: [], idleUsed: 0, windows: [] });
  }
  const shotOf = (m: Mcpgate): Shot => ({ url: `${m.gateway}/mcp/public/bench`, method: 'POST' as const, ...modernCallRequest('get_item') });
  const instances = subjects.flatMap((s) => s.instances);
  for (const s of instances) {
    // Served and answering: a call succeeds (the snapshot is compiled, the instance known).
    for (let i = 0; ; i++) {
      const shot = shotOf(s.m);
      const r = await fetch(shot.url, { method: 'POST', headers: shot.headers, body: shot.body });
      const text = await r.text();
      if (r.status === 200 && !text.includes('"isError":true')) break;
      if (i > 100) throw new Error(`${s.m.gateway}: the tool does not answer: ${r.status} ${text}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await loadRun(shotOf(s.m), 2); // warm-up
  }
  // Each gateway's CPU without load, over the same quiet seconds: what a call does not cost.
  const idleSeconds = 4;
  const idleBefore = instances.map((s) => groupSeconds([s.m.child.pid as number]));
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  instances.forEach((s, i) => { s.idle = Math.max(0, (groupSeconds([s.m.child.pid as number]) - (idleBefore[i] as number)) / idleSeconds); });
  const spansBefore = await spanCount(receiverPort);
  const logBytes = (s: Subject) => s.instances.reduce((n, i) => n + statSync(i.logFile).size, 0);
  const logBytesBefore = new Map(subjects.map((s) => [s.key, logBytes(s)]));
  const load = loadavg().map((x) => x.toFixed(2)).join(', ');
  for (let round = 0; round < rounds; round++) {
    // Rotated order: no configuration always runs first (or last) in a round.
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as Subject);
    for (const s of order) {
      const instance = s.instances[round % s.instances.length] as Instance;
      const pid = (c: ChildProcess) => [c.pid as number];
      const gid = instance.m.child.pid as number;
      const before = { gateway: groupSeconds(pid(instance.m.child)), backend: groupSeconds(pid(backend.child)), receiver: groupSeconds(pid(receiver)), main: mainThreadSeconds(gid), gc: readGc(instance.gcFile) };
      const started = performance.now();
      const from = monotonicMicros();
      const { figures, loaderCpu } = await loadRun(shotOf(instance.m), seconds);
      s.windows.push([from, monotonicMicros()]);
      const idleSecs = instance.idle * (performance.now() - started) / 1000;
      s.idleUsed += idleSecs;
      const gatewaySecs = groupSeconds(pid(instance.m.child)) - before.gateway;
      s.cpu.gateway += gatewaySecs;
      s.cpu.gatewayMain += mainThreadSeconds(gid) - before.main;
      s.perRound.push(Math.max(0, gatewaySecs - idleSecs) / figures.total * 1e6);
      // The probe writes every 100 ms: wait for its write that covers the round's end.
      await new Promise((r) => setTimeout(r, 150));
      const gcAfter = readGc(instance.gcFile);
      for (const k of GC_KINDS) { s.gc[k].n += gcAfter[k].n - before.gc[k].n; s.gc[k].ms += gcAfter[k].ms - before.gc[k].ms; }
      s.cpu.backend += groupSeconds(pid(backend.child)) - before.backend;
      s.cpu.receiver += groupSeconds(pid(receiver)) - before.receiver;
      s.cpu.loader += loaderCpu;
      if (figures.errors + figures.non2xx > 0) throw new Error(`${s.name}: ${figures.errors} errors, ${figures.non2xx} non-2xx`);
      s.runs.push(figures);
      console.error(`round ${round + 1} ${s.name}: ${figures.rps.toFixed(0)} calls/s, gateway ${(s.perRound[s.perRound.length - 1] as number).toFixed(0)} µs CPU/call, GC pauses ${((gcAfter.scavenge.ms + gcAfter.markCompact.ms + gcAfter.incremental.ms - before.gc.scavenge.ms - before.gc.markCompact.ms - before.gc.incremental.ms) / figures.total * 1000).toFixed(1)} µs/call`);
    }
  }
  // The batch still buffered in the gateway reaches the receiver within its export delay (1 s).
  await new Promise((r) => setTimeout(r, 2500));
  const spans = (await spanCount(receiverPort)) - spansBefore;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const calls = (s: Subject) => s.runs.reduce((n, r) => n + r.total, 0);
  const perCall = (s: Subject, secs: number) => secs / calls(s) * 1e6;
  const gatewayCpu = (s: Subject) => perCall(s, Math.max(0, s.cpu.gateway - s.idleUsed));
  const [off] = subjects as [Subject];
  const offRps = median(off.runs.map((r) => r.rps));
  const offCpu = gatewayCpu(off);
  const tracing = subjects.find((s) => s.key === 'tracing');
  const access = subjects.find((s) => s.key === 'access');
  const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
  const lines = [
    `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${load} before the rounds, ${loadavg()[0]?.toFixed(2)} at the end; Node ${process.version}.`,
    `${loader === 'wrk' ? 'wrk (1 thread, a process of its own)' : `autocannon (in the benchmark's process)${rate > 0 ? `, ${rate} calls/s to each configuration` : ''}`}, ${connections} connections, ${rounds} rounds of ${seconds} s per configuration, interleaved; each configuration ${processes === 1 ? 'one `serve` process' : `${processes} \`serve\` processes, the rounds going to them in turn`}, its stdout to a file; the OTLP receiver in its own process; ${pins.active ? 'every gateway pinned to one core, everything else to the other' : 'no process pinned to a core'}.`,
    '',
    '| configuration | calls/s (median) | per round | p50 ms | p99 ms | calls/s vs off | gateway CPU µs/call | CPU/call vs off | backend µs/call | receiver µs/call | load generator µs/call |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...subjects.map((s) => {
      const rps = median(s.runs.map((r) => r.rps));
      const last = s.runs[s.runs.length - 1] as LoadFigures;
      const cpu = gatewayCpu(s);
      return `| ${s.name} | ${rps.toFixed(0)} | ${s.runs.map((r) => r.rps.toFixed(0)).join(' / ')} | ${last.p50} | ${last.p99} | ${pct(rps / offRps - 1)} | ${cpu.toFixed(0)} | ${pct(cpu / offCpu - 1)} | ${perCall(s, s.cpu.backend).toFixed(0)} | ${perCall(s, s.cpu.receiver).toFixed(1)} | ${perCall(s, s.cpu.loader).toFixed(0)} |`;
    }),
    '',
    '| configuration | gateway CPU µs/call, per round | GC pauses µs/call | scavenges per 1000 calls | scavenge µs/call | mark-compact µs/call (incremental steps included) | main thread µs/call | other threads µs/call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...subjects.map((s) => {
      const ms = (k: typeof GC_KINDS[number]) => s.gc[k].ms / calls(s) * 1000;
      return `| ${s.name} | ${s.perRound.map((x) => x.toFixed(0)).join(' / ')} (median ${median(s.perRound).toFixed(0)}) | ${(ms('scavenge') + ms('markCompact') + ms('incremental')).toFixed(1)} | ${(s.gc.scavenge.n / calls(s) * 1000).toFixed(1)} | ${ms('scavenge').toFixed(1)} | ${(ms('markCompact') + ms('incremental')).toFixed(1)} | ${perCall(s, s.cpu.gatewayMain).toFixed(0)} | ${perCall(s, s.cpu.gateway - s.cpu.gatewayMain).toFixed(0)} |`;
    }),
    '',
    'GC pauses: the main thread\'s, from perf_hooks \'gc\' entries (bench/otel/gc-probe.mjs preloaded); the threads\' CPU (/proc/PID/task) is raw, idle use included: V8 runs parallel scavenges and concurrent marking on the other threads.',
    `Gateway CPU per call: its CPU during the rounds less what it uses idle (${subjects.map((s) => `${s.key} ${s.instances.map((i) => (i.idle * 1000).toFixed(0)).join('/')} ms/s`).join(', ')}), over its calls.`,
    'A configuration\'s throughput cost when the gateway is what limits throughput is 1 − (off\'s CPU per call ÷ its CPU per call):',
    ...subjects.filter((s) => !s.key.endsWith('off')).map((s) => {
      // Against the `off` of the same build (the baseline's configurations against the baseline's off).
      const own = subjects.find((o) => o.key === (s.key.startsWith('baseline-') ? 'baseline-off' : 'off')) ?? off;
      return `${s.name}: ${pct(gatewayCpu(own) / gatewayCpu(s) - 1)}${own !== off ? ' (against the baseline\'s off)' : ''}`;
    }),
    '',
    ...(tracing ? [`Spans received by the OTLP receiver during the rounds: ${spans} for ${subjects.filter((s) => s.key.endsWith('tracing') || s.key.startsWith('tracing-')).reduce((n, s) => n + calls(s), 0)} tools/call with tracing on (2 a call: the request's SERVER span and the backend request's CLIENT span).`] : []),
    ...(access ? [`Access log written during the rounds: ${((logBytes(access) - (logBytesBefore.get('access') ?? 0)) / calls(access)).toFixed(0)} bytes a call.`] : []),
  ];
  if (cpuProf) {
    // The measured rounds' windows and calls beside each profile: profile-top.ts counts those samples only, per call.
    for (const s of subjects) {
      mkdirSync(resolve(cpuProf, s.key), { recursive: true });
      writeFileSync(resolve(cpuProf, s.key, 'rounds.json'), JSON.stringify({ calls: calls(s), windows: s.windows }));
    }
    console.error(`profiles in ${resolve(cpuProf)}/<configuration> (written as the gateways stop); compare: npx tsx bench/otel/profile-top.ts ${resolve(cpuProf, 'off')} ${resolve(cpuProf, 'tracing')}`);
  }
  const block = lines.join('\n');
  console.log(block);
  if (!flag('no-docs')) {
    const file = writeBenchSection({ heading: 'Tracing and access log', name: 'otel', command: `npm run bench:otel${baseline ? ` -- --baseline ${baseline}` : ''}`, block });
    console.error(`wrote ${file}`);
  }
}

/** Spans the receiver has counted. */
async function spanCount(port: number): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/count`);
  return ((await r.json()) as { spans: number }).spans;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(async () => {
  for (const c of children.reverse()) await stopProcess(c).catch(() => undefined);
  for (const fd of fds) closeSync(fd);
  rmSync(work, { recursive: true, force: true });
});
