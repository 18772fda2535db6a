/**
 * The console's Activity page: what the registry makes of the gateways' activity reports (added
 * up in the shared database, so every registry node answers the same). A window (the last hour
 * or day) is read per server and tool: calls, errors, error rate, latency p50/p95 from the merged
 * histogram, a series per slot, error kinds, agents, and the last failures (redacted).
 */
import type { ActivityErrorSample, ActivityFigures, ServerActivity } from '../../model/activity.js';
export type { ActivityFigures, ServerActivity, ToolActivity } from '../../model/activity.js';
import { addLatency, emptyLatency, latencyQuantile, MAX_SAMPLES_PER_TOOL, MINUTE_MS } from '../../model/activity.js';
import type { ActivityRead, Store } from '../store/store.js';

/** The windows the page offers, with the slot length of their series. */
export const ACTIVITY_WINDOWS = {
  '1h': { spanMs: 60 * MINUTE_MS, stepMs: MINUTE_MS },
  '24h': { spanMs: 24 * 60 * MINUTE_MS, stepMs: 30 * MINUTE_MS },
} as const;
export type ActivityWindow = keyof typeof ACTIVITY_WINDOWS;
/** How long activity is kept: the longest window and an hour (pruned by the leader every minute). */
export const ACTIVITY_RETENTION_MS = 25 * 60 * MINUTE_MS;


/** A namespace's activity: totals, and its servers with their tools, the most failing first. */
export interface NamespaceActivity {
  namespace: string;
  window: ActivityWindow;
  from: number;
  to: number;
  stepMs: number;
  totals: ActivityFigures;
  servers: ServerActivity[];
}

/** Reads activity from the store and shapes it for the console. */
export class ActivityService {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /** Every server and tool of a namespace with calls in the window (narrowed to one server when given). */
  async namespace(namespace: string, window: ActivityWindow, server?: string): Promise<NamespaceActivity> {
    const { from, to, stepMs } = this.range(window);
    const read = await this.store.readActivity({ namespace, from, stepMs, ...(server !== undefined ? { server } : {}) });
    return { namespace, window, from, to, stepMs, ...summarize(read, from, to, stepMs) };
  }

  /** The last failures (newest first), of a server or one of its tools. */
  async errors(namespace: string, window: ActivityWindow, server: string, tool?: string, limit = MAX_SAMPLES_PER_TOOL): Promise<ActivityErrorSample[]> {
    const { from } = this.range(window);
    return this.store.listActivityErrors({ namespace, from, server, ...(tool !== undefined ? { tool } : {}), limit });
  }

  private range(window: ActivityWindow): { from: number; to: number; stepMs: number } {
    const { spanMs, stepMs } = ACTIVITY_WINDOWS[window];
    const now = this.now();
    // Slots end with the current one; the window covers `spanMs` back from its end.
    const to = now - (now % stepMs) + stepMs;
    return { from: to - spanMs, to, stepMs };
  }
}

interface Acc {
  calls: number;
  errors: number;
  latency: number[];
  latencySumMs: number;
  series: Map<number, { calls: number; errors: number }>;
  kinds: Map<string, number>;
  agents: Map<string, { name: string; version: string; calls: number }>;
}

const newAcc = (): Acc => ({ calls: 0, errors: 0, latency: emptyLatency(), latencySumMs: 0, series: new Map(), kinds: new Map(), agents: new Map() });

/** Adds stored slots up per tool, server and namespace; sorted so that what breaks shows first. */
export function summarize(read: ActivityRead, from: number, to: number, stepMs: number): { totals: ActivityFigures; servers: ServerActivity[] } {
  const total = newAcc();
  const servers = new Map<string, { acc: Acc; tools: Map<string, Acc> }>();
  const accsOf = (server: string, tool: string): Acc[] => {
    let s = servers.get(server);
    if (!s) servers.set(server, s = { acc: newAcc(), tools: new Map() });
    let t = s.tools.get(tool);
    if (!t) s.tools.set(tool, t = newAcc());
    return [total, s.acc, t];
  };
  for (const slot of read.slots) {
    for (const a of accsOf(slot.server, slot.tool)) {
      a.calls += slot.calls;
      a.errors += slot.errors;
      a.latencySumMs += slot.latencySumMs;
      addLatency(a.latency, slot.latency);
      const p = a.series.get(slot.at) ?? { calls: 0, errors: 0 };
      p.calls += slot.calls;
      p.errors += slot.errors;
      a.series.set(slot.at, p);
    }
  }
  for (const k of read.kinds) for (const a of accsOf(k.server, k.tool)) a.kinds.set(k.kind, (a.kinds.get(k.kind) ?? 0) + k.count);
  for (const g of read.agents) {
    for (const a of accsOf(g.server, g.tool)) {
      const key = `${g.name}\n${g.version}`;
      const had = a.agents.get(key) ?? { name: g.name, version: g.version, calls: 0 };
      had.calls += g.calls;
      a.agents.set(key, had);
    }
  }
  const figures = (a: Acc): ActivityFigures => {
    const series: ActivityFigures['series'] = [];
    for (let at = from; at < to; at += stepMs) series.push({ at, ...(a.series.get(at) ?? { calls: 0, errors: 0 }) });
    return {
      calls: a.calls, errors: a.errors, errorRate: a.calls === 0 ? 0 : a.errors / a.calls,
      p50Ms: round(latencyQuantile(a.latency, 0.5)), p95Ms: round(latencyQuantile(a.latency, 0.95)), meanMs: a.calls === 0 ? null : round(a.latencySumMs / a.calls),
      series,
      kinds: [...a.kinds].map(([kind, count]) => ({ kind, count })).sort((x, y) => y.count - x.count || (x.kind < y.kind ? -1 : 1)),
      agents: [...a.agents.values()].sort((x, y) => y.calls - x.calls || (x.name < y.name ? -1 : 1)),
    };
  };
  const list: ServerActivity[] = [...servers].map(([server, s]) => ({
    server, ...figures(s.acc), tools: [...s.tools].map(([tool, t]) => ({ tool, ...figures(t) })).sort(worstFirst),
  }));
  return { totals: figures(total), servers: list.sort(worstFirst) };
}

/** What breaks first: highest error rate, then most errors, then most calls. */
function worstFirst(a: ActivityFigures, b: ActivityFigures): number {
  return b.errorRate - a.errorRate || b.errors - a.errors || b.calls - a.calls;
}

function round(v: number | undefined): number | null {
  return v === undefined ? null : Math.round(v * 10) / 10;
}
