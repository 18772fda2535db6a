/**
 * MCP → MCP proxying, side by side in one run (issue 11, "Performance"): 32 concurrent agent
 * sessions (official SDK 1.x clients over Streamable HTTP, each with its own session, each calling
 * a tool in a loop and checking the answer) against
 *
 *   - the upstream called directly (bench/mcp/upstream.mjs: an SDK 1.x Streamable HTTP server
 *     with 2025 sessions, one tool `echo`);
 *   - mcpgate (`mcpgate serve`, compiled) fronting it as an `mcp-streamable` server, one upstream
 *     session per agent session (`upstream.sessions: per-session`), and with one shared
 *     upstream connection (`shared`, the default);
 *   - the peers installed by bench/mcp/peers.sh into bench/.peers/ (a peer not installed, or
 *     failing to start or to answer, is reported as such):
 *       npm `mcp-proxy` (a stdio → HTTP server: in front of supergateway's Streamable HTTP → stdio bridge),
 *       `supergateway` (stdio → Streamable HTTP, stateful, in front of its own Streamable HTTP → stdio bridge),
 *       Python `mcp-proxy` (HTTP server in front of its own Streamable HTTP client mode),
 *       ContextForge (`mcpgateway`: the upstream registered as a gateway, its tools served at /mcp).
 *
 * Besides calls/s and latency, each party's CPU time per call (from /proc: the target and its
 * children, the upstream, the load generator) and which of them is the bottleneck: on a machine
 * of few cores every party's CPU per call lowers every party's throughput. The clients run in
 * `--load-procs` forked processes (default 2; 0: in this process); `--cpu-prof DIR` runs mcpgate
 * under `node --cpu-prof` and prints where its CPU goes during the measured window.
 *
 *   bash bench/mcp/peers.sh && npx tsx bench/mcp/proxy.bench.ts [--clients 32] [--seconds 10] [--warmup 3] [--load-procs 2]
 *     [--only direct,mcpgate] [--cpu-prof DIR] [--rounds 1]
 *
 * `--rounds N` measures every target N times, interleaved (the order reversed every other round,
 * so that no target always runs first or after the same one), and reports each target's median
 * round besides every round's figures: on a shared machine two configurations compare only
 * side by side like this.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupSeconds, selfSeconds } from '../gateway/cpu.js';
import { summariseProfile } from '../gateway/cpuprofile.js';
import { numberOption, textOption } from '../support/args.js';
import { startMcpgate } from '../support/mcpgate.js';
import { ROOT, TSX, freePort } from '../support/procs.js';
import { parentPids } from '../../test/support/proc.js';
import { connect, startEchoLoad } from './echo-load.js';
import type { EchoLoad } from './echo-load.js';

const CLIENTS = numberOption('clients', 32, true);
const SECONDS = numberOption('seconds', 10);
const WARMUP = numberOption('warmup', 3);
const ONLY = textOption('only', '').split(',').filter(Boolean);
const LOAD_PROCS = textOption('load-procs', '2') === '0' ? 0 : numberOption('load-procs', 2, true);
const CPU_PROF = textOption('cpu-prof', '');
const ROUNDS = numberOption('rounds', 1, true);
/** The round being measured (profiles of each round go to a directory of their own). */
let currentRound = 1;
const profileDir = (sessions: string) => join(CPU_PROF, ROUNDS > 1 ? `${sessions}-r${currentRound}` : sessions);
const PEERS = join(ROOT, 'bench/.peers');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running { url: string; headers?: Record<string, string>; stop(): Promise<void>; pids: () => number[] }
interface Target { name: string; how: string; start(upstreamUrl: string, work: string): Promise<Running> }
/** CPU µs per call of each party: the target (with its children), the upstream, the load generator. */
interface CpuPerCall { target: number; upstream: number; load: number }
interface Row { name: string; how: string; status: string; rps?: number; p50?: number; p99?: number; errors?: number; calls?: number; cpu?: CpuPerCall }

/** A process in a group of its own (peers start children: the whole group is stopped). */
function spawnGroup(cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString('utf8')).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
  await exited;
  clearTimeout(timer);
  try { process.kill(-pid, 'SIGKILL'); } catch { /* the group is gone */ }
}

/** Wait until an MCP client can list the tools at `url` (a peer is up), within `ms`. */
async function untilServing(url: string, ms: number, running: { child: ChildProcess; output: () => string }, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    if (running.child.exitCode !== null) throw new Error(`exited with ${running.child.exitCode}: ${running.output().slice(-600)}`);
    try {
      const c = await connect(url, headers);
      const tools = await c.listTools();
      await c.close();
      if (tools.tools.some((t) => t.name.endsWith('echo'))) return;
      last = `tools: ${tools.tools.map((t) => t.name).join(', ')}`;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`not serving the echo tool within ${ms} ms (${last.slice(0, 300)}); output: ${running.output().slice(-600)}`);
    await sleep(500);
  }
}

function peerBin(name: string): string {
  const file = join(PEERS, 'status', name);
  if (!existsSync(file)) throw new Error('not installed (run bash bench/mcp/peers.sh)');
  const status = readFileSync(file, 'utf8').trim();
  if (!status.startsWith('ok: ')) throw new Error(`install ${status}`);
  return status.slice(4);
}

const targets: Target[] = [
  {
    name: 'upstream directly', how: 'SDK 1.x Streamable HTTP server, a session per client',
    start: async (upstreamUrl) => ({ url: upstreamUrl, stop: async () => undefined, pids: () => [] }),
  },
  ...(['per-session', 'shared'] as const).map((sessions): Target => ({
    name: `mcpgate (${sessions})`, how: `mcpgate serve, mcp-streamable server, upstream.sessions: ${sessions}`,
    start: async (upstreamUrl, work) => {
      const m = await startMcpgate(work, CPU_PROF ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir(sessions)] } : {});
      const r = await fetch(`${m.registry}/api/v1/namespaces/public/mcp-servers`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'upstream', protocol: 'mcp-streamable', endpoint: { type: 'url', url: upstreamUrl }, publish: true,
          spec: { version: '1.0.0', description: 'bench upstream', tools: [], config: { upstream: { sessions, protocolVersion: 'legacy', maxProcesses: CLIENTS * 2 } } },
        }),
      });
      if (r.status !== 201) throw new Error(`creating the server answered ${r.status} ${await r.text()}`);
      const url = `${m.gateway}/mcp/public/upstream`;
      await untilServing(url, 30_000, { child: m.child, output: () => '' });
      return { url, stop: async () => { await stopGroupOrProcess(m.child); }, pids: () => [m.child.pid as number] };
    },
  })),
  {
    name: 'npm mcp-proxy', how: 'mcp-proxy --server stream -- supergateway --streamableHttp UPSTREAM (stdio bridge)',
    start: async (upstreamUrl) => {
      const [bin, sg] = [peerBin('npm-mcp-proxy'), peerBin('supergateway')];
      const port = await freePort();
      const p = spawnGroup(bin, ['--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--', sg, '--streamableHttp', upstreamUrl, '--logLevel', 'none']);
      const url = `http://127.0.0.1:${port}/mcp`;
      await untilServing(url, 60_000, p).catch(async (err: unknown) => { await stopGroup(p.child); throw err; });
      return { url, stop: () => stopGroup(p.child), pids: () => [p.child.pid as number] };
    },
  },
  {
    name: 'supergateway', how: 'supergateway --stdio "supergateway --streamableHttp UPSTREAM" --outputTransport streamableHttp --stateful',
    start: async (upstreamUrl) => {
      const sg = peerBin('supergateway');
      const port = await freePort();
      const p = spawnGroup(sg, ['--stdio', `${sg} --streamableHttp ${upstreamUrl} --logLevel none`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--logLevel', 'none']);
      const url = `http://127.0.0.1:${port}/mcp`;
      await untilServing(url, 60_000, p).catch(async (err: unknown) => { await stopGroup(p.child); throw err; });
      return { url, stop: () => stopGroup(p.child), pids: () => [p.child.pid as number] };
    },
  },
  {
    name: 'Python mcp-proxy', how: 'mcp-proxy --port P -- mcp-proxy --transport streamablehttp UPSTREAM',
    start: async (upstreamUrl) => {
      const bin = peerBin('py-mcp-proxy');
      const port = await freePort();
      const p = spawnGroup(bin, ['--port', String(port), '--host', '127.0.0.1', '--log-level', 'WARNING', '--', bin, '--transport', 'streamablehttp', '--log-level', 'WARNING', upstreamUrl]);
      const url = `http://127.0.0.1:${port}/mcp`;
      await untilServing(url, 60_000, p).catch(async (err: unknown) => { await stopGroup(p.child); throw err; });
      return { url, stop: () => stopGroup(p.child), pids: () => [p.child.pid as number] };
    },
  },
  {
    name: 'ContextForge', how: 'mcpgateway 1.1.0 (SQLite, memory cache, an admin JWT), the upstream registered with POST /gateways, its tools at /mcp',
    start: async (upstreamUrl, work) => {
      const bin = peerBin('contextforge');
      const port = await freePort();
      const dir = mkdtempSync(join(work, 'contextforge-'));
      // ContextForge refuses weak or low-entropy secrets and passwords: random ones for this run.
      const secret = randomBytes(32).toString('base64url');
      const password = `Bench-${randomBytes(16).toString('base64url')}`;
      const env = {
        HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: `sqlite:///${join(dir, 'mcp.db')}`,
        MCPGATEWAY_UI_ENABLED: 'false', MCPGATEWAY_ADMIN_API_ENABLED: 'false', DEV_MODE: 'true',
        CACHE_TYPE: 'memory', LOG_LEVEL: 'ERROR', JWT_SECRET_KEY: secret, AUTH_ENCRYPTION_SECRET: secret, BASIC_AUTH_PASSWORD: password,
        PLATFORM_ADMIN_PASSWORD: password, DEFAULT_USER_PASSWORD: password, PLUGINS_ENABLED: 'false', OBSERVABILITY_ENABLED: 'false', SSRF_PROTECTION_ENABLED: 'false',
        SSRF_ALLOW_LOCALHOST: 'true', SSRF_ALLOW_PRIVATE_NETWORKS: 'true',
        // Its default rate limits (100 tool requests a minute) would measure the limiter, not the proxy.
        RATE_LIMITING_ENABLED: 'false', RATE_LIMIT_LOCKOUT_ENABLED: 'false',
      };
      // Its own token tool: an admin token for the platform admin, signed with this run's secret.
      const made = spawnSync(join(bin, '../python'), ['-m', 'mcpgateway.utils.create_jwt_token', '-u', 'admin@example.com', '--admin', '-e', '120', '-s', secret],
        { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
      const token = made.stdout?.trim().split('\n').pop() ?? '';
      if (made.status !== 0 || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new Error(`create_jwt_token failed: ${(made.stderr ?? '').slice(-400)}`);
      const headers = { authorization: `Bearer ${token}` };
      const p = spawnGroup(bin, ['--host', '127.0.0.1', '--port', String(port)], env);
      const base = `http://127.0.0.1:${port}`;
      try {
        const deadline = Date.now() + 120_000;
        while (!(await fetch(`${base}/health`).then((r) => r.ok, () => false))) {
          if (p.child.exitCode !== null) throw new Error(`exited with ${p.child.exitCode}: ${p.output().slice(-800)}`);
          if (Date.now() > deadline) throw new Error(`/health did not answer within 120 s: ${p.output().slice(-800)}`);
          await sleep(500);
        }
        const r = await fetch(`${base}/gateways`, {
          method: 'POST', headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ name: 'bench-upstream', url: upstreamUrl, transport: 'STREAMABLEHTTP' }),
        });
        if (!r.ok) throw new Error(`POST /gateways answered ${r.status} ${(await r.text()).slice(0, 400)}`);
        const url = `${base}/mcp`;
        await untilServing(url, 60_000, p, headers);
        return { url, headers, stop: () => stopGroup(p.child), pids: () => [p.child.pid as number] };
      } catch (err) {
        await stopGroup(p.child);
        throw err;
      }
    },
  },
];

async function stopGroupOrProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A process and all its descendants (peers start bridges, which start children of their own). */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentPids()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const walk = (pid: number) => { out.push(pid); for (const c of children.get(pid) ?? []) walk(c); };
  walk(root);
  return out;
}

/** What one measurement gives. */
interface Measured { rps: number; p50: number; p99: number; errors: number; calls: number; cpu: CpuPerCall; window: { fromUs: number; toUs: number } }

/** The parties whose CPU is counted: the target's processes and the upstream's. */
interface Parties { target: () => number[]; upstream: () => number[] }

/** CLIENTS sessions calling `echo` in a loop in this process, driven like a load worker. */
function inProcessLoad(url: string, headers: Record<string, string>): LoadGroup {
  let load: EchoLoad | undefined;
  return {
    pids: () => [],
    async ready() { load = await startEchoLoad(url, headers, CLIENTS); },
    measure() { load?.measure(); },
    stop: async () => (load ? load.stop() : { latencies: [], errors: 0 }),
  };
}

/** Clients driven as a group: connect, count, stop with their latencies. */
interface LoadGroup { pids(): number[]; ready(): Promise<void>; measure(): void; stop(): Promise<{ latencies: number[]; errors: number }> }

/** CLIENTS sessions spread over LOAD_PROCS forked load workers (bench/mcp/load-worker.ts). */
function forkedLoad(url: string, headers: Record<string, string>): LoadGroup {
  const workers = Array.from({ length: LOAD_PROCS }, (_, i) => {
    const count = Math.floor(CLIENTS / LOAD_PROCS) + (i < CLIENTS % LOAD_PROCS ? 1 : 0);
    return fork(join(ROOT, 'bench/mcp/load-worker.ts'), [url, String(count), JSON.stringify(headers)], { execArgv: ['--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  });
  const next = (w: ChildProcess, type: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (m.type === 'failed') { w.off('message', onMessage); reject(new Error(String(m.error))); }
      if (m.type === type) { w.off('message', onMessage); resolve(m); }
    };
    w.on('message', onMessage);
    w.once('exit', (code) => reject(new Error(`a load worker exited with ${code}`)));
  });
  return {
    pids: () => workers.map((w) => w.pid as number),
    async ready() {
      try {
        await Promise.all(workers.map((w) => next(w, 'ready')));
      } catch (err) {
        for (const w of workers) w.kill('SIGKILL');
        throw err;
      }
    },
    measure() { for (const w of workers) w.send({ type: 'measure' }); },
    async stop() {
      const done = workers.map((w) => next(w, 'done'));
      for (const w of workers) w.send({ type: 'stop' });
      const all = await Promise.all(done);
      return { latencies: all.flatMap((m) => m.latencies as number[]), errors: all.reduce((s, m) => s + (m.errors as number), 0) };
    },
  };
}

/** CLIENTS sessions calling `echo` in a loop: warm-up, then SECONDS measured, with each party's CPU per call. */
async function measure(url: string, headers: Record<string, string>, parties: Parties): Promise<Measured> {
  const load = LOAD_PROCS === 0 ? inProcessLoad(url, headers) : forkedLoad(url, headers);
  await load.ready();
  await sleep(WARMUP * 1000);
  const pids = { target: parties.target().flatMap(tree), upstream: parties.upstream().flatMap(tree), load: load.pids().flatMap(tree) };
  const cpu = () => ({ target: groupSeconds(pids.target), upstream: groupSeconds(pids.upstream), load: groupSeconds(pids.load) + selfSeconds() });
  const before = cpu();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  load.measure();
  const started = performance.now();
  await sleep(SECONDS * 1000);
  const after = cpu();
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const elapsed = (performance.now() - started) / 1000;
  const { latencies, errors } = await load.stop();
  latencies.sort((a, b) => a - b);
  const calls = latencies.length;
  const per = (k: keyof CpuPerCall) => (calls > 0 ? ((after[k] - before[k]) * 1e6) / calls : NaN);
  return {
    rps: calls / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, calls,
    cpu: { target: per('target'), upstream: per('upstream'), load: per('load') }, window: { fromUs, toUs },
  };
}

/** Where mcpgate's CPU went in the measured window (its `--cpu-prof` profile, written when it stopped). */
function printProfile(dir: string, window: { fromUs: number; toUs: number }): void {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (!file) return void console.log(`  (no profile in ${dir})`);
  let p = summariseProfile(join(dir, file), ROOT, window, 30);
  if (p.totalMs < 100) p = summariseProfile(join(dir, file), ROOT, undefined, 30);
  console.log(`  CPU profile ${join(dir, file)}: busy ${p.busyMs.toFixed(0)} ms of ${p.totalMs.toFixed(0)} ms`);
  for (const a of p.areas) console.log(`    ${(a.share * 100).toFixed(1).padStart(5)} %  ${a.name}`);
  console.log('  functions (self time):');
  for (const f of p.functions) console.log(`    ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-proxy-bench-'));
  const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
  console.log(`MCP → MCP proxying: ${CLIENTS} sessions, ${WARMUP} s warm-up + ${SECONDS} s each; load average at start ${load}`);
  const upstreamPort = await freePort();
  const upstream = spawnGroup(process.execPath, [join(ROOT, 'bench/mcp/upstream.mjs'), String(upstreamPort)]);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/mcp`;
  const measured: Row[] = [];
  const chosen = targets.filter((t) => ONLY.length === 0 || ONLY.some((o) => t.name.toLowerCase().includes(o.toLowerCase())));
  try {
    await untilServing(upstreamUrl, 30_000, upstream);
    for (currentRound = 1; currentRound <= ROUNDS; currentRound++) {
      if (ROUNDS > 1) console.log(`round ${currentRound} of ${ROUNDS}`);
      for (const target of currentRound % 2 === 0 ? [...chosen].reverse() : chosen) {
        const rows = measured;
        let running: Running | undefined;
        let window: Measured['window'] | undefined;
        try {
          running = await target.start(upstreamUrl, work);
        } catch (err) {
          rows.push({ name: target.name, how: target.how, status: `failed to start: ${String(err instanceof Error ? err.message : err).replace(/\s+/g, ' ').slice(0, 300)}` });
          console.log(`${target.name}: ${rows.at(-1)?.status}`);
          continue;
        }
        try {
          const m = await measure(running.url, running.headers ?? {}, { target: running.pids, upstream: () => [upstream.child.pid as number] });
          rows.push({ name: target.name, how: target.how, status: m.errors > 0 ? `${m.errors} errors` : 'ok', ...m });
          const { cpu } = m;
          const bottleneck = (['target', 'upstream', 'load'] as const).reduce((b, k) => (cpu[k] > cpu[b] ? k : b), 'target');
          console.log(`${target.name}: ${m.rps.toFixed(0)} calls/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.errors} errors; `
            + `CPU µs/call: target ${cpu.target.toFixed(0)}, upstream ${cpu.upstream.toFixed(0)}, load generator ${cpu.load.toFixed(0)} (most: ${bottleneck}); load ${loadavg()[0]?.toFixed(2)}`);
          window = m.window;
        } catch (err) {
          rows.push({ name: target.name, how: target.how, status: `failed during the run: ${String(err).slice(0, 300)}` });
          console.log(`${target.name}: ${rows.at(-1)?.status}`);
        } finally {
          await running.stop();
        }
        if (CPU_PROF && window && target.name.startsWith('mcpgate')) printProfile(profileDir(target.name.includes('per-session') ? 'per-session' : 'shared'), window);
      }
    }
  } finally {
    await stopGroup(upstream.child);
    rmSync(work, { recursive: true, force: true });
  }
  // Each target's median round (by calls/s; a failed round only when no round succeeded).
  const rows: Row[] = chosen.flatMap((t) => {
    const all = measured.filter((r) => r.name === t.name);
    const ok = all.filter((r) => r.rps).sort((a, b) => (a.rps ?? 0) - (b.rps ?? 0));
    return ok.length > 0 ? [ok[Math.floor((ok.length - 1) / 2)] as Row] : all.slice(0, 1);
  });
  if (ROUNDS > 1) {
    console.log(`\nEvery round (calls/s, p50 ms, CPU µs/call of the target / upstream / load generator); the table shows each target's median round:`);
    for (const t of chosen) {
      const all = measured.filter((r) => r.name === t.name);
      console.log(`  ${t.name}: ${all.map((r) => (r.rps ? `${Math.round(r.rps)} (${r.p50?.toFixed(2)}, ${r.cpu ? `${Math.round(r.cpu.target)}/${Math.round(r.cpu.upstream)}/${Math.round(r.cpu.load)}` : '–'})` : r.status)).join('; ')}`);
    }
  }
  const direct = rows.find((r) => r.name === 'upstream directly' && r.rps);
  const peers = rows.filter((r) => !r.name.startsWith('mcpgate') && r.name !== 'upstream directly' && r.rps);
  const bestPeer = peers.reduce<Row | undefined>((b, r) => (!b || (r.rps ?? 0) > (b.rps ?? 0) ? r : b), undefined);
  console.log(`\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' / ')}\n`);
  // On a shared machine throughput follows the load; CPU per call does much less: a proxy's
  // capacity (calls per CPU second of its processes) and its ratio to the best peer's.
  const capacity = (r: Row | undefined) => (r?.cpu && r.cpu.target > 0 ? 1e6 / r.cpu.target : undefined);
  const bestPeerCapacity = peers.reduce<number | undefined>((b, r) => Math.max(b ?? 0, capacity(r) ?? 0) || undefined, undefined);
  console.log('| target | configuration | calls/s | p50 (ms) | p99 (ms) | added p50 (ms) | ÷ direct | ÷ best peer | CPU µs/call: target / upstream / load | calls per CPU s (÷ best peer) | status |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const f = (v: number | undefined, d = 2) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
    const added = r.p50 !== undefined && direct?.p50 !== undefined ? f(r.p50 - direct.p50) : '–';
    const vsDirect = r.rps && direct?.rps ? `${(r.rps / direct.rps).toFixed(2)}×` : '–';
    const vsPeer = r.rps && bestPeer?.rps ? `${(r.rps / bestPeer.rps).toFixed(2)}×` : '–';
    console.log(`| ${r.name} | ${r.how} | ${r.rps ? Math.round(r.rps).toLocaleString('en') : '–'} | ${f(r.p50)} | ${f(r.p99)} | ${added} | ${vsDirect} | ${vsPeer} | ${r.cpu ? `${r.name === 'upstream directly' ? '–' : f(r.cpu.target, 0)} / ${f(r.cpu.upstream, 0)} / ${f(r.cpu.load, 0)}` : '–'} | ${capacity(r) ? `${Math.round(capacity(r) as number)}${bestPeerCapacity ? ` (${((capacity(r) as number) / bestPeerCapacity).toFixed(2)}×)` : ''}` : '–'} | ${r.status} |`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
