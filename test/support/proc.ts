/**
 * Processes as Linux's /proc shows them, for tests and benchmarks (elsewhere: undefined / empty).
 * The product reads the one field it needs itself (src/tools/mcp/stdio.ts), and so does the test
 * runner (scripts/lib/run-test-files.mjs), which runs without TypeScript.
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * The fields of /proc/PID/stat (or of one thread's, /proc/PID/task/TID/stat) after the command
 * name, which is in parentheses and may hold spaces and parentheses: [0] is the state (field 3),
 * [1] the parent's pid, [11]/[12] utime/stime, [13]/[14] cutime/cstime, [19] the start time.
 * Undefined when the process is gone or there is no /proc.
 */
export function procStat(pid: number | 'self', tid?: number): string[] | undefined {
  try {
    const s = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Every process and its parent's pid, as pairs (empty without /proc). */
export function parentPids(): [pid: number, ppid: number][] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: [number, number][] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    if (f) out.push([Number(entry), Number(f[1])]);
  }
  return out;
}

/** The processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return parentPids().filter(([, ppid]) => ppid === pid).map(([child]) => child);
}
