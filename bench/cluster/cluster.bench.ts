/**
 * High availability costs, on the test cluster (test/cluster/harness.ts: 2 registry nodes on
 * PostgreSQL, 3 gateway replicas with sessions in a private Redis, nginx), all on 127.0.0.1:
 *
 *   (a) cross-replica cost: legacy SSE tools/call answered on a stream held by replica A when
 *       the POST lands on replica B, against both on A (and, for reference, a replica with
 *       sessions in memory); 1,000 sequential calls each, interleaved, latency from the POST
 *       to the answer on the stream;
 *   (b) propagation: from a registry write (publishing a new version) to the new tools/list on
 *       all 3 gateways (timed by the list_changed each one sends at its swap, then checked with
 *       tools/list), over 100 updates alternating between the two registry nodes;
 *   (c) scale: 10,000 concurrent 2025 sessions with open GET streams on one gateway, opened
 *       with raw HTTP by a separate process: the gateway's RSS, errors, and the time to tell all
 *       of them about a change.
 *
 * Prints markdown and rewrites the generated block of the "## High availability" section of
 * docs/benchmarks.md.
 *
 *   npx tsx bench/cluster/cluster.bench.ts [--calls 1000] [--updates 100] [--sessions 10000] [--db postgres|mysql] [--no-docs]
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { ClientRequest, Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, startCluster } from '../../test/cluster/harness.js';
import type { Cluster, ClusterProcess } from '../../test/cluster/harness.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';

const CALLS = numberOption('calls', 1000, true);
const UPDATES = numberOption('updates', 100, true);
const SESSIONS = numberOption('sessions', 10_000, true);
const DB = textOption('db', 'postgres') === 'mysql' ? 'mysql' : 'postgres';
const TSX = import.meta.resolve('tsx');
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------------------ figures

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
interface Stats { n: number; p50: number; p99: number; mean: number; max: number }
function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] as number };
}
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}`;
const int = (v: number) => Math.round(v).toLocaleString('en-US');

function rssMiB(pid: number | undefined): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function openFilesLimit(pid: number | undefined): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? NaN);
}

// ------------------------------------------------------------------------------ the MCP server

function spec(version: string, description: string) {
  return {
    version, description: 'HA benchmark',
    tools: [{
      name: 'echo', description, enabled: true,
      inputSchema: { type: 'object', properties: { n: { type: 'integer' } } },
      template: { request: { url: '/echo', method: 'GET', headers: [], argsToUrlParam: true, argsToJsonBody: false, argsToFormBody: false }, response: { body: 'n={{ .n }}' }, argsPosition: {} },
    }],
  };
}

async function api(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

// ------------------------------------------------------------------------------ raw legacy SSE

/** A raw legacy SSE stream: its POST endpoint, and the JSON-RPC answers by id as they arrive. */
class SseSession {
  endpoint = '';
  private readonly waiting = new Map<number, (at: number) => void>();
  private req: ClientRequest | undefined;
  changes: number[] = [];

  static async open(base: string): Promise<SseSession> {
    const s = new SseSession();
    await new Promise<void>((resolve, reject) => {
      s.req = request(`${base}/sse`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET /sse: HTTP ${res.statusCode}`));
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          const at = now();
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (block.startsWith('event: endpoint')) {
              s.endpoint = data;
              resolve();
            } else if (data.startsWith('{')) {
              const m = JSON.parse(data) as { id?: number; method?: string };
              if (typeof m.id === 'number') s.waiting.get(m.id)?.(at);
              else if (m.method === 'notifications/tools/list_changed') s.changes.push(at);
            }
          }
        });
      });
      s.req.on('error', reject);
      s.req.end();
    });
    return s;
  }

  /** POST a request to `base` + the endpoint; resolves with the ms until its answer came on the stream. */
  call(base: string, agent: Agent, id: number, method: string, params: Record<string, unknown>): Promise<number> {
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const started = now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting.delete(id); reject(new Error(`no answer to ${id} within 5 s`)); }, 5000);
      this.waiting.set(id, (at) => { clearTimeout(timer); this.waiting.delete(id); resolve(at - started); });
      const req = request(`${base}${this.endpoint}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        if (res.statusCode !== 202) { clearTimeout(timer); reject(new Error(`POST: HTTP ${res.statusCode}`)); }
      });
      req.on('error', (err) => { clearTimeout(timer); reject(err); });
      req.end(body);
    });
  }

  close(): void {
    this.req?.destroy();
  }
}

// ------------------------------------------------------------------------------ (a)

interface CrossReplica { same: Stats; cross: Stats; memory?: Stats; errors: number }

/** A gateway with sessions in memory (no Redis), for reference; killed after (a). */
async function startMemoryGateway(cluster: Cluster): Promise<{ url: string; stop(): Promise<void> }> {
  const { freePort } = await import('../../test/support/redis.js');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-bench-gw-'));
  const child: ChildProcess = spawn(process.execPath, [
    '--import', TSX, join(ROOT, 'src/cli/main.ts'), 'gateway', '--host', '127.0.0.1', '--gateway-port', String(port),
    '--registry', cluster.registries.map((r) => r.url).join(','), '--data-dir', dir,
  ], { stdio: 'ignore', env: { ...process.env, MCPGATE_LOG_LEVEL: 'warn' } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (i > 300 || child.exitCode !== null) throw new Error('the in-memory gateway did not start');
    await sleep(100);
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function crossReplica(cluster: Cluster, memoryUrl: string): Promise<CrossReplica> {
  const [a, b] = cluster.gateways as [ClusterProcess, ClusterProcess];
  const path = '/mcp/public/bench';
  const agentA = new Agent({ keepAlive: true, maxSockets: 1 });
  const agentB = new Agent({ keepAlive: true, maxSockets: 1 });
  const agentM = new Agent({ keepAlive: true, maxSockets: 1 });
  const same = await SseSession.open(`${a.url}${path}`);
  const cross = await SseSession.open(`${a.url}${path}`);
  const memory = await SseSession.open(`${memoryUrl}${path}`);
  const samples = { same: [] as number[], cross: [] as number[], memory: [] as number[] };
  let errors = 0;
  let id = 0;
  const one = async (s: SseSession, base: string, agent: Agent, into?: number[]) => {
    try {
      const t = await s.call(base, agent, ++id, 'tools/call', { name: 'echo', arguments: { n: id } });
      into?.push(t);
    } catch (err) {
      errors += 1;
      if (errors < 5) log(`  (a) error: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for (let i = 0; i < 100; i++) {
    await one(same, a.url, agentA);
    await one(cross, b.url, agentB);
    await one(memory, memoryUrl, agentM);
  }
  for (let i = 0; i < CALLS; i++) {
    // Interleaved, so that both see the same machine load.
    await one(same, a.url, agentA, samples.same);
    await one(cross, b.url, agentB, samples.cross);
    await one(memory, memoryUrl, agentM, samples.memory);
  }
  for (const s of [same, cross, memory]) s.close();
  for (const ag of [agentA, agentB, agentM]) ag.destroy();
  return { same: stats(samples.same), cross: stats(samples.cross), memory: stats(samples.memory), errors };
}

// ------------------------------------------------------------------------------ (b)

interface Propagation { all: Stats; byNode: { name: string; stats: Stats }[]; failures: number; mode: string }

async function propagation(cluster: Cluster, startVersion: number): Promise<Propagation> {
  const path = '/mcp/public/bench';
  const watchers = await Promise.all(cluster.gateways.map((g) => SseSession.open(`${g.url}${path}`)));
  const byNode = new Map<string, number[]>(cluster.registries.map((r) => [r.name, []]));
  const all: number[] = [];
  let failures = 0;
  let version = startVersion;
  for (let i = 0; i < UPDATES; i++) {
    const node = cluster.registries[i % cluster.registries.length] as ClusterProcess;
    const v = `2.0.${++version}`;
    const description = `update ${i}`;
    const put = await api('PUT', `${node.url}/api/v1/namespaces/public/mcp-servers/bench/versions/${v}`, { spec: spec(v, description) });
    if (put.status !== 200) throw new Error(`PUT version: HTTP ${put.status} ${put.text}`);
    const before = watchers.map((w) => w.changes.length);
    const t0 = now();
    const published = await api('POST', `${node.url}/api/v1/namespaces/public/mcp-servers/bench/versions/${v}/publish`);
    if (published.status !== 200) throw new Error(`publish: HTTP ${published.status} ${published.text}`);
    const deadline = Date.now() + 5000;
    while (watchers.some((w, n) => w.changes.length <= (before[n] as number)) && Date.now() < deadline) await sleep(2);
    if (watchers.some((w, n) => w.changes.length <= (before[n] as number))) {
      failures += 1;
      continue;
    }
    const took = Math.max(...watchers.map((w, n) => w.changes[before[n] as number] as number)) - t0;
    // The swap the notification announced is what tools/list now shows, on every replica.
    for (const g of cluster.gateways) {
      const r = await fetch(`${g.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
      });
      const listed = (await r.json() as { result?: { tools?: { description?: string }[] } }).result?.tools?.[0]?.description;
      if (listed !== description) throw new Error(`${g.name} lists '${listed}' after its list_changed, expected '${description}'`);
    }
    all.push(took);
    byNode.get(node.name)?.push(took);
  }
  for (const w of watchers) w.close();
  const view = await fetch(`${cluster.registries[0]?.url}/api/v1/cluster`).then(async (r) => (r.ok ? await r.json() as { changes?: string } : undefined), () => undefined);
  return {
    all: stats(all), byNode: [...byNode].map(([name, s]) => ({ name, stats: stats(s) })), failures,
    mode: view?.changes === 'push' ? 'changes pushed between nodes (LISTEN/NOTIFY)' : view?.changes === 'poll' ? 'changes polled between nodes (every 500 ms)' : 'registry cluster mode unknown',
  };
}

// ------------------------------------------------------------------------------ (c)

interface Scale {
  sessions: number; opened: number; failed: number; openSeconds: number;
  baseline: number; rssOpen: number; rssSteady: number; hwm: number;
  fanOutMs: number | null; changed: number; stillOpen: number; unexpectedCloses: number; errors: string[]; fdLimit: number;
}

/**
 * A fourth gateway replica for (c), run from the compiled JavaScript as `npm run build` makes it
 * (into a temporary directory, the repository's dist/ untouched): tsx's in-memory TypeScript
 * compilation would count in the RSS of the harness's replicas. Its open-files limit is raised
 * to the hard limit.
 */
async function startCompiledGateway(cluster: Cluster): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgate-bench-dist-'));
  log('  (c) compiling the gateway (tsc -p tsconfig.build.json) into a temporary directory…');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(dir, 'dist'), '--sourceMap', 'false'], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const { freePort } = await import('../../test/support/redis.js');
  const port = await freePort();
  // One process opens every session from one address: no per-address cap, and room for all of them.
  const child: ChildProcess = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, join(dir, 'dist/cli/main.js'), 'gateway',
    '--host', '127.0.0.1', '--gateway-port', String(port), '--registry', cluster.registries.map((r) => r.url).join(','), '--redis', cluster.redis.url, '--data-dir', join(dir, 'data'),
  ], { stdio: 'ignore', env: { ...process.env, MCPGATE_LOG_LEVEL: 'warn', MCPGATE_MAX_SESSIONS_PER_ADDRESS: '0', MCPGATE_MAX_SESSIONS: String(SESSIONS * 2) } });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (i > 300 || child.exitCode !== null) throw new Error('the compiled gateway did not start');
    await sleep(100);
  }
  return {
    url, pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function scale(cluster: Cluster): Promise<Scale> {
  const gateway = await startCompiledGateway(cluster);
  try {
    // Settle after start (first snapshot, JIT), then the baseline.
    await sleep(3000);
    return await scaleOn(cluster, gateway);
  } finally {
    await gateway.stop();
  }
}

async function scaleOn(cluster: Cluster, gateway: { url: string; pid: number | undefined }): Promise<Scale> {
  const fdLimit = openFilesLimit(gateway.pid);
  if (fdLimit < SESSIONS + 500) log(`  (c) warning: the gateway may open ${fdLimit} files, fewer than ${SESSIONS} streams need`);
  const baseline = rssMiB(gateway.pid).rss;
  // The opener raises its own open-files limit to the hard limit (a shell's `ulimit -n`).
  const args = JSON.stringify({ url: `${gateway.url}/mcp/public/bench`, sessions: SESSIONS, kind: 'streamable', concurrency: 64 });
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" --import "$1" "$2" "$3"', process.execPath, TSX, join(ROOT, 'bench/cluster/streams.ts'), args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as Record<string, unknown>;
    if (m.type === 'progress') log(`  (c) ${m.open} streams open`);
    messages.push(m);
    for (const w of waiters.splice(0)) w(m);
  });
  const next = (type: string) => new Promise<Record<string, unknown>>((resolve) => {
    const look = () => {
      const found = messages.find((m) => m.type === type);
      if (found) {
        messages.splice(messages.indexOf(found), 1);
        resolve(found);
      } else {
        waiters.push(look);
      }
    };
    look();
  });
  try {
    const opened = await next('opened');
    const rssOpen = rssMiB(gateway.pid).rss;
    log(`  (c) ${opened.open} open in ${((opened.ms as number) / 1000).toFixed(1)} s; gateway RSS ${rssOpen.toFixed(0)} MiB; holding 20 s (one keep-alive round)`);
    await sleep(20_000);
    // Tell every stream about a change.
    const t0 = now();
    const v = `9.0.${Date.now()}`;
    const registry = cluster.registries[0] as ClusterProcess;
    await api('PUT', `${registry.url}/api/v1/namespaces/public/mcp-servers/bench/versions/${v}`, { spec: spec(v, 'fan-out') });
    await api('POST', `${registry.url}/api/v1/namespaces/public/mcp-servers/bench/versions/${v}/publish`);
    let report: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) {
      await sleep(500);
      child.stdin!.write('report\n');
      report = await next('report');
      if ((report.changed as number) >= (opened.open as number)) break;
    }
    const rssSteady = rssMiB(gateway.pid);
    const last = report.lastChangedAt as number | null;
    return {
      sessions: SESSIONS, opened: opened.open as number, failed: opened.failed as number, openSeconds: (opened.ms as number) / 1000,
      baseline, rssOpen, rssSteady: rssSteady.rss, hwm: rssSteady.hwm, fanOutMs: last === null ? null : last - t0,
      changed: report.changed as number, stillOpen: report.open as number, unexpectedCloses: report.unexpectedCloses as number,
      errors: [...(opened.errors as string[]), ...(report.errors as string[])].filter((e, i, a) => a.indexOf(e) === i), fdLimit,
    };
  } finally {
    child.stdin!.write('close\n');
    await new Promise((r) => { if (child.exitCode !== null) r(undefined); else child.once('exit', r); });
  }
}

// ------------------------------------------------------------------------------ docs

function updateDocs(block: string): void {
  const file = writeBenchSection({ heading: 'High availability', name: 'cluster', command: 'npx tsx bench/cluster/cluster.bench.ts', block });
  log(`wrote the High availability section of ${file}`);
}

// ------------------------------------------------------------------------------ run

const watchdog = setTimeout(() => { log('watchdog: the benchmark took over 20 minutes'); process.exit(3); }, 20 * 60_000);
watchdog.unref();

const backend: Server = createServer((req, res) => {
  const n = new URL(req.url ?? '/', 'http://b').searchParams.get('n');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ n: Number(n) }));
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
const backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
const load = loadavg().map((l) => l.toFixed(2)).join(', ');
log(`starting the cluster (${DB})…`);
const cluster = await startCluster({ db: DB });
let memoryGateway: Awaited<ReturnType<typeof startMemoryGateway>> | undefined;
process.once('SIGINT', () => { void cluster.stop().finally(() => process.exit(130)); });
try {
  const create = await api('POST', `${cluster.registries[0]?.url}/api/v1/namespaces/public/mcp-servers`, {
    name: 'bench', protocol: 'http', publish: true, endpoint: { type: 'url', url: backendUrl }, spec: spec('1.0.0', 'start'),
  });
  if (create.status !== 201) throw new Error(`creating the MCP server: HTTP ${create.status} ${create.text}`);
  for (const g of cluster.gateways) {
    for (let i = 0; ; i++) {
      const r = await fetch(`${g.url}/mcp/public/bench/sse`, { headers: { accept: 'text/event-stream' } });
      void r.body?.cancel();
      if (r.status === 200) break;
      if (i > 100) throw new Error(`${g.name} does not serve the bench server`);
      await sleep(50);
    }
  }
  memoryGateway = await startMemoryGateway(cluster);

  log(`(a) cross-replica cost: ${CALLS} calls each…`);
  const a = await crossReplica(cluster, memoryGateway.url);
  await memoryGateway.stop();
  memoryGateway = undefined;
  log(`(b) propagation: ${UPDATES} updates…`);
  const b = await propagation(cluster, 0);
  log(`(c) scale: ${SESSIONS} sessions with open streams on one gateway…`);
  const c = await scale(cluster);

  const nginxVersion = (spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr || '').trim().replace(/^nginx version:\s*/, '');
  const redisVersion = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  const out: string[] = [];
  out.push('Command:', '', '```', 'npx tsx bench/cluster/cluster.bench.ts', '```', '');
  out.push(`Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), Node ${process.version}, ${process.platform}/${process.arch}; ${DB === 'postgres' ? 'PostgreSQL' : 'MariaDB/MySQL'}, Redis ${redisVersion}, ${nginxVersion}; load average before the run ${load} (other work shares this machine). The cluster of test/cluster/harness.ts (2 registry nodes, 3 gateway replicas with sessions in Redis, nginx), every process and the load on 127.0.0.1.`);
  out.push('');
  out.push(`**(a) Cross-replica cost.** Legacy HTTP+SSE \`tools/call\` (the tool calls a node:http backend), ${int(CALLS)} sequential calls per case after 100 warm-up calls, the cases interleaved; latency from sending the POST to the answer on the stream. Every answer goes through Redis pub/sub (channel \`mcp-server-sse:{session}\`) whichever replica takes the POST, so what the other replica adds is only that its POST is served elsewhere.`);
  out.push('');
  out.push('| case | calls | p50 ms | p99 ms | mean ms | max ms |', '|---|---:|---:|---:|---:|---:|');
  const row = (name: string, s: Stats) => out.push(`| ${name} | ${int(s.n)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.mean)} | ${ms(s.max)} |`);
  row('stream on replica A, POST on A', a.same);
  row('stream on replica A, POST on B', a.cross);
  if (a.memory) row('one replica, sessions in memory (no Redis), for reference', a.memory);
  out.push('');
  out.push(`Added by the other replica: p50 ${signed(a.cross.p50 - a.same.p50)} ms, p99 ${signed(a.cross.p99 - a.same.p99)} ms${a.memory ? `; Redis against memory on one replica: p50 ${signed(a.same.p50 - a.memory.p50)} ms, p99 ${signed(a.same.p99 - a.memory.p99)} ms` : ''}. Errors: ${a.errors}.`);
  out.push('');
  out.push(`**(b) Propagation.** ${UPDATES} updates (a new version of a one-tool server, then its publication), alternating between the two registry nodes; the gateways follow registry-1 (the first of their \`--registry\` list). Time from sending the publish request until the last of the 3 gateways swapped its snapshot (the list_changed it sends to an open legacy SSE stream at the swap), then checked: \`tools/list\` on each gateway shows the new description. Between registry nodes: ${b.mode}.`);
  out.push('');
  out.push('| write through | updates | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|');
  for (const n of b.byNode) out.push(`| ${n.name}${n.name === 'registry-1' ? ' (followed by the gateways)' : ''} | ${n.stats.n} | ${ms(n.stats.p50)} | ${ms(n.stats.p99)} | ${ms(n.stats.max)} |`);
  out.push(`| **both** | ${b.all.n} | ${ms(b.all.p50)} | ${ms(b.all.p99)} | ${ms(b.all.max)} |`);
  out.push('');
  out.push(`Updates not seen by every gateway within 5 s: ${b.failures}.`);
  out.push('');
  out.push(`**(c) Scale.** ${int(c.sessions)} 2025-11-25 sessions (initialize, notifications/initialized, GET stream), each stream on its own connection, opened directly on one gateway replica (a fourth one, with the others' Redis and registries, run from the JavaScript \`tsc -p tsconfig.build.json\` compiles, as \`npm run build\` does) by a separate process, 64 at a time; the gateway may open ${int(c.fdLimit)} files. Held for 20 s (one round of 15 s keep-alives, which also refreshes each session in Redis), then a change published: every stream must get its list_changed.`);
  out.push('');
  out.push('| figure | value |', '|---|---:|');
  out.push(`| streams opened / failed | ${int(c.opened)} / ${int(c.failed)} |`);
  out.push(`| time to open them | ${c.openSeconds.toFixed(1)} s |`);
  out.push(`| gateway RSS before | ${c.baseline.toFixed(0)} MiB |`);
  out.push(`| gateway RSS with all open | ${c.rssOpen.toFixed(0)} MiB |`);
  out.push(`| gateway RSS after 20 s and the fan-out | ${c.rssSteady.toFixed(0)} MiB |`);
  out.push(`| gateway peak RSS (VmHWM, whole life) | ${c.hwm.toFixed(0)} MiB |`);
  out.push(`| per open session (RSS holding them − before) | ${((c.rssSteady - c.baseline) * 1024 / Math.max(1, c.opened)).toFixed(1)} KiB |`);
  out.push(`| streams told about the change | ${int(c.changed)} of ${int(c.opened)} |`);
  out.push(`| publish → the last stream told | ${c.fanOutMs === null ? '—' : `${int(c.fanOutMs)} ms`} |`);
  out.push(`| streams still open at the end / closed by the gateway | ${int(c.stillOpen)} / ${int(c.unexpectedCloses)} |`);
  out.push('');
  if (c.errors.length > 0) out.push(`Errors: ${c.errors.map((e) => `\`${e}\``).join(', ')}.`, '');
  const errorsC = c.failed + c.unexpectedCloses + (c.opened - c.changed);
  out.push('Targets (issue 5), from this run:', '');
  out.push('| target | measured | |', '|---|---:|---|');
  out.push(`| propagation p99 < 500 ms (both nodes) | ${ms(b.all.p99)} ms | **${b.all.p99 < 500 && b.failures === 0 ? 'met' : 'missed'}** |`);
  const mb = (mib: number) => mib * 1.048576;
  out.push(`| ${int(SESSIONS)} sessions: gateway RSS < 300 MB, holding them | ${mb(c.rssSteady).toFixed(0)} MB | **${mb(c.rssSteady) < 300 ? 'met' : 'missed'}** |`);
  out.push(`| the same, at the peak while opening them (${int(SESSIONS)} in ${c.openSeconds.toFixed(0)} s) | ${mb(c.hwm).toFixed(0)} MB | **${mb(c.hwm) < 300 ? 'met' : 'missed'}** |`);
  out.push(`| ${int(SESSIONS)} sessions: zero errors | ${errorsC} | **${errorsC === 0 && c.opened === SESSIONS ? 'met' : 'missed'}** |`);
  const block = out.join('\n');
  process.stdout.write(`${block}\n`);
  if (!flag('no-docs')) updateDocs(block);
} finally {
  await memoryGateway?.stop();
  await cluster.stop();
  backend.closeAllConnections();
  backend.close();
}
