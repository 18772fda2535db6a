/**
 * Gateway throughput: MCP tools/call over Streamable HTTP through `mcpgate serve` to a
 * backend answering a fixed JSON document (~200 bytes), beside the peers the issue names, all
 * in one run on this machine:
 *
 *   1. the backend called directly (a bare node:http server in its own process);
 *   2. nginx (Debian) as a reverse proxy to it, upstream keep-alive on;
 *   3. an MCP server written by hand with the official SDK 1.x (stateless, JSON responses,
 *      a new server and transport per request) making the same backend call;
 *   4. mcpgate, the tool defined through the registry APIs (instance registered with the
 *      Nacos v1 form, MCP server created with the native API, GET template + `{{.}}`),
 *      called in the 2026-07-28 stateless form and, reported separately, in a 2025 session;
 *   5. a bare Node proxy (bench/gateway/floor-proxy.ts: node:http + undici dispatch, no MCP, no
 *      checks), the ceiling of any Node gateway of this shape, to read mcpgate's ratios against.
 *
 * Then tools/list latency on a server with 1,000 tools (one page of 500, and the full walk of
 * two pages; sequential and with 8 concurrent connections), and a CPU profile of mcpgate
 * under the tools/call load. Prints markdown and rewrites the generated block of the
 * "## Gateway" section of docs/benchmarks.md (text after the block is kept).
 *
 *   npm run bench:gateway -- [--seconds 10] [--connections 32] [--warmup 3] [--loader auto|autocannon|wrk]
 *     [--wrk-threads 1] [--rounds 3] [--list-calls 200] [--list-seconds 5] [--no-profile] [--no-docs] [--keep]
 *     [--baseline <git rev>]
 *
 * With `--baseline <rev>`, the build of that revision (extracted with `git archive`, built with
 * this tree's node_modules) runs as a second mcpgate beside the current one, measured in the same
 * rounds, interleaved, in both the 2026-07-28 and the 2025 session forms: a before/after comparison
 * in one run.
 *
 * Every load loop is bounded in time and aimed at 127.0.0.1 only; the whole run is killed
 * after a watchdog limit.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { ROOT, TSX, freePort, startProcess } from '../support/procs.js';
import { DOCUMENT } from './backend.js';
import { summariseProfile } from './cpuprofile.js';
import type { ProfileSummary } from './cpuprofile.js';
import { autocannonRun, wrkRun } from './loaders.js';
import type { LoadFigures, Shot } from './loaders.js';
import { ensureNginx, nginxVersion, startNginx } from './nginx.js';
import { groupSeconds, reapedChildrenSeconds, selfSeconds, withChildren } from './cpu.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import type { Mcpgate } from '../support/mcpgate.js';
import {
  ACCEPT, ITEM_TOOL, MODERN, MODERN_META, REST_TEMPLATE, SESSION_VERSION, checkoutRevision, openSession, createBenchServer, modernCallRequest, registerBackend, startBenchBackend,
  startMcpgate as startMcpgateProcess,
} from '../support/mcpgate.js';

// ------------------------------------------------------------------------------- Node

/**
 * The Node binary of the run: BENCH_NODE, else the first `node` on the PATH outside
 * node_modules (npm scripts put node_modules/.bin first, where a devDependency may ship
 * another Node whose ABI the native modules were not built for).
 */
function systemNode(): string {
  if (process.env.BENCH_NODE) return process.env.BENCH_NODE;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir || dir.includes('node_modules')) continue;
    const candidate = join(dir, 'node');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return process.execPath;
}
const NODE = systemNode();
if (realpathSync(process.execPath) !== NODE && !process.env.BENCH_GATEWAY_REEXEC) {
  // Run the whole benchmark (load generator included) on that Node.
  const r = spawnSync(NODE, ['--import', TSX, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, BENCH_GATEWAY_REEXEC: '1' } });
  process.exit(r.status ?? 1);
}

// ------------------------------------------------------------------------------- options

const seconds = numberOption('seconds', 10);
const connections = numberOption('connections', 32);
const warmup = numberOption('warmup', 3);
const loaderName = textOption('loader', 'auto');
if (loaderName !== 'autocannon' && loaderName !== 'wrk' && loaderName !== 'auto') throw new Error('--loader is auto, autocannon or wrk');
const wrkThreads = numberOption('wrk-threads', 1);
const rounds = numberOption('rounds', 3);
const listCalls = numberOption('list-calls', 200);
const listSeconds = numberOption('list-seconds', 5);
const profile = !flag('no-profile');
const writeDocs = !flag('no-docs');
const keep = flag('keep');
const baselineRev = textOption('baseline', '');

/** Targets of issue 4, and issue 11's for REST tools after the redesign (both eras ≥ 8× the SDK server). */
const TARGETS = { overSdk: 5, overNginx: 0.25, p99Ms: 20, bothEras: 8 } as const;
const TOOLS = 1000;
const SDK_PEER = 'MCP SDK 1.x server, hand-written (stateless, JSON)';
const GATE_PEER = '**mcpgate**';
const FLOOR_PEER = 'bare Node proxy (node:http + undici dispatch; no MCP, no checks)';
const LEGACY = SESSION_VERSION;

// ------------------------------------------------------------------------------- processes

const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-gateway-'));
const children = new Set<ChildProcess>();
const log = (s: string) => process.stderr.write(`[bench:gateway] ${s}\n`);

function own(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL after `ms`; resolves when the process is gone. */
async function stop(child: ChildProcess, ms = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(timer);
}

/** Kill every process this run started, and their own children (nginx workers outlive a killed master). */
function killAll(): void {
  for (const c of children) {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    for (const pid of withChildren(c.pid).reverse()) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    if (!keep) rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
// Watchdog: the whole run is bounded, whatever happens.
const watchdogMs = (((baselineRev ? 10 : 8) * rounds + 2) * (seconds + warmup) + 6 * listSeconds + listCalls + (baselineRev ? 600 : 300)) * 1000;
setTimeout(() => {
  log(`watchdog: still running after ${Math.round(watchdogMs / 1000)} s, stopping`);
  killAll();
  process.exit(3);
}, watchdogMs).unref();

function ensureTool(cmd: string, pkg: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0) return true;
  log(`${cmd} is missing: apt-get install ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env, timeout: 300_000 });
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function startBackend(): Promise<{ child: ChildProcess; port: number }> {
  const b = await startBenchBackend();
  own(b.child);
  return b;
}

/**
 * The floor under any Node gateway of this shape (bench/gateway/floor-proxy.ts): it reads the
 * POST, fetches the backend with undici's dispatch, and answers the JSON-RPC result; nothing else.
 */
async function startFloorProxy(backendPort: number): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = own(await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/gateway/floor-proxy.ts'), String(port), String(backendPort)], `http://127.0.0.1:${port}/`));
  return { child, url: `http://127.0.0.1:${port}/mcp` };
}

async function startSdkServer(backendPort: number): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = own(await startProcess(process.execPath, ['--import', TSX, join(ROOT, 'bench/gateway/sdk-server.ts'), String(port), `http://127.0.0.1:${backendPort}`], `http://127.0.0.1:${port}/healthz`));
  return { child, url: `http://127.0.0.1:${port}/mcp` };
}

/** `mcpgate serve` in its own process, from the compiled build (of `root`: a baseline tree); with `profileDir`, under `--cpu-prof`. */
async function startMcpgate(profileDir?: string, root?: string): Promise<Mcpgate> {
  const m = await startMcpgateProcess(work, { ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}), ...(root ? { root } : {}) });
  own(m.child);
  return m;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------- registry setup

function catalogTools(): unknown[] {
  return Array.from({ length: TOOLS }, (_, i) => ({
    name: `tool_${String(i).padStart(4, '0')}`,
    description: `Tool number ${i} of the catalog: looks an item up by id and returns it as JSON.`,
    inputSchema: { type: 'object', properties: { id: { type: 'integer', description: 'Item id' }, fields: { type: 'string', description: 'Comma-separated fields to return' } }, required: ['id'] },
    template: REST_TEMPLATE,
  }));
}

// ------------------------------------------------------------------------------- MCP requests

/** tools/call in the 2026-07-28 stateless form: `_meta` envelope and the three headers. */
function modernCall(url: string, tool: string): Shot {
  return { url, method: 'POST', ...modernCallRequest(tool) };
}

/** tools/list in the 2026-07-28 form (a cursor for the next page). */
function modernList(cursor?: string): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { ...(cursor !== undefined ? { cursor } : {}), _meta: MODERN_META } }),
  };
}

/** tools/call in the 2025 form, in a session when `sessionId` is given (stateless SDK server otherwise). */
function legacyCall(url: string, tool: string, sessionId?: string): Shot {
  return {
    url, method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': LEGACY, ...(sessionId ? { 'mcp-session-id': sessionId } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }),
  };
}

/** Send one request; status and body. */
async function once(shot: Shot): Promise<{ status: number; body: string }> {
  const r = await fetch(shot.url, { method: shot.method, headers: shot.headers ?? {}, ...(shot.body !== undefined ? { body: shot.body } : {}) });
  return { status: r.status, body: await r.text() };
}

/** Check that an MCP answer carries the backend's document as its text content; the exact body. */
async function checkMcp(label: string, shot: Shot): Promise<string> {
  for (let i = 0; ; i++) {
    const { status, body } = await once(shot);
    let text: string | undefined;
    try {
      const msg = JSON.parse(body) as { result?: { isError?: boolean; content?: { type: string; text?: string }[] } };
      if (status === 200 && !msg.result?.isError) text = msg.result?.content?.[0]?.text;
    } catch { /* not JSON */ }
    if (text !== undefined) {
      if (JSON.stringify(JSON.parse(text)) !== DOCUMENT) throw new Error(`${label}: the tool returned ${text}, not the backend's document`);
      if (text !== DOCUMENT) log(`${label}: the tool's text is the backend's document, re-serialised differently: ${text}`);
      return body;
    }
    if (i >= 50) throw new Error(`${label}: ${status} ${body}`);
    await sleep(100); // the gateway applies a new snapshot within a second
  }
}

// ------------------------------------------------------------------------------- load runs

/** CPU use during a measured run, in % of one core. */
interface CpuUse {
  peer: number;
  backend?: number;
  loader: number;
}

interface Row {
  peer: string;
  protocol: string;
  figures: LoadFigures;
  cpu: CpuUse;
}

/** Every measured run, in order; the report keeps the best of the rounds per peer. */
const rows: Row[] = [];
const rowKey = (r: Row) => `${r.peer}|${r.protocol}|${r.figures.loader}`;

/** Per peer (in first-seen order), the round with the highest throughput. */
function bestRows(): Row[] {
  const best = new Map<string, Row>();
  for (const r of rows) {
    const b = best.get(rowKey(r));
    if (!b || r.figures.rps > b.figures.rps) best.set(rowKey(r), r);
  }
  return [...best.values()];
}

interface MeasureOptions {
  loader: 'autocannon' | 'wrk';
  /** The exact answer expected (checked by autocannon in the warm-up and autocannon runs). */
  expectBody: string;
  /** The processes of the peer (nginx: master and workers). */
  peerPids: () => number[];
  /** The backend behind the peer, when there is one. */
  backendPid?: number;
}

/**
 * Warm up with autocannon (checking every answer's body), then measure with the chosen load
 * generator, noting the CPU time of the peer, the backend and the load generator.
 */
async function measure(peer: string, protocol: string, shot: Shot, o: MeasureOptions): Promise<Row> {
  log(`${peer} (${protocol}): warm-up ${warmup} s (autocannon, bodies checked), then ${seconds} s with ${o.loader}`);
  const warm = await autocannonRun(shot, { connections, seconds: warmup, expectBody: o.expectBody });
  const pids = o.peerPids();
  const loaderSeconds = o.loader === 'wrk' ? reapedChildrenSeconds : selfSeconds;
  const before = { peer: groupSeconds(pids), backend: o.backendPid ? groupSeconds([o.backendPid]) : 0, loader: loaderSeconds(), at: performance.now() };
  const figures = o.loader === 'wrk'
    ? await wrkRun(shot, { connections, seconds, threads: wrkThreads, dir: work })
    : await autocannonRun(shot, { connections, seconds, expectBody: o.expectBody });
  const wall = (performance.now() - before.at) / 1000;
  const pct = (cpuSeconds: number) => (cpuSeconds / wall) * 100;
  const cpu: CpuUse = {
    peer: pct(groupSeconds(pids) - before.peer), loader: pct(loaderSeconds() - before.loader),
    ...(o.backendPid ? { backend: pct(groupSeconds([o.backendPid]) - before.backend) } : {}),
  };
  figures.mismatches += warm.mismatches;
  const row: Row = { peer, protocol, figures, cpu };
  rows.push(row);
  log(`  ${Math.round(figures.rps)} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms, errors ${figures.errors}, non-2xx ${figures.non2xx}, wrong bodies ${figures.mismatches}; CPU peer ${Math.round(cpu.peer)} %, backend ${cpu.backend === undefined ? '—' : Math.round(cpu.backend)} %, load generator ${Math.round(cpu.loader)} %`);
  return row;
}

// ------------------------------------------------------------------------------- tools/list

interface Latencies {
  label: string;
  connections: number;
  count: number;
  p50: number;
  p99: number;
  max: number;
  rps: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarise(label: string, conns: number, samples: number[], wallMs: number): Latencies {
  const s = [...samples].sort((a, b) => a - b);
  return { label, connections: conns, count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, rps: (s.length / wallMs) * 1000 };
}

async function listToolsBench(gateway: string): Promise<{ results: Latencies[]; pageBytes: number[]; pageSize: number }> {
  const url = `${gateway}/mcp/public/catalog`;
  const pool = new Pool(new URL(url).origin, { connections: 8, keepAliveTimeout: 30_000 });
  const post = async (cursor?: string): Promise<string> => {
    const { headers, body } = modernList(cursor);
    const r = await request(url, { method: 'POST', headers, body, dispatcher: pool });
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new Error(`tools/list answered ${r.statusCode}: ${text.slice(0, 300)}`);
    return text;
  };
  // Wait for the 1,000-tool server, and check the pages once.
  let first = '';
  for (let i = 0; ; i++) {
    try {
      first = await post();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
  const p1 = JSON.parse(first) as { result: { tools: unknown[]; nextCursor?: string } };
  if (!p1.result.nextCursor) throw new Error('tools/list of 1,000 tools returned no nextCursor');
  const second = await post(p1.result.nextCursor);
  const p2 = JSON.parse(second) as { result: { tools: unknown[]; nextCursor?: string } };
  if (p1.result.tools.length + p2.result.tools.length !== TOOLS || p2.result.nextCursor !== undefined) {
    throw new Error(`tools/list walk returned ${p1.result.tools.length} + ${p2.result.tools.length} tools`);
  }
  const cursorOf = (text: string) => /"nextCursor":"([^"]*)"/.exec(text)?.[1];
  const onePage = async () => { await post(); };
  const fullWalk = async () => {
    let cursor: string | undefined;
    let pages = 0;
    do {
      const text = await post(cursor);
      cursor = cursorOf(text);
      pages++;
    } while (cursor !== undefined && pages < 10);
  };
  const sequential = async (label: string, op: () => Promise<void>): Promise<Latencies> => {
    for (const end = performance.now() + 1000; performance.now() < end;) await op(); // warm-up, 1 s
    const samples: number[] = [];
    const started = performance.now();
    for (let i = 0; i < listCalls; i++) {
      const t = performance.now();
      await op();
      samples.push(performance.now() - t);
    }
    return summarise(label, 1, samples, performance.now() - started);
  };
  const concurrent = async (label: string, op: () => Promise<void>, conns: number): Promise<Latencies> => {
    const deadline = performance.now() + 1000;
    await Promise.all(Array.from({ length: conns }, async () => { while (performance.now() < deadline) await op(); })); // warm-up
    const samples: number[] = [];
    const started = performance.now();
    const end = started + listSeconds * 1000;
    await Promise.all(Array.from({ length: conns }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        samples.push(performance.now() - t);
      }
    }));
    return summarise(label, conns, samples, performance.now() - started);
  };
  log(`tools/list on ${TOOLS} tools: ${listCalls} sequential calls, then ${listSeconds} s at 8 connections`);
  const results = [
    await sequential('one page (500 tools)', onePage),
    await sequential('full walk (2 pages, 1,000 tools)', fullWalk),
    await concurrent('one page (500 tools)', onePage, 8),
    await concurrent('full walk (2 pages, 1,000 tools)', fullWalk, 8),
  ];
  await pool.close();
  return { results, pageBytes: [Buffer.byteLength(first), Buffer.byteLength(second)], pageSize: p1.result.tools.length };
}

// ------------------------------------------------------------------------------- output

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '—' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n).toString());
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');

function loadTable(): string[] {
  const out = [
    '| peer | protocol | load generator | requests/s | p50 ms | p99 ms | errors | non-2xx | wrong body | CPU % peer / backend / load gen |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of bestRows()) {
    const f = r.figures;
    const cpu = `${Math.round(r.cpu.peer)} / ${r.cpu.backend === undefined ? '—' : Math.round(r.cpu.backend)} / ${Math.round(r.cpu.loader)}`;
    out.push(`| ${r.peer} | ${r.protocol} | ${f.loader} | ${int(f.rps)} | ${ms(f.p50)} | ${ms(f.p99)} | ${f.errors} | ${f.non2xx} | ${f.mismatches} | ${cpu} |`);
  }
  return out;
}

function listTable(list: Awaited<ReturnType<typeof listToolsBench>>): string[] {
  const out = [
    `tools/list on a server with ${int(TOOLS)} tools (2026-07-28 form; page size ${list.pageSize}, pages of ${list.pageBytes.map((b) => `${int(b / 1024)} KiB`).join(' and ')}):`,
    '',
    '| request | connections | calls | p50 ms | p99 ms | max ms | calls/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const l of list.results) out.push(`| ${l.label} | ${l.connections} | ${int(l.count)} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.max)} | ${int(l.rps)} |`);
  return out;
}

function profileTable(p: ProfileSummary, what: string, top = 20): string[] {
  const out = [
    `${what}: ${int(p.busyMs)} ms busy of ${int(p.totalMs)} ms.`,
    '',
    'Self time by area:',
    '',
    '| area | self ms | share of busy |',
    '|---|---:|---:|',
  ];
  for (const a of p.areas.slice(0, 12)) out.push(`| ${a.name} | ${int(a.ms)} | ${(a.share * 100).toFixed(1)} % |`);
  out.push('', 'Top functions by self time:', '', '| function | where | self ms | share of busy |', '|---|---|---:|---:|');
  for (const f of p.functions.slice(0, top)) out.push(`| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.where ? `\`${f.where}\`` : ''} | ${int(f.ms)} | ${(f.share * 100).toFixed(1)} % |`);
  return out;
}

function updateDocs(block: string): void {
  const file = writeBenchSection({ heading: 'Gateway', name: 'gateway', command: 'npm run bench:gateway', block });
  log(`wrote the Gateway section of ${file}`);
}

// ------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const load0 = loadavg();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ${process.platform}/${process.arch}`;
  const started = new Date();
  log(`${machine}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}; work dir ${work}`);
  ensureNginx(log);
  const haveWrk = ensureTool('wrk', 'wrk');
  if (loaderName === 'wrk' && !haveWrk) throw new Error('--loader wrk, but wrk could not be installed');

  const backend = await startBackend();
  const backendPid = backend.child.pid as number;
  const backendUrl = `http://127.0.0.1:${backend.port}/item`;
  // nginx with one worker (one core, like a Node process) and with Debian's default (auto: one per core).
  const nginxes: { label: string; child: ChildProcess; shot: Shot }[] = [];
  for (const workers of [1, 'auto'] as const) {
    const port = await freePort();
    const child = own(await startNginx({ dir: join(work, `nginx-${workers}`), port, backendPort: backend.port, workers }));
    const label = `nginx ${nginxVersion()} reverse proxy (worker_processes ${workers === 'auto' ? `auto = ${cpus().length}` : workers})`;
    nginxes.push({ label, child, shot: { url: `http://127.0.0.1:${port}/item`, method: 'GET' } });
  }
  const sdk = await startSdkServer(backend.port);
  const floor = await startFloorProxy(backend.port);
  const gate = await startMcpgate();
  await registerBackend(gate, backend.port);
  await createBenchServer(gate, 'bench', [ITEM_TOOL]);
  const mcpUrl = `${gate.gateway}/mcp/public/bench`;

  // Every peer answers correctly before it is loaded; the exact bodies become autocannon's expectation.
  const direct: Shot = { url: backendUrl, method: 'GET' };
  for (const [label, shot] of [['backend', direct], ...nginxes.map((n) => [n.label, n.shot] as const)] as const) {
    const r = await once(shot);
    if (r.status !== 200 || r.body !== DOCUMENT) throw new Error(`${label} answered ${r.status} ${r.body}`);
  }
  const sdkShot = legacyCall(sdk.url, 'get_item');
  const sdkBody = await checkMcp('SDK server', sdkShot);
  const floorShot = modernCall(floor.url, 'get_item');
  const floorBody = await checkMcp('bare Node proxy', floorShot);
  const modernShot = modernCall(mcpUrl, 'get_item');
  const modernBody = await checkMcp('mcpgate (2026-07-28)', modernShot);
  const sessionId = await openSession(mcpUrl);
  const sessionShot = legacyCall(mcpUrl, 'get_item', sessionId);
  const sessionBody = await checkMcp('mcpgate (2025 session)', sessionShot);
  // The build before a change, beside this one (--baseline).
  let base: { peer: string; gate: Mcpgate; modernShot: Shot; modernBody: string; sessionShot: Shot; sessionBody: string } | undefined;
  if (baselineRev) {
    const rev = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', baselineRev], { encoding: 'utf8' }).stdout.trim() || baselineRev;
    log(`baseline: extracting and building ${baselineRev} (${rev})`);
    const root = checkoutRevision(baselineRev, work);
    const g = await startMcpgate(undefined, root);
    await registerBackend(g, backend.port);
    await createBenchServer(g, 'bench', [ITEM_TOOL]);
    const url = `${g.gateway}/mcp/public/bench`;
    const bModern = modernCall(url, 'get_item');
    const bSession = legacyCall(url, 'get_item', await openSession(url));
    base = {
      peer: `mcpgate before (${rev})`, gate: g,
      modernShot: bModern, modernBody: await checkMcp('baseline (2026-07-28)', bModern),
      sessionShot: bSession, sessionBody: await checkMcp('baseline (2025 session)', bSession),
    };
  }

  // The backend directly, with both load generators: which one saturates first decides the
  // load generator of the other peers (unless --loader says). Then every peer, in rounds.
  const only = (pid: number) => () => [pid];
  let loader: 'autocannon' | 'wrk' = loaderName === 'wrk' ? 'wrk' : 'autocannon';
  let directAc: Row | undefined;
  let directWrk: Row | undefined;
  let autocannonSaturates = false;
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round} of ${rounds}`);
    const ac = await measure('backend directly', 'HTTP GET', direct, { loader: 'autocannon', expectBody: DOCUMENT, peerPids: only(backendPid) });
    const wrk = haveWrk ? await measure('backend directly', 'HTTP GET', direct, { loader: 'wrk', expectBody: DOCUMENT, peerPids: only(backendPid) }) : undefined;
    if (round === 1) {
      directAc = ac;
      directWrk = wrk;
      // autocannon is the bottleneck when wrk gets more out of the same backend, or when
      // autocannon's own thread is (nearly) saturated.
      autocannonSaturates = !!wrk && (wrk.figures.rps > ac.figures.rps * 1.05 || ac.cpu.loader >= 80);
      if (loaderName === 'auto') loader = autocannonSaturates ? 'wrk' : 'autocannon';
      log(`load generator for the peers: ${loader}`);
    }
    for (const n of nginxes) {
      await measure(n.label, 'HTTP GET', n.shot, { loader, expectBody: DOCUMENT, peerPids: () => withChildren(n.child.pid as number), backendPid });
    }
    await measure(SDK_PEER, `tools/call ${LEGACY}, no session`, sdkShot, { loader, expectBody: sdkBody, peerPids: only(sdk.child.pid as number), backendPid });
    await measure(FLOOR_PEER, `tools/call ${MODERN} (any JSON-RPC body)`, floorShot, { loader, expectBody: floorBody, peerPids: only(floor.child.pid as number), backendPid });
    await measure(GATE_PEER, `tools/call ${MODERN} (stateless)`, modernShot, { loader, expectBody: modernBody, peerPids: only(gate.child.pid as number), backendPid });
    await measure(GATE_PEER, `tools/call ${LEGACY} in a session`, sessionShot, { loader, expectBody: sessionBody, peerPids: only(gate.child.pid as number), backendPid });
    if (base) {
      await measure(base.peer, `tools/call ${MODERN} (stateless)`, base.modernShot, { loader, expectBody: base.modernBody, peerPids: only(base.gate.child.pid as number), backendPid });
      await measure(base.peer, `tools/call ${LEGACY} in a session`, base.sessionShot, { loader, expectBody: base.sessionBody, peerPids: only(base.gate.child.pid as number), backendPid });
    }
  }
  const best = bestRows();
  const pick = (peer: string, protocol?: string) => {
    const r = best.filter((b) => b.peer === peer && (protocol === undefined || b.protocol === protocol) && b.figures.loader === loader)
      .sort((a, b) => b.figures.rps - a.figures.rps)[0];
    if (!r) throw new Error(`no figures for ${peer}`);
    return r;
  };
  const nginxBest = nginxes.map((n) => pick(n.label)).sort((a, b) => b.figures.rps - a.figures.rps)[0] as Row;
  const sdkRow = pick(SDK_PEER);
  const floorRow = pick(FLOOR_PEER);
  const gateRow = pick(GATE_PEER, `tools/call ${MODERN} (stateless)`);
  const sessionRow = pick(GATE_PEER, `tools/call ${LEGACY} in a session`);

  // tools/list with 1,000 tools, on the same mcpgate once the tools/call runs are done.
  await createBenchServer(gate, 'catalog', catalogTools());
  const list = await listToolsBench(gate.gateway);

  await stop(gate.child);
  if (base) await stop(base.gate.child);
  await stop(sdk.child);
  await stop(floor.child);
  for (const n of nginxes) await stop(n.child);

  // A CPU profile of mcpgate under the same tools/call load, in a separate run (the profiler
  // costs throughput); only the samples of the measured window are summarised.
  let prof: ProfileSummary | undefined;
  let profFig: LoadFigures | undefined;
  let profList: ProfileSummary | undefined;
  let profListFig: LoadFigures | undefined;
  if (profile) {
    const profileDir = mkdtempSync(join(work, 'cpuprof-'));
    const g = await startMcpgate(profileDir);
    await registerBackend(g, backend.port);
    await createBenchServer(g, 'bench', [ITEM_TOOL]);
    const shot = modernCall(`${g.gateway}/mcp/public/bench`, 'get_item');
    const body = await checkMcp('mcpgate (profiled)', shot);
    log(`profiling mcpgate: warm-up ${warmup} s, then ${seconds} s with ${loader}`);
    await autocannonRun(shot, { connections, seconds: warmup, expectBody: body });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    profFig = loader === 'wrk'
      ? await wrkRun(shot, { connections, seconds, threads: wrkThreads, dir: work })
      : await autocannonRun(shot, { connections, seconds, expectBody: body });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    // Then tools/list of 500 tools (one page), 8 connections.
    await createBenchServer(g, 'catalog', catalogTools());
    const { headers, body: listBody } = modernList();
    const listShot: Shot = { url: `${g.gateway}/mcp/public/catalog`, method: 'POST', headers, body: listBody };
    for (let i = 0; (await once(listShot)).status !== 200; i++) {
      if (i > 100) throw new Error('the profiled gateway never served the catalog');
      await sleep(100);
    }
    log(`profiling mcpgate: tools/list (500 tools), 8 connections, ${listSeconds} s`);
    await autocannonRun(listShot, { connections: 8, seconds: 1 });
    const listFrom = Number(process.hrtime.bigint() / 1000n);
    profListFig = await autocannonRun(listShot, { connections: 8, seconds: listSeconds });
    const listTo = Number(process.hrtime.bigint() / 1000n);
    await stop(g.child, 30_000);
    // One profile per thread (tsx's module hooks run in a worker): the main thread's has thread id 0.
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const file = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
    if (keep) {
      writeFileSync(join(profileDir, 'window.json'), JSON.stringify({ fromUs, toUs }));
      writeFileSync(join(profileDir, 'window-list.json'), JSON.stringify({ fromUs: listFrom, toUs: listTo }));
    }
    if (file) {
      prof = summariseProfile(join(profileDir, file), ROOT, { fromUs, toUs });
      if (prof.totalMs < 100) prof = summariseProfile(join(profileDir, file), ROOT); // clocks did not line up: the whole profile
      profList = summariseProfile(join(profileDir, file), ROOT, { fromUs: listFrom, toUs: listTo });
      if (profList.totalMs < 100) profList = undefined;
    } else {
      log('no .cpuprofile was written (the serve process did not exit cleanly)');
    }
  }
  await stop(backend.child);

  // ----------------------------------------------------------------------------- report
  const gateFig = gateRow.figures;
  const overSdk = gateFig.rps / sdkRow.figures.rps;
  const overNginx = gateFig.rps / nginxBest.figures.rps;
  const shownArgs = process.argv.slice(2).filter((a) => a !== '--keep');
  const lines: string[] = [];
  lines.push(
    'Command:',
    '',
    '```',
    `npm run bench:gateway${shownArgs.length ? ` -- ${shownArgs.join(' ')}` : ''}`,
    '```',
    '',
    `Run ${started.toISOString().replace(/\.\d+Z$/, 'Z')} on ${machine}; nginx ${nginxVersion()}; load average before the run ${load0.map((l) => l.toFixed(2)).join(', ')} (other work shares this machine: absolute numbers are noisy, compare within one run).`,
    `${connections} connections, ${warmup} s warm-up (autocannon) then ${seconds} s measured with ${loader} per peer, the peers in turn, ${rounds} round${rounds > 1 ? 's' : ''}; the table shows each peer's best round (the least disturbed by other work). Every process (backend, peer, load generator) runs on this machine, on 127.0.0.1.`,
    `Backend: node:http in its own process answering a fixed ${Buffer.byteLength(DOCUMENT)}-byte JSON document. "wrong body" counts answers that differ from the checked first answer (autocannon \`expectBody\`, in the warm-up and in autocannon runs). CPU is the share of one core each process used during the measured run.`,
    '',
    ...loadTable(),
    '',
    'Targets (issue 4), from this run:',
    '',
    '| target | measured | |',
    '|---|---:|---|',
    `| mcpgate ÷ hand-written SDK server ≥ ${TARGETS.overSdk}× | ${ratio(gateFig.rps, sdkRow.figures.rps)} | ${verdict(overSdk >= TARGETS.overSdk)} |`,
    `| mcpgate ÷ nginx reverse proxy (the faster configuration) ≥ ${TARGETS.overNginx}× | ${ratio(gateFig.rps, nginxBest.figures.rps)} | ${verdict(overNginx >= TARGETS.overNginx)} |`,
    `| mcpgate p99 at ${connections} connections < ${TARGETS.p99Ms} ms | ${ms(gateFig.p99)} ms | ${verdict(gateFig.p99 < TARGETS.p99Ms)} |`,
    '',
    `The 2025 session variant: ${ratio(sessionRow.figures.rps, sdkRow.figures.rps)} the SDK server, ${ratio(sessionRow.figures.rps, nginxBest.figures.rps)} nginx, p99 ${ms(sessionRow.figures.p99)} ms.`,
    '',
    'REST tools after the redesign (issue 11), from this run, with the bare Node proxy as the ceiling of any Node gateway of this shape:',
    '',
    '| figure | 2026-07-28 stateless | 2025 session |',
    '|---|---:|---:|',
    `| ÷ hand-written SDK server (target ≥ ${TARGETS.bothEras}×) | ${ratio(gateFig.rps, sdkRow.figures.rps)} ${verdict(overSdk >= TARGETS.bothEras)} | ${ratio(sessionRow.figures.rps, sdkRow.figures.rps)} ${verdict(sessionRow.figures.rps / sdkRow.figures.rps >= TARGETS.bothEras)} |`,
    `| ÷ bare Node proxy | ${ratio(gateFig.rps, floorRow.figures.rps)} | ${ratio(sessionRow.figures.rps, floorRow.figures.rps)} |`,
    '',
    `The bare Node proxy itself does ${ratio(floorRow.figures.rps, sdkRow.figures.rps)} the SDK server: ${TARGETS.bothEras}× asks a gateway for ${(TARGETS.bothEras / (floorRow.figures.rps / sdkRow.figures.rps) * 100).toFixed(0)} % of the throughput of a proxy that checks nothing. Stateless ÷ session: ${(gateFig.rps / sessionRow.figures.rps).toFixed(3)}.`,
  );
  if (base) {
    const bModern = pick(base.peer, `tools/call ${MODERN} (stateless)`);
    const bSession = pick(base.peer, `tools/call ${LEGACY} in a session`);
    lines.push(
      '',
      `Before and after (\`--baseline ${baselineRev}\`: ${base.peer} built from that revision, measured in the same rounds): `
      + `2026-07-28 stateless ${int(gateFig.rps)} vs ${int(bModern.figures.rps)} req/s (${ratio(gateFig.rps, bModern.figures.rps)}), p50 ${ms(gateFig.p50)} vs ${ms(bModern.figures.p50)} ms; `
      + `2025 session ${int(sessionRow.figures.rps)} vs ${int(bSession.figures.rps)} req/s (${ratio(sessionRow.figures.rps, bSession.figures.rps)}), p50 ${ms(sessionRow.figures.p50)} vs ${ms(bSession.figures.p50)} ms. `
      + `After the change the stateless path does ${ratio(gateFig.rps, sessionRow.figures.rps)} the session path's throughput.`,
    );
  }
  if (directWrk && directAc) {
    lines.push(
      '',
      `Load generators on the backend alone, round 1 (which decides the load generator): autocannon ${int(directAc.figures.rps)} req/s using ${Math.round(directAc.cpu.loader)} % of a core (backend ${Math.round(directAc.cpu.peer)} %), `
      + `wrk (${wrkThreads} thread${wrkThreads > 1 ? 's' : ''}) ${int(directWrk.figures.rps)} req/s using ${Math.round(directWrk.cpu.loader)} % (backend ${Math.round(directWrk.cpu.peer)} %): `
      + `${autocannonSaturates ? 'autocannon is the bottleneck (it saturates its core before the backend does)' : 'the backend is the bottleneck with both'}${loaderName === 'auto' ? `, so the peers were measured with ${loader}` : ''}. `
      + `CPU per request: autocannon ${(directAc.cpu.loader * 10_000 / directAc.figures.rps).toFixed(1)} µs, wrk ${(directWrk.cpu.loader * 10_000 / directWrk.figures.rps).toFixed(1)} µs.`,
    );
  }
  lines.push('', ...listTable(list));
  if (prof && profFig) {
    lines.push(
      '', ...profileTable(prof, `CPU profile of the \`serve\` process (\`node --cpu-prof\`, in a separate run; only the samples of the measured window) under the 2026-07-28 tools/call load for ${seconds} s`),
      '', `(The profiled run did ${int(profFig.rps)} req/s, p99 ${ms(profFig.p99)} ms; the profiler itself costs throughput.)`,
    );
  }
  if (profList && profListFig) {
    lines.push(
      '', ...profileTable(profList, `The same process under tools/list of one 500-tool page at 8 connections for ${listSeconds} s (${int(profListFig.rps)} calls/s)`, 10),
    );
  }
  const block = lines.join('\n');
  console.log(`\n## Gateway\n\n${block}\n`);
  if (writeDocs) updateDocs(block);
}

try {
  await main();
} finally {
  killAll();
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
