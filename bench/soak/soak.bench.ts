/**
 * Soak: the gateway as `npm start` runs it (compiled `mcpgate serve`, default limits) under a
 * long mixed load — normal agents calling a tool beside abusive clients (bench/soak/abusers.ts:
 * abandoned streams, slow readers, oversized initializes, batches, abandoned calls, slowloris,
 * deep JSON) — against the same normal load alone, measured in one run:
 *
 *   1. normal clients alone (`--baseline-seconds`, default 30);
 *   2. normal clients beside the issue's abusers — abandoned streams, slow readers, oversized
 *      initializes, batches (`--seconds`, default 300): the figure the targets apply to;
 *   3. normal clients beside every abuser, the kinds above and abandoned calls, slowloris and deep
 *      JSON (`--all-seconds`, default 120; 0 skips the phase);
 *   4. normal clients alone again (recovery).
 *
 * Normal clients: `--clients` (8) loops, each one 2026-07-28 stateless tools/call after another
 * over a keep-alive pool, every answer checked. Reported: their calls/s, p50 and p99 per phase,
 * the gateway's RSS (sampled every 250 ms) and peak (VmHWM), what the abusers sent and how they
 * were answered. Targets (issue 10): under abuse, normal clients keep ≥ 80 % of their unloaded
 * throughput, and the gateway's RSS stays under 400 MB. Rewrites the "## Soak" section of
 * docs/benchmarks.md (the text after the generated block is kept).
 *
 * Each phase also reports the gateway's CPU time per normal call, which shows work the abuse
 * leaves behind (a phase "after" dearer than "alone") even on a machine busy with other work.
 *
 *   npm run bench:soak -- [--seconds 300] [--all-seconds 120] [--baseline-seconds 30] [--clients 8] [--no-docs]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { flag, numberOption } from '../support/args.js';
import { writeBenchSection } from '../support/docs.js';
import { ITEM_TOOL, REST_TEMPLATE, createBenchServer, modernCallRequest, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import { ROOT, TSX } from '../support/procs.js';
import { ALL_KINDS, ISSUE_KINDS } from './kinds.js';
import { groupSeconds, selfSeconds } from '../gateway/cpu.js';

const seconds = numberOption('seconds', 300);
const baselineSeconds = numberOption('baseline-seconds', 30);
const allSeconds = numberOption('all-seconds', 120);
const clients = numberOption('clients', 8, true);
const writeDocs = !flag('no-docs');
const TARGETS = { keep: 0.8, rssMb: 400 } as const;

const log = (s: string) => process.stderr.write(`[bench:soak] ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-soak-'));
const children = new Set<ChildProcess>();
const own = (c: ChildProcess) => { children.add(c); return c; };
const killAll = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); };
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });
setTimeout(() => { log('watchdog: stopping'); killAll(); process.exit(3); }, (seconds + allSeconds + 2 * baselineSeconds + 300) * 1000).unref();

/** Resident set size and its peak of a process, MB, from /proc. */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Figures of the normal clients over one phase. */
interface Phase {
  name: string;
  seconds: number;
  calls: number;
  failures: number;
  rate: number;
  p50: number;
  p99: number;
  rssMax: number;
  /** CPU use over the phase, % of one core: the gateway, the backend, the abusers, the normal clients. */
  cpu: { gateway: number; backend: number; abusers: number; clients: number };
}

/** The processes whose CPU use is reported. */
interface Pids {
  gateway: number;
  backend: number;
  abusers?: number;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

/** Run the normal clients for `secs` seconds, sampling the gateway's RSS. */
async function normalLoad(name: string, pool: Pool, path: string, pids: Pids, secs: number): Promise<Phase> {
  const pid = pids.gateway;
  const cpu0 = { gateway: groupSeconds([pids.gateway]), backend: groupSeconds([pids.backend]), abusers: pids.abusers ? groupSeconds([pids.abusers]) : 0, clients: selfSeconds() };
  const { headers, body } = modernCallRequest('get_item');
  const latencies: number[] = [];
  let failures = 0;
  let rssMax = 0;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, memory(pid).rss); }, 250);
  const started = performance.now();
  const end = started + secs * 1000;
  const firstFailures: string[] = [];
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const r = await pool.request({ path, method: 'POST', headers, body });
        const text = await r.body.text();
        if (r.statusCode !== 200 || !text.includes('"result"') || text.includes('"isError":true')) throw new Error(`${r.statusCode} ${text.slice(0, 200)}`);
        latencies.push(performance.now() - t0);
      } catch (err) {
        failures++;
        if (firstFailures.length < 3) firstFailures.push(String(err));
      }
    }
  }));
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  for (const f of firstFailures) log(`${name}: a normal call failed: ${f}`);
  const sorted = Float64Array.from(latencies).sort();
  const pct = (s: number) => (100 * s) / elapsed;
  const cpu = {
    gateway: pct(groupSeconds([pids.gateway]) - cpu0.gateway), backend: pct(groupSeconds([pids.backend]) - cpu0.backend),
    abusers: pids.abusers ? pct(groupSeconds([pids.abusers]) - cpu0.abusers) : 0, clients: pct(selfSeconds() - cpu0.clients),
  };
  return { name, seconds: elapsed, calls: latencies.length, failures, rate: latencies.length / elapsed, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), rssMax, cpu };
}

async function main(): Promise<void> {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  log(`${cpus().length} CPUs, load ${load}`);
  const backend = await startBenchBackend();
  own(backend.child);
  const gate = await startMcpgate(work);
  own(gate.child);
  const pid = gate.child.pid as number;
  const pids: Pids = { gateway: pid, backend: backend.child.pid as number };
  await registerBackend(gate, backend.port);
  await createBenchServer(gate, 'bench', [
    ITEM_TOOL,
    { name: 'get_big', description: 'A 256 KiB answer', inputSchema: { type: 'object', properties: {} }, template: { ...REST_TEMPLATE, request: { ...REST_TEMPLATE.request, url: '/big' }, response: {} } },
    { name: 'slow', description: 'Answers after 5 s', inputSchema: { type: 'object', properties: {} }, template: { ...REST_TEMPLATE, request: { ...REST_TEMPLATE.request, url: '/slow' }, timeoutMs: 30_000 } },
  ]);
  const pool = new Pool(gate.gateway, { connections: clients, keepAliveTimeout: 60_000 });
  const path = '/mcp/public/bench';
  for (let i = 0; ; i++) { // the snapshot reaches the gateway within a second
    const r = await pool.request({ path, method: 'POST', ...modernCallRequest('get_item') });
    if (r.statusCode === 200 && (await r.body.text()).includes('"result"')) break;
    if (i > 50) throw new Error('the tool never became callable');
    await sleep(100);
  }
  log('warm-up');
  await normalLoad('warm-up', pool, path, pids, 5);
  log(`baseline: ${baselineSeconds} s of normal clients alone`);
  const before = await normalLoad('alone', pool, path, pids, baselineSeconds);
  const abuse = async (name: string, kinds: readonly string[], secs: number) => {
    log(`${name}: ${secs} s of normal clients beside ${kinds.join(', ')}`);
    const abusers = own(spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench/soak/abusers.ts'), gate.gateway, String(secs)], {
      stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ABUSE_KINDS: kinds.join(',') },
    }));
    let out = '';
    abusers.stdout?.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    const done = new Promise<void>((r) => abusers.once('exit', () => r()));
    await sleep(2000); // let the abusers open their connections first
    const phase = await normalLoad(name, pool, path, { ...pids, abusers: abusers.pid as number }, secs - 2);
    await done;
    await sleep(2000); // let the abusers' connections close
    return { phase, counts: JSON.parse(out.trim().split('\n').pop() || '{}') as Record<string, Record<string, number>> };
  };
  const soak = await abuse("beside the issue's abusers", ISSUE_KINDS, seconds);
  const all = allSeconds > 0 ? await abuse('beside every abuser', ALL_KINDS, allSeconds) : undefined;
  log(`recovery: ${baselineSeconds} s of normal clients alone`);
  const after = await normalLoad('alone, after', pool, path, pids, baselineSeconds);
  const peak = memory(pid).hwm;
  await pool.close();
  gate.child.kill('SIGTERM');
  backend.child.kill('SIGTERM');

  const phases = [before, soak.phase, ...(all ? [all.phase] : []), after];
  const keep = soak.phase.rate / before.rate;
  const rssMax = Math.max(...phases.map((p) => p.rssMax));
  const perCall = (p: Phase) => `${((p.cpu.gateway / 100) * 1e6 / p.rate).toFixed(0)} µs`;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const lines = [
    `Run of ${new Date().toISOString().slice(0, 10)} on ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, load average ${load} at the start: \`mcpgate serve\` (compiled, default limits), ${clients} normal clients (2026-07-28 stateless tools/call, keep-alive), abusers in a process of their own.`,
    '',
    '| phase | seconds | normal calls | calls/s | p50 | p99 | failed | gateway RSS max | CPU: gateway / backend / abusers / normal clients | gateway CPU per normal call |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...phases.map((p) => `| ${p.name} | ${p.seconds.toFixed(0)} | ${p.calls} | ${p.rate.toFixed(0)} | ${ms(p.p50)} | ${ms(p.p99)} | ${p.failures} | ${p.rssMax.toFixed(0)} MB | ${[p.cpu.gateway, p.cpu.backend, p.cpu.abusers, p.cpu.clients].map((c) => `${c.toFixed(0)} %`).join(' / ')} | ${perCall(p)} |`),
    '',
    `**Normal clients beside the issue's abusers kept ${(keep * 100).toFixed(0)} % of their throughput alone** (target ≥ ${TARGETS.keep * 100} %: ${keep >= TARGETS.keep ? 'met' : 'missed'}); ` +
      (all ? `beside every abuser ${((all.phase.rate / before.rate) * 100).toFixed(0)} %; ` : '') +
      `recovered to ${((after.rate / before.rate) * 100).toFixed(0)} % after. **Gateway RSS peaked at ${Math.max(peak, rssMax).toFixed(0)} MB** (VmHWM; target < ${TARGETS.rssMb} MB: ${Math.max(peak, rssMax) < TARGETS.rssMb ? 'met' : 'missed'}).`,
    '',
    'What the abusers sent, and how the gateway answered (HTTP status or outcome: count):',
    '',
    '| abuser | answers |',
    '| --- | --- |',
    ...Object.entries({ ...soak.counts, ...Object.fromEntries(Object.entries(all?.counts ?? {}).map(([k, v]) => [`${k} (every abuser)`, v])) }).map(([kind, c]) => `| ${kind} | ${Object.entries(c).map(([k, v]) => `${k}: ${v}`).join('; ')} |`),
  ];
  const block = lines.join('\n');
  process.stdout.write(`${block}\n`);
  if (writeDocs) {
    const file = writeBenchSection({ heading: 'Soak', name: 'soak', command: `npm run bench:soak -- --seconds ${seconds} --all-seconds ${allSeconds}`, block });
    log(`wrote ${file}`);
  }
  rmSync(work, { recursive: true, force: true });
}

main().then(() => process.exit(0), (err: unknown) => {
  log(String(err instanceof Error ? err.stack : err));
  killAll();
  process.exit(1);
});
