/**
 * The Nacos gRPC port: registrations of new ephemeral instances (InstanceRequest) from many
 * client connections, and push latency from a registration to 1,000 subscribers
 * (NotifySubscriberRequest). `mcpgate registry` runs in its own process on SQLite (or the
 * database given); the clients run here: by default the lean client of lean-client.ts (gRPC over
 * node:http2 with pre-encoded frames, checked at the start against the grpc-js client of the tests),
 * with `--client grpc-js` the client of test/support/nacos-grpc.ts, which costs about as much CPU
 * per registration or push as the registry.
 *
 *   npm run bench:grpc -- [--seconds 10] [--connections 64] [--inflight 4] [--subscribers 1000] [--rounds 100] [--db URL] [--baseline DIR] [--cpu-prof DIR] [--client lean|grpc-js]
 *
 * The registry runs from its compiled build, as `npm start` runs it. `--baseline DIR`: also
 * run the registry of another checkout (an older commit extracted with `git archive`, its
 * node_modules linked), one after the other, so a before/after comparison shares the machine's load.
 * `--cpu-prof DIR`: the registry writes a V8 CPU profile (`node --cpu-prof`) into DIR/<build> (`this`, `baseline`),
 * beside the measured windows of the two phases: self time per registration or per push delivered with
 * `npx tsx bench/otel/profile-top.ts DIR/baseline DIR/this --rounds registrations.json` (or `deregistrations.json`, `push.json`).
 * Between the two phases the registering connections close and the bench waits until the registry has
 * deregistered their instances (a row of its own), so that the push phase measures a settled registry.
 * Beside each figure: the registry's CPU µs per registration (or per push delivered) and the
 * load generator's (this process, which runs every client): on a 2-core machine the clients'
 * share shows whether they, rather than the registry, set the figure.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NacosGrpcTestClient } from '../../test/support/nacos-grpc.js';
import { LeanNacosConnection, frame } from './lean-client.js';
import { ROOT, freePort, startProcess, stopProcess } from '../support/procs.js';
import { compiledCli } from '../support/mcpgate.js';
import { processCpuMs } from '../gateway/cpu.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const textArg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dbArg = textArg('db');
const baseline = textArg('baseline');
const seconds = arg('seconds', 10);
const connections = arg('connections', 64);
const inflight = arg('inflight', 4);
const subscribers = arg('subscribers', 1000);
const rounds = arg('rounds', 100);
const cpuProf = textArg('cpu-prof');
const client = textArg('client') ?? 'lean';
if (client !== 'lean' && client !== 'grpc-js') throw new Error("--client: 'lean' or 'grpc-js'");
const SERVICES = 50;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A registering connection of either client: connect, register the i-th instance (true when answered 200), close. */
interface Registrar {
  connect(): Promise<unknown>;
  register(service: string, ip: string, port: number): Promise<boolean>;
  deregister(service: string, ip: string, port: number): Promise<boolean>;
  close(): void;
}

/** A subscribed connection of either client: subscribe, then wait for a push that carries an address. */
interface Subscriber {
  connect(): Promise<unknown>;
  subscribe(service: string): Promise<void>;
  /** Resolves when a NotifySubscriberRequest carrying an instance at `ip` arrives (or has arrived since the last `forget`). */
  pushWith(ip: string, timeoutMs: number): Promise<void>;
  forget(): void;
  close(): void;
}

const instanceFields = (service: string, ip: string, port: number, type: 'registerInstance' | 'deregisterInstance') => ({
  namespace: 'public', serviceName: service, groupName: 'DEFAULT_GROUP', type,
  instance: { ip, port, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {} },
});

/** The grpc-js client of the tests (test/support/nacos-grpc.ts): every frame encoded and decoded in full. */
class GrpcJsClient implements Registrar, Subscriber {
  private readonly c: NacosGrpcTestClient;
  constructor(port: number) { this.c = new NacosGrpcTestClient(port); }
  connect() { return this.c.connect(); }
  async register(service: string, ip: string, port: number) {
    const r = await this.c.request('InstanceRequest', instanceFields(service, ip, port, 'registerInstance')).catch(() => undefined);
    return r?.body['resultCode'] === 200;
  }
  async deregister(service: string, ip: string, port: number) {
    const r = await this.c.request('InstanceRequest', instanceFields(service, ip, port, 'deregisterInstance')).catch(() => undefined);
    return r?.body['resultCode'] === 200;
  }
  async subscribe(service: string) {
    await this.c.request('SubscribeServiceRequest', { namespace: 'public', serviceName: service, groupName: 'DEFAULT_GROUP', subscribe: true, clusters: '' });
  }
  async pushWith(ip: string, timeoutMs: number) {
    await this.c.nextPush((m) => m.type === 'NotifySubscriberRequest'
      && ((m.body['serviceInfo'] as { hosts: { ip: string }[] }).hosts ?? []).some((h) => h.ip === ip), timeoutMs);
  }
  forget() { this.c.pushes.length = 0; }
  close() { this.c.close(); }
}

/**
 * The lean client (lean-client.ts): an InstanceRequest's metadata encoded once per connection and
 * its JSON body written from a template; a push is matched by a scan of its body for the address.
 */
class LeanClient implements Registrar, Subscriber {
  readonly c: LeanNacosConnection;
  private pushes: Buffer[] = [];
  private waiter: { needle: string; resolve: () => void } | undefined;
  constructor(port: number) {
    this.c = new LeanNacosConnection(port);
    this.c.onPush = (p) => {
      if (p.type !== 'NotifySubscriberRequest') return;
      if (this.waiter && p.body.includes(this.waiter.needle)) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve();
      } else {
        this.pushes.push(p.body);
      }
    };
  }
  connect() { return this.c.connect(); }
  private async instance(service: string, ip: string, port: number, type: string): Promise<boolean> {
    const body = `{"requestId":"${this.c.requestId()}","namespace":"public","serviceName":"${service}","groupName":"DEFAULT_GROUP","type":"${type}",`
      + `"instance":{"ip":"${ip}","port":${port},"weight":1,"healthy":true,"enabled":true,"ephemeral":true,"clusterName":"DEFAULT","metadata":{}}}`;
    const r = await this.c.unaryFrame(frame(this.c.metadataOf('InstanceRequest'), body)).catch(() => undefined);
    return r !== undefined && r.includes('"resultCode":200');
  }
  register(service: string, ip: string, port: number) { return this.instance(service, ip, port, 'registerInstance'); }
  deregister(service: string, ip: string, port: number) { return this.instance(service, ip, port, 'deregisterInstance'); }
  async subscribe(service: string) {
    const r = await this.c.request('SubscribeServiceRequest', JSON.stringify({ namespace: 'public', serviceName: service, groupName: 'DEFAULT_GROUP', subscribe: true, clusters: '' }));
    if (!r.includes('"resultCode":200')) throw new Error(`subscribing to ${service} failed`);
  }
  pushWith(ip: string, timeoutMs: number) {
    const needle = `"ip":"${ip}"`;
    if (this.pushes.some((b) => b.includes(needle))) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = undefined; reject(new Error(`no push with ${ip} within ${timeoutMs} ms`)); }, timeoutMs);
      this.waiter = { needle, resolve: () => { clearTimeout(timer); resolve(); } };
    });
  }
  forget() { this.pushes = []; }
  close() { this.c.close(); }
}

const makeClient = (port: number): Registrar & Subscriber => (client === 'grpc-js' ? new GrpcJsClient(port) : new LeanClient(port));

async function connectAll(port: number, n: number): Promise<(Registrar & Subscriber)[]> {
  const out: (Registrar & Subscriber)[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => makeClient(port));
    await Promise.all(batch.map((c) => c.connect()));
    out.push(...batch);
  }
  return out;
}

/**
 * Before measuring, that the lean client gets the answers the grpc-js client of the tests gets:
 * an instance it registers is listed (ServiceQueryRequest through grpc-js, decoded in full), and
 * the push a lean subscriber receives and acknowledges, decoded in full, carries the new instance.
 */
async function checkLeanClient(port: number): Promise<void> {
  const ref = new NacosGrpcTestClient(port);
  await ref.connect();
  const sub = new LeanNacosConnection(port);
  const pushes: Buffer[] = [];
  sub.onPush = (p) => { if (p.type === 'NotifySubscriberRequest') pushes.push(p.body); };
  await sub.connect();
  await sub.request('SubscribeServiceRequest', JSON.stringify({ namespace: 'public', serviceName: 'lean-check', groupName: 'DEFAULT_GROUP', subscribe: true, clusters: '' }));
  const lean = new LeanClient(port);
  await lean.connect();
  if (!(await lean.register('lean-check', '10.250.0.1', 9000))) throw new Error('the lean client\'s registration was not answered 200');
  const q = await ref.request('ServiceQueryRequest', { namespace: 'public', serviceName: 'lean-check', groupName: 'DEFAULT_GROUP', cluster: '', healthyOnly: false });
  const hosts = (q.body['serviceInfo'] as { hosts: { ip: string; port: number }[] }).hosts;
  if (!hosts.some((h) => h.ip === '10.250.0.1' && h.port === 9000)) throw new Error(`the lean registration is not listed: ${JSON.stringify(hosts)}`);
  for (let i = 0; i < 100 && !pushes.some((b) => b.includes('10.250.0.1')); i++) await new Promise((r) => setTimeout(r, 20));
  const pushed = pushes.map((b) => JSON.parse(b.toString('utf8')) as { serviceName: string; serviceInfo: { hosts: { ip: string }[] } })
    .find((p) => p.serviceInfo.hosts.some((h) => h.ip === '10.250.0.1'));
  if (pushed?.serviceName !== 'lean-check') throw new Error('the lean subscriber got no push carrying the new instance');
  if (!(await lean.deregister('lean-check', '10.250.0.1', 9000))) throw new Error('the lean client\'s deregistration was not answered 200');
  lean.close();
  sub.close();
  ref.close();
}

async function registrations(port: number): Promise<{ rps: number; p50: number; p99: number; errors: number; total: number; clients: Registrar[] }> {
  const clients = await connectAll(port, connections);
  let n = 0;
  let errors = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  const worker = async (c: Registrar) => {
    while (Date.now() < end) {
      const i = n++;
      const t = performance.now();
      const ok = await c.register(`bench-${i % SERVICES}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 8000 + (i % 1000));
      latencies.push(performance.now() - t);
      if (!ok) errors++;
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: inflight }, () => worker(c))));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: (latencies.length - errors) / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, total: latencies.length, clients };
}

/**
 * The registering connections close; resolves when the registry has deregistered every instance
 * they held (each service of the registration phase answers ServiceQueryRequest with no host), so
 * that the push phase starts on a settled registry and this cost is a row of its own.
 */
async function deregistrations(port: number, clients: Registrar[], instances: number): Promise<{ instances: number; ms: number }> {
  const t0 = performance.now();
  for (const c of clients) c.close();
  const probe = new LeanNacosConnection(port);
  await probe.connect();
  for (let s = 0; s < SERVICES; s++) {
    for (let i = 0; ; i++) {
      const r = await probe.request('ServiceQueryRequest', `{"namespace":"public","serviceName":"bench-${s}","groupName":"DEFAULT_GROUP","cluster":"","healthyOnly":false}`);
      if (r.includes('"hosts":[]')) break;
      if (i > 1200) throw new Error(`bench-${s} still holds instances 60 s after its connections closed`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  probe.close();
  return { instances, ms: performance.now() - t0 };
}

async function pushLatency(port: number): Promise<{ deliveries: number; p50: number; p99: number; max: number; missed: number }> {
  const subs = await connectAll(port, subscribers);
  await Promise.all(subs.map((s) => s.subscribe('push-target')));
  const [registrar] = await connectAll(port, 1);
  const latencies: number[] = [];
  let missed = 0;
  for (let round = 0; round < rounds; round++) {
    const ip = `10.200.${(round >> 8) & 255}.${round & 255}`;
    const t0 = performance.now();
    const seen = subs.map((s) => s.pushWith(ip, 10_000).then(() => latencies.push(performance.now() - t0), () => { missed++; }));
    await registrar!.register('push-target', ip, 80);
    await Promise.all(seen);
    // Keep the service small: the next round's push carries one host.
    await registrar!.deregister('push-target', ip, 80);
    for (const s of subs) s.forget();
  }
  latencies.sort((a, b) => a - b);
  registrar!.close();
  for (const s of subs) s.close();
  return { deliveries: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN, missed };
}

/**
 * A run's figures with the CPU µs per unit of work (`units`) of the registry (`pid`) and of this process, the load generator.
 * With `--cpu-prof`, the run's time window and units go to `profileDir/window` for bench/otel/profile-top.ts (`--rounds window`).
 */
async function cpuOf<R>(pid: number | undefined, run: () => Promise<R>, units: (r: R) => number, profileDir?: string, window?: string): Promise<R & { cpu: string }> {
  const before = processCpuMs(pid);
  const own = process.cpuUsage();
  const from = Number(process.hrtime.bigint() / 1000n);
  const r = await run();
  if (profileDir && window) writeFileSync(join(profileDir, window), JSON.stringify({ calls: units(r), windows: [[from, Number(process.hrtime.bigint() / 1000n)]] }));
  const after = processCpuMs(pid);
  const used = process.cpuUsage(own);
  const n = units(r);
  const registry = before === undefined || after === undefined || n === 0 ? '—' : String(Math.round(((after - before) * 1000) / n));
  return { ...r, cpu: `${registry}, ${n === 0 ? '—' : Math.round((used.user + used.system) / n)}` };
}

const load0 = loadavg().map((l) => l.toFixed(2)).join(', ');
const f = (x: number) => x.toFixed(1);
const rows: string[] = [];
for (const [build, root] of (baseline ? [['baseline', baseline], ['this', ROOT]] : [['this', ROOT]]) as [string, string][]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpgate-bench-grpc-'));
  const db = dbArg ?? `sqlite:${join(dataDir, 'bench.db')}`;
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const profileDir = cpuProf ? join(cpuProf, build) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const child = await startProcess(process.execPath, [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), compiledCli(root), 'registry', '--host', '127.0.0.1', '--registry-port', String(httpPort), '--grpc-port', String(grpcPort),
    '--db', db, '--auth', 'false', '--log-level', 'warn', '--data-dir', dataDir,
  ], `http://127.0.0.1:${httpPort}/healthz`, {}, 120_000);
  try {
    if (client === 'lean') await checkLeanClient(grpcPort);
    const reg = await cpuOf(child.pid, () => registrations(grpcPort), (r) => r.total, profileDir, 'registrations.json');
    const gone = await cpuOf(child.pid, () => deregistrations(grpcPort, reg.clients, reg.total - reg.errors), (r) => r.instances, profileDir, 'deregistrations.json');
    const push = await cpuOf(child.pid, () => pushLatency(grpcPort), (r) => r.deliveries, profileDir, 'push.json');
    rows.push(`| registrations (InstanceRequest, ${connections} connections × ${inflight} in flight, new ephemeral instances) | ${build} | ${Math.round(reg.rps).toLocaleString('en')}/s (${reg.total} in ${seconds} s) | ${f(reg.p50)} | ${f(reg.p99)} | ${reg.errors} | ${reg.cpu} |`);
    rows.push(`| deregistrations when those ${connections} connections close (until every service lists no host) | ${build} | ${gone.instances.toLocaleString('en')} instances in ${Math.round(gone.ms).toLocaleString('en')} ms | — | — | — | ${gone.cpu} |`);
    rows.push(`| push latency, registration → NotifySubscriberRequest at ${subscribers} subscribers (${rounds} rounds) | ${build} | ${push.deliveries.toLocaleString('en')} deliveries (max ${f(push.max)} ms) | ${f(push.p50)} | ${f(push.p99)} | ${push.missed} missed | ${push.cpu} |`);
  } finally {
    await stopProcess(child);
  }
}
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC, load average before the run ${load0}, after ${loadavg().map((l) => l.toFixed(2)).join(', ')}, database ${dbArg === undefined ? 'SQLite' : dbArg.replace(/\/\/.*@/, '//…@')}, ${client} clients`);
console.log('| workload | build | throughput / deliveries | p50 ms | p99 ms | errors | CPU µs per registration / instance / delivery: registry, load generator |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
