/**
 * The gateway's CPU time per tools/call, for several builds side by side: each build's
 * `mcpgate serve` (compiled) with the bench backend's `get_item` tool, called in the 2026-07-28
 * stateless form and in a 2025 session, in interleaved rounds (order rotated each round). The
 * figure is the `serve` process's user + system time (/proc) over the calls of each run, which
 * other load on a shared machine barely moves; throughput is printed beside it but says little
 * there. Medians over rounds, and each round's ratio to the first build in the same round.
 *
 *   npx tsx bench/gateway/call-cpu.bench.ts --builds now=.,before=/tmp/e291858 [--rounds 5] [--seconds 4]
 *     [--connections 32] [--loader wrk|autocannon] [--forms stateless,session] [--profile DIR] [--no-pin]
 *
 * A build is `label=root` or `label=root@node` (its `serve` on that Node binary, e.g. Node 24 from
 * scripts/node24.mjs; this one's by default): a tree with node_modules (`.` is this one; another revision:
 * `git archive REV | tar -x -C DIR` and a node_modules link, as `--baseline` of bench:gateway
 * does), compiled here unless its dist/ exists. With `--profile DIR` every `serve` runs under
 * `node --cpu-prof`, and each configuration's self time per call by function is printed from the
 * samples of its own runs, with the differences to the first build's same form and, within each
 * build, the stateless form's to the session form's. Unless `--no-pin`
 * (or on one CPU), every `serve` runs on CPU 1 and the rest (this process, wrk, the backend) on
 * CPU 0 (`taskset`, as bench:auth does), so that each build's calls batch alike.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { autocannonRun, wrkRun } from './loaders.js';
import type { LoadFigures, Measured, Shot } from './loaders.js';
import { groupSeconds } from './cpu.js';
import { summariseProfile } from './cpuprofile.js';
import { flag, numberOption, textOption } from '../support/args.js';
import { Pinning, ROOT, stopProcess } from '../support/procs.js';
import { ACCEPT, ITEM_TOOL, SESSION_VERSION, createBenchServer, modernCallRequest, openSession, registerBackend, startBenchBackend, startMcpgate } from '../support/mcpgate.js';
import type { Mcpgate } from '../support/mcpgate.js';

const seconds = numberOption('seconds', 4);
const connections = numberOption('connections', 32, true);
const rounds = numberOption('rounds', 5, true);
const loader = textOption('loader', 'wrk');
if (loader !== 'autocannon' && loader !== 'wrk') throw new Error('--loader is autocannon or wrk');
const profileDir = textOption('profile', '');
const FORMS = ['stateless', 'session'] as const;
type Form = (typeof FORMS)[number];
const forms = textOption('forms', FORMS.join(',')).split(',') as Form[];
if (forms.some((f) => !FORMS.includes(f))) throw new Error(`--forms is a list of ${FORMS.join(', ')}`);
const builds = textOption('builds', 'now=.').split(',').map((b) => {
  const [label, spec] = b.split('=');
  const [root, node] = (spec ?? '').split('@');
  if (!label || !root) throw new Error('--builds is a list of label=root or label=root@node');
  return { label, root: resolve(ROOT, root), ...(node ? { node } : {}) };
});
const WARM_UP_CALLS = 5000;

setTimeout(() => {
  console.error('call-cpu benchmark: watchdog expired');
  process.exit(3);
}, (builds.length * forms.length * rounds * (seconds + 3) + 600) * 1000).unref();

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
}

interface Config extends Measured {
  label: string;
  build: string;
  form: Form;
  m: Mcpgate;
  shot: Shot;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mcpgate-bench-call-cpu-'));
  const backend = await startBenchBackend();
  const pins = new Pinning(!flag('no-pin'));
  pins.helpers(process.pid, backend.child.pid!);
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const processes: Mcpgate[] = [];
  const configs: Config[] = [];
  const profiles = new Map<number, string>();
  try {
    for (const b of builds) {
      const m = await startMcpgate(work, {
        root: b.root, ...(b.node ? { node: b.node } : {}), ...(existsSync(join(b.root, 'dist/cli/main.js')) && b.root !== ROOT ? { prebuilt: true } : {}),
        ...(profileDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
      });
      processes.push(m);
      pins.measured(m.child.pid!);
      profiles.set(m.child.pid!, b.label);
      await registerBackend(m, backend.port);
      await createBenchServer(m, 'bench', [ITEM_TOOL]);
      const url = `${m.gateway}/mcp/public/bench`;
      for (const form of forms) {
        let shot: Shot;
        if (form === 'stateless') shot = { url, method: 'POST', ...modernCallRequest('get_item') };
        else {
          shot = {
            url, method: 'POST',
            headers: { 'content-type': 'application/json', accept: ACCEPT, 'mcp-protocol-version': SESSION_VERSION, 'mcp-session-id': await openSession(url) },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_item', arguments: {} } }),
          };
        }
        for (let i = 0; ; i++) {
          const r = await fetch(url, { method: 'POST', headers: shot.headers!, body: shot.body! });
          const text = await r.text();
          if (r.status === 200 && text.includes('"content"') && !text.includes('"isError":true')) break;
          if (i > 50) throw new Error(`${b.label} ${form}: ${r.status} ${text}`);
          await new Promise((res) => setTimeout(res, 100)); // the gateway applies a new snapshot within a second
        }
        configs.push({ label: `${b.label} ${form}`, build: b.label, form, m, shot, figures: [], cpu: [], windows: [], calls: 0 });
      }
    }
    const run = (c: Config, s: number): Promise<LoadFigures> => loader === 'wrk'
      ? wrkRun(c.shot, { connections, seconds: s, threads: 1, dir: work })
      : autocannonRun(c.shot, { connections, seconds: s });
    for (let done = 0, started = Date.now(); done < WARM_UP_CALLS && Date.now() - started < 60_000;) {
      for (const c of configs) done += (await run(c, 1)).total / configs.length;
    }
    const loadAtStart = loadavg();
    for (let round = 0; round < rounds; round++) {
      for (const c of configs.map((_, i) => configs[(i + round) % configs.length]!)) {
        const pid = c.m.child.pid!;
        const before = groupSeconds([pid]);
        const fromUs = monotonicUs();
        const f = await run(c, seconds);
        c.windows.push({ fromUs, toUs: monotonicUs() });
        const us = ((groupSeconds([pid]) - before) * 1e6) / Math.max(1, f.total);
        if (f.errors > 0 || f.non2xx > 0) throw new Error(`${c.label}: ${f.errors} errors, ${f.non2xx} non-2xx answers`);
        c.figures.push(f);
        c.cpu.push(us);
        c.calls += f.total;
        console.error(`round ${round + 1} ${c.label}: ${Math.round(f.rps)} req/s, gateway ${Math.round(us)} µs/call, load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    console.log(`${connections} connections (${loader}), ${pins.active ? 'serve pinned to CPU 1, the rest to CPU 0, ' : ''}${rounds} rounds of ${seconds} s, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} at the start, ${loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end`);
    console.log('| build | form | req/s (median) | gateway CPU µs/call (median) | per round | ÷ first build, median of rounds |');
    console.log('| --- | --- | ---: | ---: | --- | ---: |');
    for (const c of configs) {
      const first = configs.find((o) => o.form === c.form)!;
      const ratio = median(c.cpu.map((x, i) => x / first.cpu[i]!));
      console.log(`| ${c.build} | ${c.form} | ${Math.round(median(c.figures.map((f) => f.rps)))} | ${median(c.cpu).toFixed(1)} | ${c.cpu.map((x) => Math.round(x)).join(' ')} | ${ratio.toFixed(3)} |`);
    }
    // The issue's target: the 2026-07-28 form no dearer than the 2025 session form, measured in the same rounds.
    for (const b of builds) {
      const stateless = configs.find((c) => c.build === b.label && c.form === 'stateless');
      const session = configs.find((c) => c.build === b.label && c.form === 'session');
      if (stateless && session) console.log(`${b.label}: stateless ÷ session CPU µs a call, median of rounds: ${median(stateless.cpu.map((x, i) => x / session.cpu[i]!)).toFixed(3)}`);
    }
  } finally {
    for (const p of processes) await stopProcess(p.child);
    if (profileDir) printProfiles(profileDir, profiles, configs);
    await stopProcess(backend.child);
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Each configuration's self time per call by area and by function (paths relative to its build's
 * root, so that builds compare), and its differences to the first build's same form.
 */
function printProfiles(dir: string, pids: Map<number, string>, configs: readonly Config[]): void {
  const perCall = new Map<string, Map<string, number>>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]); // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const build = builds.find((b) => b.label === pids.get(pid));
    for (const c of configs.filter((x) => x.build === build?.label && x.calls > 0)) {
      const p = summariseProfile(join(dir, f), build!.root, c.windows, 100_000);
      const us = (ms: number) => (ms * 1000) / c.calls;
      // A process writes one profile per thread (the main one and the registry's worker): summed.
      const fns = perCall.get(c.label) ?? new Map<string, number>();
      for (const fn of p.functions) {
        const key = `${fn.name}  ${fn.where.replace(/:\d+$/, '')}`;
        fns.set(key, (fns.get(key) ?? 0) + us(fn.ms));
      }
      for (const a of p.areas) fns.set(`[area] ${a.name}`, (fns.get(`[area] ${a.name}`) ?? 0) + us(a.ms));
      perCall.set(c.label, fns);
      console.error(`${c.label}: ${us(p.busyMs).toFixed(1)} µs busy per call (${c.calls} calls); by area: ${p.areas.map((a) => `${a.name} ${us(a.ms).toFixed(1)}`).join(', ')}`);
      for (const fn of p.functions.slice(0, 30)) console.error(`  ${us(fn.ms).toFixed(2).padStart(7)} µs  ${fn.name}  ${fn.where}`);
    }
  }
  const printDiff = (label: string, a: Map<string, number>, b: Map<string, number>) => {
    const diff = [...new Set([...a.keys(), ...b.keys()])].map((k) => ({ fn: k, us: (a.get(k) ?? 0) - (b.get(k) ?? 0) }));
    const fnDiff = diff.filter((d) => !d.fn.startsWith('[area]'));
    console.error(`${label}: ${fnDiff.reduce((s, d) => s + d.us, 0).toFixed(1)} µs per call; the largest differences:`);
    for (const d of diff.sort((x, y) => Math.abs(y.us) - Math.abs(x.us)).slice(0, 45)) console.error(`  ${(d.us >= 0 ? '+' : '') + d.us.toFixed(2).padStart(6)} µs  ${d.fn}`);
  };
  for (const c of configs) {
    const first = configs.find((o) => o.form === c.form)!;
    const a = perCall.get(c.label);
    const b = perCall.get(first.label);
    if (c !== first && a && b) printDiff(`${c.label} − ${first.label}`, a, b);
  }
  // Within each build, what the 2026-07-28 form costs beyond the 2025 session form, by function.
  for (const b of builds) {
    const stateless = perCall.get(`${b.label} stateless`);
    const session = perCall.get(`${b.label} session`);
    if (stateless && session) printDiff(`${b.label}: stateless − session`, stateless, session);
  }
}

await main();
