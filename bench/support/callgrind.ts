/**
 * Reading callgrind from a benchmark: switch a process's counting on and off (`callgrind_control`)
 * and sum a dump's self instructions by function. Shared by bench/otel/instructions.ts and
 * bench/grpc/instructions.ts. Hand-written: callgrind_annotate prints a report, not data.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Run `callgrind_control` with `args` (such as `-i on PID`); throws when it fails. */
export function control(args: string[]): string {
  const r = spawnSync('callgrind_control', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Self instructions by function name of a callgrind dump (fn= lines, summed over files). */
export function byFunction(file: string): { total: number; fns: Map<string, number> } {
  const fns = new Map<string, number>();
  const names = new Map<string, string>();
  let current = '';
  let total = 0;
  let inCall = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) {
      const m = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m) { if (m[2] !== undefined) names.set(m[1] as string, m[2]); current = names.get(m[1] as string) ?? m[1] as string; } else current = line.slice(3);
      continue;
    }
    if (line.startsWith('cfn=')) {
      const m = /^cfn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m && m[2] !== undefined) names.set(m[1] as string, m[2]);
      continue;
    }
    if (line.startsWith('calls=')) { inCall = true; continue; }
    if (/^[+-]?\d|^\*/.test(line)) {
      const parts = line.trim().split(/\s+/);
      const ir = Number(parts[1] ?? 0);
      if (inCall) { inCall = false; continue; } // inclusive cost of a call line: not self
      fns.set(current, (fns.get(current) ?? 0) + ir);
      total += ir;
    }
  }
  return { total, fns };
}

/** The `top` functions whose self instructions differ most from `from` to `to`, one signed line each. */
export function largestDifferences(from: Map<string, number>, to: Map<string, number>, top: number): string[] {
  const names = new Set([...to.keys(), ...from.keys()]);
  return [...names].map((n) => [n, (to.get(n) ?? 0) - (from.get(n) ?? 0)] as const).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, top)
    .map(([n, d]) => `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(0).padStart(7)}  ${n.slice(0, 140)}`);
}

/** A bench's own areas of native code: a label and the test of a function's name. */
export type OwnAreas = readonly (readonly [string, (name: string) => boolean])[];

/** The area a function's instructions are summed under: unsymbolised code, the bench's own areas, then V8's compilers, GC and builtins. */
export function areaOf(name: string, own: OwnAreas): string {
  if (name.startsWith('0x')) return 'unsymbolised (JIT code, copied builtins)';
  for (const [label, test] of own) if (test(name)) return label;
  if (name.includes('compiler::') || name.includes('maglev') || name.includes('baseline::')) return 'V8 compilers';
  if (/Scaveng|MarkCompact|Heap::|Marking|Sweeper|Evacuat|GC|Concurrent/.test(name)) return 'garbage collection';
  return name.startsWith('Builtins_') ? 'V8 builtins (symbolised)' : 'other native';
}

/** Self instructions summed by area. */
export function sumsByArea(fns: Map<string, number>, own: OwnAreas): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [n, v] of fns) {
    const a = areaOf(n, own);
    sums.set(a, (sums.get(a) ?? 0) + v);
  }
  return sums;
}
