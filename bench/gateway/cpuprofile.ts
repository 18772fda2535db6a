/** Summarise a V8 `.cpuprofile` (from `node --cpu-prof`): self time by function and by area. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A span of CLOCK_MONOTONIC, microseconds (`process.hrtime.bigint() / 1000n`). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** One line of the summary. */
export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of the non-idle time, 0..1. */
  share: number;
}

/** Self-time summary of a profile. */
export interface ProfileSummary {
  /** Wall time covered, ms. */
  totalMs: number;
  /** Time not idle, ms. */
  busyMs: number;
  functions: SelfTime[];
  areas: SelfTime[];
}

const sources = new Map<string, string[] | undefined>();

/**
 * Where a function is defined. tsx serves transformed, whitespace-minified code, so V8's line
 * numbers mean nothing for TypeScript sources: look the definition up by name in the source.
 */
function where(name: string, url: string, line: number, root: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : undefined;
  const path = file ? relative(root, file) : url;
  if (file && /\.[cm]?tsx?$/.test(file)) {
    if (!sources.has(file)) {
      try { sources.set(file, readFileSync(file, 'utf8').split('\n')); } catch { sources.set(file, undefined); }
    }
    const lines = sources.get(file);
    const bare = name.replace(/^(get|set) /, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (lines && bare && bare !== '\\(anonymous\\)') {
      const def = new RegExp(`^\\s*(?:export\\s+)?(?:(?:private|public|protected|static|async|readonly|override|get|set|function\\*?|const|let|class)\\s+)*#?${bare}\\s*(?:[(<=:]|extends|implements|\\{)`);
      const at = lines.findIndex((l) => def.test(l));
      if (at >= 0) return `${path}:${at + 1}`;
    }
    return path;
  }
  return line >= 0 ? `${path}:${line + 1}` : path;
}

/** The area a frame belongs to: a source directory, a package, Node's internals, or V8. */
function area(url: string, name: string, root: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `package ${pkg[1]}`;
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, parts[0] === 'src' && parts.length > 3 ? 3 : 2).join('/') : path;
}

/**
 * Read and summarise `file`; paths are shown relative to `root`. With `window` (microseconds
 * of CLOCK_MONOTONIC, the clock of both V8's profile timestamps and `process.hrtime`, also
 * across processes), only the samples taken inside it count: the load, not start-up or
 * shutdown. Several windows: the samples inside any of them (one configuration's runs of an
 * interleaved benchmark).
 */
export function summariseProfile(file: string, root: string, window?: ProfileWindow | readonly ProfileWindow[], top = 25): ProfileSummary {
  const windows = window === undefined ? undefined : Array.isArray(window) ? window : [window as ProfileWindow];
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    t += p.timeDeltas[i] ?? 0;
    if (windows && !windows.some((w) => t >= w.fromUs && t <= w.toUs)) continue;
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = functionName || '(anonymous)';
    const w = where(name, url, lineNumber, root);
    const key = `${name}@${w}`;
    const f = fns.get(key) ?? { name, where: w, us: 0 };
    f.us += us;
    fns.set(key, f);
    const a = area(url, functionName, root);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const line = (name: string, w: string, us: number): SelfTime => ({ name, where: w, ms: us / 1000, share: busy > 0 ? us / busy : 0 });
  return {
    totalMs: total / 1000, busyMs: busy / 1000,
    functions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => line(f.name, f.where, f.us)),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([a, us]) => line(a, '', us)),
  };
}
