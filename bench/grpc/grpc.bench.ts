/**
 * The Nacos gRPC port: registrations of new ephemeral instances (InstanceRequest) from many
 * client connections, and push latency from a registration to 1,000 subscribers
 * (NotifySubscriberRequest). `mcpgate registry` runs in its own process on SQLite (or the
 * database given); the clients run here, speaking the protocol with test/support/nacos-grpc.ts.
 *
 *   npm run bench:grpc -- [--seconds 10] [--connections 64] [--inflight 4] [--subscribers 1000] [--rounds 100] [--db URL] [--baseline DIR] [--cpu-prof DIR]
 *
 * The registry runs from its compiled build, as `npm start` runs it. `--baseline DIR`: also
 * run the registry of another checkout (an older commit extracted with `git archive`, its
 * node_modules linked), one after the other, so a before/after comparison shares the machine's load.
 * `--cpu-prof DIR`: the registry writes a V8 CPU profile (`node --cpu-prof`) into DIR per build.
 * Beside each figure: the registry's CPU µs per registration (or per push delivered) and the
 * load generator's (this process, which runs every client): on a 2-core machine the clients'
 * share shows whether they, rather than the registry, set the figure.
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NacosGrpcTestClient } from '../../test/support/nacos-grpc.js';
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
const SERVICES = 50;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function connectAll(port: number, n: number): Promise<NacosGrpcTestClient[]> {
  const out: NacosGrpcTestClient[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => new NacosGrpcTestClient(port));
    await Promise.all(batch.map((c) => c.connect()));
    out.push(...batch);
  }
  return out;
}

async function registrations(port: number): Promise<{ rps: number; p50: number; p99: number; errors: number; total: number }> {
  const clients = await connectAll(port, connections);
  let n = 0;
  let errors = 0;
  const latencies: number[] = [];
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  const worker = async (c: NacosGrpcTestClient) => {
    while (Date.now() < end) {
      const i = n++;
      const t = performance.now();
      const r = await c.request('InstanceRequest', {
        namespace: 'public', serviceName: `bench-${i % SERVICES}`, groupName: 'DEFAULT_GROUP', type: 'registerInstance',
        instance: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8000 + (i % 1000), weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {} },
      }).catch(() => undefined);
      latencies.push(performance.now() - t);
      if (r?.body['resultCode'] !== 200) errors++;
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: inflight }, () => worker(c))));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  for (const c of clients) c.close();
  return { rps: (latencies.length - errors) / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, total: latencies.length };
}

async function pushLatency(port: number): Promise<{ deliveries: number; p50: number; p99: number; max: number; missed: number }> {
  const subs = await connectAll(port, subscribers);
  await Promise.all(subs.map((s) => s.request('SubscribeServiceRequest', { namespace: 'public', serviceName: 'push-target', groupName: 'DEFAULT_GROUP', subscribe: true, clusters: '' })));
  const registrar = new NacosGrpcTestClient(port);
  await registrar.connect();
  const latencies: number[] = [];
  let missed = 0;
  for (let round = 0; round < rounds; round++) {
    const ip = `10.200.${(round >> 8) & 255}.${round & 255}`;
    const t0 = performance.now();
    const seen = subs.map((s) => s.nextPush((m) => m.type === 'NotifySubscriberRequest'
      && ((m.body['serviceInfo'] as { hosts: { ip: string }[] }).hosts ?? []).some((h) => h.ip === ip), 10_000)
      .then(() => latencies.push(performance.now() - t0), () => { missed++; }));
    await registrar.request('InstanceRequest', {
      namespace: 'public', serviceName: 'push-target', groupName: 'DEFAULT_GROUP', type: 'registerInstance',
      instance: { ip, port: 80, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {} },
    });
    await Promise.all(seen);
    // Keep the service small: the next round's push carries one host.
    await registrar.request('InstanceRequest', {
      namespace: 'public', serviceName: 'push-target', groupName: 'DEFAULT_GROUP', type: 'deregisterInstance',
      instance: { ip, port: 80, clusterName: 'DEFAULT' },
    });
    for (const s of subs) s.pushes.length = 0;
  }
  latencies.sort((a, b) => a - b);
  registrar.close();
  for (const s of subs) s.close();
  return { deliveries: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN, missed };
}

/** A run's figures with the CPU µs per unit of work (`units`) of the registry (`pid`) and of this process, the load generator. */
async function cpuOf<R>(pid: number | undefined, run: () => Promise<R>, units: (r: R) => number): Promise<R & { cpu: string }> {
  const before = processCpuMs(pid);
  const own = process.cpuUsage();
  const r = await run();
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
  const child = await startProcess(process.execPath, [
    ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), compiledCli(root), 'registry', '--host', '127.0.0.1', '--registry-port', String(httpPort), '--grpc-port', String(grpcPort),
    '--db', db, '--auth', 'false', '--log-level', 'warn', '--data-dir', dataDir,
  ], `http://127.0.0.1:${httpPort}/healthz`, {}, 120_000);
  try {
    const reg = await cpuOf(child.pid, () => registrations(grpcPort), (r) => r.total);
    const push = await cpuOf(child.pid, () => pushLatency(grpcPort), (r) => r.deliveries);
    rows.push(`| registrations (InstanceRequest, ${connections} connections × ${inflight} in flight, new ephemeral instances) | ${build} | ${Math.round(reg.rps).toLocaleString('en')}/s (${reg.total} in ${seconds} s) | ${f(reg.p50)} | ${f(reg.p99)} | ${reg.errors} | ${reg.cpu} |`);
    rows.push(`| push latency, registration → NotifySubscriberRequest at ${subscribers} subscribers (${rounds} rounds) | ${build} | ${push.deliveries.toLocaleString('en')} deliveries (max ${f(push.max)} ms) | ${f(push.p50)} | ${f(push.p99)} | ${push.missed} missed | ${push.cpu} |`);
  } finally {
    await stopProcess(child);
  }
}
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC, load average before the run ${load0}, after ${loadavg().map((l) => l.toFixed(2)).join(', ')}, database ${dbArg === undefined ? 'SQLite' : dbArg.replace(/\/\/.*@/, '//…@')}`);
console.log('| workload | build | throughput / deliveries | p50 ms | p99 ms | errors | CPU µs per registration / delivery: registry, load generator |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
