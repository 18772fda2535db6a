/**
 * The cost of MCP authorization on tools/call: the same tool (GET of the bench backend) on three
 * servers of one `mcpgate serve` process, called in the 2026-07-28 stateless form:
 *
 *   1. `open`: no authorization;
 *   2. `jwt`: OAuth access tokens required, a JWT (ES256) checked against the issuer's cached JWKS;
 *   3. `exchange`: the same, and the backend's token obtained by RFC 8693 token exchange (cached).
 *
 * The issuer is the tests' oidc-provider (test/support/oidc.ts) in this process; the token is a
 * client-credentials token bound to each endpoint by its resource indicator.
 *
 * Method (docs/benchmarks.md "Gateway with OAuth"): many short rounds, each running the three
 * servers one after the other in a rotated order, so that drift in machine load falls on all
 * three alike. Each round gives its own paired ratio (`jwt` and `exchange` against that round's
 * `open`); the reported cost is the median of those ratios with their interquartile range (the
 * spread: a cost whose range straddles the target is not verified). Besides throughput (which on
 * a shared machine moves with the other processes' load), the `serve` process's CPU time per call
 * is measured from /proc (user + system over the calls of the run): the gateway's own cost, which
 * other load barely moves. Rewrites the generated block of "## Gateway with OAuth" in
 * docs/benchmarks.md unless `--no-docs`; with `--profile DIR`, `serve` runs under
 * `node --cpu-prof` and each server's self time per call, by function, is printed from the
 * samples of its own runs, with the functions that cost `jwt` and `exchange` more than `open`
 * (figures are then not written to the docs).
 *
 * With `--baseline <git rev>`, a second `serve` built from that revision (extracted with `git
 * archive`) runs the same three servers in the same rounds: each build's costs against its own
 * `open`, side by side under the same load, and its CPU per call (figures are then not written
 * to the docs).
 *
 * Unless `--no-pin` (or on one CPU), the gateway runs on a core of its own and everything else on
 * the other (`taskset`): its throughput is then set by its own CPU per call, and a round does not
 * depend on how the scheduler happened to share two cores between four busy processes.
 *
 *   npm run bench:auth -- [--seconds 2] [--connections 16] [--rounds 15] [--loader autocannon|wrk] [--baseline REV] [--no-docs] [--profile DIR] [--no-pin] [--padded] [--perf DIR]
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannonRun, wrkRun } from '../gateway/loaders.js';
import type { LoadFigures, Measured, Shot } from '../gateway/loaders.js';
import { groupSeconds, mainThreadSeconds } from '../gateway/cpu.js';
import { summariseProfile } from '../gateway/cpuprofile.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { Pinning, ROOT, stopProcess } from '../support/procs.js';
import { ITEM_TOOL, checkoutRevision, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import type { Mcpgate } from '../support/mcpgate.js';
import { startOidcProvider } from '../../test/support/oidc.js';
import type { TestOidcProvider } from '../../test/support/oidc.js';

const seconds = numberOption('seconds', 2);
const connections = numberOption('connections', 16, true);
const rounds = numberOption('rounds', 15, true);
const profileDir = textOption('profile', '');
/**
 * With `--perf DIR`, every run is recorded by `perf record` (cpu-clock samples of the `serve`
 * process, which runs with `--perf-basic-prof` so that JIT frames are named) and each server's
 * self time per call by symbol, native frames included, is printed with the symbols that cost
 * `jwt` / `exchange` / `padded` more than `open`: what the V8 CPU profile counts as idle (Node's
 * HTTP parser, libuv, the kernel's socket calls). With `--baseline`, the baseline's runs too.
 * Names of JIT-compiled functions are approximate: the map only grows, so code that V8 moved or
 * dropped may lend its name to what later took its address; native symbols are exact.
 * Samples carry their call chains (`-g`), so time is also given inclusive of callees: the
 * kernel's share by the stage it serves (`KERNEL_STAGES`: above all the wake-up of the socket's
 * reader on the other CPU, which a cpu-clock profile in a VM otherwise books as the self time
 * of `_raw_spin_unlock_irqrestore`, the interrupts held off while the wake-up is sent), and
 * the symbols whose inclusive time differs most from `open`. The gateway's JIT symbol maps are
 * kept in DIR (copy them back to /tmp to run `perf report` on the recordings again).
 */
const perfDir = textOption('perf', '');
const baselineRev = textOption('baseline', '');
const loader = textOption('loader', 'autocannon');
if (loader !== 'autocannon' && loader !== 'wrk') throw new Error('--loader is autocannon or wrk');
/** Calls of each server before measuring. */
const WARM_UP_CALLS = 5000;
/**
 * With `--padded`, a fourth run: the `open` server called with a header of the `jwt` token's size
 * that no part of the gateway reads (`x-bench-padding`): what carrying the token's bytes costs
 * without any token step, to tell the step from the HTTP parsing of a larger request.
 */
const padded = flag('padded');
const ALL_NAMES = ['open', 'jwt', 'exchange', 'padded'] as const;
type Name = (typeof ALL_NAMES)[number];
const NAMES: readonly Name[] = padded ? ALL_NAMES : ALL_NAMES.slice(0, 3);

const watchdog = setTimeout(() => {
  console.error('auth benchmark: watchdog expired');
  process.exit(3);
}, ((baselineRev ? 2 : 1) * rounds * 3 * (seconds + 5) + (baselineRev ? 1500 : 900)) * 1000);
watchdog.unref();

async function createServer(m: Mcpgate, name: string, authorization: unknown): Promise<void> {
  const r = await fetch(`${m.registry}/api/v1/namespaces/public/mcp-servers`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name, protocol: 'http', endpoint: { type: 'service', namespace: 'public', group: 'DEFAULT_GROUP', service: 'bench-backend' },
      passthrough: { headers: ['authorization'], cookies: [] }, publish: true,
      spec: { version: '1.0.0', description: `benchmark server ${name}`, tools: [ITEM_TOOL], ...(authorization ? { authorization } : {}) },
    }),
  });
  if (r.status !== 201) throw new Error(`creating MCP server ${name} answered ${r.status} ${await r.text()}`);
}

/** The `q` quantile (0..1) of `xs`, linearly interpolated. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** One `serve` process (this tree's build, or the baseline's) with the three servers, and the shots that call them. */
interface Build {
  label: string;
  m: Mcpgate;
  shots: Record<Name, Shot>;
}

/** The three servers on `m`, a token for each endpoint, and the calls; checked once. */
async function setUp(label: string, m: Mcpgate, idp: TestOidcProvider, backendPort: number): Promise<Build> {
  await registerBackend(m, backendPort);
  const issuers = [{ issuer: idp.issuer }];
  await createServer(m, 'open', undefined);
  await createServer(m, 'jwt', { enabled: true, issuers, requiredScopes: ['mcp'] });
  await createServer(m, 'exchange', {
    enabled: true, issuers, requiredScopes: ['mcp'],
    tokenExchange: { tokenEndpoint: `${idp.issuer}/token`, clientId: idp.gatewayClient.clientId, clientSecret: idp.gatewayClient.clientSecret, audience: 'https://backend.internal' },
  });
  const tokenFor = async (name: string): Promise<string> => {
    const r = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.gatewayClient.clientId}:${idp.gatewayClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: `mcp tools:${name}:*`, resource: `${m.gateway}/mcp/public/${name}` }).toString(),
    });
    const body = await r.json() as { access_token?: string };
    if (!body.access_token) throw new Error(`no token for ${name}: ${JSON.stringify(body)}`);
    return body.access_token;
  };
  const call = modernCallRequest('get_item');
  const tokens: Record<Name, Record<string, string>> = {
    open: {},
    jwt: { authorization: `Bearer ${await tokenFor('jwt')}` },
    exchange: { authorization: `Bearer ${await tokenFor('exchange')}` },
    padded: {},
  };
  tokens.padded = { 'x-bench-padding': 'p'.repeat(tokens.jwt.authorization!.length) };
  const shot = (name: Name): Shot => ({ url: `${m.gateway}/mcp/public/${name === 'padded' ? 'open' : name}`, method: 'POST', headers: { ...call.headers, ...tokens[name] }, body: call.body });
  const shots = { open: shot('open'), jwt: shot('jwt'), exchange: shot('exchange'), padded: shot('padded') };
  for (const name of NAMES) {
    const check = await fetch(shots[name].url, { method: 'POST', headers: shots[name].headers, body: call.body });
    if (check.status !== 200) throw new Error(`${label} ${name}: tools/call answered ${check.status} ${await check.text()}`);
  }
  return { label, m, shots };
}

/** One measured configuration: a server of a build. */
interface Config extends Measured {
  build: Build;
  name: Name;
  /** The gateway's main thread's CPU µs per call, each round (the rest of `cpu` is its helper threads': V8's GC, libuv's pool). */
  main: number[];
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-auth-'));
  const idp = await startOidcProvider({ scopes: ['mcp', 'tools:jwt:*', 'tools:exchange:*'] });
  const backend = await startBenchBackend();
  // The gateway on a core of its own (CPU 1), everything else (this process, wrk, the backend, the provider) on CPU 0.
  const pins = new Pinning(!flag('no-pin'));
  pins.helpers(process.pid, backend.child.pid!);
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const processes: Mcpgate[] = [];
  const configs: Config[] = [];
  try {
    const nodeArgs = [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...(perfDir ? ['--perf-basic-prof'] : [])];
    if (perfDir) mkdirSync(perfDir, { recursive: true });
    const m = await startMcpgate(work, { nodeArgs });
    processes.push(m);
    pins.measured(m.child.pid!);
    const builds = [await setUp(baselineRev ? 'this build' : '', m, idp, backend.port)];
    if (baselineRev) {
      const rev = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', baselineRev], { encoding: 'utf8' }).stdout.trim() || baselineRev;
      console.error(`baseline: extracting and building ${baselineRev} (${rev})`);
      const b = await startMcpgate(work, { root: checkoutRevision(baselineRev, work), nodeArgs: perfDir ? ['--perf-basic-prof'] : [] });
      processes.push(b);
      pins.measured(b.child.pid!);
      builds.push(await setUp(`baseline ${rev}`, b, idp, backend.port));
    }
    for (const build of builds) for (const name of NAMES) configs.push({ build, name, figures: [], cpu: [], main: [], windows: [], calls: 0 });
    const run = (c: Config, s: number): Promise<LoadFigures> => loader === 'wrk'
      ? wrkRun(c.build.shots[c.name], { connections, seconds: s, threads: 1, dir: work })
      : autocannonRun(c.build.shots[c.name], { connections, seconds: s });
    const label = (c: Config) => `${c.build.label ? `${c.build.label} ` : ''}${c.name}`;
    // Warm up (JIT, pools, key and exchange caches) by calls, not by time: on a loaded machine 2 s may be a few hundred calls.
    for (let done = 0, started = Date.now(); done < WARM_UP_CALLS && Date.now() - started < 60_000;) {
      for (const c of configs) done += (await run(c, 1)).total / configs.length;
    }
    const loadAtStart = loadavg();
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round, so that no server always runs first (or after the same one).
      for (const c of configs.map((_, i) => configs[(i + round) % configs.length]!)) {
        const pid = c.build.m.child.pid!;
        const recording = perfDir ? await startPerf(pid, join(perfDir, `${c.build === builds[0] ? '' : 'baseline-'}${c.name}-${round}.data`)) : undefined;
        const before = groupSeconds([pid]);
        const mainBefore = mainThreadSeconds(pid);
        const fromUs = monotonicUs();
        const f = await run(c, seconds);
        c.windows.push({ fromUs, toUs: monotonicUs() });
        if (recording) await recording.stop();
        const usPerCall = ((groupSeconds([pid]) - before) * 1e6) / Math.max(1, f.total);
        const mainUsPerCall = ((mainThreadSeconds(pid) - mainBefore) * 1e6) / Math.max(1, f.total);
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${label(c)}: ${f.errors} errors, ${f.non2xx} non-2xx answers`);
        c.figures.push(f);
        c.cpu.push(usPerCall);
        c.main.push(mainUsPerCall);
        c.calls += f.total;
        console.error(`round ${round + 1} ${label(c)}: ${Math.round(f.rps)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms, gateway CPU ${Math.round(usPerCall)} µs/call (main thread ${Math.round(mainUsPerCall)}), load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    // Costs: each round's own ratio to the same build's open server in the same round (paired), so
    // that load drifting between rounds cancels out; the median of them, and their interquartile range.
    const pct = (x: number) => `${x.toFixed(1)} %`;
    const ms = (x: number) => String(Math.round(x * 10) / 10);
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
    const spread = (xs: readonly number[]) => `${pct(median(xs))} (${pct(quantile(xs, 0.25))} … ${pct(quantile(xs, 0.75))})`;
    const rows = configs.map((c) => {
      const open = configs.find((o) => o.build === c.build && o.name === 'open')!;
      const throughput = c.figures.map((f, i) => (1 - f.rps / open.figures[i]!.rps) * 100);
      const cpu = c.cpu.map((x, i) => (x / open.cpu[i]! - 1) * 100);
      // Beyond open, per round (paired): the main thread's and the helper threads' shares of the extra CPU.
      const mainExtra = c.main.map((x, i) => x - open.main[i]!);
      const helperExtra = c.cpu.map((x, i) => x - c.main[i]! - (open.cpu[i]! - open.main[i]!));
      return `| ${label(c)} | ${Math.round(median(c.figures.map((f) => f.rps)))} | ${ms(median(c.figures.map((f) => f.p50)))} | ${ms(median(c.figures.map((f) => f.p99)))} `
        + `| ${c.name === 'open' ? '—' : spread(throughput)} | ${Math.round(median(c.cpu))} | ${c.name === 'open' ? '—' : spread(cpu)} `
        + `| ${Math.round(median(c.main))} | ${c.name === 'open' ? '—' : `${signed(median(mainExtra))} / ${signed(median(helperExtra))}`} |`;
    });
    const block = [
      `tools/call (2026-07-28, stateless) through \`mcpgate serve\`, ${connections} connections (${loader}), ${rounds} interleaved rounds of ${seconds} s per server (order rotated per round)`
        + `${baselineRev ? `, this build and \`--baseline ${baselineRev}\` in the same rounds` : ''};`,
      `${cpus().length} CPUs, ${pins.active ? 'the gateway pinned to one, the load generator, the backend and the provider to the other' : 'shared by the gateway, the load generator, the backend and the provider'}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} at the start,`,
      `${loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end; exchanges made: ${idp.exchanges.length}. Gateway CPU is the \`serve\` process's user + system`,
      'time (/proc) over the calls of each run: the steadier figure when other processes share the cores. req/s, latencies and CPU are medians',
      'over rounds; a cost is the median over rounds of each round\'s ratio to the open server in the same round, with the interquartile range',
      'of those ratios in parentheses (the spread between rounds). Main thread: the CPU of the `serve` process\'s main thread alone',
      '(/proc/PID/task/PID/stat); beyond open, the median per round of the extra µs on the main thread / on its other threads (V8\'s GC helpers, libuv).',
      '',
      '| server | req/s | p50 ms | p99 ms | throughput cost vs open (IQR) | gateway CPU µs/call | CPU cost vs open (IQR) | main thread µs/call | extra µs main / helpers |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
    console.log(block);
    if (perfDir) for (const b of builds) printPerf(perfDir, b === builds[0] ? '' : 'baseline-', configs.filter((c) => c.build === b));
    if (!flag('no-docs') && !profileDir && !perfDir && !baselineRev && !padded) console.error(`wrote ${writeBenchSection({ heading: 'Gateway with OAuth', name: 'auth', command: 'npm run bench:auth', block })}`);
  } finally {
    for (const p of processes) {
      await stopProcess(p.child);
      // --perf-basic-prof's symbol map of the process, read by `perf report` above; kept beside the
      // recordings (copy it back to /tmp to report them again with JIT names).
      if (perfDir) {
        const map = `/tmp/perf-${p.child.pid}.map`;
        if (existsSync(map)) copyFileSync(map, join(perfDir, `perf-${p.child.pid}.map`));
        rmSync(map, { force: true });
      }
    }
    if (profileDir) printProfiles(profileDir, configs.filter((c) => c.build === configs[0]?.build));
    await stopProcess(backend.child);
    await idp.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** `perf record` of process `pid` into `file` until `stop()` (started, and given time to attach, before it resolves). */
async function startPerf(pid: number, file: string): Promise<{ stop: () => Promise<void> }> {
  const child = spawn('perf', ['record', '-q', '-g', '-e', 'cpu-clock', '-F', '4999', '-p', String(pid), '-o', file], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  return {
    stop: async () => {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await done;
    },
  };
}

/** Each server's self time per call by symbol, from its runs' perf recordings (files `prefix` + name; cpu-clock: a sample's period is ns), and the differences from `open`. */
function printPerf(dir: string, prefix: string, configs: readonly Config[]): void {
  const perCall = new Map<Name, Map<string, number>>();
  const label = `perf${prefix === '' ? '' : ` ${configs[0]?.build.label ?? ''}`}`;
  for (const c of configs) {
    const ns = new Map<string, number>();
    for (const f of readdirSync(dir).filter((x) => x.startsWith(`${prefix}${c.name}-`) && x.endsWith('.data'))) {
      const r = spawnSync('perf', ['report', '-i', join(dir, f), '--stdio', '-q', '--no-children', '--sort', 'dso,sym', '-F', 'period,dso,sym', '-g', 'none', '--percent-limit', '0'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      for (const line of r.stdout.split('\n')) {
        // period, dso (`[JIT] tid N` for V8's code, named by --perf-basic-prof's map), `[.]`, symbol.
        const m = /^\s*(\d+)\s+(.+?)\s+\[.\]\s+(.*)$/.exec(line);
        if (!m) continue;
        const key = `${m[3]!.trim().slice(0, 120)}  (${m[2]!.replace(/ tid \d+$/, '')})`;
        ns.set(key, (ns.get(key) ?? 0) + Number(m[1]));
      }
    }
    const fns = new Map([...ns].map(([k, v]) => [k, v / 1000 / Math.max(1, c.calls)] as const).sort((a, b) => b[1] - a[1]));
    perCall.set(c.name, fns);
    console.error(`${label} ${c.name}: ${[...fns.values()].reduce((s, x) => s + x, 0).toFixed(1)} µs sampled per call (${c.calls} calls)`);
    for (const [fn, us] of [...fns].slice(0, 30)) console.error(`  ${us.toFixed(2).padStart(7)} µs  ${fn}`);
    // The gateway's own JavaScript of the token path (src/gateway/auth, the access step), self time.
    const own = [...fns].filter(([fn]) => /\/gateway\/(auth\/|access-policy)/.test(fn));
    console.error(`${label} ${c.name}: token path's own JavaScript ${own.reduce((s, [, us]) => s + us, 0).toFixed(3)} µs a call: ${own.map(([fn, us]) => `${fn.replace(/ .*\//, ' ').replace(/\s+\(.*$/, '')} ${us.toFixed(3)}`).join(', ')}`);
  }
  printDifferences(label, perCall, 40);
  printInclusive(label, dir, prefix, configs);
}

/**
 * Kernel functions whose inclusive time (with their callees) tells what the gateway's kernel time
 * a call is for: the socket writes and reads, the loopback delivery to the peer run in the
 * writer's softirq (`net_rx_action`), and within it the wake-up of the peer's epoll
 * (`sock_def_readable`: `ep_poll_callback`, `try_to_wake_up`, an IPI to the other CPU when it
 * idles), and the epoll waits.
 */
const KERNEL_STAGES = ['tcp_sendmsg', 'net_rx_action', 'sock_def_readable', 'tcp_recvmsg', 'do_epoll_wait'] as const;

/**
 * Each server's inclusive µs a call by symbol (the samples' call chains: a function with all it
 * calls), from its runs' recordings: the `KERNEL_STAGES`, and the symbols whose inclusive time
 * differs most from `open` (which stage of a request carries the extra: the parser's callbacks,
 * the microtasks after an await, the writes).
 */
function printInclusive(label: string, dir: string, prefix: string, configs: readonly Config[]): void {
  const perCall = new Map<Name, Map<string, number>>();
  for (const c of configs) {
    const ns = new Map<string, number>();
    for (const f of readdirSync(dir).filter((x) => x.startsWith(`${prefix}${c.name}-`) && x.endsWith('.data'))) {
      const file = join(dir, f);
      // The file's whole period (ns), then each symbol's share of it with its callees (--children).
      const total = spawnSync('perf', ['report', '-i', file, '--stdio', '-q', '--no-children', '--sort', 'dso', '-F', 'period', '-g', 'none'], { encoding: 'utf8', maxBuffer: 1 << 28 })
        .stdout.split('\n').reduce((sum, line) => sum + Number(/^\s*(\d+)/.exec(line)?.[1] ?? 0), 0);
      const r = spawnSync('perf', ['report', '-i', file, '--stdio', '-q', '--children', '--sort', 'sym', '-g', 'none', '--percent-limit', '0.05'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      for (const line of r.stdout.split('\n')) {
        // children %, self %, `[k]` or `[.]`, symbol.
        const m = /^\s*([\d.]+)%\s+[\d.]+%\s+\[.\]\s+(.*?)\s*$/.exec(line);
        if (!m) continue;
        const key = m[2]!.slice(0, 120);
        ns.set(key, (ns.get(key) ?? 0) + (Number(m[1]) / 100) * total);
      }
    }
    perCall.set(c.name, new Map([...ns].map(([k, v]) => [k, v / 1000 / Math.max(1, c.calls)] as const)));
  }
  const open = perCall.get('open');
  for (const [name, fns] of perCall) {
    console.error(`${label} ${name}: kernel µs a call, inclusive${name === 'open' ? '' : ' (beyond open)'}: ${KERNEL_STAGES.map((k) => {
      const us = fns.get(k) ?? 0;
      const extra = open && name !== 'open' ? ` (${us - (open.get(k) ?? 0) >= 0 ? '+' : ''}${(us - (open.get(k) ?? 0)).toFixed(2)})` : '';
      return `${k} ${us.toFixed(2)}${extra}`;
    }).join(', ')}`);
  }
  printDifferences(`${label} inclusive`, perCall, 30);
}

/** What each server spends per call beyond `open`, by function (µs a call per function and server): the total and the `top` largest differences. */
function printDifferences(label: string, perCall: ReadonlyMap<Name, ReadonlyMap<string, number>>, top: number): void {
  const open = perCall.get('open');
  if (!open) return;
  for (const name of NAMES.slice(1)) {
    const fns = perCall.get(name);
    if (!fns) continue;
    const diff = [...new Set([...fns.keys(), ...open.keys()])].map((k) => ({ fn: k, us: (fns.get(k) ?? 0) - (open.get(k) ?? 0) }));
    console.error(`${label} ${name} − open: ${diff.reduce((s, d) => s + d.us, 0).toFixed(1)} µs per call; the largest differences:`);
    for (const d of diff.sort((a, b) => Math.abs(b.us) - Math.abs(a.us)).slice(0, top)) console.error(`  ${(d.us >= 0 ? '+' : '') + d.us.toFixed(2).padStart(6)} µs  ${d.fn}`);
  }
}

/** Each server's self time per call by function (from its own runs' samples), and what `jwt` and `exchange` spend beyond `open`. */
function printProfiles(dir: string, configs: readonly Config[]): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const perCall = new Map<Name, Map<string, number>>();
    for (const c of configs) {
      if (c.calls === 0) continue;
      const p = summariseProfile(join(dir, f), ROOT, c.windows, 100_000);
      const fns = new Map(p.functions.map((fn) => [`${fn.name}  ${fn.where}`, (fn.ms * 1000) / c.calls]));
      perCall.set(c.name, fns);
      console.error(`${f} ${c.name}: ${((p.busyMs * 1000) / c.calls).toFixed(1)} µs busy per call (${c.calls} calls)`);
      for (const [fn, us] of [...fns].slice(0, 25)) console.error(`  ${us.toFixed(2).padStart(7)} µs  ${fn}`);
    }
    printDifferences(f, perCall, 30);
  }
}

await main();
