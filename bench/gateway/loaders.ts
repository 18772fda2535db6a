/**
 * Load generators for the gateway benchmark: autocannon (in this process) and wrk (a child
 * process, Debian's `wrk`), both reporting the same figures. Every run is bounded by its
 * duration and aimed at 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { ProfileWindow } from './cpuprofile.js';

/** One HTTP request a load run repeats. */
export interface Shot {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

/** The figures of one load run. */
export interface LoadFigures {
  loader: 'autocannon' | 'wrk';
  rps: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p99: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Non-2xx answers (wrk counts only status ≥ 400). */
  non2xx: number;
  /** Answers whose body differed from the expected one (autocannon only, when asked). */
  mismatches: number;
  total: number;
}

function assertLoopback(url: string): void {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`load is only ever aimed at 127.0.0.1, not ${url}`);
}

/**
 * Run autocannon for `seconds`; with `expectBody`, answers with another body count as mismatches;
 * with `rate`, at most that many requests a second over all connections (an open-loop rate, so that
 * configurations compared serve the same calls/s).
 */
export async function autocannonRun(shot: Shot, o: { connections: number; seconds: number; expectBody?: string; rate?: number }): Promise<LoadFigures> {
  assertLoopback(shot.url);
  const r = await autocannon({
    url: shot.url, method: shot.method, headers: shot.headers ?? {}, ...(shot.body !== undefined ? { body: shot.body } : {}),
    connections: o.connections, duration: o.seconds, timeout: 10, ...(o.expectBody !== undefined ? { expectBody: o.expectBody } : {}),
    ...(o.rate !== undefined ? { overallRate: o.rate } : {}),
  });
  return {
    loader: 'autocannon', rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts,
    non2xx: r.non2xx, mismatches: r.mismatches, total: r.requests.total,
  };
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Run wrk for `seconds` with `threads` threads (the script goes to `dir`). */
export async function wrkRun(shot: Shot, o: { connections: number; seconds: number; threads: number; dir: string }): Promise<LoadFigures> {
  assertLoopback(shot.url);
  const script = join(o.dir, `wrk-${Date.now()}-${Math.random().toString(36).slice(2)}.lua`);
  const lines = [`wrk.method = ${luaString(shot.method)}`];
  if (shot.body !== undefined) lines.push(`wrk.body = ${luaString(shot.body)}`);
  for (const [k, v] of Object.entries(shot.headers ?? {})) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("WRKJSON {\\"requests\\":%d,\\"duration\\":%d,\\"p50\\":%d,\\"p99\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",',
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))',
    'end',
  );
  writeFileSync(script, `${lines.join('\n')}\n`);
  const threads = Math.min(o.threads, o.connections);
  const { stdout } = await promisify(execFile)('wrk', ['-t', String(threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', script, shot.url], {
    timeout: (o.seconds + 30) * 1000, maxBuffer: 1 << 20,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const s = JSON.parse(line.slice(8)) as Record<string, number>;
  const n = (k: string) => s[k] ?? 0;
  return {
    loader: 'wrk', rps: n('requests') / (n('duration') / 1e6), p50: n('p50') / 1000, p99: n('p99') / 1000,
    errors: n('connect') + n('read') + n('write') + n('timeout'), non2xx: n('status'), mismatches: 0, total: n('requests'),
  };
}

/** What a benchmark keeps of one measured configuration: each round's figures, the gateway's CPU µs per call and sample window, and its calls. */
export interface Measured {
  figures: LoadFigures[];
  cpu: number[];
  windows: ProfileWindow[];
  calls: number;
}
