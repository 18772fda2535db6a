/**
 * Self time by function of `node --cpu-prof` profiles (as `npm run bench:otel -- --cpu-prof DIR`
 * writes them), for two configurations side by side: where the CPU a configuration adds goes.
 *
 *   npx tsx bench/otel/profile-top.ts DIR_A [DIR_B] [--top 40] [--by function|package] [--callers NAME [--depth 4]] [--rounds rounds.json]
 *
 * Each DIR holds one or more .cpuprofile files (summed). When DIR has the bench's `rounds.json`
 * (or the file `--rounds` names: bench:grpc writes one per phase),
 * only the samples inside the measured rounds count and times are microseconds per call;
 * otherwise milliseconds over the whole profile. `(idle)` and `(program)` are left out of the busy
 * total. With two directories, rows are sorted by the difference B − A. `--callers NAME` splits the
 * rows of functions whose name contains NAME by the chain of their callers.
 *
 * Samples are wall-clock ticks of the profiled thread: on a machine shared with other work a
 * descheduled thread's time still lands on the function it was in, so compare shares, and the
 * process CPU the bench reports, rather than absolute figures.
 *
 * Hand-written (a benchmark tool): reading the profile format is a few lines, and a viewer such as
 * Chrome DevTools compares no two profiles.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { numberOption, textOption } from '../support/args.js';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }
interface Rounds { calls: number; windows: [number, number][] }

const top = numberOption('top', 40, true);
const by = textOption('by', 'function');
/** `--callers NAME`: the time of functions whose row contains NAME, by their callers' chain (`--depth` frames up). */
const callers = textOption('callers', '');
const depth = numberOption('depth', 4, true);
const roundsName = textOption('rounds', 'rounds.json');
const dirs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
if (dirs.length < 1 || dirs.length > 2) throw new Error('usage: profile-top.ts DIR_A [DIR_B] [--top N] [--by function|package]');

/** The row a frame's time goes to. */
function key(f: ProfileNode['callFrame']): string {
  const url = f.url.replace(/^file:\/\//, '');
  if (by === 'package') {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1] as string;
    if (url.startsWith('node:')) return url;
    if (url === '') return f.functionName || '(anonymous)';
    return url.replace(/^.*?\/(src|dist)\//, '$1/');
  }
  const short = url.replace(/^.*node_modules\//, '').replace(/^.*?\/(src|dist)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
}

/** Self time by row over every profile in `dir`: µs per call within the rounds, or ms overall. */
function selfTimes(dir: string): Map<string, number> {
  const roundsFile = join(dir, roundsName);
  const rounds = existsSync(roundsFile) ? JSON.parse(readFileSync(roundsFile, 'utf8')) as Rounds : undefined;
  const inRounds = (t: number) => rounds === undefined || rounds.windows.some(([a, b]) => t >= a && t <= b);
  const out = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const rowOf = (n: ProfileNode): string => {
      const k = key(n.callFrame);
      if (callers === '' || !k.includes(callers)) return k;
      const chain: string[] = [];
      for (let id = parent.get(n.id), i = 0; id !== undefined && i < depth; id = parent.get(id), i++) {
        const up = byId.get(id);
        if (up) chain.push(key(up.callFrame));
      }
      return `${k}  ⟵ ${chain.join(' ⟵ ')}`;
    };
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      t += dt;
      const n = byId.get(id);
      if (!n || !inRounds(t)) return;
      const k = rowOf(n);
      out.set(k, (out.get(k) ?? 0) + (rounds ? dt / rounds.calls : dt / 1000));
    });
  }
  return out;
}

const busy = (m: Map<string, number>) => [...m].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)')).reduce((s, [, v]) => s + v, 0);
const [a, b] = dirs.map(selfTimes) as [Map<string, number>, Map<string, number> | undefined];
const unit = existsSync(join(dirs[0] as string, roundsName)) ? 'µs/call in the rounds' : 'ms';
console.log(`busy (${unit}): ${dirs[0]} ${busy(a).toFixed(1)}${b ? `, ${dirs[1]} ${busy(b).toFixed(1)}` : ''}`);
const rows = [...new Set([...a.keys(), ...(b?.keys() ?? [])])].map((k) => ({ k, x: a.get(k) ?? 0, y: b?.get(k) ?? 0 }));
rows.sort((r, s) => (b ? (s.y - s.x) - (r.y - r.x) : s.x - r.x));
for (const r of rows.slice(0, top)) {
  console.log(b
    ? `${(r.y - r.x).toFixed(1).padStart(8)} ${r.x.toFixed(1).padStart(8)} ${r.y.toFixed(1).padStart(8)}  ${r.k}`
    : `${r.x.toFixed(1).padStart(8)} ${(r.x / busy(a) * 100).toFixed(1).padStart(5)} %  ${r.k}`);
}
