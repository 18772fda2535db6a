/**
 * Activity: what gateways report of the tool calls they ran, and how the registry adds the
 * reports of every replica up. This is the contract between the two roles (like the snapshot):
 * the gateway counts calls per (namespace, server, tool, minute) with a fixed latency histogram,
 * so that reports of any number of replicas merge by adding counts, and p50/p95 are read from the
 * merged histogram.
 */

/** Upper bounds (ms) of the latency histogram's buckets; a last bucket holds everything slower. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;
/** Buckets of a latency histogram: one per bound, and the overflow. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;
/** Length of one activity bucket, ms. */
export const MINUTE_MS = 60_000;

/** Most distinct error kinds and agents kept per bucket (more are folded into `(other)`). */
export const MAX_KINDS_PER_BUCKET = 16;
export const MAX_AGENTS_PER_BUCKET = 16;
/** Longest agent name and version kept (longer are cut). */
export const MAX_AGENT_NAME = 128;
export const MAX_AGENT_VERSION = 64;
/** The name of what is folded together past a bound. */
export const OTHER = '(other)';
/** The agent of a call whose client did not say who it is. */
export const UNKNOWN_AGENT = '(unknown)';
/** Largest redacted request or answer of an error sample, as JSON text (longer is cut, and says so). */
export const MAX_SAMPLE_CHARS = 4096;
/** Most error samples of one tool the registry keeps (the newest). */
export const MAX_SAMPLES_PER_TOOL = 20;
/** Most error samples of one tool one report carries (the newest), and most tools with samples in it. */
export const MAX_REPORT_SAMPLES_PER_TOOL = 5;
export const MAX_REPORT_SAMPLED_TOOLS = 20;
/** Most tool-minutes one report carries. */
export const MAX_REPORT_BUCKETS = 5000;

/** The calls of one tool in one minute, as one gateway counted them (or as several added up). */
export interface ActivityBucket {
  namespace: string;
  server: string;
  tool: string;
  /** Start of the minute, epoch ms (a multiple of `MINUTE_MS`). */
  minute: number;
  calls: number;
  /** Calls that failed: a JSON-RPC error or a tool result with `isError`. */
  errors: number;
  /** Failed calls by kind (`backend_status`, `INVALID_PARAMS`, `UPSTREAM_TIMEOUT`…). */
  kinds: Record<string, number>;
  /** Calls per latency bucket (`LATENCY_BUCKETS` counts, bounds `LATENCY_BOUNDS_MS`). */
  latency: number[];
  /** Sum of the calls' durations, ms (for the mean). */
  latencySumMs: number;
  /** Calls by agent (the client's name and version from initialize, or the 2026 `_meta` clientInfo). */
  agents: { name: string; version: string; calls: number }[];
}

/** One failed call as the console shows it: request arguments and answer redacted and bounded. */
export interface ActivityErrorSample {
  namespace: string;
  server: string;
  tool: string;
  /** When it failed, epoch ms. */
  at: number;
  kind: string;
  /** The error's message, or the tool result's first text (redacted, cut to 500 characters). */
  message: string;
  agent: { name: string; version: string };
  /** The call's arguments, redacted, as JSON text (cut to `MAX_SAMPLE_CHARS`). */
  request: string;
  /** The answer (the JSON-RPC error or the tool result), redacted, as JSON text (cut to `MAX_SAMPLE_CHARS`). */
  answer: string;
  /** The gateway that ran the call. */
  gateway?: string | undefined;
}

/** What a gateway sends the registry every report. */
export interface ActivityReport {
  buckets: ActivityBucket[];
  errors: ActivityErrorSample[];
}

/** The index of the latency bucket of a duration in ms. */
export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** An empty latency histogram. */
export function emptyLatency(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** Adds histogram `from` into `into` (same buckets). */
export function addLatency(into: number[], from: readonly number[]): void {
  for (let i = 0; i < LATENCY_BUCKETS; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/**
 * The `q` quantile (0..1) of a latency histogram, ms: linear inside the bucket it falls in (the
 * way Prometheus' `histogram_quantile` reads buckets); the overflow bucket answers its lower
 * bound. Undefined for an empty histogram.
 */
export function latencyQuantile(hist: readonly number[], q: number): number | undefined {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      if (i >= LATENCY_BOUNDS_MS.length) return lower;
      const upper = LATENCY_BOUNDS_MS[i]!;
      return lower + (upper - lower) * Math.max(0, Math.min(1, (rank - seen) / n));
    }
    seen += n;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}

/** Adds counts into a bounded map: a key beyond `max` distinct ones is counted as `(other)`. */
export function addBounded(into: Record<string, number>, key: string, n: number, max: number): void {
  const k = into[key] !== undefined || Object.keys(into).length < max ? key : OTHER;
  into[k] = (into[k] ?? 0) + n;
}

/** Adds bucket `from` into `into` (same key and minute): what the registry and a gateway's retry do. */
export function mergeBucket(into: ActivityBucket, from: ActivityBucket): void {
  into.calls += from.calls;
  into.errors += from.errors;
  into.latencySumMs += from.latencySumMs;
  addLatency(into.latency, from.latency);
  for (const [k, n] of Object.entries(from.kinds)) addBounded(into.kinds, k, n, MAX_KINDS_PER_BUCKET);
  for (const a of from.agents) addAgent(into.agents, a.name, a.version, a.calls, MAX_AGENTS_PER_BUCKET);
}

/** Counts calls of an agent in a bounded list: past `max` agents, calls go to `(other)`. */
export function addAgent(agents: { name: string; version: string; calls: number }[], name: string, version: string, calls: number, max: number): void {
  // A loop rather than `find`: the request path counts every call here.
  let a: { name: string; version: string; calls: number } | undefined;
  for (let i = 0; i < agents.length; i++) {
    const x = agents[i]!;
    if (x.name === name && x.version === version) {
      a = x;
      break;
    }
  }
  if (!a && agents.length >= max) {
    a = agents.find((x) => x.name === OTHER);
    if (!a) {
      // The last slot becomes `(other)`, keeping its calls.
      const last = agents[agents.length - 1]!;
      last.name = OTHER;
      last.version = '';
      a = last;
    }
  }
  if (a) a.calls += calls;
  else agents.push({ name, version, calls });
}

/** The key of a tool's bucket in one minute. */
export function bucketKey(b: Pick<ActivityBucket, 'namespace' | 'server' | 'tool' | 'minute'>): string {
  return `${b.namespace}\n${b.server}\n${b.tool}\n${b.minute}`;
}

/** Figures of a tool, a server or a namespace over the window. */
export interface ActivityFigures {
  calls: number;
  errors: number;
  /** errors / calls, 0..1 (0 without calls). */
  errorRate: number;
  /** Latency quantiles and mean from the merged histogram, ms (null without calls). */
  p50Ms: number | null;
  p95Ms: number | null;
  meanMs: number | null;
  /** One entry per slot of the window, oldest first (zeros where nothing ran). */
  series: { at: number; calls: number; errors: number }[];
  /** Failed calls by kind, most first. */
  kinds: { kind: string; count: number }[];
  /** Calls by agent (client name and version), most first. */
  agents: { name: string; version: string; calls: number }[];
}

export interface ToolActivity extends ActivityFigures { tool: string }
export interface ServerActivity extends ActivityFigures { server: string; tools: ToolActivity[] }
