/**
 * The gateway's side of the console's Activity page: counts each tools/call per (namespace,
 * server, tool, minute) with a latency histogram, the agents calling, and the last failures with
 * their request and answer redacted, until the next report takes them (src/model/activity.ts is
 * the format; the registry adds up the reports of every replica).
 *
 * Memory is bounded: at most `maxKeys` tool-minutes (`MAX_REPORT_BUCKETS`), and the newest
 * `MAX_REPORT_SAMPLES_PER_TOOL` samples of `MAX_REPORT_SAMPLED_TOOLS` tools wait for a report
 * (calls that do not fit are counted in `dropped`), whatever the traffic or how long the
 * registry stays away; so a report also fits the registry's body limit for it.
 */
import type { ActivityBucket, ActivityErrorSample, ActivityReport } from '../model/activity.js';
import {
  addAgent, addBounded, bucketKey, emptyLatency, latencyBucket, MAX_AGENT_NAME, MAX_AGENT_VERSION, MAX_AGENTS_PER_BUCKET, MAX_KINDS_PER_BUCKET,
  MAX_REPORT_BUCKETS, MAX_REPORT_SAMPLED_TOOLS, MAX_REPORT_SAMPLES_PER_TOOL, MAX_SAMPLE_CHARS, mergeBucket, MINUTE_MS, UNKNOWN_AGENT,
} from '../model/activity.js';
import { isSecretName, SECRET_VALUE } from '../lib/secret-names.js';
import type { ClientHeaders } from '../tools/executor.js';

/** Default most tool-minutes waiting for a report. */
export const DEFAULT_MAX_ACTIVITY_KEYS = MAX_REPORT_BUCKETS;
const MASK = '****';

/** A failed call as the request path saw it (built only when a call fails). */
export interface CallFailure {
  /** The call's `arguments`. */
  arguments: unknown;
  /** The tool result (isError) or the JSON-RPC error answered. */
  answer: unknown;
  message: string;
  /** The agent's request headers: credential-like ones are masked wherever their values appear. */
  clientHeaders: ClientHeaders;
}

/** One tools/call as the recorder takes it. */
export interface ActivityCall {
  namespace: string;
  server: string;
  tool: string;
  ok: boolean;
  kind?: string | undefined;
  ms: number;
  agent?: { name?: string | undefined; version?: string | undefined } | undefined;
  failure?: CallFailure | undefined;
  /** When it ended, epoch ms (default now). */
  at?: number;
}

/** Counts tools/call for the Activity page until a report takes them. */
export class ActivityRecorder {
  private buckets = new Map<string, ActivityBucket>();
  private samples = new Map<string, ActivityErrorSample[]>();
  /** Per namespace, server and tool, the bucket of `buckets` it counted in last (at most one per bucket). */
  private recent = new Map<string, Map<string, Map<string, ActivityBucket>>>();
  /** Calls not counted because `maxKeys` tool-minutes were waiting (reported as a log line by the caller). */
  dropped = 0;

  /** Tool-minutes kept at most until a report takes them. */
  private readonly maxKeys: number;

  constructor(private readonly opts: { maxKeys?: number; gateway?: string; now?: () => number } = {}) {
    this.maxKeys = Math.min(opts.maxKeys ?? DEFAULT_MAX_ACTIVITY_KEYS, MAX_REPORT_BUCKETS);
  }

  /** Count one call. */
  record(call: ActivityCall): void {
    const at = call.at ?? (this.opts.now ?? Date.now)();
    const minute = at - (at % MINUTE_MS);
    // The bucket the tool counted in last, when it is this minute's: no key built per call.
    const byTool = inner(inner(this.recent, call.namespace), call.server);
    let b = byTool.get(call.tool);
    if (b === undefined || b.minute !== minute) {
      const key = bucketKey({ namespace: call.namespace, server: call.server, tool: call.tool, minute });
      b = this.buckets.get(key);
      if (!b) {
        if (this.buckets.size >= this.maxKeys) {
          this.dropped++;
          return;
        }
        b = { namespace: call.namespace, server: call.server, tool: call.tool, minute, calls: 0, errors: 0, kinds: {}, latency: emptyLatency(), latencySumMs: 0, agents: [] };
        this.buckets.set(key, b);
      }
      byTool.set(call.tool, b);
    }
    b.calls++;
    b.latency[latencyBucket(call.ms)]!++;
    b.latencySumMs += call.ms;
    const name = call.agent?.name;
    const version = call.agent?.version;
    // Cut only when over the bounds (the common name and version are kept as they are).
    addAgent(b.agents, typeof name === 'string' && name !== '' ? cut(name, MAX_AGENT_NAME) : UNKNOWN_AGENT, typeof version === 'string' ? cut(version, MAX_AGENT_VERSION) : '', 1, MAX_AGENTS_PER_BUCKET);
    if (call.ok) return;
    const agent = agentOf(call.agent);
    b.errors++;
    const kind = cut(call.kind ?? 'error', 64);
    addBounded(b.kinds, kind, 1, MAX_KINDS_PER_BUCKET);
    if (call.failure) this.sample({ namespace: call.namespace, server: call.server, tool: call.tool, at, kind, agent, failure: call.failure });
  }

  /** Everything counted since the last `take`, or undefined when nothing was. */
  take(): ActivityReport | undefined {
    if (this.buckets.size === 0 && this.samples.size === 0) return undefined;
    const report = { buckets: [...this.buckets.values()], errors: [...this.samples.values()].flat() };
    this.buckets = new Map();
    this.recent = new Map();
    this.samples = new Map();
    return report;
  }

  /** A report that could not be delivered comes back, to go with the next one (within the same bounds). */
  giveBack(report: ActivityReport): void {
    for (const b of report.buckets) {
      const key = bucketKey(b);
      const had = this.buckets.get(key);
      if (had) mergeBucket(had, b);
      else if (this.buckets.size < this.maxKeys) this.buckets.set(key, b);
      else this.dropped += b.calls;
    }
    for (const s of report.errors) this.keepSample(s, true);
  }

  /** Tool-minutes waiting for a report. */
  get pending(): number {
    return this.buckets.size;
  }

  private sample(s: { namespace: string; server: string; tool: string; at: number; kind: string; agent: { name: string; version: string }; failure: CallFailure }): void {
    // Values of arguments named like a secret are hidden wherever they come back (a backend echoing its query, say).
    const hide = credentialMasker(s.failure.clientHeaders, secretArgumentValues(s.failure.arguments));
    this.keepSample({
      namespace: s.namespace, server: s.server, tool: s.tool, at: s.at, kind: s.kind, agent: s.agent,
      message: cut(hide(s.failure.message), 500),
      request: boundedJson(redact(s.failure.arguments, hide)),
      answer: boundedJson(redact(s.failure.answer, hide)),
      ...(this.opts.gateway ? { gateway: this.opts.gateway } : {}),
    }, false);
  }

  private keepSample(s: ActivityErrorSample, older: boolean): void {
    const key = `${s.namespace}\n${s.server}\n${s.tool}`;
    let list = this.samples.get(key);
    if (!list) {
      if (this.samples.size >= MAX_REPORT_SAMPLED_TOOLS) return;
      list = [];
      this.samples.set(key, list);
    }
    // Newest last; given-back (older) samples go first and are the first to go.
    if (older) list.unshift(s);
    else list.push(s);
    if (list.length > MAX_REPORT_SAMPLES_PER_TOOL) list.splice(0, list.length - MAX_REPORT_SAMPLES_PER_TOOL);
  }
}

/** The map under `key`, made on first use. */
function inner<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = map.get(key);
  if (m === undefined) {
    m = new Map();
    map.set(key, m);
  }
  return m;
}

/** The agent's name and version, bounded; `(unknown)` when the client did not say. */
function agentOf(a: ActivityCall['agent']): { name: string; version: string } {
  const name = typeof a?.name === 'string' && a.name !== '' ? cut(a.name, MAX_AGENT_NAME) : UNKNOWN_AGENT;
  const version = typeof a?.version === 'string' ? cut(a.version, MAX_AGENT_VERSION) : '';
  return { name, version };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** JSON text of a value, cut to `MAX_SAMPLE_CHARS` (a cut text says how long the whole was). */
function boundedJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch {
    text = '"(not serialisable)"';
  }
  if (text.length <= MAX_SAMPLE_CHARS) return text;
  const note = `… (${text.length} characters, cut)`;
  return text.slice(0, MAX_SAMPLE_CHARS - note.length) + note;
}

/**
 * A value with credentials hidden, the rule the registry's redaction and the console's try-it
 * masking follow (src/lib/secret-names.ts): fields named like a secret, values that are mcpgate
 * keys or tokens, and the agent's own credential header values wherever they appear. Depth and
 * breadth are bounded (the value came from an agent).
 */
export function redact(value: unknown, hide: (text: string) => string = (t) => t): unknown {
  let budget = 2000;
  const walk = (v: unknown, depth: number): unknown => {
    if (--budget < 0) return '…';
    if (typeof v === 'string') return SECRET_VALUE.test(v) ? MASK : hide(v.length > MAX_SAMPLE_CHARS ? v.slice(0, MAX_SAMPLE_CHARS) : v);
    if (typeof v !== 'object' || v === null) return v;
    if (depth > 16) return '…';
    if (Array.isArray(v)) return v.slice(0, 100).map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v).slice(0, 100)) out[k] = isSecretName(k) && x !== null && x !== undefined && x !== '' ? MASK : walk(x, depth + 1);
    return out;
  };
  return walk(value, 0);
}

/** String values of fields named like a secret, anywhere in the arguments (bounded walk). */
function secretArgumentValues(args: unknown): string[] {
  const out: string[] = [];
  let budget = 2000;
  const walk = (v: unknown, depth: number): void => {
    if (--budget < 0 || depth > 16 || typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v).slice(0, 100)) {
      if (typeof x === 'string' && isSecretName(k)) {
        out.push(x);
        // Also as a URL-encoded query value would carry it.
        if (encodeURIComponent(x) !== x) out.push(encodeURIComponent(x));
      } else {
        walk(x, depth + 1);
      }
    }
  };
  walk(args, 0);
  return out.slice(0, 100);
}

/** Replaces the values of the agent's credential-like headers (authorization, cookies, API keys) in a text. */
export function credentialMasker(headers: ClientHeaders, also: readonly string[] = []): (text: string) => string {
  const secrets: string[] = also.filter((v) => v.length >= 4);
  const add = (v: string) => {
    const t = v.trim();
    if (t.length >= 6) secrets.push(t);
    const space = t.indexOf(' ');
    if (space > 0 && t.length - space > 6) secrets.push(t.slice(space + 1).trim());
  };
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const lower = name.toLowerCase();
    if (!(isSecretName(lower) || lower === 'cookie' || /session/.test(lower))) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (lower === 'cookie') for (const c of v.split(';')) add(c.slice(c.indexOf('=') + 1));
      else add(v);
    }
  }
  if (secrets.length === 0) return (t) => t;
  secrets.sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  };
}
