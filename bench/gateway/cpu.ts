/**
 * CPU time of processes, from /proc (Linux): which process is the bottleneck of a load run —
 * the load generator, the peer, or the backend behind it.
 */
import { spawnSync } from 'node:child_process';
import { procStat as statFields, childPids } from '../../test/support/proc.js';

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of a process (0 when it is gone). */
function processSeconds(pid: number): number {
  const f = statFields(pid);
  // utime and stime are fields 14 and 15 of /proc/PID/stat, i.e. 11 and 12 after the name.
  return f ? (Number(f[11]) + Number(f[12])) / TICKS : 0;
}

/** User + system CPU time of a process so far, ms (undefined without /proc or when it is gone). */
export function processCpuMs(pid: number | undefined): number | undefined {
  const f = pid === undefined ? undefined : statFields(pid);
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / TICKS : undefined;
}

/** User + system CPU seconds of a process's main thread alone (0 when it is gone): the rest of its CPU is its helper threads' (V8's parallel and concurrent GC, libuv's pool). */
export function mainThreadSeconds(pid: number): number {
  const f = statFields(pid, pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICKS : 0;
}

/** The process and its direct children (nginx: master and workers). */
export function withChildren(pid: number): number[] {
  return [pid, ...childPids(pid)];
}

/**
 * User + system CPU seconds of a server and all its processes so far: the server process with
 * its children that have exited (cutime, cstime), plus every living child (PostgreSQL: the
 * postmaster, its backends, WAL writer, checkpointer, autovacuum). 0 when it is gone.
 */
export function serverTreeSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  const reaped = (Number(f[13]) + Number(f[14])) / TICKS;
  return reaped + groupSeconds(withChildren(pid));
}

/** CPU seconds of a group of processes. */
export function groupSeconds(pids: readonly number[]): number {
  return pids.reduce((s, p) => s + processSeconds(p), 0);
}

/** CPU seconds of this process's children that have been waited for (e.g. finished wrk runs). */
export function reapedChildrenSeconds(): number {
  const f = statFields('self');
  // cutime and cstime: fields 16 and 17.
  return f ? (Number(f[13]) + Number(f[14])) / TICKS : 0;
}

/** CPU seconds of this process (user + system). */
export function selfSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
